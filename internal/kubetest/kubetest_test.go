package kubetest

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
