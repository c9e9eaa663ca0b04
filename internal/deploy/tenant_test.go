package deploy

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/tenant"
	"github.com/orders-platform/orders/test/kubeapi"
)

func TestBuildTenantPlan(t *testing.T) {
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	imgs := map[string]Image{"service1": {Tag: "abc1234"}, "service2": {Tag: "abc1234"}}
	for _, tc := range []struct {
		name, env, tenant string
		in                Inputs
		err               string
	}{
		{name: "local", env: "local", tenant: "acme"},
		{name: "prod with digests", env: "prod", tenant: "pr-7", in: Inputs{Images: map[string]Image{
			"service1": {Digest: "sha256:" + strings.Repeat("a", 64)}, "service2": {Digest: "sha256:" + strings.Repeat("b", 64)}}}},
		{name: "extra values for both releases", env: "local", tenant: "acme", in: Inputs{ExtraValues: map[string]map[string]any{
			"orders": {"services": map[string]any{"service1": map[string]any{"logLevel": "warn"}}},
			"tenant": {"quota": map[string]any{"pods": 6}},
		}}},
		{name: "bad name", env: "local", tenant: "Acme", err: `tenant name "Acme"`},
		{name: "reserved name", env: "local", tenant: "orders", err: `"orders" is reserved`},
		{name: "skip", env: "local", tenant: "acme", in: Inputs{Skip: []string{"mongodb"}}, err: "--skip does not apply to a tenant"},
		{name: "values for another release", env: "local", tenant: "acme", in: Inputs{ExtraValues: map[string]map[string]any{"edge": {}}}, err: `extra values for release "edge"`},
		{name: "unknown environment", env: "nowhere", tenant: "acme", err: "nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Env = tc.env
			if in.Images == nil {
				in.Images = imgs
			}
			tp, err := BuildTenantPlan(root, in, tc.tenant)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tp.CheckApply(); err != nil {
				t.Errorf("CheckApply: %v", err)
			}
			names := []string{}
			for _, s := range tp.Steps {
				names = append(names, s.Name+"@"+s.Namespace)
			}
			ns := "tenant-" + tc.tenant
			if want := []string{"tenant-" + tc.tenant + "@" + ns, "orders@" + ns}; !slices.Equal(names, want) {
				t.Fatalf("steps %v, want %v", names, want)
			}
			if !strings.Contains(tp.String(), "plan for tenant "+tc.tenant+" of environment "+tc.env) {
				t.Errorf("plan text:\n%s", tp)
			}
			db := "tenant_" + strings.ReplaceAll(tc.tenant, "-", "_")
			if tp.Mongo.User != "tenant-"+tc.tenant || tp.Mongo.Database != db {
				t.Errorf("tenant topology %+v", tp.Mongo)
			}
			u, _ := url.Parse(tp.Mongo.URL("p@ss"))
			if pw, _ := u.User.Password(); u.User.Username() != "tenant-"+tc.tenant || pw != "p@ss" || u.Query().Get("authSource") != db || u.Path != "/"+db {
				t.Errorf("connection string %s: want user tenant-%s, database and authSource %s", u.Redacted(), tc.tenant, db)
			}

			// Both charts render with these values (real Helm SDK), and say what the tenant is.
			tr, err := charts.Render(tp.Steps[0].ChartDir, tp.Steps[0].Name, ns, tp.Steps[0].Values)
			if err != nil {
				t.Fatalf("render tenant chart: %v", err)
			}
			or, err := charts.Render(tp.Steps[1].ChartDir, "orders", ns, tp.Steps[1].Values)
			if err != nil {
				t.Fatalf("render orders chart: %v", err)
			}
			routes, deps := map[string]string{}, map[string]map[string]any{}
			for _, o := range or.All() {
				switch o.GetKind() {
				case "HTTPRoute":
					rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
					r := rules[0].(map[string]any)
					prefix := r["matches"].([]any)[0].(map[string]any)["path"].(map[string]any)["value"].(string)
					rewrite := r["filters"].([]any)[0].(map[string]any)["urlRewrite"].(map[string]any)["path"].(map[string]any)["replacePrefixMatch"].(string)
					routes[prefix] = rewrite
				case "Deployment":
					deps[o.GetName()] = o.Object
				case "HorizontalPodAutoscaler", "PodDisruptionBudget", "Pod", "PrometheusRule":
					t.Errorf("a tenant gets no %s (%s)", o.GetKind(), o.GetName())
				}
			}
			want := map[string]string{"/" + tc.tenant + "/service1": "/orders", "/" + tc.tenant + "/service2": "/orders"}
			if fmt.Sprint(routes) != fmt.Sprint(want) {
				t.Errorf("routes %v, want %v", routes, want)
			}
			for _, svc := range Services {
				d := deps["orders-"+svc]
				if d == nil {
					t.Fatalf("no Deployment orders-%s", svc)
				}
				if r, _, _ := unstructured.NestedInt64(d, "spec", "replicas"); r != 1 {
					t.Errorf("%s: %d replicas, want 1", svc, r)
				}
				cs, _, _ := unstructured.NestedSlice(d, "spec", "template", "spec", "containers")
				c := cs[0].(map[string]any)
				env := map[string]any{}
				for _, e := range c["env"].([]any) {
					env[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"]
				}
				if env["MONGODB_DB"] != db {
					t.Errorf("%s: MONGODB_DB %v, want %s", svc, env["MONGODB_DB"], db)
				}
				img := c["image"].(string)
				if want := in.Images[svc]; (want.Digest != "" && !strings.HasSuffix(img, "@"+want.Digest)) || (want.Digest == "" && !strings.HasSuffix(img, ":"+want.Tag)) {
					t.Errorf("%s: image %s is not the environment's image %+v", svc, img, want)
				}
			}
			if tc.in.ExtraValues != nil {
				if !strings.Contains(fmt.Sprint(deps["orders-service1"]), "warn") {
					t.Error("the orders extra values were not applied")
				}
				for _, o := range tr.Objects {
					if o.GetKind() == "ResourceQuota" {
						if p, _, _ := unstructured.NestedString(o.Object, "spec", "hard", "pods"); p != "6" {
							t.Errorf("quota pods %q, want the extra value 6", p)
						}
					}
				}
			}
		})
	}
}

