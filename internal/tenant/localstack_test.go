package tenant_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/deploy"
	"github.com/orders-platform/orders/internal/localstack"
	"github.com/orders-platform/orders/internal/smoke"
	"github.com/orders-platform/orders/internal/testtools"
)

// TestTenantOnTheLocalStack runs the real services with what a tenant's orders
// release renders — its routes under /acme and its MONGODB_DB — behind the local
// gateway, runs the whole smoke suite at <url>/acme, and finds the orders in the
// tenant's database only.
func TestTenantOnTheLocalStack(t *testing.T) {
	node, err := localstack.FindNode()
	if err != nil {
		if testtools.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tp, err := deploy.BuildTenantPlan(root, deploy.Inputs{Env: "local", Images: map[string]deploy.Image{"service1": {Tag: "abc1234"}, "service2": {Tag: "abc1234"}}}, "acme")
	if err != nil {
		t.Fatal(err)
	}
	orders, _ := tp.Step("orders")
	r, err := charts.Render(orders.ChartDir, orders.Name, orders.Namespace, orders.Values)
	if err != nil {
		t.Fatal(err)
	}
	services := map[string]string{} // Kubernetes Service → local service
	var db string
	for _, o := range r.Objects {
		switch o.GetKind() {
		case "Service":
			services[o.GetName()] = o.GetLabels()["app.kubernetes.io/component"]
		case "Deployment":
			cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			for _, e := range cs[0].(map[string]any)["env"].([]any) {
				if m := e.(map[string]any); m["name"] == "MONGODB_DB" {
					db = m["value"].(string)
				}
			}
		}
	}
	var routes []localstack.RouteSpec
	for _, o := range r.Objects {
		if o.GetKind() != "HTTPRoute" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
		rule := rules[0].(map[string]any)
		path := rule["matches"].([]any)[0].(map[string]any)["path"].(map[string]any)["value"].(string)
		rewrite := rule["filters"].([]any)[0].(map[string]any)["urlRewrite"].(map[string]any)["path"].(map[string]any)["replacePrefixMatch"].(string)
		backend := rule["backendRefs"].([]any)[0].(map[string]any)["name"].(string)
		routes = append(routes, localstack.RouteSpec{PathPrefix: path, RewritePrefix: rewrite, Service: services[backend]})
	}
	if db != "tenant_acme" || len(routes) != 2 {
		t.Fatalf("rendered MONGODB_DB %q and routes %+v; want tenant_acme and two routes", db, routes)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := localstack.Start(ctx, localstack.Options{
		Node: node, ServicesDir: filepath.Join(root, "services"), DataDir: t.TempDir(), Routes: routes,
		Env: []string{"MONGODB_DB=" + db},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Errorf("stop the local stack: %v", err)
		}
	})

	store, err := smoke.OpenMongo(ctx, stack.MongoURI, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	report := smoke.Run(ctx, smoke.Config{BaseURL: stack.URL + "/acme", Store: store})
	var out strings.Builder
	report.Write(&out)
	if err := report.Err(); err != nil {
		t.Fatalf("smoke at %s/acme:\n%s", stack.URL, out.String())
	}
	t.Logf("smoke at /acme: %d checks passed", len(report.Checks))

	c, err := mongo.Connect(options.Client().ApplyURI(stack.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	names, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "tenant_acme") || slices.Contains(names, "DevOpsAssignment") {
		t.Errorf("databases %v: want the tenant's orders in tenant_acme only", names)
	}
}
