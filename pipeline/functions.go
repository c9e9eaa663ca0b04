package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"dagger.io/dagger"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

// Test runs every suite in containers: the services against a real MongoDB, the
// Go tests (devdb, smoke on the local stack, charts on a real API server,
// Terraform checks, workflow lint) with the tools cached in a volume.
func (p *Pipeline) Test(ctx context.Context) (string, error) {
	p.progress("services: npm test against %s", MongoImage)
	mongo := p.dag.Container().From(MongoImage).WithExposedPort(27017).AsService()
	services, err := stdout(ctx, "services tests", p.dag.Container().From(NodeImage).
		WithMountedDirectory(srcDir, p.src).WithWorkdir(srcDir+"/services").
		WithMountedCache("/root/.npm", p.dag.CacheVolume("orders-npm")).
		WithServiceBinding("mongo", mongo).
		WithEnvVariable("MONGODB_URL", "mongodb://mongo:27017/DevOpsAssignment").
		WithExec([]string{"npm", "ci", "--no-audit", "--no-fund"}).
		WithExec([]string{"npm", "test"}))
	if err != nil {
		return "", err
	}
	p.progress("go: make test-go (tools cached in a volume)")
	goTests, err := stdout(ctx, "Go tests", p.makeContainer().WithExec([]string{"make", "tools", "test-go"}))
	if err != nil {
		return "", err
	}
	return lastLines(services, 15) + "\n" + lastLines(goTests, 40) + "\n", nil
}

// toolsDir is the tools cache in the make container (test/toolcache's default).
const toolsDir = "/root/.cache/orders-platform/tools"

// makeContainer runs the Makefile: Go, npm and shellcheck (Node 24 comes from the
// tools cache), terraform. The heavy test tools come from their upstream images
// (TestToolImages), put where test/tools and test/toolcache look for
// them, so `make tools` finds them instead of building them from source.
func (p *Pipeline) makeContainer() *dagger.Container {
	tf := p.dag.Container().From(TerraformImage).File("/bin/terraform")
	c := p.goContainer().
		WithExec([]string{"sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends npm shellcheck >/dev/null"}).
		WithFile("/usr/local/bin/terraform", tf).
		WithMountedCache(toolsDir, p.dag.CacheVolume("orders-tools")).
		WithEnvVariable("ORDERS_REQUIRE_TOOLS", "1")
	var install []string
	for i, t := range TestToolImages {
		staged := fmt.Sprintf("/opt/upstream-tools/%d", i)
		c = c.WithFile(staged, p.dag.Container().From(t.Image).File(t.Binary))
		install = append(install, fmt.Sprintf("install -D -m 0755 %s %s", staged, ToolCachePath(toolsDir, t)))
	}
	return c.WithExec([]string{"sh", "-c", strings.Join(install, " && ")})
}

// ToolCachePath is where test/toolcache finds a tool's binary:
// <dir>/<tool>-<version>/<binary name>.
func ToolCachePath(dir string, t ToolImage) string {
	return path.Join(dir, t.Tool+"-"+t.Version, path.Base(t.Binary))
}

// Check runs the static checks: gofmt and go vet, helm lint and render with the
// chart policies, terraform fmt and validate (init without a backend), the
// Trivy configuration scan of terraform/ and charts/, and actionlint.
func (p *Pipeline) Check(ctx context.Context) (string, error) {
	var report strings.Builder
	p.progress("gofmt, go vet")
	if _, err := stdout(ctx, "gofmt/go vet", p.goContainer().WithExec([]string{"make", "lint"})); err != nil {
		return "", err
	}
	report.WriteString("gofmt, go vet: ok\n")

	p.progress("helm lint and render, actionlint")
	out, err := stdout(ctx, "chart and workflow checks", p.goContainer().
		WithExec([]string{"go", "test", "-count=1", "./test/chartrules", "./test/workflowrules", "./internal/charts"}))
	if err != nil {
		return "", err
	}
	report.WriteString(out)

	for _, dir := range []string{"terraform/bootstrap", "terraform/platform"} {
		p.progress("terraform fmt and validate: %s", dir)
		_, err := stdout(ctx, "terraform "+dir, p.dag.Container().From(TerraformImage).
			WithMountedDirectory(srcDir, p.src).WithWorkdir(srcDir).
			WithMountedCache("/root/.terraform.d/plugin-cache", p.dag.CacheVolume("orders-terraform-plugins")).
			WithEnvVariable("TF_PLUGIN_CACHE_DIR", "/root/.terraform.d/plugin-cache").
			WithExec([]string{"terraform", "-chdir=" + dir, "fmt", "-check", "-recursive", "-diff"}).
			WithExec([]string{"terraform", "-chdir=" + dir, "init", "-backend=false", "-input=false", "-no-color"}).
			WithExec([]string{"terraform", "-chdir=" + dir, "validate", "-no-color"}))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&report, "terraform fmt, validate %s: ok\n", dir)
	}

	p.progress("security scan: trivy config terraform/ charts/")
	if _, err := stdout(ctx, "trivy config", p.dag.Container().From(TrivyImage).
		WithMountedDirectory(srcDir, p.src).WithWorkdir(srcDir).
		WithExec([]string{"trivy", "config", "--quiet", "--severity", "HIGH,CRITICAL", "--exit-code", "1", "terraform", "charts"})); err != nil {
		return "", err
	}
	report.WriteString("trivy config terraform/ charts/: no HIGH or CRITICAL finding\n")
	return report.String(), nil
}

