package kubeapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
)

func TestStripHelmGuard(t *testing.T) {
	in := "{{- if .Values.crds.envoyGateway.enabled }}\napiVersion: v1\nkind: X\n{{- end }}\n"
	out, err := stripHelmGuard([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "apiVersion: v1\nkind: X\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := stripHelmGuard([]byte("name: {{ .Release.Name }}\n")); err == nil {
		t.Fatal("a template action other than the guard must be an error")
	}
}

// TestAPIServer starts the real API server and proves it validates, enforces
// Pod Security admission and serves the installed CRDs.
func TestAPIServer(t *testing.T) {
	c := Start(t, Options{})
	t.Logf("timings: kine %s, apiserver ready %s, CRDs %s", c.KineReady, c.APIServerReady, c.CRDsReady)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(c.Config)

	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != KubeVersion {
		t.Errorf("server version %s, want %s", v.GitVersion, KubeVersion)
	}

	dc := discovery.NewDiscoveryClientForConfigOrDie(c.Config)
	for _, gv := range []schema.GroupVersion{
		{Group: "gateway.networking.k8s.io", Version: "v1"},
		{Group: "gateway.envoyproxy.io", Version: "v1alpha1"},
		{Group: "monitoring.coreos.com", Version: "v1"},
	} {
		if _, err := dc.ServerResourcesForGroupVersion(gv.String()); err != nil {
			t.Errorf("group version %s not served: %v", gv, err)
		}
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted", Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	root := int64(0)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "root", Namespace: "restricted"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "example.invalid/app:1",
			SecurityContext: &corev1.SecurityContext{RunAsUser: &root},
		}}},
	}
	_, err = cs.CoreV1().Pods("restricted").Create(ctx, pod, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "restricted") {
		t.Fatalf("a root pod in a restricted namespace must be forbidden by PodSecurity, got %v", err)
	}

	// Strict field validation rejects unknown fields.
	_, err = cs.CoreV1().ConfigMaps("restricted").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "ok"}, Data: map[string]string{"a": "b"},
	}, metav1.CreateOptions{FieldValidation: "Strict"})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWorkloadsBecomeAvailable proves the workload hook: a Deployment spread across
// zones gets a ReplicaSet (kube-controller-manager), its pods are bound to fake
// nodes (kube-scheduler) and become Ready (kwok), so the Deployment is Available.
func TestWorkloadsBecomeAvailable(t *testing.T) {
	c := Start(t, Options{CRDs: []CRDSource{}, AfterStart: []func(testing.TB, *Cluster){WithWorkloads(nil)}})
	kube := kubernetes.NewForConfigOrDie(c.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	labels := map[string]string{"app": "spread"}
	replicas := int32(2)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "spread", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "c", Image: "example.invalid/none:1"}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule,
						LabelSelector: &metav1.LabelSelector{MatchLabels: labels},
					}},
				},
			},
		},
	}
	if _, err := kube.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		d, err := kube.AppsV1().Deployments("default").Get(ctx, "spread", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == replicas, nil
	})
	if err != nil {
		pods, _ := kube.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
		var states []string
		for _, p := range pods.Items {
			states = append(states, fmt.Sprintf("%s node=%q phase=%s conditions=%v", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.Conditions))
		}
		t.Fatalf("Deployment not available: %v\npods: %s\n--- kube-scheduler ---\n%s\n--- kwok ---\n%s", err, strings.Join(states, "\n"), c.LogTail("kube-scheduler", 20), c.LogTail("kwok", 10))
	}
	pods, err := kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=spread"})
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	for _, p := range pods.Items {
		n, err := kube.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("pod %s on node %q: %v", p.Name, p.Spec.NodeName, err)
		}
		zones[n.Labels["topology.kubernetes.io/zone"]] = true
	}
	if len(zones) != 2 {
		t.Errorf("2 replicas with a hard zone spread over 2 zones landed in zones %v", zones)
	}
	t.Logf("Deployment available after %s", time.Since(begin).Round(time.Millisecond))
}
