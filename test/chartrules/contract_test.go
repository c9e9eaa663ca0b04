package chartrules

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGateway answers like the gateway in front of service1 and service2; broken
// changes one answer so that the contract must fail.
func fakeGateway(broken string) http.Handler {
	var mu sync.Mutex
	orders := map[int]bool{1: true, 3: true}
	next := 19
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/service1":
			orders[next] = true
			msg := fmt.Sprintf("Order number %d created successfully.", next)
			if broken == "create" {
				msg = fmt.Sprintf("Order %d created.", next)
			}
			next++
			fmt.Fprint(w, msg)
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/service1/"):
			id, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/service1/"))
			if broken != "delete" {
				delete(orders, id)
			}
			fmt.Fprintf(w, "Order number %d deleted successfully.", id)
		case r.Method == http.MethodGet && r.URL.Path == "/service2":
			var ids []int
			for id := range orders {
				ids = append(ids, id)
			}
			sort.Ints(ids)
			var parts []string
			for _, id := range ids {
				parts = append(parts, fmt.Sprintf(`{"_id":%d}`, id))
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "["+strings.Join(parts, ",")+"]")
		default:
			http.NotFound(w, r)
		}
	})
}

// TestHelmTestContractScript runs the helm test's script (charts/orders/files/contract.mjs)
// with Node against a fake gateway: it passes on the contract and fails when an answer is off.
func TestHelmTestContractScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "charts/orders/files/contract.mjs")
	for _, tc := range []struct {
		broken string
		pass   bool
	}{{"", true}, {"create", false}, {"delete", false}} {
		t.Run("broken="+tc.broken, func(t *testing.T) {
			srv := httptest.NewServer(fakeGateway(tc.broken))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, script)
			cmd.Env = []string{"GATEWAY_URL=" + srv.URL}
			out, err := cmd.CombinedOutput()
			if tc.pass && err != nil {
				t.Fatalf("contract failed against a correct gateway: %v\n%s", err, out)
			}
			if !tc.pass && err == nil {
				t.Fatalf("contract passed against a gateway broken at %s:\n%s", tc.broken, out)
			}
			t.Logf("%s", out)
		})
	}
}
