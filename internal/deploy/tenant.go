package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/tenant"
)

// TenantChartRelease is the key of the tenant chart's extra values (--values tenant=<file>).
const TenantChartRelease = "tenant"

// Default timeouts of a tenant's isolation release and of its namespace's deletion.
const (
	tenantReleaseTimeout   = 2 * time.Minute
	tenantNamespaceTimeout = 3 * time.Minute
)

// TenantPlan is one tenant of an environment: release tenant-<name> (charts/tenant:
// quota, limits, network policies) then release orders, both in namespace
// tenant-<name>. Its Plan's Mongo is the tenant's connection (its user and database
// on the environment's MongoDB).
type TenantPlan struct {
	*Plan
	Tenant tenant.Tenant
	// MongoNamespace is where the environment's MongoDB runs; RootUser its root user.
	MongoNamespace, RootUser string
}

// String is the plan as a person reads it.
func (tp *TenantPlan) String() string {
	s := tp.Plan.String()
	head := fmt.Sprintf("plan for tenant %s of environment %s (namespace %s, database %s, routes %s/service1 and %s/service2):\n",
		tp.Tenant.Name(), tp.Env, tp.Tenant.Namespace(), tp.Tenant.Database(), tp.Tenant.PathPrefix(), tp.Tenant.PathPrefix())
	_, rest, _ := strings.Cut(s, "\n")
	return head + rest
}

func (tp *TenantPlan) tenantStep() Step { s, _ := tp.Step(tp.Tenant.Release()); return s }
func (tp *TenantPlan) ordersStep() Step { s, _ := tp.Step("orders"); return s }

// BuildTenantPlan makes the plan of tenant name in the environment of in: the
// environment's orders values and images, with the tenant's routes (/<name>/service1,
// /<name>/service2), database, one replica per service, no autoscaler, disruption
// budget, helm test or PrometheusRule. Extra values may be given for "orders" and "tenant" (the
// tenant chart). It reads files only.
func BuildTenantPlan(root string, in Inputs, name string) (*TenantPlan, error) {
	t, err := tenant.Parse(name)
	if err != nil {
		return nil, err
	}
	if len(in.Skip) > 0 {
		return nil, fmt.Errorf("--skip does not apply to a tenant (it has only the releases %s and orders)", t.Release())
	}
	envIn := in
	envIn.SkipAddons, envIn.ExtraValues = true, nil
	var tenantExtra map[string]any
	for rel, vals := range in.ExtraValues {
		switch rel {
		case "orders":
			envIn.ExtraValues = map[string]map[string]any{"orders": vals}
		case TenantChartRelease:
			tenantExtra = vals
		default:
			return nil, fmt.Errorf("extra values for release %q: a tenant has only the releases orders and %s", rel, TenantChartRelease)
		}
	}
	base, err := BuildPlan(root, envIn)
	if err != nil {
		return nil, err
	}
	orders, ok := base.Step("orders")
	if !ok {
		return nil, fmt.Errorf("environment %s deploys no orders release", in.Env)
	}
	mongoStep, _ := base.Step("mongodb")
	rootUser := "root"
	if auth, ok := mongoStep.Values["auth"].(map[string]any); ok {
		if u, ok := auth["rootUser"].(string); ok && u != "" {
			rootUser = u
		}
	}

	perService := map[string]any{}
	for _, svc := range Services {
		perService[svc] = map[string]any{
			"route":       map[string]any{"pathPrefix": t.PathPrefix() + "/" + svc, "rewritePrefix": "/orders"},
			"replicas":    1,
			"autoscaling": map[string]any{"enabled": false},
			"pdb":         map[string]any{"enabled": false},
		}
	}
	ordersVals := charts.MergeValues(orders.Values, map[string]any{
		"services": perService,
		"mongodb":  map[string]any{"database": t.Database(), "namespace": base.Mongo.Namespace},
		"tests":    map[string]any{"enabled": false},
		// Tenants page nobody (previews come and go); their metrics are still scraped when the environment's are.
		"monitoring": map[string]any{"prometheusRule": map[string]any{"enabled": false}},
	})

	gw, _ := ordersVals["gateway"].(map[string]any)
	mon, _ := ordersVals["monitoring"].(map[string]any)
	np := map[string]any{"mongodb": map[string]any{"namespace": base.Mongo.Namespace}}
	if gw != nil && gw["proxyNamespace"] != nil {
		np["gateway"] = map[string]any{"namespace": gw["proxyNamespace"], "podLabels": gw["proxyPodLabels"]}
	}
	if mon != nil && mon["namespace"] != nil {
		np["monitoring"] = map[string]any{"namespace": mon["namespace"]}
	}
	tenantVals := charts.MergeValues(map[string]any{"tenant": t.Name(), "networkPolicy": np}, tenantExtra)

	timeout := func(d time.Duration) time.Duration {
		if in.Timeout > 0 {
			return in.Timeout
		}
		return d
	}
	topo := base.Mongo
	topo.User, topo.Database = t.User(), t.Database()
	p := &Plan{
		Env: in.Env, AWS: base.AWS, Root: root, Mongo: topo, missingDigests: base.missingDigests,
		Steps: []Step{
			{Name: t.Release(), Namespace: t.Namespace(), Kind: KindLocal, ChartDir: filepath.Join(root, "charts", "tenant"), Values: tenantVals, Timeout: timeout(tenantReleaseTimeout)},
			{Name: "orders", Namespace: t.Namespace(), Kind: KindLocal, ChartDir: orders.ChartDir, Values: ordersVals, Timeout: timeout(defaultTimeouts["orders"])},
		},
	}
	return &TenantPlan{Plan: p, Tenant: t, MongoNamespace: base.Mongo.Namespace, RootUser: rootUser}, nil
}