// recordingUsers stands in for MongoDB's user commands on the cluster test: the
// MongoDB-wire server available here (FerretDB) implements none of them
// (internal/tenant's tests pin that); the commands themselves are tested there.
type recordingUsers struct {
	mu        sync.Mutex
	passwords map[string]string
	calls     []string
}

func (r *recordingUsers) Ensure(_ context.Context, t tenant.Tenant, pw string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	action := "created"
	if _, ok := r.passwords[t.Name()]; ok {
		action = "updated"
	}
	r.passwords[t.Name()] = pw
	r.calls = append(r.calls, "ensure "+t.Name())
	return action, nil
}

func (r *recordingUsers) Remove(_ context.Context, t tenant.Tenant) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.passwords, t.Name())
	r.calls = append(r.calls, "remove "+t.Name())
	return nil
}

// installFakeMongoDB installs a release named mongodb (one ConfigMap) in namespace
// mongodb, so the tenant commands find the environment's MongoDB release; the
// Bitnami chart cannot be fetched here.
func installFakeMongoDB(t *testing.T, d *Deployer, kube kubernetes.Interface, root string) {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "templates"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: mongodb\nversion: 0.0.1\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stand-in\n"), 0o644))
	ch, err := loader.Load(dir)
	must(err)
	ctx := context.Background()
	must(ensureNamespace(ctx, kube, MongoNamespace, true))
	cfg, err := d.helmConfig(MongoNamespace)
	must(err)
	inst := action.NewInstall(cfg)
	inst.ReleaseName, inst.Namespace = "mongodb", MongoNamespace
	_, err = inst.Run(ch, nil)
	must(err)
	must(upsertSecret(ctx, kube, MongoNamespace, MongoAuthSecret, map[string][]byte{KeyRootPassword: []byte("r00t-pw"), KeyPasswords: []byte("app-pw")}))
}

// impersonate is a client acting as a tenant's service account.
func impersonate(t *testing.T, cfg *rest.Config, ns, sa string) kubernetes.Interface {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + ns + ":" + sa,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	return kubernetes.NewForConfigOrDie(c)
}

