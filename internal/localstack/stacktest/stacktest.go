// Package stacktest starts the local stack for tests: devdb, the real Node
// services and the gateway with the routes the orders chart renders, stopped
// (and its stop checked) when the test ends.
package stacktest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/localstack"
	"github.com/orders-platform/orders/internal/testtools"
)

// Start runs the stack for t. Without Node 24 the test is skipped, or fails
// when ORDERS_REQUIRE_TOOLS=1.
func Start(t testing.TB) *localstack.Stack {
	t.Helper()
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// The gateway serves the routes the orders chart renders, as in the cluster.
	routes, err := localstack.RoutesFromChart(root)
	if err != nil {
		t.Fatal(err)
	}
	return StartWith(t, routes)
}

// StartWith runs the stack for t with the given gateway routes and extra
// environment for the services (e.g. a tenant's MONGODB_DB).
func StartWith(t testing.TB, routes []localstack.RouteSpec, env ...string) *localstack.Stack {
	t.Helper()
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := localstack.Start(ctx, localstack.Options{
		Node: node, ServicesDir: filepath.Join(root, "services"), DataDir: t.TempDir(), Routes: routes, Env: env,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		start := time.Now()
		err := stack.Stop()
		t.Logf("local stack stopped in %s", time.Since(start))
		if err != nil {
			t.Errorf("stop the local stack: %v", err)
		}
	})
	return stack
}
