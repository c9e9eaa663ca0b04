// Package deploy installs, upgrades and rolls back the platform's Helm releases with
// the Helm SDK: the cluster release (StorageClass), the add-ons an environment needs
// (charts/addons.yaml), then the platform's releases in PlatformOrder (edge, mongodb,
// backup, orders, monitoring; those marked OnlyWithValues in internal/charts only where the
// environment has their values file), each waited for with its own timeout. It also
// runs on-demand backups and restores as Jobs made from the backup CronJob (jobs.go).
//
// A run has three phases, and nothing is changed in the cluster before the third:
//
//  1. Plan: the ordered releases of the environment with their values — the
//     environment's values files plus what the caller passes (image tags or
//     digests, Terraform outputs, extra values) — and what is skipped and why.
//  2. Render: every release that will run is loaded and rendered (schema
//     validation, the charts' own `fail`s); one error lists every release that
//     does not render.
//  3. Apply: the Secrets MongoDB and the services need, then each release is
//     installed or upgraded and waited for. A release that does not become ready
//     in time is rolled back to its previous revision with its own timeout
//     (never Helm's --atomic, whose rollback runs on the expired deadline); a
//     first install that fails is uninstalled, so the next run starts clean.
//     Either way the error names the release, the objects that were not ready
//     and why (conditions, pod states, recent events).
package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

// Services are the orders chart's services, whose images the caller passes.
var Services = []string{"service1", "service2"}

// BackupImage is the image of cmd/backup (ECR repository "backup"). It is optional:
// without it the backup release is skipped, where the environment has one.
const BackupImage = "backup"

// OptionalImages are the images besides Services the caller may pass.
var OptionalImages = []string{BackupImage}

// PlatformOrder is the install order of the platform's own releases (after the
// add-ons, except BeforeAddons): the StorageClass before MongoDB claims a volume, the edge (Gateway) before
// the routes that attach to it, MongoDB before its backups and its clients, and the
// monitoring objects last. A release of charts.Releases missing here comes last.
var PlatformOrder = []string{"cluster", "edge", MongoRelease, "db-access", "backup", "orders", "monitoring"}

// BeforeAddons are platform releases installed before the add-ons: the gp3
// StorageClass, which kube-prometheus-stack's Prometheus and Alertmanager claim their
// volumes from.
var BeforeAddons = []string{"cluster"}

// MongoRelease is the one platform release from a remote chart (Bitnami's, pinned in
// charts/mongodb/upstream.yaml); every other one is a chart of charts.Releases.
const MongoRelease = "mongodb"

// requiredAddon: a release whose objects need an add-on's CRDs, and that add-on.
// Where the environment does not install the add-on, the release is skipped.
var requiredAddon = map[string]string{"monitoring": "kube-prometheus-stack"}

// Default timeouts of the platform's releases (add-ons carry theirs in charts/addons.yaml).
var defaultTimeouts = map[string]time.Duration{
	"cluster":    time.Minute,
	"edge":       2 * time.Minute,
	"mongodb":    10 * time.Minute,
	"backup":     2 * time.Minute,
	"orders":     5 * time.Minute,
	"monitoring": 2 * time.Minute,
}

// fallbackTimeout is the timeout of a release without an entry in defaultTimeouts.
const fallbackTimeout = 5 * time.Minute

// Kind tells where a release's chart comes from.
type Kind string

const (
	// KindAddon is a cluster add-on from a pinned remote chart (charts/addons.yaml).
	KindAddon Kind = "addon"
	// KindLocal is a chart of this repository (charts/<name>).
	KindLocal Kind = "local"
	// KindRemote is a platform release from a pinned remote chart (MongoDB).
	KindRemote Kind = "remote"
)

// ChartRef is a pinned remote chart: an HTTP chart repository and a chart name, or
// an oci:// reference (Name empty), and an exact version.
type ChartRef struct {
	Repository string `json:"repository"`
	Name       string `json:"name,omitempty"`
	Version    string `json:"version"`
}

func (c ChartRef) String() string {
	if c.Name == "" {
		return c.Repository + ":" + c.Version
	}
	return c.Repository + " " + c.Name + "@" + c.Version
}