// TenantUsers creates and removes tenants' MongoDB users (tenant.Users).
type TenantUsers interface {
	Ensure(ctx context.Context, t tenant.Tenant, password string) (string, error)
	Remove(ctx context.Context, t tenant.Tenant) error
}

// Tenants adds, diffs and removes tenants with a Deployer.
type Tenants struct {
	*Deployer
	// Users connects to the environment's MongoDB as root. nil: through a
	// port-forward to the primary MongoDB pod and the Go driver (TunnelUsers).
	Users func(ctx context.Context, tp *TenantPlan, rootPassword string) (TenantUsers, func(), error)
}

func (ts *Tenants) users(ctx context.Context, tp *TenantPlan, root string) (TenantUsers, func(), error) {
	if ts.Users != nil {
		return ts.Users(ctx, tp, root)
	}
	return TunnelUsers(ts.Config)(ctx, tp, root)
}

// connect reaches the cluster and checks that the environment's MongoDB release is
// deployed: a tenant lives on it.
func (ts *Tenants) connect(ctx context.Context, tp *TenantPlan) (kubernetes.Interface, error) {
	if ts.Config == nil {
		return nil, errNoCluster
	}
	reach := ts.ReachTimeout
	if reach == 0 {
		reach = DefaultReachTimeout
	}
	if _, err := CheckReachable(ctx, ts.Config, reach); err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(ts.Config)
	if err != nil {
		return nil, fmt.Errorf("Kubernetes client for %s: %w", ts.Config.Host, err)
	}
	cfg, err := ts.helmConfig(tp.MongoNamespace)
	if err != nil {
		return nil, err
	}
	rels, err := history(cfg, "mongodb")
	if err != nil {
		return nil, err
	}
	if lastDeployed(rels) == nil {
		return nil, fmt.Errorf("tenant %s: environment %s has no deployed MongoDB release (mongodb in namespace %s), which tenants live on: run \"deployer apply --env=%s\" first",
			tp.Tenant.Name(), tp.Env, tp.MongoNamespace, tp.Env)
	}
	return kube, nil
}

// rootPassword is the given root password, or, where the environment allows it
// (not AWS), the one in the cluster's mongodb-auth Secret.
func (ts *Tenants) rootPassword(ctx context.Context, kube kubernetes.Interface, tp *TenantPlan, given Credentials) (string, error) {
	if given.RootPassword != "" {
		return given.RootPassword, nil
	}
	if tp.AWS {
		return "", fmt.Errorf("tenant %s: environment %s needs the MongoDB root password from AWS Secrets Manager (--terraform-outputs, %s, or a credentials file)", tp.Tenant.Name(), tp.Env, EnvRootPassword)
	}
	s, err := kube.CoreV1().Secrets(tp.MongoNamespace).Get(ctx, MongoAuthSecret, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("tenant %s: read the MongoDB root password from Secret %s/%s: %w", tp.Tenant.Name(), tp.MongoNamespace, MongoAuthSecret, err)
	}
	if len(s.Data[KeyRootPassword]) == 0 {
		return "", fmt.Errorf("tenant %s: Secret %s/%s has no %s", tp.Tenant.Name(), tp.MongoNamespace, MongoAuthSecret, KeyRootPassword)
	}
	return string(s.Data[KeyRootPassword]), nil
}