// serviceImages builds a service from its Dockerfile (context services/) for each platform.
func (p *Pipeline) serviceImages(service string, platforms []dagger.Platform) ([]*dagger.Container, error) {
	dockerfile, err := ServiceDockerfile(service)
	if err != nil {
		return nil, err
	}
	var out []*dagger.Container
	for _, pl := range platforms {
		out = append(out, p.src.Directory("services").DockerBuild(dagger.DirectoryDockerBuildOpts{
			Dockerfile: dockerfile,
			Platform:   pl,
		}))
	}
	return out, nil
}

// backupImages builds the backup tool from cmd/backup/Dockerfile for each
// platform; the context is the repository cut down to BackupContext.
func (p *Pipeline) backupImages(platforms []dagger.Platform) []*dagger.Container {
	buildContext := p.dag.Directory().WithDirectory(".", p.src, dagger.DirectoryWithDirectoryOpts{Include: BackupContext})
	var out []*dagger.Container
	for _, pl := range platforms {
		out = append(out, buildContext.DockerBuild(dagger.DirectoryDockerBuildOpts{Dockerfile: BackupDockerfile, Platform: pl}))
	}
	return out
}

// imageVariants builds one of Images for each platform.
func (p *Pipeline) imageVariants(name string, platforms []dagger.Platform) ([]*dagger.Container, error) {
	if err := CheckImage(name); err != nil {
		return nil, err
	}
	if name == BackupImage {
		return p.backupImages(platforms), nil
	}
	return p.serviceImages(name, platforms)
}

// Build builds an image (service1, service2 or backup) for linux/amd64 and
// linux/arm64 and returns the multi-platform image as an OCI tarball.
func (p *Pipeline) Build(ctx context.Context, service string) (*dagger.File, error) {
	variants, err := p.imageVariants(service, Platforms)
	if err != nil {
		return nil, err
	}
	p.progress("build %s for %v", service, Platforms)
	for i, v := range variants {
		if _, err := v.Sync(ctx); err != nil {
			return nil, fmt.Errorf("build %s for %s: %w", service, Platforms[i], err)
		}
	}
	return p.dag.Container().AsTarball(dagger.ContainerAsTarballOpts{PlatformVariants: variants}), nil
}

// awsRun is what every AWS function needs: the environment, Terraform
// initialised on its state, the credentials as an SDK config.
type awsRun struct {
	env *environments.Environment
	tf  Terraform
	ctr *dagger.Container // terraform, initialised
}

// stateBucket is the given state bucket, or the one terraform/bootstrap names
// for the credentials' account and the environment's region.
func (p *Pipeline) stateBucket(ctx context.Context, env *environments.Environment, bucket string) (string, error) {
	if bucket != "" {
		return bucket, nil
	}
	cfg, err := p.aws.config(ctx, env.Region)
	if err != nil {
		return "", err
	}
	acct, err := account(ctx, cfg)
	if err != nil {
		return "", err
	}
	return StateBucket(acct, env.Region)
}