// TestTenantsOnCluster adds two tenants to a real API server (with the controllers,
// so quotas are computed and Deployments roll out on kwok nodes) and proves what
// the server enforces between them: RBAC, the stored NetworkPolicies, quota and
// limits admission. Then it removes one.
func TestTenantsOnCluster(t *testing.T) {
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := kubeapi.Start(t, kubeapi.Options{AfterStart: []func(testing.TB, *kubeapi.Cluster){kubeapi.WithWorkloads(nil)}})
	kube := kubernetes.NewForConfigOrDie(cluster.Config)
	users := &recordingUsers{passwords: map[string]string{}}
	ts := &Tenants{
		Deployer: &Deployer{Config: cluster.Config, Out: testLog{t}, MaxHistory: 3, RollbackTimeout: time.Minute},
		Users: func(context.Context, *TenantPlan, string) (TenantUsers, func(), error) {
			return users, func() {}, nil
		},
	}
	ctx := context.Background()
	in := Inputs{Env: "local", Images: map[string]Image{"service1": {Tag: "abc1234"}, "service2": {Tag: "abc1234"}}, Timeout: 3 * time.Minute}
	plan := func(name string) *TenantPlan {
		t.Helper()
		tp, err := BuildTenantPlan(root, in, name)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	acme, globex := plan("acme"), plan("globex")

	t.Run("refused without the environment's MongoDB", func(t *testing.T) {
		_, err := ts.Deploy(ctx, acme, Credentials{})
		if err == nil || !strings.Contains(err.Error(), `run "deployer apply --env=local" first`) {
			t.Fatalf("got %v, want a refusal naming the command to run first", err)
		}
		if _, err := kube.CoreV1().Namespaces().Get(ctx, "tenant-acme", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace tenant-acme exists after a refused deploy (%v)", err)
		}
	})

	installFakeMongoDB(t, ts.Deployer, kube, root)
	for _, tp := range []*TenantPlan{acme, globex} {
		res, err := ts.Deploy(ctx, tp, Credentials{})
		if err != nil {
			t.Fatalf("deploy tenant %s: %v", tp.Tenant.Name(), err)
		}
		if len(res) != 2 || res[0].Action != "installed" || res[1].Action != "installed" {
			t.Fatalf("deploy tenant %s: %+v", tp.Tenant.Name(), res)
		}
	}

	t.Run("namespace, user and Secret", func(t *testing.T) {
		for _, tp := range []*TenantPlan{acme, globex} {
			ns, err := kube.CoreV1().Namespaces().Get(ctx, tp.Tenant.Namespace(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range map[string]string{"orders-platform/tenant": tp.Tenant.Name(), "orders-platform/mongodb-client": "true", "pod-security.kubernetes.io/enforce": "restricted"} {
				if ns.Labels[k] != v {
					t.Errorf("namespace %s: label %s=%q, want %q", ns.Name, k, ns.Labels[k], v)
				}
			}
			s, err := kube.CoreV1().Secrets(tp.Tenant.Namespace()).Get(ctx, OrdersMongoSecret, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(string(s.Data[KeyMongoURL]))
			if err != nil {
				t.Fatal("the tenant's MONGODB_URL does not parse")
			}
			pw, _ := u.User.Password()
			if u.User.Username() != tp.Tenant.User() || pw != users.passwords[tp.Tenant.Name()] || len(pw) < 32 || u.Query().Get("authSource") != tp.Tenant.Database() {
				t.Errorf("tenant %s: Secret's connection string %s does not carry the user, the password given to MongoDB and authSource %s", tp.Tenant.Name(), u.Redacted(), tp.Tenant.Database())
			}
		}
		if users.passwords["acme"] == users.passwords["globex"] {
			t.Error("two tenants got the same password")
		}
	})

	t.Run("rerun keeps the password and changes nothing", func(t *testing.T) {
		before := users.passwords["acme"]
		res, err := ts.Deploy(ctx, acme, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		if users.passwords["acme"] != before {
			t.Error("a rerun changed the tenant's password (the running services would be locked out)")
		}
		if res[1].Action != "upgraded" {
			t.Errorf("orders: %+v", res[1])
		}
		diffs, err := ts.Diff(ctx, acme, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diffs {
			if d.Unified != "" || !d.Installed {
				t.Errorf("diff of %s after a rerun:\n%s", d.Name, d.Unified)
			}
		}
	})

	t.Run("RBAC: a tenant's service account cannot reach the other tenant", func(t *testing.T) {
		// Give acme's service account edit rights in its own namespace (as a tenant
		// admin would have), so the refusals below come from the namespace boundary.
		_, err := kube.RbacV1().RoleBindings("tenant-acme").Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "acme-edit"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "orders-service1", Namespace: "tenant-acme"}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		as := impersonate(t, cluster.Config, "tenant-acme", "orders-service1")
		// The binding reaches the authorizer asynchronously (informer).
		if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := as.CoreV1().Secrets("tenant-acme").Get(ctx, OrdersMongoSecret, metav1.GetOptions{})
			return err == nil, nil
		}); err != nil {
			t.Fatalf("positive control: acme's service account cannot read its own Secret: %v", err)
		}
		other := "tenant-globex"
		for _, tc := range []struct {
			what string
			do   func() error
		}{
			{"get Secret orders-mongodb", func() error {
				_, err := as.CoreV1().Secrets(other).Get(ctx, OrdersMongoSecret, metav1.GetOptions{})
				return err
			}},
			{"list Secrets", func() error { _, err := as.CoreV1().Secrets(other).List(ctx, metav1.ListOptions{}); return err }},
			{"list Pods", func() error { _, err := as.CoreV1().Pods(other).List(ctx, metav1.ListOptions{}); return err }},
			{"list ConfigMaps", func() error { _, err := as.CoreV1().ConfigMaps(other).List(ctx, metav1.ListOptions{}); return err }},
			{"list Services", func() error { _, err := as.CoreV1().Services(other).List(ctx, metav1.ListOptions{}); return err }},
			{"list Deployments", func() error { _, err := as.AppsV1().Deployments(other).List(ctx, metav1.ListOptions{}); return err }},
			{"get pods/log", func() error {
				return as.CoreV1().Pods(other).GetLogs("any", &corev1.PodLogOptions{}).Do(ctx).Error()
			}},
			{"list Secrets of all namespaces", func() error { _, err := as.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); return err }},
			{"get the MongoDB root Secret", func() error {
				_, err := as.CoreV1().Secrets(MongoNamespace).Get(ctx, MongoAuthSecret, metav1.GetOptions{})
				return err
			}},
			{"delete globex's NetworkPolicy", func() error {
				return as.NetworkingV1().NetworkPolicies(other).Delete(ctx, "tenant-globex-default-deny", metav1.DeleteOptions{})
			}},
		} {
			if err := tc.do(); !apierrors.IsForbidden(err) {
				t.Errorf("acme's service account: %s in %s: got %v, want Forbidden", tc.what, other, err)
			}
		}
		// Without the binding globex's own service account reads nothing, not even its own Secret.
		gs := impersonate(t, cluster.Config, "tenant-globex", "orders-service1")
		if _, err := gs.CoreV1().Secrets("tenant-globex").Get(ctx, OrdersMongoSecret, metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("globex's service account reads its Secret without any grant: %v", err)
		}
	})

	t.Run("NetworkPolicies as stored select only the tenant's pods and admit only the platform's peers", func(t *testing.T) {
		for _, tp := range []*TenantPlan{acme, globex} {
			ns := tp.Tenant.Namespace()
			list, err := kube.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Items) < 4 {
				t.Errorf("%s: %d NetworkPolicies, want the tenant chart's 3 and the orders chart's", ns, len(list.Items))
			}
			for _, v := range policyViolations(ns, list.Items) {
				t.Error(v)
			}
		}
	})

	t.Run("quota and limits are enforced by admission", func(t *testing.T) {
		ns := "tenant-acme"
		q, err := kube.CoreV1().ResourceQuotas(ns).Get(ctx, "tenant-acme", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[corev1.ResourceName]string{"requests.memory": "1Gi", "limits.cpu": "2", "pods": "10", "services.loadbalancers": "0", "services.nodeports": "0", "persistentvolumeclaims": "0"} {
			if got := q.Spec.Hard[k]; got.Cmp(resource.MustParse(want)) != 0 {
				t.Errorf("quota %s = %s, want %s", k, got.String(), want)
			}
		}
		if _, err := kube.CoreV1().LimitRanges(ns).Get(ctx, "tenant-acme", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		// The quota controller must have counted the tenant's pods before admission can decide.
		if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			q, err := kube.CoreV1().ResourceQuotas(ns).Get(ctx, "tenant-acme", metav1.GetOptions{})
			used := q.Status.Used[corev1.ResourcePods]
			return err == nil && used.Value() >= 2, nil
		}); err != nil {
			t.Fatalf("quota status never counted the services' pods: %v", err)
		}
		restricted := func(name string, res corev1.ResourceRequirements) *corev1.Pod {
			no, yes := false, true
			return &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: corev1.PodSpec{
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{Name: "c", Image: "registry.example/app:1", Resources: res,
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
				},
			}
		}
		dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
		mem := func(req, lim string) corev1.ResourceRequirements {
			return corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(req), corev1.ResourceCPU: resource.MustParse("10m")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(lim)},
			}
		}
		// A pod without resources is admitted with the LimitRange's defaults.
		p, err := kube.CoreV1().Pods(ns).Create(ctx, restricted("defaults", corev1.ResourceRequirements{}), dry)
		if err != nil {
			t.Fatalf("a pod without resources was refused: %v", err)
		}
		if got := p.Spec.Containers[0].Resources.Limits.Cpu().String(); got != "500m" {
			t.Errorf("defaulted cpu limit %s, want 500m", got)
		}
		for _, tc := range []struct {
			name string
			err  func() error
			want string
		}{
			{"pod over the quota", func() error {
				_, err := kube.CoreV1().Pods(ns).Create(ctx, restricted("big", mem("1Gi", "1Gi")), dry)
				return err
			}, "exceeded quota"},
			{"container over the LimitRange max", func() error {
				_, err := kube.CoreV1().Pods(ns).Create(ctx, restricted("huge", mem("64Mi", "2Gi")), dry)
				return err
			}, "maximum memory usage per Container is 1Gi"},
			{"LoadBalancer Service", func() error {
				_, err := kube.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "lb"}, Spec: corev1.ServiceSpec{
					Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}}, dry)
				return err
			}, "exceeded quota"},
			{"PersistentVolumeClaim", func() error {
				_, err := kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}, dry)
				return err
			}, "exceeded quota"},
		} {
			err := tc.err()
			if err == nil || !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %v, want a refusal containing %q", tc.name, err, tc.want)
			} else {
				t.Logf("%s: %v", tc.name, err)
			}
		}
	})

	t.Run("the platform's existing namespaces get the selection labels", func(t *testing.T) {
		// As on a cluster deployed before tenants existed: orders without labels.
		if err := ensureNamespace(ctx, kube, "orders", true); err != nil {
			t.Fatal(err)
		}
		for range 2 { // idempotent
			if err := labelPlatformNamespaces(ctx, kube, MongoNamespace, "orders"); err != nil {
				t.Fatal(err)
			}
		}
		for ns, want := range map[string]map[string]string{
			MongoNamespace: {tenant.MongoDBClientLabel: "true"},
			"orders":       {tenant.MongoDBClientLabel: "true", tenant.GatewayRoutesLabel: "true", "pod-security.kubernetes.io/enforce": "restricted"},
			"tenant-acme":  {tenant.MongoDBClientLabel: "true", tenant.GatewayRoutesLabel: "true"},
		} {
			got, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range want {
				if got.Labels[k] != v {
					t.Errorf("namespace %s: %s=%q, want %q", ns, k, got.Labels[k], v)
				}
			}
		}
		if _, ok := mustNamespace(t, kube, MongoNamespace).Labels[tenant.GatewayRoutesLabel]; ok {
			t.Errorf("namespace %s got the gateway routes label", MongoNamespace)
		}
	})

	t.Run("the tenant deployers' group may create namespaces and nothing else cluster-wide", func(t *testing.T) {
		for range 2 { // idempotent
			if err := ensureTenantDeployers(ctx, kube); err != nil {
				t.Fatal(err)
			}
		}
		review := func(ns, verb, resource, name string) bool {
			sar, err := kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: "preview", Groups: []string{tenant.DeployersGroup},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: resource, Name: name},
			}}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return sar.Status.Allowed
		}
		// The API server's RBAC authorizer reads bindings from an informer: a
		// binding just written takes a moment to count.
		for deadline := time.Now().Add(20 * time.Second); !review("", "create", "namespaces", "") && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
		}
		for _, tc := range []struct {
			ns, verb, resource, name string
			want                     bool
		}{
			{"", "create", "namespaces", "", true},
			{"", "get", "namespaces", "mongodb", true},
			{"", "delete", "namespaces", "mongodb", false},
			{"", "update", "namespaces", "orders", false},
			{"", "create", "clusterrolebindings", "", false},
			{"mongodb", "get", "secrets", "mongodb-auth", false},
			{"orders", "create", "pods", "", false},
		} {
			if got := review(tc.ns, tc.verb, tc.resource, tc.name); got != tc.want {
				t.Errorf("%s %s %s/%s: allowed=%v, want %v", tenant.DeployersGroup, tc.verb, tc.resource, tc.ns+tc.name, got, tc.want)
			}
		}
	})

	t.Run("refusals and failures change nothing they should not", func(t *testing.T) {
		// A namespace of that name that is not the tenant's.
		if err := ensureNamespace(ctx, kube, "tenant-rogue", true); err != nil {
			t.Fatal(err)
		}
		_, err := ts.Deploy(ctx, plan("rogue"), Credentials{})
		if err == nil || !strings.Contains(err.Error(), "namespace tenant-rogue exists but is not tenant rogue's") {
			t.Errorf("got %v", err)
		}
		if rels := releaseHistory(t, ts.Deployer, "tenant-rogue", "tenant-rogue"); len(rels) != 0 {
			t.Errorf("a release was installed into a foreign namespace: %d revisions", len(rels))
		}
		// The real connection path finds no MongoDB Service behind the stand-in release.
		if _, _, err := TunnelUsers(cluster.Config)(ctx, acme, "r00t-pw"); err == nil || !strings.Contains(err.Error(), "no MongoDB Service") {
			t.Errorf("TunnelUsers without a MongoDB Service: %v", err)
		}
		// MongoDB refuses the user: no Secret, no orders release; the password is not in the error.
		failing := &Tenants{Deployer: ts.Deployer, Users: func(context.Context, *TenantPlan, string) (TenantUsers, func(), error) {
			return failingUsers{}, func() {}, nil
		}}
		_, err = failing.Deploy(ctx, plan("initech"), Credentials{RootPassword: "r00t-given"})
		if err == nil || !strings.Contains(err.Error(), "tenant initech: MongoDB says no") || strings.Contains(err.Error(), "r00t-given") {
			t.Errorf("got %v", err)
		}
		if _, err := kube.CoreV1().Secrets("tenant-initech").Get(ctx, OrdersMongoSecret, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Secret written although the user was not created: %v", err)
		}
		if rels := releaseHistory(t, ts.Deployer, "tenant-initech", "orders"); len(rels) != 0 {
			t.Errorf("orders installed although the user was not created")
		}
	})

	t.Run("uninstall removes one tenant and leaves the other", func(t *testing.T) {
		res, err := ts.Uninstall(ctx, acme, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[0].Name != "orders" || res[1].Name != "tenant-acme" {
			t.Errorf("results %+v", res)
		}
		if _, err := kube.CoreV1().Namespaces().Get(ctx, "tenant-acme", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace tenant-acme: %v", err)
		}
		if !slices.Contains(users.calls, "remove acme") || slices.Contains(users.calls, "remove globex") {
			t.Errorf("user calls %v", users.calls)
		}
		if _, err := kube.CoreV1().Secrets("tenant-globex").Get(ctx, OrdersMongoSecret, metav1.GetOptions{}); err != nil {
			t.Errorf("globex lost its Secret: %v", err)
		}
		if _, err := ts.Uninstall(ctx, acme, Credentials{}); err != nil {
			t.Errorf("a second uninstall: %v", err)
		}
	})
}

