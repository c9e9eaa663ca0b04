package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/orders-platform/orders/internal/charts"
)

// Defaults of a Deployer.
const (
	DefaultMaxHistory      = 10
	DefaultRollbackTimeout = 5 * time.Minute
	DefaultReachTimeout    = 15 * time.Second
)

// ChartLoader loads the chart of a step.
type ChartLoader interface {
	Load(ctx context.Context, s Step) (*chart.Chart, error)
}

// Deployer applies a Plan to a cluster.
type Deployer struct {
	// Config reaches the cluster (KubeconfigConfig, or EKS through internal/eksauth).
	Config *rest.Config
	// Out receives progress, one line per event; never a secret. nil: discarded.
	Out io.Writer
	// MaxHistory bounds each release's stored revisions (0: DefaultMaxHistory).
	MaxHistory int
	// RollbackTimeout bounds a rollback or the uninstall of a failed first install,
	// separately from the release's own timeout (0: DefaultRollbackTimeout).
	RollbackTimeout time.Duration
	// ReachTimeout bounds the first contact with the API server (0: DefaultReachTimeout).
	ReachTimeout time.Duration
	// Charts loads charts (nil: local directories, remote charts through Helm's
	// repository and OCI clients).
	Charts ChartLoader
	// DrainTimeout bounds each wait of an uninstall for what controllers delete
	// outside the cluster: load balancers, volumes (0: DefaultDrainTimeout).
	DrainTimeout time.Duration
}

// ReleaseResult is what happened to one release.
type ReleaseResult struct {
	Name, Namespace string
	// Action is installed, upgraded or skipped.
	Action   string
	Revision int
	Duration time.Duration
}

// ReleaseError is a release that failed; its message is the report a person reads.
type ReleaseError struct {
	Release, Namespace string
	// Op is "install" or "upgrade".
	Op      string
	Timeout time.Duration
	Err     error
	// NotReady are the release's objects that were not ready when it failed.
	NotReady []NotReady
	// RolledBackTo is the revision restored after a failed upgrade (0: none).
	RolledBackTo int
	// Uninstalled is set when a failed first install was removed.
	Uninstalled bool
	// CleanupErr is the failure of the rollback or uninstall, if any.
	CleanupErr error
}

func (e *ReleaseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s (namespace %s): %s failed: %v", e.Release, e.Namespace, e.Op, e.Err)
	switch {
	case e.CleanupErr != nil && e.RolledBackTo > 0:
		fmt.Fprintf(&b, "\n  ROLLBACK to revision %d FAILED: %v (the release is left failed; inspect it with helm history %s -n %s)", e.RolledBackTo, e.CleanupErr, e.Release, e.Namespace)
	case e.CleanupErr != nil:
		fmt.Fprintf(&b, "\n  uninstall of the failed first install FAILED: %v", e.CleanupErr)
	case e.RolledBackTo > 0:
		fmt.Fprintf(&b, "\n  rolled back to revision %d, which is ready again", e.RolledBackTo)
	case e.Uninstalled:
		b.WriteString("\n  first install: the failed release was uninstalled (the next run installs it afresh)")
	}
	if len(e.NotReady) == 0 {
		b.WriteString("\n  no workload was found not ready (see the error above)")
	} else {
		b.WriteString("\n  not ready:")
		for _, n := range e.NotReady {
			b.WriteString("\n    ")
			b.WriteString(n.String())
		}
	}
	return b.String()
}

func (e *ReleaseError) Unwrap() error { return e.Err }

func (d *Deployer) logf(format string, args ...any) {
	if d.Out != nil {
		fmt.Fprintf(d.Out, format+"\n", args...)
	}
}

func (d *Deployer) maxHistory() int {
	if d.MaxHistory > 0 {
		return d.MaxHistory
	}
	return DefaultMaxHistory
}

func (d *Deployer) rollbackTimeout() time.Duration {
	if d.RollbackTimeout > 0 {
		return d.RollbackTimeout
	}
	return DefaultRollbackTimeout
}

