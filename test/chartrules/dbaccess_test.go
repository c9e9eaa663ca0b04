package chartrules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/orders-platform/orders/test/kubeapi"
)

// TestDBAccessOnAPIServer: with prod's db-access objects on a real API server (RBAC
// authorizer), the developers' group may port-forward to the MongoDB members and do
// nothing else: no other pod, no other namespace, no exec, no Secret; other groups
// get nothing.
func TestDBAccessOnAPIServer(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	vals, err := ReadValues(ValuesFile(root, "prod", "db-access"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Render(filepath.Join(root, "charts", "db-access"), "db-access", "mongodb", vals)
	if err != nil {
		t.Fatal(err)
	}
	cluster := kubeapi.Start(t, kubeapi.Options{CRDs: []kubeapi.CRDSource{}})
	kube := kubernetes.NewForConfigOrDie(cluster.Config)
	dyn := dynamic.NewForConfigOrDie(cluster.Config)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ns := range []string{"mongodb", "orders"} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	resources := map[string]string{"Role": "roles", "RoleBinding": "rolebindings"}
	for _, obj := range r.Objects {
		res, ok := resources[obj.GetKind()]
		if !ok {
			t.Fatalf("db-access renders a %s; this test knows Role and RoleBinding", obj.GetKind())
		}
		gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: res}
		if _, err := dyn.Resource(gvr).Namespace("mongodb").Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}

	can := func(groups []string, ns, verb, resource, sub, name string) bool {
		t.Helper()
		sar, err := kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: "someone", Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: resource, Subresource: sub, Name: name},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	dev := []string{"orders:developers"}
	// The Role and RoleBinding reach the authorizer asynchronously (informer):
	// under load the first reviews can come before them.
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return can(dev, "mongodb", "get", "services", "", "mongodb"), nil
	}); err != nil {
		t.Fatalf("positive control: the developers cannot read the MongoDB Service: %v", err)
	}
	for _, tc := range []struct {
		name                       string
		groups                     []string
		ns, verb, res, sub, object string
		want                       bool
	}{
		{"tunnel to each member", dev, "mongodb", "create", "pods", "portforward", "mongodb-2", true},
		{"find the member behind the Service", dev, "mongodb", "list", "pods", "", "", true},
		{"read the Service", dev, "mongodb", "get", "services", "", "mongodb", true},
		{"no other pod", dev, "mongodb", "create", "pods", "portforward", "mongodb-backup-29000000-abcde", false},
		{"no other namespace", dev, "orders", "create", "pods", "portforward", "mongodb-0", false},
		{"no exec", dev, "mongodb", "create", "pods", "exec", "mongodb-0", false},
		{"no Secrets", dev, "mongodb", "get", "secrets", "", "mongodb-auth", false},
		{"no changes", dev, "mongodb", "delete", "pods", "", "mongodb-0", false},
		{"other groups get nothing", []string{"orders:readers"}, "mongodb", "create", "pods", "portforward", "mongodb-0", false},
	} {
		if got := can(tc.groups, tc.ns, tc.verb, tc.res, tc.sub, tc.object); got != tc.want {
			t.Errorf("%s: %v %s %s/%s %s in %s: allowed=%v, want %v", tc.name, tc.groups, tc.verb, tc.res, tc.sub, tc.object, tc.ns, got, tc.want)
		}
	}
}

// TestDBAccessMatchesTheCluster: each environment's db-access names exactly its
// MongoDB pods (mongodb-0 for a standalone, mongodb-0…n-1 for a replica set of n) and
// the groups the developer role's access entry carries (Terraform).
func TestDBAccessMatchesTheCluster(t *testing.T) {
	root, envs := repoEnvironments(t)
	checked := 0
	for _, env := range envs {
		file := ValuesFile(root, env, "db-access")
		if _, err := os.Stat(file); err != nil {
			continue
		}
		checked++
		access, err := ReadValues(file)
		if err != nil {
			t.Fatal(err)
		}
		mongo, err := ReadValues(ValuesFile(root, env, "mongodb"))
		if err != nil {
			t.Fatal(err)
		}
		want := []any{"mongodb-0"}
		if mongo["architecture"] == "replicaset" {
			n, _ := mongo["replicaCount"].(float64)
			want = nil
			for i := 0; i < int(n); i++ {
				want = append(want, fmt.Sprintf("mongodb-%d", i))
			}
		}
		if got, _ := access["pods"].([]any); !slices.Equal(got, want) {
			t.Errorf("environments/%s/values/db-access.yaml: pods %v, want the MongoDB pods %v", env, got, want)
		}
		var tfGroups []any
		for _, g := range environmentStrings(t, root, env, "developer_kubernetes_groups") {
			tfGroups = append(tfGroups, g)
		}
		if got, _ := access["groups"].([]any); !slices.Equal(got, tfGroups) {
			t.Errorf("environments/%s/values/db-access.yaml: groups %v, want Terraform's developer_kubernetes_groups %v", env, got, tfGroups)
		}
	}
	if checked == 0 {
		t.Error("no environment has db-access values")
	}
}
