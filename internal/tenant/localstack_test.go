package tenant_test

import (
	"context"
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
	"github.com/orders-platform/orders/test/localrun"
)

// TestTenantOnTheLocalStack runs the real services with what a tenant's orders
// release renders — its routes under /acme and its MONGODB_DB — behind the local
// gateway, runs the whole smoke suite at <url>/acme, and finds the orders in the
// tenant's database only.
func TestTenantOnTheLocalStack(t *testing.T) {
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
	var db string
	for _, o := range r.Objects {
		if o.GetKind() != "Deployment" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, e := range cs[0].(map[string]any)["env"].([]any) {
			if m := e.(map[string]any); m["name"] == "MONGODB_DB" {
				db = m["value"].(string)
			}
		}
	}
	routes, err := localstack.RoutesFromObjects(r.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if db != "tenant_acme" || len(routes) != 2 || routes[0].PathPrefix != "/acme/service1" && routes[1].PathPrefix != "/acme/service1" {
		t.Fatalf("rendered MONGODB_DB %q and routes %+v; want tenant_acme and two routes under /acme", db, routes)
	}

	stack := localrun.StartWith(t, routes, "MONGODB_DB="+db)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

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