// Step is one release of the plan.
type Step struct {
	Name      string
	Namespace string
	Kind      Kind
	// ChartDir is the chart directory (KindLocal).
	ChartDir string
	// Chart is the pinned remote chart (KindAddon, KindRemote).
	Chart   ChartRef
	Values  map[string]any
	Timeout time.Duration
	// Skip, when not empty, says why this release is not deployed.
	Skip string
}

// Image is the image of one service: a tag (the git commit) or a digest
// (sha256:…, which wins), and optionally its repository. Empty repository: the
// ECR repository from the Terraform outputs, or the chart's local image name.
type Image struct {
	// Repository is [<registry host>/]<path>, e.g. 1234.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/service1.
	Repository  string
	Tag, Digest string
}

// ParseImage reads an image reference as the pipeline passes it: a full reference
// (<repository>:<tag>, <repository>@sha256:…, or both), a bare digest (sha256:…),
// or a bare tag.
func ParseImage(ref string) (Image, error) {
	if ref == "" {
		return Image{}, errors.New("empty image reference")
	}
	if strings.HasPrefix(ref, "sha256:") {
		return Image{Digest: ref}, nil
	}
	if !strings.ContainsAny(ref, "/@:") {
		return Image{Tag: ref}, nil
	}
	var img Image
	name := ref
	if n, d, ok := strings.Cut(ref, "@"); ok {
		name, img.Digest = n, d
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, img.Tag = name[:i], name[i+1:]
	}
	if name == "" || strings.ContainsAny(name, "@ ") {
		return Image{}, fmt.Errorf("image reference %q: no repository", ref)
	}
	img.Repository = name
	return img, nil
}

// hostLike tells a registry host from the first path element of a repository, as
// container tools do: it has a dot or a port, or is localhost.
func hostLike(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// splitImageRepository splits a repository into registry host (maybe empty) and path.
func splitImageRepository(repo string) (host, path string) {
	if first, rest, ok := strings.Cut(repo, "/"); ok && hostLike(first) {
		return first, rest
	}
	return "", repo
}

// Inputs are what the caller passes besides the environment's files.
type Inputs struct {
	// Env is the environment, a folder of environments/ with values/.
	Env string
	// Images per service (Services) and optional image (OptionalImages: backup);
	// prod needs a digest for every service and for every optional image given.
	Images map[string]Image
	// Outputs are terraform/platform's outputs; AWS environments need them.
	Outputs *tfoutputs.Outputs
	// ExtraValues per release are merged last (like `helm -f`).
	ExtraValues map[string]map[string]any
	// SkipAddons skips every cluster add-on (clusters that have them, tests).
	SkipAddons bool
	// Skip names releases not to deploy (e.g. "mongodb" where its chart cannot be fetched).
	Skip []string
	// Timeout, when set, replaces every release's default timeout.
	Timeout time.Duration
}

// Plan is the ordered list of releases of an environment.
type Plan struct {
	Env string
	// AWS: the environment runs on EKS (it has Terraform inputs); its MongoDB
	// passwords must come from Secrets Manager.
	AWS   bool
	Root  string
	Steps []Step
	// Mongo describes the MongoDB topology the Secrets are built for.
	Mongo MongoTopology
	// missingDigests are the services without a digest where the environment
	// deploys by digest (prod): CheckApply refuses them; plan, diff and uninstall do not care.
	missingDigests []string
}

// CheckApply reports what makes the plan unfit to apply although it can be shown,
// diffed or uninstalled: prod deploys images by digest only.
func (p *Plan) CheckApply() error {
	if len(p.missingDigests) > 0 {
		return fmt.Errorf("environment %s deploys images by digest: no digest for %s", p.Env, strings.Join(p.missingDigests, ", "))
	}
	return nil
}

// Active returns the steps that will run.
func (p *Plan) Active() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Skip == "" {
			out = append(out, s)
		}
	}
	return out
}

// Step returns the step named name.
func (p *Plan) Step(name string) (Step, bool) {
	for _, s := range p.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// String is the plan as a person reads it: one line per release.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan for environment %s:\n", p.Env)
	for i, s := range p.Steps {
		src := s.ChartDir
		if s.Kind != KindLocal {
			src = s.Chart.String()
		}
		if rel, err := filepath.Rel(p.Root, src); err == nil && s.Kind == KindLocal {
			src = rel
		}
		status := fmt.Sprintf("timeout %s", s.Timeout)
		if s.Skip != "" {
			status = "skipped: " + s.Skip
		}
		fmt.Fprintf(&b, "  %d. %-30s %-22s %-6s %s (%s)\n", i+1, s.Name, "ns/"+s.Namespace, s.Kind, src, status)
	}
	return b.String()
}