// tenantPassword is the password in the tenant's connection Secret (so a rerun keeps
// the running services' password), or "" when there is none.
func tenantPassword(ctx context.Context, kube kubernetes.Interface, tp *TenantPlan) (string, error) {
	s, err := kube.CoreV1().Secrets(tp.Tenant.Namespace()).Get(ctx, OrdersMongoSecret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read Secret %s/%s: %w", tp.Tenant.Namespace(), OrdersMongoSecret, err)
	}
	u, err := url.Parse(string(s.Data[KeyMongoURL]))
	if err != nil || u.User == nil || u.User.Username() != tp.Tenant.User() {
		// Not ours to reuse (never quote it: it holds a password); a new one replaces it.
		return "", nil
	}
	pw, _ := u.User.Password()
	return pw, nil
}

// Deploy adds or updates the tenant: namespace, release tenant-<name>, the MongoDB
// user, Secret orders-mongodb, release orders. Both charts are rendered before
// anything is changed; a failed release is rolled back or uninstalled like any other.
func (ts *Tenants) Deploy(ctx context.Context, tp *TenantPlan, given Credentials) ([]ReleaseResult, error) {
	if err := tp.CheckApply(); err != nil {
		return nil, err
	}
	kube, err := ts.connect(ctx, tp)
	if err != nil {
		return nil, err
	}
	root, err := ts.rootPassword(ctx, kube, tp, given)
	if err != nil {
		return nil, err
	}
	pw, err := tenantPassword(ctx, kube, tp)
	if err != nil {
		return nil, err
	}
	if pw == "" {
		pw = randomSecret(24)
	}
	// prepare renders both releases with the pod annotation of the tenant's connection string.
	pr, err := ts.prepare(ctx, tp.Plan, Credentials{RootPassword: root, AppPassword: pw})
	if err != nil {
		return nil, err
	}
	if err := ensureTenantNamespace(ctx, kube, tp.Tenant); err != nil {
		return nil, err
	}
	var results []ReleaseResult
	r, err := ts.release(ctx, pr, tp.tenantStep())
	if err != nil {
		return results, err
	}
	results = append(results, r)

	users, closeUsers, err := ts.users(ctx, tp, root)
	if err != nil {
		return results, fmt.Errorf("tenant %s: %w", tp.Tenant.Name(), err)
	}
	action, err := users.Ensure(ctx, tp.Tenant, pw)
	closeUsers()
	if err != nil {
		return results, fmt.Errorf("tenant %s: %w", tp.Tenant.Name(), err)
	}
	ts.logf("mongodb: user %s %s in database %s (readWrite on it only)", tp.Tenant.User(), action, tp.Tenant.Database())
	if err := upsertSecret(ctx, kube, tp.Tenant.Namespace(), OrdersMongoSecret, map[string][]byte{KeyMongoURL: []byte(tp.Mongo.URL(pw))}); err != nil {
		return results, err
	}
	ts.logf("secret: %s/%s applied", tp.Tenant.Namespace(), OrdersMongoSecret)

	r, err = ts.release(ctx, pr, tp.ordersStep())
	if err != nil {
		return results, err
	}
	return append(results, r), nil
}

// Diff compares the tenant's two releases with what is live; nothing is changed.
func (ts *Tenants) Diff(ctx context.Context, tp *TenantPlan, _ Credentials) ([]ReleaseDiff, error) {
	kube, err := ts.connect(ctx, tp)
	if err != nil {
		return nil, err
	}
	pw, err := tenantPassword(ctx, kube, tp)
	if err != nil {
		return nil, err
	}
	if pw == "" {
		// No tenant yet: its password does not exist; the annotation differs anyway.
		pw = "not-yet-generated"
	}
	// The root password is not used by a diff; the tenant's password gives the pod annotation.
	return ts.Deployer.Diff(ctx, tp.Plan, Credentials{RootPassword: "unused", AppPassword: pw})
}

