package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

// outputsFile is where the deployer finds `terraform output -json` in its container.
const outputsFile = "/work/terraform-outputs.json"

// DeployReportFile is deploy's report in the directory it returns, next to SBOMDir.
const DeployReportFile = "report.txt"

// scan runs Trivy on one platform variant of each image and applies the gate.
func (p *Pipeline) scan(ctx context.Context, images map[string][]*dagger.Container, accepted []string) error {
	for _, name := range Images {
		if images[name] == nil {
			continue
		}
		p.progress("scan %s: trivy image, HIGH and CRITICAL", name)
		report, err := stdout(ctx, "trivy image "+name, p.trivy(images[name][0]).WithExec(TrivyArgs(ImageLayout)))
		if err != nil {
			return err
		}
		findings, err := ParseTrivyReport([]byte(report))
		if err != nil {
			return fmt.Errorf("scan %s: %w", name, err)
		}
		notes, err := VulnerabilityGate(name, findings, accepted)
		for _, n := range notes {
			p.progress("%s", n)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// trivy is Trivy with its database cache and one platform variant of an
// image unpacked at ImageLayout.
func (p *Pipeline) trivy(image *dagger.Container) *dagger.Container {
	c := p.dag.Container().From(TrivyImage).
		WithMountedCache("/root/.cache/trivy", p.dag.CacheVolume("orders-trivy-db")).
		WithFile("/image.tar", image.AsTarball())
	for _, args := range UnpackImage("/image.tar", ImageLayout) {
		c = c.WithExec(args)
	}
	return c
}

// sbom writes the CycloneDX SBOM of one image (its first platform variant,
// linux/amd64) with Trivy and checks it is one.
func (p *Pipeline) sbom(ctx context.Context, name, tag string, image *dagger.Container) (*dagger.File, SBOMSummary, error) {
	file, err := SBOMFileName(name, tag)
	if err != nil {
		return nil, SBOMSummary{}, err
	}
	p.progress("sbom %s: %s", name, file)
	out := "/sbom/" + file
	ctr := p.trivy(image).
		WithDirectory("/sbom", p.dag.Directory()).
		WithExec(SBOMArgs(ImageLayout, out))
	if _, err := stdout(ctx, "trivy sbom "+name, ctr); err != nil {
		return nil, SBOMSummary{}, err
	}
	f := ctr.File(out)
	data, err := f.Contents(ctx)
	if err != nil {
		return nil, SBOMSummary{}, fmt.Errorf("sbom %s: %w", name, err)
	}
	summary, err := ParseSBOM(file, []byte(data))
	if err != nil {
		return nil, SBOMSummary{}, err
	}
	return f, summary, nil
}

// SBOM builds an image from the source (linux/amd64) and returns its CycloneDX
// SBOM, named <image>-<commit>.cdx.json.
func (p *Pipeline) SBOM(ctx context.Context, image string) (*dagger.File, error) {
	if err := CheckImage(image); err != nil {
		return nil, fmt.Errorf("sbom --service: %w", err)
	}
	tag, err := p.gitCommit(ctx)
	if err != nil {
		// A source without .git still gets an SBOM, as up still runs.
		tag = "local"
	}
	variants, err := p.buildAll(ctx, []string{image}, Platforms[:1])
	if err != nil {
		return nil, err
	}
	f, _, err := p.sbom(ctx, image, tag, variants[image][0])
	return f, err
}

// publish pushes each image (both platforms) to its ECR repository tagged with
// the commit and returns them by digest.
func (p *Pipeline) publish(ctx context.Context, out *tfoutputs.Outputs, images map[string][]*dagger.Container, tag string, auth RegistryAuth, password *dagger.Secret) (map[string]ImageRef, error) {
	var names []string
	for _, name := range Images {
		if images[name] != nil {
			names = append(names, name)
		}
	}
	repos, err := ImageRepositories(out, names)
	if err != nil {
		return nil, err
	}
	refs := map[string]ImageRef{}
	for _, name := range names {
		p.progress("push %s:%s (%v)", repos[name], tag, Platforms)
		published, err := p.dag.Container().WithRegistryAuth(auth.Registry, auth.Username, password).
			Publish(ctx, repos[name]+":"+tag, dagger.ContainerPublishOpts{PlatformVariants: images[name]})
		if err != nil {
			return nil, fmt.Errorf("push %s: %w", name, err)
		}
		ref, err := ParsePublished(published, repos[name], tag)
		if err != nil {
			return nil, err
		}
		refs[name] = ref
	}
	return refs, nil
}

// buildAll builds each named image for every platform.
func (p *Pipeline) buildAll(ctx context.Context, names []string, platforms []dagger.Platform) (map[string][]*dagger.Container, error) {
	images := map[string][]*dagger.Container{}
	for _, name := range names {
		p.progress("build %s for %v", name, platforms)
		variants, err := p.imageVariants(name, platforms)
		if err != nil {
			return nil, err
		}
		for i, v := range variants {
			if _, err := v.Sync(ctx); err != nil {
				return nil, fmt.Errorf("build %s for %s: %w", name, platforms[i], err)
			}
		}
		images[name] = variants
	}
	return images, nil
}

// ReleaseLine starts the last line of publish's output: the release
// (Release.String) that deploy --release takes.
const ReleaseLine = "release: "

// PublishReleaseFile is publish's printed output in the directory it
// returns, next to SBOMDir.
const PublishReleaseFile = "release.txt"

// Publish builds the images (one, or all of Images when image is empty) for
// both platforms, scans them (the gate of deploy, with the accepted findings)
// and pushes them to the environment's ECR repositories, tagged with the git
// commit: the one producer of that tag. An image already pushed under the tag
// is reused, not rebuilt. It prints the references by digest, one per line,
// then ReleaseLine and the release, and returns a directory with that text
// (PublishReleaseFile) and the CycloneDX SBOM of each image of the release
// (SBOMDir, linux/amd64), which deploy.yml attests next to each digest.
func (p *Pipeline) Publish(ctx context.Context, env, bucket, image string, acceptVulnerabilities []string) (*dagger.Directory, error) {
	accepted, err := ParseAccepted(acceptVulnerabilities)
	if err != nil {
		return nil, err
	}
	names := Images
	if image != "" {
		if err := CheckImage(image); err != nil {
			return nil, fmt.Errorf("publish --service: %w", err)
		}
		names = []string{image}
	}
	run, err := p.awsEnvironment(ctx, "publish", env, bucket)
	if err != nil {
		return nil, err
	}
	_, out, err := p.outputs(ctx, run)
	if err != nil {
		return nil, err
	}
	repos, err := ImageRepositories(out, names)
	if err != nil {
		return nil, err
	}
	tag, err := p.gitCommit(ctx)
	if err != nil {
		return nil, err
	}
	auth, password, err := p.registryAuth(ctx, out)
	if err != nil {
		return nil, err
	}
	cfg, err := p.aws.config(ctx, out.Region)
	if err != nil {
		return nil, err
	}
	release, build := Release{}, []string(nil)
	for _, name := range names {
		ref, found, err := FindImage(ctx, ecrClient(cfg), repos[name], tag)
		if err != nil {
			return nil, err
		}
		if found {
			p.progress("%s: %s is published already, reusing it", name, ref)
			release[name] = ref
		} else {
			build = append(build, name)
		}
	}
	images, err := p.buildAll(ctx, build, Platforms)
	if err != nil {
		return nil, err
	}
	// Nothing is pushed that did not pass the scan.
	if err := p.scan(ctx, images, accepted); err != nil {
		return nil, err
	}
	refs, err := p.publish(ctx, out, images, tag, auth, password)
	if err != nil {
		return nil, err
	}
	for name, r := range refs {
		release[name] = r
	}
	result := p.dag.Directory()
	for _, name := range names {
		// The SBOM of what was pushed: the image built now, or the one pulled by digest.
		variant := p.dag.Container(dagger.ContainerOpts{Platform: Platforms[0]}).
			WithRegistryAuth(auth.Registry, auth.Username, password).From(release[name].String())
		if images[name] != nil {
			variant = images[name][0]
		}
		f, summary, err := p.sbom(ctx, name, tag, variant)
		if err != nil {
			return nil, err
		}
		if result, err = withReturnedFile(ctx, result, SBOMDir+"/"+summary.File, f); err != nil {
			return nil, fmt.Errorf("sbom %s: %w", name, err)
		}
	}
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "%s %s\n", name, release[name])
	}
	fmt.Fprintf(&b, "%s%s\n", ReleaseLine, release)
	fmt.Fprint(p.log, b.String())
	return result.WithNewFile(PublishReleaseFile, b.String()), nil
}

// DeployOptions are the arguments of Deploy.
type DeployOptions struct {
	Env, StateBucket string
	StepOptions
	// AcceptVulnerabilities are CVE/GHSA ids of HIGH/CRITICAL findings accepted for this deploy.
	AcceptVulnerabilities []string
	// Timeout bounds the releases, rollback included (Go duration).
	Timeout string
	// Release are the images one publish produced (ParseRelease): deployed by
	// those digests, promoted into the environment's repositories when they are
	// elsewhere, never built. Empty: the commit's images, built if missing.
	Release string
}

// DeployImages are the images a deploy runs: all of Images for an
// environment; a tenant runs the services only (the backup job is the
// environment's).
func DeployImages(tenant string) []string {
	if tenant != "" {
		return Services
	}
	return Images
}

// deployment is the state a deploy carries from step to step.
type deployment struct {
	o        DeployOptions
	run      *awsRun
	tag      string
	raw      string
	out      *tfoutputs.Outputs
	auth     RegistryAuth
	password *dagger.Secret
	images   map[string][]*dagger.Container
	refs     map[string]ImageRef // by digest: pushed now or found in ECR
	release  Release
	sboms    []SBOMSummary
	result   *dagger.Directory
	supply   SupplyChain
	checked  map[string]bool // digests whose attestations were checked (verified, or warned about where allowed)
}

// connect reads the Terraform outputs and logs in to ECR, once.
func (p *Pipeline) connect(ctx context.Context, d *deployment) error {
	if d.out != nil {
		return nil
	}
	raw, out, err := p.outputs(ctx, d.run)
	if err != nil {
		return err
	}
	if _, err := ImageRepositories(out, DeployImages(d.o.Tenant)); err != nil {
		return err
	}
	auth, password, err := p.registryAuth(ctx, out)
	if err != nil {
		return err
	}
	d.raw, d.out, d.auth, d.password = raw, out, auth, password
	return nil
}

// resolveImages finds, for each image of the deploy, the commit's image in
// ECR (tags are immutable: a commit pushed before is reused by digest and
// pulled for the scan and the SBOM) or builds it.
func (p *Pipeline) resolveImages(ctx context.Context, d *deployment) error {
	if d.images != nil {
		return nil
	}
	if err := p.connect(ctx, d); err != nil {
		return err
	}
	cfg, err := p.aws.config(ctx, d.out.Region)
	if err != nil {
		return err
	}
	names := DeployImages(d.o.Tenant)
	repos, err := ImageRepositories(d.out, names)
	if err != nil {
		return err
	}
	ecr := ecrClient(cfg)
	var build []string
	d.images, d.refs = map[string][]*dagger.Container{}, map[string]ImageRef{}
	if d.release != nil {
		// Build once, promote by digest: the release's images, verified and
		// copied where needed; nothing is built.
		promoter := Promoter{ECR: ecr, HTTP: http.DefaultClient, ScanWait: 10 * time.Minute, Poll: 15 * time.Second, Log: p.progress}
		if d.refs, err = promoter.Resolve(ctx, d.release, repos, names, d.tag); err != nil {
			return err
		}
	}
	for _, name := range names {
		ref, found := d.refs[name]
		if !found {
			if ref, found, err = FindImage(ctx, ecr, repos[name], d.tag); err != nil {
				return err
			}
		}
		if !found {
			build = append(build, name)
			continue
		}
		p.progress("%s: %s is in ECR already, reusing it", name, ref)
		d.refs[name] = ref
		for _, pl := range Platforms {
			d.images[name] = append(d.images[name], p.dag.Container(dagger.ContainerOpts{Platform: pl}).
				WithRegistryAuth(d.auth.Registry, d.auth.Username, d.password).From(ref.String()))
		}
	}
	built, err := p.buildAll(ctx, build, Platforms)
	if err != nil {
		return err
	}
	for name, v := range built {
		d.images[name] = v
	}
	return nil
}

// Deploy provisions the environment, mirrors the third-party images, scans and
// publishes the images, writes an SBOM of each, runs the deployer with the
// Terraform outputs and the image digests, and runs the smoke test through the
// load balancer. With a tenant it deploys that tenant only, onto the existing
// environment. It returns a directory with the report (DeployReportFile, also
// printed) and the SBOMs (SBOMDir). On failure it says which step failed (the
// deployer says what it rolled back).
func (p *Pipeline) Deploy(ctx context.Context, o DeployOptions) (*dagger.Directory, error) {
	accepted, err := ParseAccepted(o.AcceptVulnerabilities)
	if err != nil {
		return nil, err
	}
	var release Release
	if o.Release != "" {
		if release, err = ParseRelease(o.Release); err != nil {
			return nil, err
		}
	}
	if o.Tenant != "" {
		if err := CheckTenant(o.Tenant); err != nil {
			return nil, err
		}
	}
	env, err := p.environment(ctx, o.Env)
	if err != nil {
		return nil, err
	}
	steps, err := Plan(env, ModeDeploy, o.StepOptions)
	if err != nil {
		return nil, err
	}
	supply, err := p.supplyChain(ctx, o.Env)
	if err != nil {
		return nil, err
	}
	if err := supply.CheckRelease(o.Tenant, release); err != nil {
		return nil, err
	}
	run, err := p.awsEnvironment(ctx, "deploy", o.Env, o.StateBucket)
	if err != nil {
		return nil, err
	}
	tag, err := p.gitCommit(ctx)
	if err != nil {
		return nil, err
	}
	d := &deployment{o: o, run: run, tag: tag, result: p.dag.Directory(), release: release, supply: supply, checked: map[string]bool{}}
	if release != nil {
		// Before anything changes: the release's attestations, where it was published.
		if err := p.verifyRelease(ctx, d); err != nil {
			return nil, fmt.Errorf("deploy --env=%s%s: %w", o.Env, tenantFlag(o.Tenant), err)
		}
	}
	for _, st := range steps {
		if !st.Runs() {
			p.progress("%s", st)
			continue
		}
		if err := p.deployStep(ctx, d, st.Step, accepted); err != nil {
			return nil, fmt.Errorf("deploy --env=%s%s failed at step %s: %w", o.Env, tenantFlag(o.Tenant), st.Step, err)
		}
	}
	report := DeploySummary(d.out, o.Tenant, d.refs, d.sboms)
	fmt.Fprint(p.log, report)
	return d.result.WithNewFile(DeployReportFile, report), nil
}

func tenantFlag(tenant string) string {
	if tenant == "" {
		return ""
	}
	return " --tenant=" + tenant
}

// deployStep runs one step of a deploy.
func (p *Pipeline) deployStep(ctx context.Context, d *deployment, step Step, accepted []string) error {
	switch step {
	case StepProvision:
		run, err := p.provision(ctx, d.run)
		if err != nil {
			return err
		}
		d.run = run
	case StepMirror:
		if err := p.connect(ctx, d); err != nil {
			return err
		}
		return p.mirror(ctx, d.out, d.auth, d.password, accepted, d.supply.Enforce)
	case StepScan:
		if err := p.resolveImages(ctx, d); err != nil {
			return err
		}
		return p.scan(ctx, d.images, accepted)
	case StepPublish:
		if err := p.resolveImages(ctx, d); err != nil {
			return err
		}
		missing := map[string][]*dagger.Container{}
		for name, v := range d.images {
			if _, found := d.refs[name]; !found {
				missing[name] = v
			}
		}
		pushed, err := p.publish(ctx, d.out, missing, d.tag, d.auth, d.password)
		if err != nil {
			return err
		}
		for name, r := range pushed {
			d.refs[name] = r
		}
	case StepSBOM:
		for _, name := range Images {
			if d.images[name] == nil {
				continue
			}
			f, summary, err := p.sbom(ctx, name, d.tag, d.images[name][0])
			if err != nil {
				return err
			}
			if d.result, err = withReturnedFile(ctx, d.result, SBOMDir+"/"+summary.File, f); err != nil {
				return fmt.Errorf("sbom %s: %w", name, err)
			}
			d.sboms = append(d.sboms, summary)
		}
	case StepVerify:
		return p.verifyStep(ctx, d)
	case StepRelease:
		return p.release(ctx, d.run.env, d.raw, d.refs, d.o.Timeout, d.o.Tenant)
	case StepSmoke:
		return p.smoke(ctx, p.aws.withAWS(p.goTool("smoke"), d.out.Region), "10m", SmokeArgs(d.out, d.o.Tenant)...)
	default:
		return fmt.Errorf("unexpected step %s", step)
	}
	return nil
}

// PublicURL is where the environment answers: https://<domain> when it has one,
// else the load balancer's first Elastic IP over HTTP.
func PublicURL(out *tfoutputs.Outputs) string {
	if out.DomainName != "" {
		return "https://" + out.DomainName
	}
	if len(out.NLBPublicIPs) == 0 {
		return ""
	}
	return "http://" + out.NLBPublicIPs[0]
}

// SmokeArgs are the smoke test's arguments after a deploy: the public URL of the
// environment or tenant and, with a domain, -connect-to the first Elastic IP, so the
// check does not depend on the DNS record external-dns has only just written (nor on
// a resolver caching its absence).
func SmokeArgs(out *tfoutputs.Outputs, tenant string) []string {
	args := []string{"-url", TenantURL(out, tenant)}
	if out.DomainName != "" && len(out.NLBPublicIPs) > 0 {
		args = append(args, "-connect-to", out.NLBPublicIPs[0])
	}
	return args
}

// TenantURL is where a tenant's contract is served: <public URL>/<tenant>; the
// environment's own at the public URL.
func TenantURL(out *tfoutputs.Outputs, tenant string) string {
	u := PublicURL(out)
	if u == "" || tenant == "" {
		return u
	}
	return u + "/" + tenant
}

// DeploySummary is what deploy prints and writes to DeployReportFile on success.
func DeploySummary(out *tfoutputs.Outputs, tenant string, refs map[string]ImageRef, sboms []SBOMSummary) string {
	var b strings.Builder
	if tenant != "" {
		fmt.Fprintf(&b, "deployed tenant %s to %s (%s, cluster %s)\n", tenant, out.Environment, out.Region, out.ClusterName)
	} else {
		fmt.Fprintf(&b, "deployed %s (%s, cluster %s)\n", out.Environment, out.Region, out.ClusterName)
	}
	for _, name := range Images {
		if r, ok := refs[name]; ok {
			fmt.Fprintf(&b, "  %-8s  %s\n", name, r)
		}
	}
	if len(sboms) > 0 {
		b.WriteString("SBOMs (CycloneDX, linux/amd64):\n")
		for _, s := range sboms {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	u := TenantURL(out, tenant)
	fmt.Fprintf(&b, "public URL:   %s\n", u)
	fmt.Fprintf(&b, "Elastic IPs:  %s\n", strings.Join(out.NLBPublicIPs, ", "))
	fmt.Fprintf(&b, "try:\n  curl -XPOST   %s/service1 -d '{}'\n  curl -XDELETE %s/service1/1\n  curl -XGET    %s/service2\n", u, u, u)
	return b.String()
}

// deployer is a container with the deployer and the repository at /src.
func (p *Pipeline) deployer() *dagger.Container { return p.goTool("deployer") }

// onCluster is the deployer's container for an AWS environment: credentials,
// region and the Terraform outputs, and a run id so that the engine never
// answers a command that changes the cluster from its cache.
func (p *Pipeline) onCluster(region, outputsJSON string) *dagger.Container {
	return p.aws.withAWS(p.deployer(), region).
		WithNewFile(outputsFile, outputsJSON).
		WithEnvVariable("ORDERS_PIPELINE_RUN", p.runID)
}

// release runs the deployer's apply with the Terraform outputs and image digests.
func (p *Pipeline) release(ctx context.Context, env *environments.Environment, outputsJSON string, refs map[string]ImageRef, timeout, tenant string) error {
	images, err := ImageArgs(refs)
	if err != nil {
		return err
	}
	req := DeployerRequest{Action: DeployerApply, Env: env.Name, Root: srcDir, OutputsFile: outputsFile, Images: images, Timeout: timeout, Tenant: tenant}
	args, err := req.Args()
	if err != nil {
		return err
	}
	p.progress("helm releases --env=%s%s", env.Name, tenantFlag(tenant))
	out, err := stdout(ctx, "deployer", p.onCluster(env.Region, outputsJSON).WithExec(args))
	if err != nil {
		return err
	}
	fmt.Fprint(p.log, out)
	return nil
}

// clusterCommand runs one deployer command against an AWS environment's
// cluster, reached as deploy, diff and db-tunnel reach it (AWS credentials and
// the Terraform outputs). The request is checked before anything runs.
func (p *Pipeline) clusterCommand(ctx context.Context, function, env, bucket string, req DeployerRequest) (string, error) {
	req.Env, req.Root, req.OutputsFile = env, srcDir, outputsFile
	args, err := req.Args()
	if err != nil {
		return "", err
	}
	run, err := p.awsEnvironment(ctx, function, env, bucket)
	if err != nil {
		return "", err
	}
	raw, out, err := p.outputs(ctx, run)
	if err != nil {
		return "", err
	}
	p.progress("%s", strings.Join(args, " "))
	return stdout(ctx, "deployer "+string(req.Action), p.onCluster(out.Region, raw).WithExec(args))
}

// Backup takes a backup of the environment's MongoDB now and prints where it went.
func (p *Pipeline) Backup(ctx context.Context, env, bucket string) (string, error) {
	return p.clusterCommand(ctx, "backup", env, bucket, DeployerRequest{Action: DeployerBackup})
}

// Restore restores one backup over the environment's MongoDB; replace must
// confirm it (the deployer drops the live collections first).
func (p *Pipeline) Restore(ctx context.Context, env, from string, replace bool, bucket string) (string, error) {
	return p.clusterCommand(ctx, "restore", env, bucket, DeployerRequest{Action: DeployerRestore, From: from, Replace: replace})
}

// RemoveTenant uninstalls one tenant's releases from the environment; the
// environment and the other tenants stay.
func (p *Pipeline) RemoveTenant(ctx context.Context, env, tenant, confirm, bucket string) (string, error) {
	if tenant == "" {
		return "", fmt.Errorf("remove-tenant --env=%s: --tenant is required (removing the environment is destroy)", env)
	}
	if err := ConfirmRemoveTenant(tenant, confirm); err != nil { // before AWS is reached
		return "", err
	}
	return p.clusterCommand(ctx, "remove-tenant", env, bucket, DeployerRequest{Action: DeployerUninstall, Tenant: tenant, Confirm: confirm})
}

// withReturnedFile adds a file's bytes, not the file, to a directory the
// function returns to its caller. The file may descend from a secret created
// inside the function (an image reused from ECR is pulled with the
// function-local ECR password), and a returned object whose lineage holds such
// a secret relies on the engine passing it back to the caller, which has
// regressed before (dagger/dagger#10776).
func withReturnedFile(ctx context.Context, dir *dagger.Directory, path string, f *dagger.File) (*dagger.Directory, error) {
	data, err := f.Contents(ctx)
	if err != nil {
		return nil, err
	}
	return dir.WithNewFile(path, data), nil
}
