// Package deploy installs, upgrades and rolls back the platform's Helm releases with
// the Helm SDK: the cluster add-ons an environment needs (charts/addons.yaml), then
// edge, mongodb and orders, in that order, each waited for with its own timeout.
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

// Default timeouts of the platform's releases (add-ons carry theirs in charts/addons.yaml).
var defaultTimeouts = map[string]time.Duration{
	"edge":    2 * time.Minute,
	"mongodb": 10 * time.Minute,
	"orders":  5 * time.Minute,
}

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
	// Images per service (Services); prod needs a digest for every service.
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
	Name         string         `json:"name"`
	Namespace    string         `json:"namespace"`
	Environments []string       `json:"environments"`
	Timeout      string         `json:"timeout"`
	Chart        ChartRef       `json:"chart"`
	Values       map[string]any `json:"values"`
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
		if len(a.Environments) == 0 {
			errs = append(errs, fmt.Errorf("%s: environments is empty", where))
		}
	}
	return f.Addons, errors.Join(errs...)
}

// UnknownEnvironmentError is returned for an environment that has no folder.
type UnknownEnvironmentError = environments.UnknownError

// BuildPlan makes the plan of an environment: add-ons, edge, mongodb, orders, with
// their values. It reads files only; no cluster is involved.
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
		for _, svc := range Services {
			if in.Images[svc].Digest == "" {
				p.missingDigests = append(p.missingDigests, svc)
			}
		}
	}
	known := map[string]bool{}
	for _, a := range addons {
		known[a.Name] = true
		if !slices.Contains(a.Environments, in.Env) {
			continue
		}
		timeout, _ := time.ParseDuration(a.Timeout)
		vals, err := addonDeployValues(a.Name, in)
		if err != nil {
			return nil, err
		}
		s := Step{
			Name: a.Name, Namespace: a.Namespace, Kind: KindAddon, Chart: a.Chart,
			Values: charts.MergeValues(charts.MergeValues(a.Values, vals), in.ExtraValues[a.Name]), Timeout: timeout,
		}
		if in.SkipAddons {
			s.Skip = "add-ons skipped by the caller"
		}
		p.Steps = append(p.Steps, s)
	}

	for _, r := range []struct {
		name, ns string
		kind     Kind
	}{{"edge", "edge", KindLocal}, {"mongodb", MongoNamespace, KindRemote}, {"orders", "orders", KindLocal}} {
		known[r.name] = true
		vals, err := charts.ReadValues(charts.ValuesFile(root, in.Env, r.name))
		if err != nil {
			return nil, fmt.Errorf("values of release %s for environment %s: %w", r.name, in.Env, err)
		}
		deployVals, err := releaseDeployValues(r.name, in, env.AWS, upstream)
		if err != nil {
			return nil, err
		}
		s := Step{
			Name: r.name, Namespace: r.ns, Kind: r.kind, Timeout: defaultTimeouts[r.name],
			Values: charts.MergeValues(charts.MergeValues(vals, deployVals), in.ExtraValues[r.name]),
		}
		if r.kind == KindLocal {
			s.ChartDir = filepath.Join(root, "charts", r.name)
		} else {
			s.Chart = ChartRef{Repository: upstream.Chart.Repository, Version: upstream.Chart.Version}
		}
		if r.name == "mongodb" {
			if p.Mongo, err = mongoTopology(s.Values, s.Namespace); err != nil {
				return nil, fmt.Errorf("mongodb values for %s: %w", in.Env, err)
			}
		}
		p.Steps = append(p.Steps, s)
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

// checkInputs rejects inputs that no chart could catch: a digest that is not one,
// and images for unknown services.
func checkInputs(in Inputs) error {
	var errs []error
	for svc, img := range in.Images {
		if !slices.Contains(Services, svc) {
			errs = append(errs, fmt.Errorf("image for unknown service %q (services: %s)", svc, strings.Join(Services, ", ")))
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
		}
	case "orders":
		services := map[string]any{}
		registry := ""
		if aws {
			registry = in.Outputs.ECRRegistry
		}
		for _, svc := range Services {
			img := map[string]any{}
			i := in.Images[svc]
			if i.Tag != "" {
				img["tag"] = i.Tag
			}
			if i.Digest != "" {
				img["digest"] = i.Digest
			}
			if i.Repository != "" {
				host, path := splitImageRepository(i.Repository)
				switch {
				case aws && host != in.Outputs.ECRRegistry:
					return nil, fmt.Errorf("image of %s: repository %q is not in the environment's ECR registry %q", svc, i.Repository, in.Outputs.ECRRegistry)
				case registry != "" && host != registry:
					return nil, fmt.Errorf("images of %s must come from one registry: %q and %q", strings.Join(Services, " and "), registry, host)
				}
				if host != "" {
					registry = host
				}
				img["repository"] = path
			} else if aws {
				u, err := in.Outputs.RepositoryURL(svc)
				if err != nil {
					return nil, err
				}
				host, path, err := splitRepository(u)
				if err != nil {
					return nil, fmt.Errorf("terraform output ecr_repository_urls[%s]: %w", svc, err)
				}
				if host != in.Outputs.ECRRegistry {
					return nil, fmt.Errorf("terraform output ecr_repository_urls[%s] = %q is not in registry %q", svc, u, in.Outputs.ECRRegistry)
				}
				img["repository"] = path
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

// addonDeployValues are an add-on's values from Terraform outputs.
func addonDeployValues(name string, in Inputs) (map[string]any, error) {
	switch name {
	case "aws-load-balancer-controller":
		if in.Outputs == nil {
			if in.SkipAddons {
				return map[string]any{}, nil
			}
			return nil, fmt.Errorf("add-on %s needs the Terraform outputs (cluster name, region, VPC, IAM role) of environment %s", name, in.Env)
		}
		// Its AWS permissions come from the Pod Identity association Terraform makes
		// for kube-system/aws-load-balancer-controller: no role annotation (IRSA).
		return map[string]any{
			"clusterName": in.Outputs.ClusterName,
			"region":      in.Outputs.Region,
			"vpcId":       in.Outputs.VPCID,
		}, nil
	}
	return map[string]any{}, nil
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
		switch n := values["replicaCount"].(type) {
		case float64:
			t.Members = int(n)
		case int64:
			t.Members = int(n)
		case int:
			t.Members = n
		default:
			return t, fmt.Errorf("replicaCount must be a number for a replica set, got %v", values["replicaCount"])
		}
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