// Addon is one entry of charts/addons.yaml.
type Addon struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// AllAWS: installed in every AWS environment (one with Terraform inputs), so a
	// new environment folder gets it without an edit here.
	AllAWS bool `json:"allAWS,omitempty"`
	// Environments are further environments by name (e.g. local).
	Environments []string       `json:"environments,omitempty"`
	Timeout      string         `json:"timeout"`
	Chart        ChartRef       `json:"chart"`
	Values       map[string]any `json:"values"`
}

// In tells whether the add-on is installed in env.
func (a Addon) In(env *environments.Environment) bool {
	return (a.AllAWS && env.AWS) || slices.Contains(a.Environments, env.Name)
}

// ReadAddons reads and checks charts/addons.yaml.
func ReadAddons(path string) ([]Addon, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("add-ons: %w", err)
	}
	var f struct {
		Addons []Addon `json:"addons"`
	}
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("add-ons %s: %w", path, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, a := range f.Addons {
		where := fmt.Sprintf("add-ons %s: entry %d (%s)", path, i+1, a.Name)
		switch {
		case a.Name == "" || a.Namespace == "":
			errs = append(errs, fmt.Errorf("%s: name and namespace are required", where))
		case seen[a.Name]:
			errs = append(errs, fmt.Errorf("%s: duplicate name", where))
		}
		seen[a.Name] = true
		if a.Chart.Repository == "" || a.Chart.Version == "" {
			errs = append(errs, fmt.Errorf("%s: chart.repository and chart.version are required (pin every chart)", where))
		}
		if !strings.HasPrefix(a.Chart.Repository, "oci://") && a.Chart.Name == "" {
			errs = append(errs, fmt.Errorf("%s: chart.name is required for an HTTP chart repository", where))
		}
		if _, err := time.ParseDuration(a.Timeout); err != nil {
			errs = append(errs, fmt.Errorf("%s: timeout: %w", where, err))
		}
		if !a.AllAWS && len(a.Environments) == 0 {
			errs = append(errs, fmt.Errorf("%s: set allAWS: true or list environments", where))
		}
	}
	return f.Addons, errors.Join(errs...)
}

// addonEnvironmentValues are an environment's own values for an add-on,
// environments/<env>/values/<add-on>.yaml, merged over charts/addons.yaml's (e.g. a
// longer metrics retention in prod); none when the file does not exist.
func addonEnvironmentValues(root, env, addon string) (map[string]any, error) {
	file := charts.ValuesFile(root, env, addon)
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	vals, err := charts.ReadValues(file)
	if err != nil {
		return nil, fmt.Errorf("values of add-on %s for environment %s: %w", addon, env, err)
	}
	return vals, nil
}

// UnknownEnvironmentError is returned for an environment that has no folder.
type UnknownEnvironmentError = environments.UnknownError