// awsEnvironment validates the environment and credentials, runs the preflight
// of plan, provision, deploy and destroy, and initialises Terraform, all before
// anything changes.
func (p *Pipeline) awsEnvironment(ctx context.Context, function, name, bucket string) (*awsRun, error) {
	env, err := p.environment(ctx, name)
	if err != nil {
		return nil, err
	}
	if !env.AWS {
		return nil, fmt.Errorf("%s --env=%s: environment %q has no Terraform; it runs on the local cluster: use `dagger call up`", function, name, name)
	}
	if err := p.aws.require(function); err != nil {
		return nil, err
	}
	if bucket, err = p.stateBucket(ctx, env, bucket); err != nil {
		return nil, err
	}
	tf := Terraform{Env: env, Bucket: bucket}
	if mode, ok := PreflightModes[function]; ok {
		report, err := p.preflight(ctx, env, bucket, mode, "")
		if err != nil {
			return nil, err
		}
		tf.BucketRegion = report.BucketRegion
	}
	initArgs, err := tf.Init()
	if err != nil {
		return nil, err
	}
	p.progress("terraform init: state s3://%s/%s", bucket, env.StateKey)
	ctr := p.aws.withAWS(p.dag.Container().From(TerraformImage), env.Region).
		WithMountedDirectory(srcDir, p.src).WithWorkdir(srcDir).
		WithMountedCache("/root/.terraform.d/plugin-cache", p.dag.CacheVolume("orders-terraform-plugins")).
		WithEnvVariable("TF_PLUGIN_CACHE_DIR", "/root/.terraform.d/plugin-cache").
		WithEnvVariable("TF_IN_AUTOMATION", "1").
		WithEnvVariable(runIDVariable, p.runID).
		WithExec(initArgs)
	if _, err := stdout(ctx, "terraform init for "+name, ctr); err != nil {
		return nil, err
	}
	return &awsRun{env: env, tf: tf, ctr: ctr}, nil
}