// Peers a tenant's NetworkPolicies may admit: the gateway's proxies and Prometheus in,
// DNS and MongoDB out (namespaces by their immutable name label).
var (
	tenantIngressPeers = []string{"envoy-gateway-system", "monitoring"}
	tenantEgressPeers  = []string{"kube-system", "mongodb"}
)

// policyViolations checks a tenant namespace's NetworkPolicies as the server stores
// them: a default deny of all its pods, and no rule that admits anything but the
// platform's peers (no CNI enforces them in the test cluster, so the objects are
// what can be proven).
func policyViolations(ns string, items []networkingv1.NetworkPolicy) []string {
	var out []string
	denyAll := false
	for _, np := range items {
		where := np.Namespace + "/" + np.Name
		if np.Namespace != ns {
			out = append(out, where+": outside the tenant's namespace "+ns)
		}
		sel := np.Spec.PodSelector
		if len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 && len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 &&
			slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			denyAll = true
		}
		check := func(dir string, peers []networkingv1.NetworkPolicyPeer, allowed []string) {
			if len(peers) == 0 {
				out = append(out, fmt.Sprintf("%s: an %s rule without peers admits everyone", where, dir))
			}
			for _, p := range peers {
				ok := p.IPBlock == nil && p.NamespaceSelector != nil && len(p.NamespaceSelector.MatchExpressions) == 0 &&
					len(p.NamespaceSelector.MatchLabels) == 1 && slices.Contains(allowed, p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
				if !ok {
					out = append(out, fmt.Sprintf("%s: %s peer %s is not one of %v", where, dir, p.String(), allowed))
				}
			}
		}
		for _, r := range np.Spec.Ingress {
			check("ingress", r.From, tenantIngressPeers)
		}
		for _, r := range np.Spec.Egress {
			check("egress", r.To, tenantEgressPeers)
		}
	}
	if !denyAll {
		out = append(out, ns+": no default deny (all pods, Ingress and Egress, no rules)")
	}
	return out
}

