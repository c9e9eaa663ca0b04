package deploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/test/kubeapi"
)

type testLog struct{ t testing.TB }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// localInputs deploys every release of local whose chart is available here: the
// add-ons and MongoDB are remote charts this machine cannot fetch.
func localInputs(tag string) Inputs {
	return Inputs{
		Env:        "local",
		SkipAddons: true,
		Skip:       []string{"mongodb"},
		Images:     map[string]Image{"service1": {Tag: tag}, "service2": {Tag: tag}},
		Timeout:    2 * time.Minute,
	}
}

func mustPlan(t *testing.T, root string, in Inputs) *Plan {
	t.Helper()
	p, err := BuildPlan(root, in)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func deploymentImage(t *testing.T, kube kubernetes.Interface, name string) (*appsv1.Deployment, string) {
	t.Helper()
	d, err := kube.AppsV1().Deployments("orders").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Deployment orders/%s: %v", name, err)
	}
	return d, d.Spec.Template.Spec.Containers[0].Image
}

func available(d *appsv1.Deployment) bool {
	return d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas == *d.Spec.Replicas &&
		d.Status.UpdatedReplicas == *d.Spec.Replicas && d.Status.Replicas == *d.Spec.Replicas
}

func releaseHistory(t *testing.T, d *Deployer, ns, name string) []*release.Release {
	t.Helper()
	cfg, err := d.helmConfig(ns)
	if err != nil {
		t.Fatal(err)
	}
	rels, err := history(cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	return rels
}

// TestDeployerOnCluster runs the deployer against a real kube-apiserver with
// kube-controller-manager, kube-scheduler and kwok (two fake nodes in two zones):
// Deployments really roll out, and pods that cannot be scheduled really stay Pending.
func TestDeployerOnCluster(t *testing.T) {
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := kubeapi.Start(t, kubeapi.Options{AfterStart: []func(testing.TB, *kubeapi.Cluster){kubeapi.WithWorkloads(nil)}})
	kube := kubernetes.NewForConfigOrDie(cluster.Config)
	d := &Deployer{Config: cluster.Config, Out: testLog{t}, MaxHistory: 3, RollbackTimeout: 2 * time.Minute}
	ctx := context.Background()

	t.Run("missing value: nothing installed", func(t *testing.T) {
		// dev needs the Terraform outputs: without them the edge chart refuses to
		// render (no subnets for the NLB). No Secret, namespace or release may appear.
		in := Inputs{Env: "dev", SkipAddons: true, Skip: []string{"mongodb"}, Images: map[string]Image{"service1": {Tag: "abc1234"}, "service2": {Tag: "abc1234"}}}
		_, err := d.Deploy(ctx, mustPlan(t, root, in), Credentials{RootPassword: "r00t-secret", AppPassword: "app-secret"})
		if err == nil {
			t.Fatal("deploy succeeded without the values the edge chart needs")
		}
		for _, want := range []string{"nothing was installed", "release edge", "subnets"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not mention %q:\n%v", want, err)
			}
		}
		for _, secret := range []string{"r00t-secret", "app-secret"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error reveals a password")
			}
		}
		for _, ns := range []string{"edge", "orders", "mongodb"} {
			if _, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("namespace %s exists after a deploy that failed its render (err %v)", ns, err)
			}
		}
		t.Logf("error as reported:\n%v", err)
	})

	var installTime, upgradeTime time.Duration
	t.Run("fresh install", func(t *testing.T) {
		begin := time.Now()
		res, err := d.Deploy(ctx, mustPlan(t, root, localInputs("c0ffee1")), Credentials{})
		installTime = time.Since(begin)
		if err != nil {
			t.Fatalf("deploy: %v", err)
		}
		got := map[string]string{}
		for _, r := range res {
			got[r.Name] = r.Action
		}
		want := map[string]string{"envoy-gateway": "skipped", "edge": "installed", "mongodb": "skipped", "orders": "installed"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("actions %v, want %v", got, want)
		}
		for _, svc := range Services {
			dep, image := deploymentImage(t, kube, "orders-"+svc)
			if !available(dep) {
				t.Errorf("%s not available after the deploy returned: %+v", svc, dep.Status)
			}
			if image != "orders/"+svc+":c0ffee1" {
				t.Errorf("%s image %q", svc, image)
			}
			if dep.Spec.Template.Annotations[PodAnnotationSecretHash] == "" {
				t.Errorf("%s: no %s pod annotation", svc, PodAnnotationSecretHash)
			}
		}
		s, err := kube.CoreV1().Secrets("orders").Get(ctx, OrdersMongoSecret, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if u := string(s.Data[KeyMongoURL]); !strings.HasPrefix(u, "mongodb://orders:") || !strings.HasSuffix(u, "@mongodb.mongodb.svc.cluster.local:27017/DevOpsAssignment?authSource=DevOpsAssignment") {
			t.Errorf("MONGODB_URL has the wrong shape (not printed)")
		}
		t.Logf("MEASURED fresh install (edge + orders, ready): %s", installTime.Round(time.Millisecond))
	})

	t.Run("upgrade with a change", func(t *testing.T) {
		authBefore, err := kube.CoreV1().Secrets("mongodb").Get(ctx, MongoAuthSecret, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		res, err := d.Deploy(ctx, mustPlan(t, root, localInputs("c0ffee2")), Credentials{})
		upgradeTime = time.Since(begin)
		if err != nil {
			t.Fatalf("deploy: %v", err)
		}
		for _, r := range res {
			if (r.Name == "orders" || r.Name == "edge") && (r.Action != "upgraded" || r.Revision != 2) {
				t.Errorf("%s: %s revision %d, want upgraded to revision 2", r.Name, r.Action, r.Revision)
			}
		}
		for _, svc := range Services {
			dep, image := deploymentImage(t, kube, "orders-"+svc)
			if image != "orders/"+svc+":c0ffee2" || !available(dep) {
				t.Errorf("%s: image %q, available %v", svc, image, available(dep))
			}
		}
		authAfter, err := kube.CoreV1().Secrets("mongodb").Get(ctx, MongoAuthSecret, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if string(authBefore.Data[KeyPasswords]) != string(authAfter.Data[KeyPasswords]) {
			t.Errorf("local passwords were regenerated on upgrade; they must be kept")
		}
		t.Logf("MEASURED upgrade (new image tag, rolled out and ready): %s", upgradeTime.Round(time.Millisecond))
	})

	t.Run("diff", func(t *testing.T) {
		diffs, err := d.Diff(ctx, mustPlan(t, root, localInputs("c0ffee3")), Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]ReleaseDiff{}
		for _, rd := range diffs {
			byName[rd.Name] = rd
		}
		if u := byName["edge"].Unified; u != "" {
			t.Errorf("edge did not change, diff:\n%s", u)
		}
		o := byName["orders"]
		for _, want := range []string{"--- live/orders/orders (revision 2)", "+++ rendered/orders/orders", "-          image: \"orders/service1:c0ffee2\"", "+          image: \"orders/service1:c0ffee3\""} {
			if !strings.Contains(o.Unified, want) {
				t.Errorf("orders diff lacks %q:\n%s", want, o.Unified)
			}
		}
		if byName["mongodb"].Skip == "" {
			t.Error("mongodb should be reported as skipped")
		}
		if rels := releaseHistory(t, d, "orders", "orders"); len(rels) != 2 {
			t.Errorf("diff changed the release history: %d revisions", len(rels))
		}
	})

	t.Run("upgrade that cannot become ready is rolled back", func(t *testing.T) {
		in := localInputs("c0ffee4")
		in.Timeout = 20 * time.Second
		in.ExtraValues = map[string]map[string]any{"orders": {"nodeSelector": map[string]any{"orders.test/pool": "does-not-exist"}}}
		_, err := d.Deploy(ctx, mustPlan(t, root, in), Credentials{})
		var re *ReleaseError
		if !errors.As(err, &re) {
			t.Fatalf("want a *ReleaseError, got %v", err)
		}
		msg := err.Error()
		t.Logf("error as reported:\n%s", msg)
		if re.Release != "orders" || re.Op != "upgrade" || re.RolledBackTo != 2 || re.CleanupErr != nil {
			t.Errorf("release %q op %q rolled back to %d (cleanup error %v), want orders upgrade rolled back to 2", re.Release, re.Op, re.RolledBackTo, re.CleanupErr)
		}
		for _, want := range []string{
			"release orders (namespace orders): upgrade failed",
			"rolled back to revision 2",
			"Deployment orders/orders-service1",
			"Unschedulable",
			"FailedScheduling",
			"didn't match Pod's node affinity/selector",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("the report does not say %q", want)
			}
		}
		rels := releaseHistory(t, d, "orders", "orders")
		last := latest(rels)
		if last.Info.Status != release.StatusDeployed || last.Version != 4 {
			t.Errorf("after the rollback the latest revision is %d %s, want 4 deployed", last.Version, last.Info.Status)
		}
		for _, svc := range Services {
			dep, image := deploymentImage(t, kube, "orders-"+svc)
			if image != "orders/"+svc+":c0ffee2" || len(dep.Spec.Template.Spec.NodeSelector) != 0 || !available(dep) {
				t.Errorf("%s after rollback: image %q, nodeSelector %v, available %v", svc, image, dep.Spec.Template.Spec.NodeSelector, available(dep))
			}
		}
	})

	t.Run("bounded history", func(t *testing.T) {
		for i := 5; i <= 7; i++ {
			if _, err := d.Deploy(ctx, mustPlan(t, root, localInputs(fmt.Sprintf("c0ffee%d", i))), Credentials{}); err != nil {
				t.Fatal(err)
			}
		}
		rels := releaseHistory(t, d, "orders", "orders")
		if len(rels) != d.MaxHistory {
			t.Errorf("orders keeps %d revisions, want MaxHistory=%d", len(rels), d.MaxHistory)
		}
		if l := latest(rels); l.Version != 7 || l.Info.Status != release.StatusDeployed {
			t.Errorf("latest revision %d %s, want 7 deployed", l.Version, l.Info.Status)
		}
	})

	t.Run("failed first install is uninstalled", func(t *testing.T) {
		cfg, err := d.helmConfig("orders")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := action.NewUninstall(cfg).Run("orders"); err != nil {
			t.Fatal(err)
		}
		in := localInputs("c0ffee8")
		in.Timeout = 15 * time.Second
		in.ExtraValues = map[string]map[string]any{"orders": {"nodeSelector": map[string]any{"orders.test/pool": "does-not-exist"}}}
		_, err = d.Deploy(ctx, mustPlan(t, root, in), Credentials{})
		var re *ReleaseError
		if !errors.As(err, &re) || re.Op != "install" || !re.Uninstalled {
			t.Fatalf("want a failed install that was uninstalled, got %v", err)
		}
		if !strings.Contains(err.Error(), "Deployment orders/orders-service2") || !strings.Contains(err.Error(), "uninstalled") {
			t.Errorf("report:\n%v", err)
		}
		if rels := releaseHistory(t, d, "orders", "orders"); len(rels) != 0 {
			t.Errorf("the failed first install left %d revisions", len(rels))
		}
		// The next run installs afresh.
		res, err := d.Deploy(ctx, mustPlan(t, root, localInputs("c0ffee9")), Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		if r := res[len(res)-1]; r.Name != "orders" || r.Action != "installed" || r.Revision != 1 {
			t.Errorf("after the failed install: %+v, want orders installed revision 1", r)
		}
	})

	t.Run("every local release in order, remote charts stood in", func(t *testing.T) {
		// The add-on and MongoDB charts cannot be fetched here: stand-ins with one
		// workload each (a StatefulSet for MongoDB) take their place, so the whole
		// local plan runs in order against the cluster, Secrets before MongoDB.
		var log strings.Builder
		full := &Deployer{Config: cluster.Config, Out: &log, MaxHistory: 3, RollbackTimeout: time.Minute, Charts: standInCharts{}}
		in := localInputs("c0ffeea")
		in.SkipAddons, in.Skip = false, nil
		res, err := full.Deploy(ctx, mustPlan(t, root, in), Credentials{})
		t.Log(log.String())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res {
			got = append(got, r.Name+":"+r.Action)
		}
		want := []string{"envoy-gateway:installed", "edge:upgraded", "mongodb:installed", "orders:upgraded"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("results %v, want %v", got, want)
		}
		out := log.String()
		if s, m := strings.Index(out, "secrets: "), strings.Index(out, "mongodb: installing"); s < 0 || m < 0 || s > m {
			t.Errorf("the Secrets must be applied before MongoDB is installed:\n%s", out)
		}
		sts, err := kube.AppsV1().StatefulSets("mongodb").Get(ctx, "mongodb", metav1.GetOptions{})
		if err != nil || sts.Status.ReadyReplicas != 1 {
			t.Errorf("stand-in MongoDB StatefulSet not ready: %v", err)
		}
		// db-tunnel's target: the Ready pod behind the MongoDB Service.
		if pod, err := MongoDBPod(ctx, kube, "mongodb"); err != nil || pod != "mongodb-0" {
			t.Errorf("tunnel pod %q, error %v; want mongodb-0", pod, err)
		}
		if _, err := MongoDBPod(ctx, kube, "orders"); err == nil || !strings.Contains(err.Error(), "no MongoDB Service") {
			t.Errorf("a namespace without MongoDB: error %v, want it to say there is no MongoDB Service", err)
		}
	})

	t.Run("uninstall in reverse order", func(t *testing.T) {
		var log strings.Builder
		full := &Deployer{Config: cluster.Config, Out: &log, Charts: standInCharts{}}
		in := localInputs("c0ffeea")
		in.SkipAddons, in.Skip = false, nil
		res, err := full.Uninstall(ctx, mustPlan(t, root, in))
		t.Log(log.String())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res {
			got = append(got, r.Name+":"+r.Action)
		}
		if want := "orders:uninstalled mongodb:uninstalled edge:uninstalled envoy-gateway:uninstalled"; strings.Join(got, " ") != want {
			t.Errorf("got %v, want %s", got, want)
		}
		for _, ns := range []string{"orders", "edge", "mongodb", "envoy-gateway-system"} {
			deps, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err != nil || len(deps.Items) != 0 {
				t.Errorf("namespace %s still has %d Deployments (%v)", ns, len(deps.Items), err)
			}
		}
		if res, err := full.Uninstall(ctx, mustPlan(t, root, in)); err != nil || res[0].Action != "absent" {
			t.Errorf("a second uninstall: %v %v", res, err)
		}
	})

	t.Run("teardown: load balancers before their controller, volumes released, retained ones named", func(t *testing.T) {
		var log strings.Builder
		full := &Deployer{Config: cluster.Config, Out: &log, MaxHistory: 3, RollbackTimeout: time.Minute, Charts: standInCharts{}, DrainTimeout: 3 * time.Second}
		in := localInputs("c0ffeeb")
		in.SkipAddons, in.Skip = false, nil
		plan := mustPlan(t, root, in)
		if _, err := full.Deploy(ctx, plan, Credentials{}); err != nil {
			t.Fatal(err)
		}
		// The Envoy Service the AWS Load Balancer Controller holds (finalizer) until its NLB is gone.
		lb := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "envoy-edge", Namespace: "envoy-gateway-system", Finalizers: []string{"service.k8s.aws/resources"}},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		if _, err := kube.CoreV1().Services(lb.Namespace).Create(ctx, lb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Two EBS-backed claims of MongoDB: one volume retained, one deleted with its claim.
		for _, v := range []struct {
			pv, claim, volume string
			policy            corev1.PersistentVolumeReclaimPolicy
		}{
			{"pv-retain", "datadir-mongodb-0", "vol-0retain", corev1.PersistentVolumeReclaimRetain},
			{"pv-delete", "datadir-mongodb-1", "vol-0delete", corev1.PersistentVolumeReclaimDelete},
		} {
			pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: v.pv}, Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: v.policy,
				ClaimRef:                      &corev1.ObjectReference{Namespace: "mongodb", Name: v.claim},
				PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: v.volume}},
			}}
			if _, err := kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			empty := ""
			pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: v.claim, Namespace: "mongodb"}, Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeName: v.pv, StorageClassName: &empty,
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			}}
			if _, err := kube.CoreV1().PersistentVolumeClaims("mongodb").Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}

		// While the load balancer is there, no add-on goes.
		res, err := full.Uninstall(ctx, plan)
		t.Log(log.String())
		if err == nil || !strings.Contains(err.Error(), "envoy-gateway-system/envoy-edge of type LoadBalancer is still there") || !strings.Contains(err.Error(), "no add-on was uninstalled") {
			t.Fatalf("uninstall with a load balancer left: %v", err)
		}
		if len(res) != 3 || res[2].Name != "edge" {
			t.Errorf("before the wait: %v, want orders, mongodb, edge", res)
		}
		if h := releaseHistory(t, full, "envoy-gateway-system", "envoy-gateway"); len(h) == 0 {
			t.Error("envoy-gateway was uninstalled while a Service of type LoadBalancer was left")
		}

		// The controller deletes the NLB and lets the Service go; the EBS CSI
		// driver deletes the Delete volume once its claim is gone.
		go func() {
			time.Sleep(time.Second)
			patch := []byte(`{"metadata":{"finalizers":null}}`)
			_, _ = kube.CoreV1().Services(lb.Namespace).Patch(ctx, lb.Name, types.MergePatchType, patch, metav1.PatchOptions{})
			_ = kube.CoreV1().Services(lb.Namespace).Delete(ctx, lb.Name, metav1.DeleteOptions{})
			for range 60 {
				if _, err := kube.CoreV1().PersistentVolumeClaims("mongodb").Get(ctx, "datadir-mongodb-1", metav1.GetOptions{}); apierrors.IsNotFound(err) {
					_ = kube.CoreV1().PersistentVolumes().Delete(ctx, "pv-delete", metav1.DeleteOptions{})
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
		log.Reset()
		full.DrainTimeout = time.Minute
		res, err = full.Uninstall(ctx, plan)
		t.Log(log.String())
		if err != nil {
			t.Fatal(err)
		}
		out := log.String()
		if w, a := strings.Index(out, "no Service of type LoadBalancer is left"), strings.Index(out, "envoy-gateway: uninstalled"); w < 0 || a < 0 || w > a {
			t.Errorf("the add-ons went before the load balancers:\n%s", out)
		}
		if !strings.Contains(out, "kept: EBS volume vol-0retain (PersistentVolume pv-retain, claim mongodb/datadir-mongodb-0, reclaim policy Retain); delete it with: aws ec2 delete-volume --volume-id vol-0retain") {
			t.Errorf("the retained volume is not named with how to delete it:\n%s", out)
		}
		if strings.Contains(out, "vol-0delete") {
			t.Errorf("the deleted volume is reported as kept:\n%s", out)
		}
		if pvcs, _ := kube.CoreV1().PersistentVolumeClaims("mongodb").List(ctx, metav1.ListOptions{}); len(pvcs.Items) != 0 {
			t.Errorf("%d claims left in mongodb", len(pvcs.Items))
		}
		if len(res) == 0 || res[len(res)-1].Name != "envoy-gateway" || res[len(res)-1].Action != "uninstalled" {
			t.Errorf("second teardown: %v", res)
		}
	})

	t.Run("wrong context", func(t *testing.T) {
		_, err := KubeconfigConfig(cluster.KubeconfigFile, "production")
		if err == nil || !strings.Contains(err.Error(), `context "production" not found`) || !strings.Contains(err.Error(), "available: kubeapi") {
			t.Errorf("got %v", err)
		}
		if _, err := KubeconfigConfig(cluster.KubeconfigFile, "kubeapi"); err != nil {
			t.Errorf("the right context: %v", err)
		}
	})

	t.Run("unreachable cluster", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there any more
		kc, err := os.ReadFile(cluster.KubeconfigFile)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(path, []byte(strings.Replace(string(kc), cluster.URL, "https://"+addr, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := KubeconfigConfig(path, "")
		if err != nil {
			t.Fatal(err)
		}
		gone := &Deployer{Config: cfg, ReachTimeout: 5 * time.Second}
		_, err = gone.Deploy(ctx, mustPlan(t, root, localInputs("c0ffee1")), Credentials{})
		if err == nil || !strings.Contains(err.Error(), "cannot reach the Kubernetes API at https://"+addr) {
			t.Errorf("got %v", err)
		}
	})
	t.Logf("MEASURED against kube-apiserver %s on this machine: fresh install %s, upgrade %s",
		kubeapi.KubeVersion, installTime.Round(time.Millisecond), upgradeTime.Round(time.Millisecond))
}

// standInCharts loads local charts from the repository and replaces every remote
// chart by a minimal one: one Pod Security "restricted" workload named after the
// release (a StatefulSet for mongodb, a Deployment otherwise).
type standInCharts struct{}

func (standInCharts) Load(ctx context.Context, s Step) (*chart.Chart, error) {
	if s.Kind == KindLocal {
		return HelmCharts{}.Load(ctx, s)
	}
	kind, extra, service := "Deployment", "", ""
	if s.Name == "mongodb" {
		kind, extra = "StatefulSet", "\n  serviceName: {{ .Release.Name }}"
		// The Service the Bitnami chart puts in front of a standalone MongoDB.
		service = `---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{name: mongodb, port: 27017}]
`
	}
	tmpl := `apiVersion: apps/v1
kind: ` + kind + `
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1` + extra + `
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: main
        image: example.invalid/stand-in:1
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
` + service
	return &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: s.Name, Version: "0.0.0-stand-in", Type: "application"},
		Templates: []*chart.File{{Name: "templates/workload.yaml", Data: []byte(tmpl)}},
	}, nil
}