func (d *Deployer) charts() ChartLoader {
	if d.Charts != nil {
		return d.Charts
	}
	return HelmCharts{}
}

// prepared is a plan ready to apply: clients, credentials, loaded charts and final values.
type prepared struct {
	kube   kubernetes.Interface
	creds  Credentials
	charts map[string]*chart.Chart
	values map[string]map[string]any
	// secrets: whether the MongoDB/orders Secrets are part of this run.
	secrets bool
}

// prepare connects (read-only), resolves the credentials, and loads and renders
// every active release. Nothing is written to the cluster.
func (d *Deployer) prepare(ctx context.Context, p *Plan, given Credentials) (*prepared, error) {
	if d.Config == nil {
		return nil, errNoCluster
	}
	reach := d.ReachTimeout
	if reach == 0 {
		reach = DefaultReachTimeout
	}
	version, err := CheckReachable(ctx, d.Config, reach)
	if err != nil {
		return nil, err
	}
	d.logf("cluster %s: Kubernetes %s", d.Config.Host, version)
	kube, err := kubernetes.NewForConfig(d.Config)
	if err != nil {
		return nil, fmt.Errorf("Kubernetes client for %s: %w", d.Config.Host, err)
	}
	pr := &prepared{kube: kube, charts: map[string]*chart.Chart{}, values: map[string]map[string]any{}}
	for _, s := range p.Active() {
		pr.values[s.Name] = s.Values
		if needsSecrets(s.Name) {
			pr.secrets = true
		}
	}
	if pr.secrets {
		mongoNS := p.Mongo.Namespace
		if pr.creds, err = resolveCredentials(ctx, kube, p.Env, p.AWS, mongoNS, given); err != nil {
			return nil, err
		}
		if s, ok := p.Step("orders"); ok && s.Skip == "" {
			hash := secretHash(p.Mongo.URL(pr.creds.AppPassword))
			ann := map[string]any{}
			for _, svc := range Services {
				ann[svc] = map[string]any{"podAnnotations": map[string]any{PodAnnotationSecretHash: hash}}
			}
			pr.values["orders"] = charts.MergeValues(s.Values, map[string]any{"services": ann})
		}
	}

	// Render every release before anything is installed.
	var errs []error
	for _, s := range p.Active() {
		ch, err := d.charts().Load(ctx, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("release %s: load chart: %w", s.Name, err))
			continue
		}
		pr.charts[s.Name] = ch
		if _, err := renderChart(ch, s.Name, s.Namespace, pr.values[s.Name]); err != nil {
			errs = append(errs, fmt.Errorf("release %s: values for environment %s do not render: %w", s.Name, p.Env, err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nothing was installed: %w", errors.Join(errs...))
	}
	return pr, nil
}

// renderChart renders like `helm install --dry-run` without a cluster: schema
// validation and the templates' own checks.
func renderChart(ch *chart.Chart, name, namespace string, values map[string]any) (*release.Release, error) {
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = name, namespace
	inst.KubeVersion = charts.KubeVersion
	inst.APIVersions = charts.APIVersions
	return inst.Run(ch, values)
}

// Deploy applies the plan: Secrets, then each active release in order. It stops at
// the first release that fails (after rolling it back), returning a *ReleaseError.
func (d *Deployer) Deploy(ctx context.Context, p *Plan, given Credentials) ([]ReleaseResult, error) {
	if err := p.CheckApply(); err != nil {
		return nil, err
	}
	pr, err := d.prepare(ctx, p, given)
	if err != nil {
		return nil, err
	}
	var results []ReleaseResult
	secretsDone := false
	for _, s := range p.Steps {
		if s.Skip != "" {
			d.logf("%s: skipped (%s)", s.Name, s.Skip)
			results = append(results, ReleaseResult{Name: s.Name, Namespace: s.Namespace, Action: "skipped"})
			continue
		}
		if pr.secrets && !secretsDone && needsSecrets(s.Name) {
			ordersNS := "orders"
			if o, ok := p.Step("orders"); ok {
				ordersNS = o.Namespace
			}
			namespaces := []string{p.Mongo.Namespace, ordersNS}
			var backup *backupSecret
			if b, ok := p.Step("backup"); ok && b.Skip == "" {
				backup = backupSecretOf(b)
				namespaces = append(namespaces, backup.Namespace)
			}
			for _, ns := range namespaces {
				if err := ensureNamespace(ctx, pr.kube, ns, true); err != nil {
					return results, err
				}
			}
			// MongoDB's NetworkPolicy and the gateway select namespaces by label (tenant.go).
			if err := labelPlatformNamespaces(ctx, pr.kube, p.Mongo.Namespace, ordersNS); err != nil {
				return results, err
			}
			// Tenants (previews) are deployed by an identity that may create namespaces only.
			if err := ensureTenantDeployers(ctx, pr.kube); err != nil {
				return results, err
			}
			written, err := applySecrets(ctx, pr.kube, p, pr.creds, ordersNS, backup)
			if err != nil {
				return results, err
			}
			d.logf("secrets: %s applied", strings.Join(written, ", "))
			secretsDone = true
		}
		r, err := d.release(ctx, pr, s)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

// ensureNamespace creates a namespace; the platform's own get Pod Security "restricted".
func ensureNamespace(ctx context.Context, kube kubernetes.Interface, name string, restricted bool) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	if restricted {
		for _, mode := range []string{"enforce", "warn", "audit"} {
			ns.Labels["pod-security.kubernetes.io/"+mode] = "restricted"
		}
	}
	_, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// helmConfig is Helm's action configuration for one namespace (release storage: Secrets).
func (d *Deployer) helmConfig(namespace string) (*action.Configuration, error) {
	getter, err := newRESTGetter(d.Config, namespace)
	if err != nil {
		return nil, err
	}
	cfg := &action.Configuration{}
	if err := cfg.Init(getter, namespace, "secret", func(string, ...any) {}); err != nil {
		return nil, fmt.Errorf("helm configuration for namespace %s: %w", namespace, err)
	}
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = namespace
	}
	return cfg, nil
}

// history returns the release's revisions, oldest first (nil when it does not exist).
func history(cfg *action.Configuration, name string) ([]*release.Release, error) {
	h := action.NewHistory(cfg)
	h.Max = 1 << 10
	rels, err := h.Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history of release %s: %w", name, err)
	}
	return rels, nil
}

func lastDeployed(rels []*release.Release) *release.Release {
	var out *release.Release
	for _, r := range rels {
		if r.Info != nil && r.Info.Status == release.StatusDeployed && (out == nil || r.Version > out.Version) {
			out = r
		}
	}
	return out
}

func latest(rels []*release.Release) *release.Release {
	var out *release.Release
	for _, r := range rels {
		if out == nil || r.Version > out.Version {
			out = r
		}
	}
	return out
}

func (d *Deployer) release(ctx context.Context, pr *prepared, s Step) (ReleaseResult, error) {
	begin := time.Now()
	res := ReleaseResult{Name: s.Name, Namespace: s.Namespace}
	if err := ensureNamespace(ctx, pr.kube, s.Namespace, s.Kind != KindAddon); err != nil {
		return res, err
	}
	cfg, err := d.helmConfig(s.Namespace)
	if err != nil {
		return res, err
	}
	rels, err := history(cfg, s.Name)
	if err != nil {
		return res, err
	}
	deployed := lastDeployed(rels)
	if last := latest(rels); last != nil && last.Info.Status.IsPending() {
		// An earlier run was interrupted mid-operation; Helm refuses to go on from there.
		if deployed == nil {
			d.logf("%s: revision %d is %s and none was ever deployed: uninstalling it", s.Name, last.Version, last.Info.Status)
			if err := d.uninstall(cfg, s.Name); err != nil {
				return res, fmt.Errorf("release %s: clear the interrupted install (revision %d, %s): %w", s.Name, last.Version, last.Info.Status, err)
			}
		} else {
			d.logf("%s: revision %d is %s (interrupted run): rolling back to revision %d first", s.Name, last.Version, last.Info.Status, deployed.Version)
			if err := d.rollback(cfg, s.Name, deployed.Version); err != nil {
				return res, fmt.Errorf("release %s: recover from the interrupted run (revision %d, %s): %w", s.Name, last.Version, last.Info.Status, err)
			}
		}
		if rels, err = history(cfg, s.Name); err != nil {
			return res, err
		}
		deployed = lastDeployed(rels)
	}
	if deployed == nil && len(rels) > 0 {
		d.logf("%s: no revision was ever deployed (latest is %s): uninstalling before a fresh install", s.Name, latest(rels).Info.Status)
		if err := d.uninstall(cfg, s.Name); err != nil {
			return res, fmt.Errorf("release %s: remove the never-deployed release: %w", s.Name, err)
		}
		deployed = nil
	}

	ch, vals := pr.charts[s.Name], pr.values[s.Name]
	if deployed == nil {
		d.logf("%s: installing chart %s %s in namespace %s (timeout %s)", s.Name, ch.Metadata.Name, ch.Metadata.Version, s.Namespace, s.Timeout)
		inst := action.NewInstall(cfg)
		inst.ReleaseName, inst.Namespace = s.Name, s.Namespace
		inst.Wait, inst.WaitForJobs, inst.Timeout = true, true, s.Timeout
		inst.Description = "orders deployer: install"
		rel, err := inst.RunWithContext(ctx, ch, vals)
		if err == nil {
			err = d.waitRollout(ctx, pr, s, rel.Manifest, begin.Add(s.Timeout))
		}
		if err != nil {
			return res, d.failedInstall(ctx, cfg, pr, s, rel, err)
		}
		res.Action, res.Revision, res.Duration = "installed", rel.Version, time.Since(begin)
		d.logf("%s: installed revision %d, ready in %s", s.Name, rel.Version, res.Duration.Round(time.Millisecond))
		return res, nil
	}

	d.logf("%s: upgrading from revision %d to chart %s %s (timeout %s)", s.Name, deployed.Version, ch.Metadata.Name, ch.Metadata.Version, s.Timeout)
	up := action.NewUpgrade(cfg)
	up.Namespace = s.Namespace
	up.Wait, up.WaitForJobs, up.Timeout = true, true, s.Timeout
	up.MaxHistory = d.maxHistory()
	up.Description = "orders deployer: upgrade"
	rel, err := up.RunWithContext(ctx, s.Name, ch, vals)
	if err == nil {
		err = d.waitRollout(ctx, pr, s, rel.Manifest, begin.Add(s.Timeout))
	}
	if err != nil {
		return res, d.failedUpgrade(ctx, cfg, pr, s, rel, deployed.Version, err)
	}
	res.Action, res.Revision, res.Duration = "upgraded", rel.Version, time.Since(begin)
	d.logf("%s: upgraded to revision %d, ready in %s", s.Name, rel.Version, res.Duration.Round(time.Millisecond))
	return res, nil
}

// waitRollout waits, after Helm's own wait (new pods ready), until every workload of
// the manifest has finished its rollout as `kubectl rollout status` means it: all
// replicas updated and available, no old replica left. The deadline is the
// release's. Helm's wait returns as soon as the new pods are ready, while old ones
// may still serve; a smoke test right after must only reach the new revision.
func (d *Deployer) waitRollout(ctx context.Context, pr *prepared, s Step, manifest string, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for {
		pending := diagnose(ctx, pr.kube, manifest, s.Namespace)
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			names := make([]string, len(pending))
			for i, p := range pending {
				names[i] = p.Kind + " " + p.Namespace + "/" + p.Name
			}
			return fmt.Errorf("rollout of %s not complete: %w", strings.Join(names, ", "), ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// notReady diagnoses a failed revision's objects with a fresh deadline (the
// release's own has usually expired).
func (d *Deployer) notReady(cfg *action.Configuration, pr *prepared, s Step, rel *release.Release) []NotReady {
	manifest := ""
	if rel != nil {
		manifest = rel.Manifest
	}
	if manifest == "" {
		if r, err := action.NewGet(cfg).Run(s.Name); err == nil {
			manifest = r.Manifest
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return diagnose(ctx, pr.kube, manifest, s.Namespace)
}

func (d *Deployer) failedInstall(ctx context.Context, cfg *action.Configuration, pr *prepared, s Step, rel *release.Release, cause error) error {
	e := &ReleaseError{Release: s.Name, Namespace: s.Namespace, Op: "install", Timeout: s.Timeout, Err: waitError(cause, s.Timeout)}
	e.NotReady = d.notReady(cfg, pr, s, rel)
	d.logf("%s: install failed; uninstalling the failed first install (timeout %s)", s.Name, d.rollbackTimeout())
	if err := d.uninstall(cfg, s.Name); err != nil {
		e.CleanupErr = err
	} else {
		e.Uninstalled = true
	}
	return e
}

func (d *Deployer) failedUpgrade(ctx context.Context, cfg *action.Configuration, pr *prepared, s Step, rel *release.Release, previous int, cause error) error {
	e := &ReleaseError{Release: s.Name, Namespace: s.Namespace, Op: "upgrade", Timeout: s.Timeout, Err: waitError(cause, s.Timeout), RolledBackTo: previous}
	e.NotReady = d.notReady(cfg, pr, s, rel)
	d.logf("%s: upgrade failed; rolling back to revision %d (timeout %s)", s.Name, previous, d.rollbackTimeout())
	if err := d.rollback(cfg, s.Name, previous); err != nil {
		e.CleanupErr = err
	} else {
		d.logf("%s: rolled back to revision %d", s.Name, previous)
	}
	return e
}

func waitError(err error, timeout time.Duration) error {
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "context deadline exceeded") || strings.Contains(msg, "timed out waiting") {
		return fmt.Errorf("not ready within %s: %w", timeout, err)
	}
	return err
}

// Uninstall removes the plan's active releases in reverse order (orders before
// MongoDB before the edge before the add-ons), each waited for with its timeout.
// When the plan has add-ons (an environment's, not a tenant's) it is the
// environment's teardown (teardown.go): before the first add-on goes, it waits
// until no Service of type LoadBalancer is left (their NLBs gone with them);
// after the last release it deletes the claims in the releases' namespaces,
// waits for the volumes with reclaim policy Delete, and logs the ones kept.
// Namespaces and the deployer's Secrets stay. A release that does not exist is
// skipped.
func (d *Deployer) Uninstall(ctx context.Context, p *Plan) ([]ReleaseResult, error) {
	if d.Config == nil {
		return nil, errNoCluster
	}
	reach := d.ReachTimeout
	if reach == 0 {
		reach = DefaultReachTimeout
	}
	if _, err := CheckReachable(ctx, d.Config, reach); err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(d.Config)
	if err != nil {
		return nil, err
	}
	active := p.Active()
	addons := slices.ContainsFunc(active, func(s Step) bool { return s.Kind == KindAddon })
	drained := false
	var results []ReleaseResult
	for i := len(active) - 1; i >= 0; i-- {
		s := active[i]
		if s.Kind == KindAddon && !drained {
			if err := d.waitNoLoadBalancers(ctx, kube); err != nil {
				return results, err
			}
			drained = true
		}
		res, err := d.uninstallStep(s)
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	if addons {
		if _, err := d.releaseVolumes(ctx, kube, namespacesOf(active)); err != nil {
			return results, err
		}
	}
	return results, nil
}

// uninstallStep uninstalls one release and waits for it.
func (d *Deployer) uninstallStep(s Step) (ReleaseResult, error) {
	begin := time.Now()
	cfg, err := d.helmConfig(s.Namespace)
	if err != nil {
		return ReleaseResult{}, err
	}
	rels, err := history(cfg, s.Name)
	if err != nil {
		return ReleaseResult{}, err
	}
	if len(rels) == 0 {
		d.logf("%s: not installed", s.Name)
		return ReleaseResult{Name: s.Name, Namespace: s.Namespace, Action: "absent"}, nil
	}
	un := action.NewUninstall(cfg)
	un.Wait, un.Timeout = true, s.Timeout
	if _, err := un.Run(s.Name); err != nil {
		return ReleaseResult{}, fmt.Errorf("release %s (namespace %s): uninstall: %w", s.Name, s.Namespace, err)
	}
	res := ReleaseResult{Name: s.Name, Namespace: s.Namespace, Action: "uninstalled", Revision: latest(rels).Version, Duration: time.Since(begin)}
	d.logf("%s: uninstalled (was revision %d) in %s", s.Name, res.Revision, res.Duration.Round(time.Millisecond))
	return res, nil
}

// rollback restores a revision with its own timeout, waiting for it to be ready.
func (d *Deployer) rollback(cfg *action.Configuration, name string, revision int) error {
	rb := action.NewRollback(cfg)
	rb.Version = revision
	rb.Wait, rb.WaitForJobs, rb.Timeout = true, true, d.rollbackTimeout()
	rb.MaxHistory = d.maxHistory()
	rb.CleanupOnFail = true
	if err := rb.Run(name); err != nil {
		return fmt.Errorf("rollback of %s to revision %d: %w", name, revision, err)
	}
	return nil
}

func (d *Deployer) uninstall(cfg *action.Configuration, name string) error {
	un := action.NewUninstall(cfg)
	un.Wait, un.Timeout = true, d.rollbackTimeout()
	un.IgnoreNotFound = true
	if _, err := un.Run(name); err != nil {
		return fmt.Errorf("uninstall %s: %w", name, err)
	}
	return nil
}

// HelmCharts loads local chart directories and pulls pinned remote charts with
// Helm's repository and OCI clients into a temporary directory.
type HelmCharts struct{}

// Load implements ChartLoader.
func (HelmCharts) Load(_ context.Context, s Step) (*chart.Chart, error) {
	if s.Kind == KindLocal {
		ch, err := loader.Load(s.ChartDir)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", s.ChartDir, err)
		}
		return ch, nil
	}
	dir, err := os.MkdirTemp("", "orders-deployer-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	settings := cli.New()
	settings.RepositoryCache = filepath.Join(dir, "cache")
	settings.RepositoryConfig = filepath.Join(dir, "repositories.yaml")
	settings.RegistryConfig = filepath.Join(dir, "registry.json")
	rc, err := registry.NewClient(registry.ClientOptCredentialsFile(settings.RegistryConfig))
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	pull := action.NewPullWithOpts(action.WithConfig(&action.Configuration{RegistryClient: rc}))
	pull.Settings = settings
	pull.Version = s.Chart.Version
	pull.DestDir = filepath.Join(dir, "out")
	if err := os.MkdirAll(pull.DestDir, 0o700); err != nil {
		return nil, err
	}
	ref := s.Chart.Repository
	if !registry.IsOCI(ref) {
		pull.RepoURL = s.Chart.Repository
		ref = s.Chart.Name
	}
	if _, err := pull.Run(ref); err != nil {
		return nil, fmt.Errorf("pull chart %s: %w", s.Chart, err)
	}
	files, err := filepath.Glob(filepath.Join(pull.DestDir, "*.tgz"))
	if err != nil || len(files) != 1 {
		return nil, fmt.Errorf("pull chart %s: expected one archive, found %v", s.Chart, files)
	}
	ch, err := loader.Load(files[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", s.Chart, err)
	}
	if ch.Metadata.Version != strings.TrimPrefix(s.Chart.Version, "v") && ch.Metadata.Version != s.Chart.Version {
		return nil, fmt.Errorf("chart %s: got version %s", s.Chart, ch.Metadata.Version)
	}
	return ch, nil
}