// The policy check fails on each way a tenant's policies could open up.
func TestPolicyViolations(t *testing.T) {
	deny := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "tenant-a"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}}
	nsPeer := func(name string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": name}}}
	}
	in := func(peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "in", Namespace: "tenant-a"},
			Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{From: peers}}}}
	}
	out := func(peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "out", Namespace: "tenant-a"},
			Spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{To: peers}}}}
	}
	for _, tc := range []struct {
		name  string
		items []networkingv1.NetworkPolicy
		want  string
	}{
		{"fine", []networkingv1.NetworkPolicy{deny, in(nsPeer("envoy-gateway-system")), out(nsPeer("mongodb"))}, ""},
		{"no default deny", []networkingv1.NetworkPolicy{in(nsPeer("monitoring"))}, "no default deny"},
		{"the other tenant", []networkingv1.NetworkPolicy{deny, in(nsPeer("tenant-b"))}, "ingress peer"},
		{"any namespace", []networkingv1.NetworkPolicy{deny, in(networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})}, "ingress peer"},
		{"pods of its own namespace", []networkingv1.NetworkPolicy{deny, in(networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}})}, "ingress peer"},
		{"everyone", []networkingv1.NetworkPolicy{deny, in()}, "without peers"},
		{"an address block", []networkingv1.NetworkPolicy{deny, out(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}})}, "egress peer"},
		{"egress to the gateway", []networkingv1.NetworkPolicy{deny, out(nsPeer("envoy-gateway-system"))}, "egress peer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(policyViolations("tenant-a", tc.items), "\n")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("violations %q, want %q", got, tc.want)
			}
		})
	}
}

func mustNamespace(t *testing.T, kube kubernetes.Interface, name string) *corev1.Namespace {
	t.Helper()
	ns, err := kube.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

type failingUsers struct{}

func (failingUsers) Ensure(context.Context, tenant.Tenant, string) (string, error) {
	return "", fmt.Errorf("MongoDB says no")
}
func (failingUsers) Remove(context.Context, tenant.Tenant) error {
	return fmt.Errorf("MongoDB says no")
}