// Uninstall removes the tenant: release orders, the MongoDB user and database,
// release tenant-<name>, then the namespace (waited for). What is already gone is skipped.
func (ts *Tenants) Uninstall(ctx context.Context, tp *TenantPlan, given Credentials) ([]ReleaseResult, error) {
	kube, err := ts.connect(ctx, tp)
	if err != nil {
		return nil, err
	}
	root, err := ts.rootPassword(ctx, kube, tp, given)
	if err != nil {
		return nil, err
	}
	results, err := ts.Deployer.Uninstall(ctx, &Plan{Env: tp.Env, Root: tp.Root, Steps: []Step{tp.ordersStep()}})
	if err != nil {
		return results, err
	}
	users, closeUsers, err := ts.users(ctx, tp, root)
	if err != nil {
		return results, fmt.Errorf("tenant %s: %w", tp.Tenant.Name(), err)
	}
	err = users.Remove(ctx, tp.Tenant)
	closeUsers()
	if err != nil {
		return results, fmt.Errorf("tenant %s: %w", tp.Tenant.Name(), err)
	}
	ts.logf("mongodb: user %s and database %s dropped", tp.Tenant.User(), tp.Tenant.Database())
	more, err := ts.Deployer.Uninstall(ctx, &Plan{Env: tp.Env, Root: tp.Root, Steps: []Step{tp.tenantStep()}})
	results = append(results, more...)
	if err != nil {
		return results, err
	}
	ns := tp.Tenant.Namespace()
	err = kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return results, nil
	}
	if err != nil {
		return results, fmt.Errorf("delete namespace %s: %w", ns, err)
	}
	err = wait.PollUntilContextTimeout(ctx, time.Second, tenantNamespaceTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return results, fmt.Errorf("namespace %s still terminating after %s: %w", ns, tenantNamespaceTimeout, err)
	}
	ts.logf("namespace %s deleted", ns)
	return results, nil
}

// TenantNamespaceLabels are the labels of a tenant's namespace: its name, Pod
// Security "restricted", admission by MongoDB's NetworkPolicy, and the label for the
// gateway's allowed route namespaces.
func TenantNamespaceLabels(t tenant.Tenant) map[string]string {
	l := map[string]string{tenant.NamespaceLabel: t.Name(), tenant.MongoDBClientLabel: "true", tenant.GatewayRoutesLabel: "true"}
	for _, mode := range []string{"enforce", "warn", "audit"} {
		l["pod-security.kubernetes.io/"+mode] = "restricted"
	}
	return l
}

// ensureTenantNamespace creates the tenant's namespace or sets its labels. A namespace
// of that name that is not this tenant's is refused.
func ensureTenantNamespace(ctx context.Context, kube kubernetes.Interface, t tenant.Tenant) error {
	want := TenantNamespaceLabels(t)
	ns, err := kube.CoreV1().Namespaces().Get(ctx, t.Namespace(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.Namespace(), Labels: want}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create namespace %s: %w", t.Namespace(), err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read namespace %s: %w", t.Namespace(), err)
	}
	if got, ok := ns.Labels[tenant.NamespaceLabel]; !ok || got != t.Name() {
		return fmt.Errorf("namespace %s exists but is not tenant %s's (label %s=%q): remove or rename it first", t.Namespace(), t.Name(), tenant.NamespaceLabel, got)
	}
	if ns.DeletionTimestamp != nil {
		return fmt.Errorf("namespace %s is still being deleted (an uninstall of tenant %s): try again when it is gone", t.Namespace(), t.Name())
	}
	changed := false
	for k, v := range want {
		if ns.Labels[k] != v {
			ns.Labels[k], changed = v, true
		}
	}
	if changed {
		if _, err := kube.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("label namespace %s: %w", t.Namespace(), err)
		}
	}
	return nil
}

// tenantDeployersRole is the ClusterRole of tenant.DeployersGroup.
const tenantDeployersRole = "orders:tenant-namespaces"

// ensureTenantDeployers lets tenant.DeployersGroup create namespaces and read
// them, nothing else cluster-wide: a namespace-scoped access policy (the
// preview role's, on tenant-*) covers what is inside a tenant's namespace and
// the namespace object itself (Kubernetes authorizes GET/PATCH/DELETE of
// /api/v1/namespaces/<n> as namespace <n>: RequestInfo in
// k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), but not its creation,
// which has no namespace.
func ensureTenantDeployers(ctx context.Context, kube kubernetes.Interface) error {
	labels := map[string]string{"app.kubernetes.io/managed-by": "orders-deployer"}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: tenantDeployersRole, Labels: labels},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create", "get", "list", "watch"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: tenantDeployersRole, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: tenantDeployersRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: tenant.DeployersGroup}},
	}
	roles, bindings := kube.RbacV1().ClusterRoles(), kube.RbacV1().ClusterRoleBindings()
	if _, err := roles.Update(ctx, role, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
		_, err = roles.Create(ctx, role, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create ClusterRole %s: %w", role.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("update ClusterRole %s: %w", role.Name, err)
	}
	if _, err := bindings.Update(ctx, binding, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
		_, err = bindings.Create(ctx, binding, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create ClusterRoleBinding %s: %w", binding.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("update ClusterRoleBinding %s: %w", binding.Name, err)
	}
	return nil
}

// TunnelUsers reaches MongoDB through a port-forward to its primary pod (the API
// server, the caller's Kubernetes identity) and logs in as root with the Go driver.
func TunnelUsers(cfg *rest.Config) func(ctx context.Context, tp *TenantPlan, rootPassword string) (TenantUsers, func(), error) {
	return func(ctx context.Context, tp *TenantPlan, rootPassword string) (TenantUsers, func(), error) {
		kube, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, nil, err
		}
		pod, err := MongoDBPod(ctx, kube, tp.MongoNamespace)
		if err != nil {
			return nil, nil, err
		}
		for attempt := 0; ; attempt++ {
			client, stop, err := rootClient(ctx, cfg, kube, tp, pod, rootPassword)
			if err != nil {
				return nil, nil, err
			}
			// A replica set's first pod may be a secondary; users are written on the primary.
			var hello struct {
				Writable bool   `bson:"isWritablePrimary"`
				Primary  string `bson:"primary"`
			}
			if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
				stop()
				return nil, nil, fmt.Errorf("MongoDB hello through pod %s/%s: %w", tp.MongoNamespace, pod, err)
			}
			if hello.Writable {
				return tenant.Users{Client: client}, stop, nil
			}
			stop()
			next, _, _ := strings.Cut(hello.Primary, ".")
			if attempt > 0 || next == "" || next == pod {
				return nil, nil, fmt.Errorf("MongoDB pod %s/%s is not the primary and names none (%q)", tp.MongoNamespace, pod, hello.Primary)
			}
			pod = next
		}
	}
}