// BuildPlan makes the plan of an environment: add-ons, then the platform's releases
// in PlatformOrder, with their values. It reads files only; no cluster is involved.
func BuildPlan(root string, in Inputs) (*Plan, error) {
	env, err := environments.Load(os.DirFS(root), in.Env)
	if err != nil {
		return nil, err
	}
	if err := checkInputs(in); err != nil {
		return nil, err
	}
	addons, err := ReadAddons(filepath.Join(root, "charts", "addons.yaml"))
	if err != nil {
		return nil, err
	}
	upstream, err := charts.ReadMongoDBUpstream(filepath.Join(root, "charts", "mongodb", "upstream.yaml"))
	if err != nil {
		return nil, fmt.Errorf("mongodb chart pin: %w", err)
	}

	p := &Plan{Env: in.Env, AWS: env.AWS, Root: root}
	if strings.HasPrefix(in.Env, "prod") {
		for _, name := range append(append([]string{}, Services...), OptionalImages...) {
			img, given := in.Images[name]
			optional := slices.Contains(OptionalImages, name)
			if img.Digest == "" && (!optional || given) {
				p.missingDigests = append(p.missingDigests, name)
			}
		}
	}
	known := map[string]bool{}
	addonsHere := map[string]bool{}
	for _, a := range addons {
		known[a.Name] = true
		if !a.In(env) {
			continue
		}
		addonsHere[a.Name] = true
		timeout, _ := time.ParseDuration(a.Timeout)
		envVals, err := addonEnvironmentValues(root, in.Env, a.Name)
		if err != nil {
			return nil, err
		}
		vals, skip, err := addonDeployValues(a.Name, in)
		if err != nil {
			return nil, err
		}
		s := Step{
			Name: a.Name, Namespace: a.Namespace, Kind: KindAddon, Chart: a.Chart,
			Values:  charts.MergeValues(charts.MergeValues(charts.MergeValues(a.Values, envVals), vals), in.ExtraValues[a.Name]),
			Timeout: timeout, Skip: skip,
		}
		if in.SkipAddons {
			s.Skip = "add-ons skipped by the caller"
		}
		p.Steps = append(p.Steps, s)
	}

	for _, r := range platformReleases() {
		known[r.Name] = true
		file := charts.ValuesFile(root, in.Env, r.Name)
		if r.OnlyWithValues {
			if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
				continue // not part of this environment
			}
		}
		vals, err := charts.ReadValues(file)
		if err != nil {
			return nil, fmt.Errorf("values of release %s for environment %s: %w", r.Name, in.Env, err)
		}
		deployVals, err := releaseDeployValues(r.Name, in, env.AWS, upstream)
		if err != nil {
			return nil, err
		}
		timeout, ok := defaultTimeouts[r.Name]
		if !ok {
			timeout = fallbackTimeout
		}
		s := Step{
			Name: r.Name, Namespace: r.Namespace, Kind: KindLocal, Timeout: timeout,
			Values: charts.MergeValues(charts.MergeValues(vals, deployVals), in.ExtraValues[r.Name]),
		}
		if r.Name == MongoRelease {
			s.Kind = KindRemote
			s.Chart = ChartRef{Repository: upstream.Chart.Repository, Version: upstream.Chart.Version}
			if p.Mongo, err = mongoTopology(s.Values, s.Namespace); err != nil {
				return nil, fmt.Errorf("mongodb values for %s: %w", in.Env, err)
			}
		} else {
			s.ChartDir = filepath.Join(root, r.Chart)
		}
		if addon, ok := requiredAddon[r.Name]; ok && !addonsHere[addon] {
			s.Skip = fmt.Sprintf("needs add-on %s (its CRDs), which environment %s does not install", addon, in.Env)
		}
		if r.Name == "backup" && s.Skip == "" {
			if _, ok := in.Images[BackupImage]; !ok {
				s.Skip = "no backup image: pass --image " + BackupImage + "=<ref> (an installed schedule keeps its revision)"
			}
		}
		p.Steps = append(p.Steps, s)
	}
	// Stable: BeforeAddons first, then the add-ons and the rest in their order.
	slices.SortStableFunc(p.Steps, func(a, b Step) int {
		return boolRank(slices.Contains(BeforeAddons, b.Name)) - boolRank(slices.Contains(BeforeAddons, a.Name))
	})
	if env.AWS && in.Outputs != nil && in.Outputs.DomainName != "" {
		if err := helmTestThroughHTTPS(p, in.Outputs.DomainName); err != nil {
			return nil, err
		}
	}

	var unknown []string
	for _, name := range in.Skip {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		names := make([]string, 0, len(known))
		for k := range known {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("cannot skip unknown release(s) %s (releases: %s)", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	for i := range p.Steps {
		if slices.Contains(in.Skip, p.Steps[i].Name) && p.Steps[i].Skip == "" {
			p.Steps[i].Skip = "skipped by the caller"
		}
		if in.Timeout > 0 {
			p.Steps[i].Timeout = in.Timeout
		}
	}
	for name := range in.ExtraValues {
		if _, ok := p.Step(name); !ok {
			return nil, fmt.Errorf("extra values for release %q, which environment %s does not deploy", name, in.Env)
		}
	}
	return p, nil
}

// platformReleases are the platform's releases in PlatformOrder: MongoDB (remote)
// and the local charts of charts.Releases; local charts missing from PlatformOrder
// follow in their charts.Releases order.
func platformReleases() []charts.Release {
	byName := map[string]charts.Release{MongoRelease: {Name: MongoRelease, Namespace: MongoNamespace}}
	for _, r := range charts.Releases {
		byName[r.Name] = r
	}
	var out []charts.Release
	for _, name := range PlatformOrder {
		if r, ok := byName[name]; ok {
			out = append(out, r)
		}
	}
	for _, r := range charts.Releases {
		if !slices.Contains(PlatformOrder, r.Name) {
			out = append(out, r)
		}
	}
	return out
}

// checkInputs rejects inputs that no chart could catch: a digest that is not one,
// and images for unknown services.
func checkInputs(in Inputs) error {
	var errs []error
	for svc, img := range in.Images {
		if !slices.Contains(Services, svc) && !slices.Contains(OptionalImages, svc) {
			errs = append(errs, fmt.Errorf("image for unknown service %q (services: %s; optional images: %s)", svc, strings.Join(Services, ", "), strings.Join(OptionalImages, ", ")))
		}
		if img.Digest != "" && !validDigest(img.Digest) {
			errs = append(errs, fmt.Errorf("image digest of %s: %q is not sha256:<64 hex digits>", svc, img.Digest))
		}
		if img.Tag == "latest" {
			errs = append(errs, fmt.Errorf("image tag of %s: never \"latest\"; use the git commit or a digest", svc))
		}
	}
	return errors.Join(errs...)
}

func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range hex {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// releaseDeployValues are the values of the platform's releases that come from the
// caller and Terraform (charts/README.md, "Values set at deploy time").
func releaseDeployValues(release string, in Inputs, onAWS bool, upstream *charts.MongoDBUpstream) (map[string]any, error) {
	out := map[string]any{}
	aws := onAWS && in.Outputs != nil
	switch release {
	case "edge":
		if aws {
			out["aws"] = map[string]any{
				"subnets":        toAny(in.Outputs.PublicSubnetIDs),
				"eipAllocations": toAny(in.Outputs.NLBEIPAllocationIDs),
			}
			// A domain: the NLB terminates TLS with the ACM certificate for it.
			if in.Outputs.EdgeCertificateARN != "" {
				out["tls"] = map[string]any{"certificateArn": in.Outputs.EdgeCertificateARN}
				out["hostname"] = in.Outputs.DomainName
			}
		}
	case "orders":
		services := map[string]any{}
		registry := ""
		if aws {
			registry = in.Outputs.ECRRegistry
		}
		for _, svc := range Services {
			host, img, err := imageValues(svc, in.Images[svc], in, aws)
			if err != nil {
				return nil, err
			}
			if in.Images[svc].Repository != "" && registry != "" && host != registry {
				return nil, fmt.Errorf("images of %s must come from one registry: %q and %q", strings.Join(Services, " and "), registry, host)
			}
			if host != "" {
				registry = host
			}
			if len(img) > 0 {
				services[svc] = map[string]any{"image": img}
			}
		}
		if len(services) > 0 {
			out["services"] = services
		}
		if registry != "" {
			out["imageRegistry"] = registry
		}
		// A domain: the routes attach to the edge's HTTPS listener and answer its name only.
		if aws && in.Outputs.DomainName != "" {
			out["gateway"] = map[string]any{"sectionName": "https", "hostnames": []any{in.Outputs.DomainName}}
		}
	case "backup":
		if _, given := in.Images[BackupImage]; given {
			host, img, err := imageValues(BackupImage, in.Images[BackupImage], in, aws)
			if err != nil {
				return nil, err
			}
			if host != "" {
				img["registry"] = host
			}
			out["image"] = img
		}
		if aws {
			out["s3"] = map[string]any{"bucket": in.Outputs.BackupBucket}
			out["aws"] = map[string]any{"region": in.Outputs.Region}
		}
	case "mongodb":
		if aws {
			for _, im := range upstream.Images {
				u, err := in.Outputs.RepositoryURL(im.ECRRepository)
				if err != nil {
					return nil, fmt.Errorf("mongodb image %s: %w", im.Name, err)
				}
				host, path, err := splitRepository(u)
				if err != nil {
					return nil, fmt.Errorf("terraform output ecr_repository_urls[%s]: %w", im.ECRRepository, err)
				}
				out = charts.MergeValues(out, nested(strings.Split(im.ValuesPath, "."), map[string]any{"registry": host, "repository": path}))
			}
		}
	}
	return out, nil
}

// imageValues are the chart values of one image (repository, tag, digest) and its
// registry host ("" when none): from the reference the caller passed, else the
// environment's ECR repository of that name.
func imageValues(name string, i Image, in Inputs, aws bool) (string, map[string]any, error) {
	img := map[string]any{}
	if i.Tag != "" {
		img["tag"] = i.Tag
	}
	if i.Digest != "" {
		img["digest"] = i.Digest
	}
	if i.Repository != "" {
		host, path := splitImageRepository(i.Repository)
		if aws && host != in.Outputs.ECRRegistry {
			return "", nil, fmt.Errorf("image of %s: repository %q is not in the environment's ECR registry %q", name, i.Repository, in.Outputs.ECRRegistry)
		}
		img["repository"] = path
		return host, img, nil
	}
	if !aws {
		return "", img, nil
	}
	u, err := in.Outputs.RepositoryURL(name)
	if err != nil {
		return "", nil, fmt.Errorf("image of %s: %w", name, err)
	}
	host, path, err := splitRepository(u)
	if err != nil {
		return "", nil, fmt.Errorf("terraform output ecr_repository_urls[%s]: %w", name, err)
	}
	if host != in.Outputs.ECRRegistry {
		return "", nil, fmt.Errorf("terraform output ecr_repository_urls[%s] = %q is not in registry %q", name, u, in.Outputs.ECRRegistry)
	}
	img["repository"] = path
	return host, img, nil
}

// addonDeployValues are an add-on's values from Terraform outputs, or why the
// add-on is skipped: on AWS, its images from the environment's ECR mirrors
// (addonMirrors) and what it needs to know about the environment.
func addonDeployValues(name string, in Inputs) (map[string]any, string, error) {
	vals, skip, err := addonOutputValues(name, in)
	if err != nil || in.Outputs == nil {
		return vals, skip, err
	}
	mirrors, err := addonMirrors(name, in.Outputs)
	if err != nil {
		return nil, "", err
	}
	return charts.MergeValues(mirrors, vals), skip, nil
}

func addonOutputValues(name string, in Inputs) (map[string]any, string, error) {
	needsOutputs := map[string]string{
		"aws-load-balancer-controller": "cluster name, region, VPC",
		"cluster-autoscaler":           "cluster name, region",
		"external-dns":                 "domain name, cluster name",
	}
	what, ok := needsOutputs[name]
	if !ok {
		return map[string]any{}, "", nil
	}
	if in.Outputs == nil {
		if in.SkipAddons {
			return map[string]any{}, "", nil
		}
		return nil, "", fmt.Errorf("add-on %s needs the Terraform outputs (%s) of environment %s", name, what, in.Env)
	}
	o := in.Outputs
	// AWS permissions come from the Pod Identity associations Terraform makes for
	// the add-ons' service accounts: no role annotations (IRSA).
	switch name {
	case "aws-load-balancer-controller":
		return map[string]any{"clusterName": o.ClusterName, "region": o.Region, "vpcId": o.VPCID}, "", nil
	case "cluster-autoscaler":
		// Finds the node groups by their k8s.io/cluster-autoscaler/<cluster name> tags.
		return map[string]any{"autoDiscovery": map[string]any{"clusterName": o.ClusterName}, "awsRegion": o.Region}, "", nil
	default: // external-dns
		if o.DomainName == "" {
			return map[string]any{}, "no domain_name in Terraform outputs", nil
		}
		// txtOwnerId marks the records this cluster owns, so it never deletes another's.
		return map[string]any{"domainFilters": []any{o.DomainName}, "txtOwnerId": o.ClusterName}, "", nil
	}
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// OrdersTestGatewayURL is the orders chart's default tests.gatewayURL: the edge's Envoy
// Service (charts/edge envoyProxy.serviceName) as seen from inside the cluster.
const OrdersTestGatewayURL = "http://orders-gateway.envoy-gateway-system.svc.cluster.local"

// helmTestThroughHTTPS: with a domain, plain HTTP on the gateway only redirects, so the
// orders chart's helm test goes to the https listener's port (plain HTTP inside the
// cluster: the NLB terminates TLS) and sends the domain as Host.
func helmTestThroughHTTPS(p *Plan, domain string) error {
	port := int64(443) // charts/edge values.yaml tls.port
	if edge, ok := p.Step("edge"); ok {
		if v, found, err := valuesInt(edge.Values, "tls", "port"); err != nil {
			return fmt.Errorf("edge values for %s: tls.port: %w", p.Env, err)
		} else if found {
			port = v
		}
	}
	for i := range p.Steps {
		if p.Steps[i].Name == "orders" {
			p.Steps[i].Values = charts.MergeValues(p.Steps[i].Values, map[string]any{"tests": map[string]any{
				"gatewayURL": fmt.Sprintf("%s:%d", OrdersTestGatewayURL, port), "host": domain,
			}})
		}
	}
	return nil
}

// valuesInt reads an integer at path from Helm values, parsed from YAML (float64)
// or set in Go (int, int64).
func valuesInt(values map[string]any, path ...string) (int64, bool, error) {
	var v any = values
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, false, nil
		}
		if v, ok = m[k]; !ok {
			return 0, false, nil
		}
	}
	switch n := v.(type) {
	case int:
		return int64(n), true, nil
	case int64:
		return n, true, nil
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true, nil
		}
	}
	return 0, false, fmt.Errorf("%v is not an integer", v)
}

// addonMirrors points an add-on's images (internal/charts AddonMirrors) at the
// environment's ECR mirrors, which the pipeline's mirror step fills, so an AWS
// cluster never pulls them from a public registry.
func addonMirrors(name string, o *tfoutputs.Outputs) (map[string]any, error) {
	vals := map[string]any{}
	for _, img := range charts.MirrorsOf(name) {
		repo, err := o.RepositoryURL(img.ECRRepository)
		if err != nil {
			return nil, fmt.Errorf("add-on %s: mirror of %s: %w", name, img.Source, err)
		}
		v, err := img.MirrorValues(repo)
		if err != nil {
			return nil, fmt.Errorf("add-on %s: %w", name, err)
		}
		vals = charts.MergeValues(vals, v)
	}
	return vals, nil
}

// splitRepository splits an ECR repository URL "<host>/<path>" (no scheme, no tag).
func splitRepository(u string) (host, path string, err error) {
	host, path, ok := strings.Cut(u, "/")
	if !ok || host == "" || path == "" || strings.ContainsAny(u, "@: ") {
		return "", "", fmt.Errorf("%q is not a repository URL <registry>/<path>", u)
	}
	return host, path, nil
}

func nested(path []string, leaf map[string]any) map[string]any {
	out := leaf
	for i := len(path) - 1; i >= 0; i-- {
		out = map[string]any{path[i]: out}
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// MongoTopology is what the connection string depends on.
type MongoTopology struct {
	Namespace  string
	ReplicaSet string // empty: standalone
	Members    int
	User       string
	Database   string
}

func mongoTopology(values map[string]any, namespace string) (MongoTopology, error) {
	t := MongoTopology{Namespace: namespace, Members: 1}
	auth, _ := values["auth"].(map[string]any)
	users, _ := auth["usernames"].([]any)
	dbs, _ := auth["databases"].([]any)
	if len(users) != 1 || len(dbs) != 1 {
		return t, fmt.Errorf("auth.usernames and auth.databases must name exactly one application user and database, got %v and %v", users, dbs)
	}
	t.User, _ = users[0].(string)
	t.Database, _ = dbs[0].(string)
	if values["architecture"] == "replicaset" {
		t.ReplicaSet, _ = values["replicaSetName"].(string)
		if t.ReplicaSet == "" {
			t.ReplicaSet = "rs0"
		}
		n, found, err := valuesInt(values, "replicaCount")
		if err != nil || !found {
			return t, fmt.Errorf("replicaCount must be a number for a replica set, got %v", values["replicaCount"])
		}
		t.Members = int(n)
	}
	return t, nil
}

// URL is the application user's connection string (charts/README.md): the
// password is URL-encoded.
func (t MongoTopology) URL(password string) string {
	user := url.UserPassword(t.User, password).String()
	q := "authSource=" + url.QueryEscape(t.Database)
	if t.ReplicaSet == "" {
		return fmt.Sprintf("mongodb://%s@mongodb.%s.svc.cluster.local:27017/%s?%s", user, t.Namespace, t.Database, q)
	}
	hosts := make([]string, t.Members)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("mongodb-%d.mongodb-headless.%s.svc.cluster.local:27017", i, t.Namespace)
	}
	return fmt.Sprintf("mongodb://%s@%s/%s?replicaSet=%s&%s", user, strings.Join(hosts, ","), t.Database, url.QueryEscape(t.ReplicaSet), q)
}