// plan runs terraform plan and reports whether it has changes.
func (p *Pipeline) plan(ctx context.Context, run *awsRun) (*dagger.Container, PlanResult, string, error) {
	p.progress("terraform plan --env=%s", run.env.Name)
	c := run.ctr.WithExec(run.tf.Plan(), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	code, err := c.ExitCode(ctx)
	if err != nil {
		return nil, 0, "", fmt.Errorf("terraform plan --env=%s: %w", run.env.Name, err)
	}
	out, _ := c.Stdout(ctx)
	res, err := ParsePlanExit(code)
	if err != nil {
		errOut, _ := c.Stderr(ctx)
		return nil, 0, "", fmt.Errorf("%w: %s", err, lastLines(errOut+out, 20))
	}
	return c, res, out, nil
}

// Plan shows what Terraform would change for the environment. With
// failOnDrift, changes are an error (the scheduled drift check).
func (p *Pipeline) Plan(ctx context.Context, env, bucket string, failOnDrift bool) (string, error) {
	run, err := p.awsEnvironment(ctx, "plan", env, bucket)
	if err != nil {
		return "", err
	}
	_, res, out, err := p.plan(ctx, run)
	if err != nil {
		return "", err
	}
	if res == PlanChanges && failOnDrift {
		return "", fmt.Errorf("drift: the %s infrastructure differs from terraform/platform with environments/%s/terraform.tfvars:\n%s", env, env, out)
	}
	return out, nil
}

// provision applies the plan it just made; outputs are read afterwards.
func (p *Pipeline) provision(ctx context.Context, run *awsRun) (*awsRun, error) {
	planned, res, _, err := p.plan(ctx, run)
	if err != nil {
		return nil, err
	}
	if res == PlanNoChanges {
		p.progress("terraform: no changes for %s", run.env.Name)
		return run, nil
	}
	p.progress("terraform apply --env=%s (an EKS cluster takes about 15 minutes the first time)", run.env.Name)
	applied := planned.WithExec(run.tf.Apply())
	if _, err := stdout(ctx, "terraform apply --env="+run.env.Name, applied); err != nil {
		return nil, err
	}
	return &awsRun{env: run.env, tf: run.tf, ctr: applied}, nil
}

// Provision applies terraform/platform for the environment and returns the outputs.
func (p *Pipeline) Provision(ctx context.Context, env, bucket string) (string, error) {
	run, err := p.awsEnvironment(ctx, "provision", env, bucket)
	if err != nil {
		return "", err
	}
	if run, err = p.provision(ctx, run); err != nil {
		return "", err
	}
	raw, _, err := p.outputs(ctx, run)
	if err != nil {
		return "", err
	}
	return raw, nil
}

// outputs reads and validates the Terraform outputs of the environment.
func (p *Pipeline) outputs(ctx context.Context, run *awsRun) (string, *tfoutputs.Outputs, error) {
	raw, err := stdout(ctx, "terraform output --env="+run.env.Name, run.ctr.WithExec(run.tf.Output()))
	if err != nil {
		return "", nil, err
	}
	out, err := ParseOutputs(run.env, []byte(raw))
	if err != nil {
		return "", nil, err
	}
	return raw, out, nil
}

// registryAuth logs in to the environment's ECR registry through the ECR API.
func (p *Pipeline) registryAuth(ctx context.Context, out *tfoutputs.Outputs) (RegistryAuth, *dagger.Secret, error) {
	cfg, err := p.aws.config(ctx, out.Region)
	if err != nil {
		return RegistryAuth{}, nil, err
	}
	auth, err := ECRLogin(ctx, ecrClient(cfg), out.ECRRegistry)
	if err != nil {
		return RegistryAuth{}, nil, err
	}
	return auth, p.dag.SetSecret("ecr-password-"+out.Environment, auth.Password), nil
}

// mirror copies the third-party images into ECR, the nodes' platforms, same
// tag, after each passed the vulnerability gate of our own images (refusing
// where enforce is set, warning elsewhere: MirrorGate).
func (p *Pipeline) mirror(ctx context.Context, out *tfoutputs.Outputs, auth RegistryAuth, password *dagger.Secret, accepted []string, enforce bool) error {
	images, err := p.thirdPartyImages(ctx)
	if err != nil {
		return err
	}
	plan, err := MirrorPlan(images, out)
	if err != nil {
		return err
	}
	return p.mirrorImages(ctx, plan, auth, password, accepted, enforce)
}

// mirrorImages scans every image of the plan (Trivy, one platform variant, as
// scan does ours) and pushes them only when all passed: a refusal pushes
// nothing.
func (p *Pipeline) mirrorImages(ctx context.Context, plan []Mirror, auth RegistryAuth, password *dagger.Secret, accepted []string, enforce bool) error {
	variants := make([][]*dagger.Container, len(plan))
	for i, m := range plan {
		for _, pl := range m.Platforms {
			variants[i] = append(variants[i], p.dag.Container(dagger.ContainerOpts{Platform: pl}).From(m.Source))
		}
		if len(variants[i]) == 0 {
			return fmt.Errorf("mirror %s: no platform to copy", m.Source)
		}
		p.progress("scan %s: trivy image, HIGH and CRITICAL", m.Source)
		report, err := stdout(ctx, "trivy image "+m.Source, p.trivy(variants[i][0]).WithExec(TrivyArgs(ImageLayout)))
		if err != nil {
			return err
		}
		warning, err := MirrorGate(m.Source, []byte(report), accepted, enforce)
		if err != nil {
			return err
		}
		if warning != "" {
			p.progress("WARNING: %s", warning)
		}
	}
	for i, m := range plan {
		p.progress("mirror %s -> %s", m.Source, m.Target)
		if _, err := p.dag.Container().WithRegistryAuth(auth.Registry, auth.Username, password).
			Publish(ctx, m.Target, dagger.ContainerPublishOpts{PlatformVariants: variants[i]}); err != nil {
			return fmt.Errorf("mirror %s to %s: %w", m.Source, m.Target, err)
		}
	}
	return nil
}

// thirdPartyImages are the MongoDB images of charts/mongodb/upstream.yaml and the add-ons'.
func (p *Pipeline) thirdPartyImages(ctx context.Context) ([]ThirdPartyImage, error) {
	const upstream = "charts/mongodb/upstream.yaml"
	tmp, err := p.exportFile(ctx, upstream)
	if err != nil {
		return nil, err
	}
	u, err := charts.ReadMongoDBUpstream(tmp)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	var images []ThirdPartyImage
	for _, img := range u.Images {
		images = append(images, ThirdPartyImage{Source: img.Source, ECRRepository: img.ECRRepository, Platforms: img.Platforms})
	}
	return append(images, AddonImages()...), nil
}

// exportFile copies one file of the source to a temporary local path.
func (p *Pipeline) exportFile(ctx context.Context, file string) (string, error) {
	dst := path.Join(tempDir(), path.Base(file))
	if _, err := p.src.File(file).Export(ctx, dst); err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return dst, nil
}

// smoke runs the contract checker from a container.
func (p *Pipeline) smoke(ctx context.Context, c *dagger.Container, timeout string, args ...string) error {
	if len(args) < 2 || args[0] != "-url" || args[1] == "" {
		return errors.New("smoke: no URL")
	}
	url := args[1]
	p.progress("smoke %s", strings.Join(args, " "))
	out, err := stdout(ctx, "smoke "+url, c.WithExec(append([]string{"smoke", "-timeout", timeout}, args...)))
	if err != nil {
		return err
	}
	fmt.Fprint(p.log, out)
	return nil
}

// Smoke checks the public contract against any endpoint.
func (p *Pipeline) Smoke(ctx context.Context, url string) (string, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return "", fmt.Errorf("smoke: --url must be http:// or https://, got %q", url)
	}
	return stdout(ctx, "smoke "+url, p.goTool("smoke").WithExec([]string{"smoke", "-url", url}))
}

