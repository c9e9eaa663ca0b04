// Package localrun starts the local stack for tests, as `make run` does
// (internal/localstack): devdb, the real Node services and the gateway with the
// routes the orders chart renders, stopped (and its stop checked) when the test
// ends.
package localrun

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/localstack"
	"github.com/orders-platform/orders/test/toolcache"
)

// Start runs the stack for t with the routes the orders chart renders, and
// extra environment for the services (e.g. DB_TIMEOUT_MS=300). Without Node 24
// the test is skipped, or fails when ORDERS_REQUIRE_TOOLS=1.
func Start(t testing.TB, env ...string) *localstack.Stack {
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
	return StartWith(t, routes, env...)
}

// StartWith runs the stack for t with the given gateway routes and extra
// environment for the services (e.g. a tenant's MONGODB_DB).
func StartWith(t testing.TB, routes []localstack.RouteSpec, env ...string) *localstack.Stack {
	t.Helper()
	node, err := localstack.FindNode()
	if err != nil {
		if toolcache.Required() {
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
	// The services' log lines are kept, and shown when the stack does not start or
	// stop cleanly: a failure then says which service and why.
	logs := &tail{max: 60}
	stack, err := localstack.Start(ctx, localstack.Options{
		Node: node, ServicesDir: filepath.Join(root, "services"), DataDir: t.TempDir(), Routes: routes, Env: env, Logs: logs,
	})
	if err != nil {
		t.Fatalf("%v\nthe services' last log lines:\n%s", err, logs)
	}
	t.Cleanup(func() {
		start := time.Now()
		err := stack.Stop()
		t.Logf("local stack stopped in %s", time.Since(start))
		if err != nil {
			t.Errorf("stop the local stack: %v\nthe services' last log lines:\n%s", err, logs)
		}
	})
	return stack
}

// tail keeps the last max lines written to it (writes come whole lines at a time
// from localstack's line-locked writer).
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (l *tail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line == "" {
			continue
		}
		l.lines = append(l.lines, line)
	}
	if over := len(l.lines) - l.max; over > 0 {
		l.lines = append([]string(nil), l.lines[over:]...)
	}
	return len(p), nil
}

func (l *tail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}