// rootClient port-forwards a free loopback port to the pod's MongoDB port and connects as root.
func rootClient(ctx context.Context, cfg *rest.Config, kube kubernetes.Interface, tp *TenantPlan, pod, rootPassword string) (*mongo.Client, func(), error) {
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, nil, err
	}
	u := kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(tp.MongoNamespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	fwCtx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	var errOut bytes.Buffer
	fw, err := portforward.NewOnAddressesWithContext(fwCtx, dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", mongoPort)}, ready, io.Discard, &errOut)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("port-forward to %s/%s: %w", tp.MongoNamespace, pod, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		return nil, nil, fmt.Errorf("port-forward to %s/%s: %v %s", tp.MongoNamespace, pod, err, strings.TrimSpace(errOut.String()))
	case <-time.After(30 * time.Second):
		cancel()
		return nil, nil, fmt.Errorf("port-forward to %s/%s: not ready within 30s", tp.MongoNamespace, pod)
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) != 1 {
		cancel()
		return nil, nil, fmt.Errorf("port-forward to %s/%s: no local port (%v)", tp.MongoNamespace, pod, err)
	}
	opts := options.Client().
		ApplyURI(fmt.Sprintf("mongodb://127.0.0.1:%d/?directConnection=true", ports[0].Local)).
		SetAuth(options.Credential{Username: tp.RootUser, Password: rootPassword, AuthSource: "admin"}).
		SetServerSelectionTimeout(20 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("MongoDB through %s/%s: %w", tp.MongoNamespace, pod, err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		cancel()
		return nil, nil, fmt.Errorf("MongoDB through %s/%s as %s: %w", tp.MongoNamespace, pod, tp.RootUser, redactErr(err, rootPassword))
	}
	stop := func() {
		_ = client.Disconnect(context.Background())
		cancel()
	}
	return client, stop, nil
}

func redactErr(err error, secret string) error {
	if secret != "" && strings.Contains(err.Error(), secret) {
		return errors.New(strings.ReplaceAll(err.Error(), secret, "<redacted>"))
	}
	return err
}

// labelPlatformNamespaces sets, also on namespaces that already exist, the labels
// by which other releases select the platform's namespaces: MongoDB's NetworkPolicy
// admits namespaces labelled tenant.MongoDBClientLabel (environments/*/values/mongodb.yaml,
// networkPolicy.ingressNSMatchLabels; without it an upgrade of the mongodb release
// would cut the services off), and the orders namespace carries
// tenant.GatewayRoutesLabel like every tenant's.
func labelPlatformNamespaces(ctx context.Context, kube kubernetes.Interface, mongoNS, ordersNS string) error {
	for name, labels := range map[string][]string{
		mongoNS:  {tenant.MongoDBClientLabel},
		ordersNS: {tenant.MongoDBClientLabel, tenant.GatewayRoutesLabel},
	} {
		ns, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read namespace %s: %w", name, err)
		}
		changed := false
		for _, l := range labels {
			if ns.Labels[l] != "true" {
				if ns.Labels == nil {
					ns.Labels = map[string]string{}
				}
				ns.Labels[l], changed = "true", true
			}
		}
		if !changed {
			continue
		}
		if _, err := kube.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("label namespace %s (%s): %w", name, strings.Join(labels, ", "), err)
		}
	}
	return nil
}