// Diff shows what deploy would change: the Terraform plan, then for each release
// the difference between the manifests it would apply and what is live.
func (p *Pipeline) Diff(ctx context.Context, env, bucket string) (string, error) {
	run, err := p.awsEnvironment(ctx, "diff", env, bucket)
	if err != nil {
		return "", err
	}
	_, _, planOut, err := p.plan(ctx, run)
	if err != nil {
		return "", err
	}
	raw, out, err := p.outputs(ctx, run)
	if err != nil {
		return "", err
	}
	tag, err := p.gitCommit(ctx)
	if err != nil {
		return "", err
	}
	repos, err := ServiceRepositories(out)
	if err != nil {
		return "", err
	}
	images := map[string]string{}
	for s, r := range repos {
		images[s] = r + ":" + tag
	}
	req := DeployerRequest{Action: DeployerDiff, Env: env, Root: srcDir, OutputsFile: outputsFile, Images: images}
	args, err := req.Args()
	if err != nil {
		return "", err
	}
	diff, err := stdout(ctx, "deployer diff", p.onCluster(out.Region, raw).WithExec(args))
	if err != nil {
		return "", err
	}
	return "# terraform plan\n" + planOut + "\n# releases\n" + diff, nil
}

// Destroy uninstalls the releases, then destroys the environment's platform.
// It refuses unless confirm repeats the environment's name. The uninstall
// waits for the load balancers to go before their controller does and releases
// the volumes (internal/deploy, teardown.go); the report ends with what destroy
// deliberately keeps (snapshots, retained volumes) and how to delete each.
func (p *Pipeline) Destroy(ctx context.Context, env, confirm, bucket string) (string, error) {
	if err := ConfirmDestroy(env, confirm); err != nil {
		return "", err
	}
	run, err := p.awsEnvironment(ctx, "destroy", env, bucket)
	if err != nil {
		return "", err
	}
	raw, out, err := p.outputs(ctx, run)
	uninstalled := ""
	if err != nil {
		// Nothing (or not all) was provisioned: nothing to uninstall.
		p.progress("no complete Terraform outputs (%v): skipping the uninstall", err)
	} else {
		req := DeployerRequest{Action: DeployerUninstall, Env: env, Root: srcDir, OutputsFile: outputsFile}
		args, err := req.Args()
		if err != nil {
			return "", err
		}
		p.progress("uninstall the releases --env=%s (their load balancer first, then the add-ons, then the volumes)", env)
		if uninstalled, err = stdout(ctx, "deployer uninstall", p.onCluster(out.Region, raw).WithExec(args)); err != nil {
			return "", err
		}
		fmt.Fprint(p.log, uninstalled)
	}
	p.progress("terraform destroy --env=%s", env)
	destroyed, err := stdout(ctx, "terraform destroy --env="+env, run.ctr.WithExec(run.tf.Destroy()))
	if err != nil {
		return "", err
	}
	var snapshots []ec2types.Snapshot
	cfg, listErr := p.aws.config(ctx, run.env.Region)
	if listErr == nil {
		snapshots, listErr = KeptSnapshots(ctx, ec2.NewFromConfig(cfg), env)
	}
	return lastLines(destroyed, 5) + "\n" + DestroyKept(env, run.env.Region, snapshots, listErr, uninstalled), nil
}

// DBTunnel is a service forwarding MongoDB of the environment, authenticated
// through EKS with the caller's AWS credentials.
func (p *Pipeline) DBTunnel(ctx context.Context, env, bucket string) (*dagger.Service, error) {
	run, err := p.awsEnvironment(ctx, "db-tunnel", env, bucket)
	if err != nil {
		return nil, err
	}
	raw, out, err := p.outputs(ctx, run)
	if err != nil {
		return nil, err
	}
	req := DeployerRequest{Action: DeployerTunnel, Env: env, Root: srcDir, OutputsFile: outputsFile, Listen: "0.0.0.0:27017"}
	args, err := req.Args()
	if err != nil {
		return nil, err
	}
	return p.aws.withAWS(p.deployer(), out.Region).
		WithNewFile(req.OutputsFile, raw).
		WithExposedPort(27017).
		AsService(dagger.ContainerAsServiceOpts{Args: args}), nil
}
