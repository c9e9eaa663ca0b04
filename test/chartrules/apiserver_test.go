package chartrules

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/orders-platform/orders/test/kubeapi"
)

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// TestChartsOnAPIServer creates every object that each chart renders for each
// environment on a real kube-apiserver: strict field validation (unknown fields
// are errors), OpenAPI/CRD schema validation, defaulting, and admission with Pod
// Security "restricted" enforced on the namespaces (the helm test pod is admitted
// or refused by it; for workloads its warnings count as failures).
func schemaGVR(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

func TestChartsOnAPIServer(t *testing.T) {
	_, cs := cases(t)
	// The AWS environments' edge and orders releases once more as rendered with a
	// domain (TLS on the NLB, the https listener and the redirect): "<env>-tls".
	cs = append(cs, edgeTLSVariants(t, cs)...)
	cluster := kubeapi.Start(t, kubeapi.Options{})

	warn := &warnings{}
	cfg := rest.CopyConfig(cluster.Config)
	cfg.WarningHandler = warn
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kube := kubernetes.NewForConfigOrDie(cfg)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))

	byEnv := map[string][]renderCase{}
	var envs []string
	for _, c := range cs {
		if _, ok := byEnv[c.env]; !ok {
			envs = append(envs, c.env)
		}
		byEnv[c.env] = append(byEnv[c.env], c)
	}
	counts := map[string]int{}
	for _, env := range envs {
		t.Run(env, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			for _, c := range byEnv[env] {
				ns := env + "-" + c.release.Namespace
				_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
					Name: ns,
					Labels: map[string]string{
						"pod-security.kubernetes.io/enforce": "restricted",
						"pod-security.kubernetes.io/warn":    "restricted",
						"pod-security.kubernetes.io/audit":   "restricted",
					},
				}}, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) { // releases may share one (backup, db-access)
					t.Fatal(err)
				}
				r, err := Render(c.dir, c.release.Name, ns, c.values)
				if err != nil {
					t.Fatalf("render %s: %v", c.release.Chart, err)
				}
				for _, obj := range r.All() {
					gvk := obj.GroupVersionKind()
					id := fmt.Sprintf("%s %s/%s", c.release.Chart, gvk.Kind, obj.GetName())
					mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
					if err != nil {
						t.Errorf("%s: the server does not serve %s: %v", id, gvk, err)
						continue
					}
					res := dyn.Resource(mapping.Resource)
					var ri dynamic.ResourceInterface = res
					if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
						obj.SetNamespace(ns)
						ri = res.Namespace(ns)
					}
					warn.take()
					created, err := ri.Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"})
					if err != nil {
						t.Errorf("%s rejected: %v", id, err)
						continue
					}
					for _, w := range warn.take() {
						t.Errorf("%s: warning: %s", id, w)
					}
					if ts := created.GetCreationTimestamp(); created.GetUID() == "" || ts.IsZero() {
						t.Errorf("%s: the server returned no uid or creation time", id)
					}
					counts[env]++
					if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
						name := obj.GetName()
						t.Cleanup(func() {
							_ = res.Delete(context.Background(), name, metav1.DeleteOptions{})
						})
					}
				}
			}
			t.Logf("%s: %d objects accepted by kube-apiserver %s", env, counts[env], kubeapi.KubeVersion)
		})
	}
	// The same path must refuse what breaks the rules: an unknown field, a pod that
	// violates Pod Security, and a workload that would (a warning).
	t.Run("refusals", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var prod renderCase
		for _, c := range byEnv["prod"] {
			if c.release.Name == "orders" {
				prod = c
			}
		}
		ns := "prod-orders"
		r, err := Render(prod.dir, prod.release.Name, ns, prod.values)
		if err != nil {
			t.Fatal(err)
		}
		dep, pod := firstOf(r.Objects, "Deployment").DeepCopy(), firstOf(r.Hooks, "Pod").DeepCopy()
		deployments := dyn.Resource(schemaGVR("apps", "v1", "deployments")).Namespace(ns)
		pods := dyn.Resource(schemaGVR("", "v1", "pods")).Namespace(ns)

		typo := dep.DeepCopy()
		typo.SetName("typo")
		typo.Object["spec"].(map[string]any)["replcas"] = int64(2)
		if _, err := deployments.Create(ctx, typo, metav1.CreateOptions{FieldValidation: "Strict"}); err == nil || !strings.Contains(err.Error(), "replcas") {
			t.Errorf("an unknown field must be refused naming it, got %v", err)
		}

		root := pod.DeepCopy()
		root.SetName("root")
		containers := root.Object["spec"].(map[string]any)["containers"].([]any)
		containers[0].(map[string]any)["securityContext"].(map[string]any)["allowPrivilegeEscalation"] = true
		if _, err := pods.Create(ctx, root, metav1.CreateOptions{FieldValidation: "Strict"}); err == nil || !strings.Contains(err.Error(), "allowPrivilegeEscalation") {
			t.Errorf("Pod Security restricted must refuse privilege escalation, got %v", err)
		}

		escalate := dep.DeepCopy()
		escalate.SetName("escalate")
		containers = escalate.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		containers[0].(map[string]any)["securityContext"].(map[string]any)["allowPrivilegeEscalation"] = true
		warn.take()
		if _, err := deployments.Create(ctx, escalate, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			t.Fatal(err)
		}
		if w := strings.Join(warn.take(), "\n"); !strings.Contains(w, "restricted") || !strings.Contains(w, "allowPrivilegeEscalation") {
			t.Errorf("a Deployment violating Pod Security must draw a warning naming the field, got %q", w)
		}
	})

	var summary []string
	for _, env := range envs {
		summary = append(summary, fmt.Sprintf("%s=%d", env, counts[env]))
	}
	sort.Strings(summary)
	t.Logf("objects validated per environment: %s (API server ready after %s, CRDs after %s)",
		strings.Join(summary, " "), cluster.APIServerReady.Round(time.Millisecond), cluster.CRDsReady.Round(time.Millisecond))
}
