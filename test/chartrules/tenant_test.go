package chartrules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/deploy"
)

// The tenant chart (charts/tenant) is not a per-environment release: the deployer
// installs it per tenant (deployer apply --tenant). It is held to the same policies.
func TestTenantChart(t *testing.T) {
	root, envs := repoEnvironments(t)
	imgs := map[string]deploy.Image{
		"service1": {Digest: "sha256:" + strings.Repeat("a", 64)},
		"service2": {Digest: "sha256:" + strings.Repeat("b", 64)},
	}
	for _, env := range envs {
		t.Run(env, func(t *testing.T) {
			tp, err := deploy.BuildTenantPlan(root, deploy.Inputs{Env: env, Images: imgs}, "acme")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tp.Steps {
				for _, m := range Lint(s.ChartDir, s.Namespace, s.Values) {
					t.Errorf("helm lint %s: %s", s.Name, m)
				}
				r, err := Render(s.ChartDir, s.Name, s.Namespace, s.Values)
				if err != nil {
					t.Fatalf("render %s: %v", s.Name, err)
				}
				if !strings.Contains(r.Notes, "Next steps") {
					t.Errorf("%s: NOTES.txt does not tell what to do next:\n%s", s.Name, r.Notes)
				}
				// A tenant is one replica per service everywhere (not HA, even in prod),
				// and every pod is behind a NetworkPolicy.
				vs, err := CheckWorkloads(r.All(), Requirements{MinReplicas: 1, NetworkPolicy: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range vs {
					t.Errorf("%s: %s", s.Name, v)
				}
				kinds := map[string]int{}
				for _, o := range r.All() {
					kinds[o.GetKind()]++
					if o.GetKind() == "NetworkPolicy" || o.GetKind() == "ResourceQuota" || o.GetKind() == "LimitRange" {
						if got := o.GetLabels()["orders-platform/tenant"]; s.Name == tp.Tenant.Release() && got != "acme" {
							t.Errorf("%s/%s: label orders-platform/tenant=%q, want acme", o.GetKind(), o.GetName(), got)
						}
					}
				}
				if s.Name == tp.Tenant.Release() {
					for kind, n := range map[string]int{"ResourceQuota": 1, "LimitRange": 1, "NetworkPolicy": 3} {
						if kinds[kind] != n {
							t.Errorf("tenant chart: %d %s, want %d (%v)", kinds[kind], kind, n, kinds)
						}
					}
				}
			}
		})
	}
}

// Bad values are refused by the schema or the chart's own checks, naming the key.
func TestTenantChartRefusesBadValues(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "charts", "tenant")
	for _, tc := range []struct {
		name, namespace string
		values          map[string]any
		want            string
	}{
		{"no tenant", "tenant-acme", map[string]any{}, "tenant: the tenant's name is required"},
		{"bad name", "tenant-Acme", map[string]any{"tenant": "Acme"}, "tenant"},
		{"wrong namespace", "orders", map[string]any{"tenant": "acme"}, "must be installed in namespace tenant-acme, not orders"},
		{"unknown key", "tenant-acme", map[string]any{"tenant": "acme", "quotas": map[string]any{}}, "quotas"},
		{"zero pods", "tenant-acme", map[string]any{"tenant": "acme", "quota": map[string]any{"pods": 0}}, "pods"},
		{"bad quantity", "tenant-acme", map[string]any{"tenant": "acme", "limitRange": map[string]any{"max": map[string]any{"memory": "lots"}}}, "memory"},
		{"no gateway namespace", "tenant-acme", map[string]any{"tenant": "acme", "networkPolicy": map[string]any{"gateway": map[string]any{"namespace": ""}}}, "namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(dir, "tenant-acme", tc.namespace, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
