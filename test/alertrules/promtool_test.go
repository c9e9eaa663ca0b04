package alertrules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/test/toolcache"
)

// promtool returns the cached promtool of PrometheusVersion (test/tools/install-promtool.sh).
func promtool(t *testing.T) string {
	t.Helper()
	return toolcache.Path(t, "promtool", PrometheusVersion, "promtool")
}

// ruleFiles are the rule files the promtool tests load: <release>-<env>.rules.json.
var ruleFiles = []struct{ release, env string }{
	{"orders", "prod"}, {"orders", "dev"}, {"monitoring", "prod"}, {"monitoring", "dev"},
}

// renderRelease renders a release's chart with the environment's values (plus extra
// values, merged last).
func renderRelease(t *testing.T, release, env string, extra map[string]any) *charts.Rendered {
	t.Helper()
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var rel *charts.Release
	for i := range charts.Releases {
		if charts.Releases[i].Name == release {
			rel = &charts.Releases[i]
		}
	}
	if rel == nil {
		t.Fatalf("release %s is not in charts.Releases", release)
	}
	values, err := charts.ReadValues(charts.ValuesFile(root, env, release))
	if err != nil {
		t.Fatal(err)
	}
	r, err := charts.Render(filepath.Join(root, rel.Chart), rel.Name, rel.Namespace, charts.MergeValues(values, extra))
	if err != nil {
		t.Fatalf("render %s for %s: %v", rel.Chart, env, err)
	}
	return r
}

// renderRuleFile renders a release for an environment (renderRelease) and writes its
// PrometheusRule as a Prometheus rule file in dir.
func renderRuleFile(t *testing.T, dir, release, env string, extra map[string]any) string {
	t.Helper()
	prs := PrometheusRules(renderRelease(t, release, env, extra).Objects)
	if len(prs) != 1 {
		t.Fatalf("%s/%s: %d PrometheusRules, want 1", env, release, len(prs))
	}
	b, err := RuleFile(prs[0])
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, release+"-"+env+".rules.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// TestRulesPassPromtoolCheck: every rendered rule file is valid for the Prometheus the
// cluster runs (PromQL parses, durations, templates), and a broken one is refused.
func TestRulesPassPromtoolCheck(t *testing.T) {
	bin := promtool(t)
	dir := t.TempDir()
	var files []string
	for _, f := range ruleFiles {
		files = append(files, renderRuleFile(t, dir, f.release, f.env, nil))
	}
	out, err := run(t, bin, append([]string{"check", "rules"}, files...)...)
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	t.Logf("promtool check rules:\n%s", out)

	bad := filepath.Join(dir, "broken.rules.json")
	if err := os.WriteFile(bad, []byte(`{"groups":[{"name":"g","rules":[{"alert":"A","expr":"sum by (x (up)"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, bin, "check", "rules", bad); err == nil || !strings.Contains(out, "parse error") {
		t.Errorf("promtool must refuse an unparsable expression, got err=%v:\n%s", err, out)
	}
}

// TestRulesUnit evaluates the rendered rules with `promtool test rules`: series in,
// alerts (labels and annotations, exactly) out, for each alert firing when it should
// and silent on a healthy system (testdata/*.test.yaml).
func TestRulesUnit(t *testing.T) {
	bin := promtool(t)
	tests, err := filepath.Glob(filepath.Join("testdata", "*.test.yaml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no testdata/*.test.yaml: %v", err)
	}
	for _, tc := range []struct {
		name    string
		extra   map[string]map[string]any // release → extra values
		file    string
		wantErr string
	}{
		{name: "orders prod", file: "orders-prod.test.yaml"},
		{name: "orders dev", file: "orders-dev.test.yaml"},
		{name: "monitoring prod", file: "monitoring-prod.test.yaml"},
		{name: "monitoring dev", file: "monitoring-dev.test.yaml"},
		// The tests bite: with a threshold nobody reaches, the prod error-rate case fails.
		{name: "orders prod with a raised threshold fails", file: "orders-prod.test.yaml",
			extra: map[string]map[string]any{"orders": {"monitoring": map[string]any{"prometheusRule": map[string]any{
				"highErrorRate": map[string]any{"ratio": 0.5}}}}},
			wantErr: "alertname: OrdersHighErrorRate"},
		// A rule whose annotations change is caught (annotations are compared exactly).
		{name: "monitoring prod with another runbook base fails", file: "monitoring-prod.test.yaml",
			extra:   map[string]map[string]any{"monitoring": {"runbooks": map[string]any{"baseURL": "https://example.org/ops.md"}}},
			wantErr: "https://example.org/ops.md#podcrashlooping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range ruleFiles {
				renderRuleFile(t, dir, f.release, f.env, tc.extra[f.release])
			}
			src, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			test := filepath.Join(dir, tc.file)
			if err := os.WriteFile(test, src, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, bin, "test", "rules", test)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("promtool test rules %s: %v\n%s", tc.file, err, out)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("promtool test rules %s passed, want a failure naming %q:\n%s", tc.file, tc.wantErr, out)
			case tc.wantErr != "" && !strings.Contains(out, tc.wantErr):
				t.Fatalf("promtool test rules %s failed without naming %q:\n%s", tc.file, tc.wantErr, out)
			}
			if tc.wantErr == "" {
				t.Logf("%s", strings.TrimSpace(out))
			}
		})
	}
	// Every test file is exercised above.
	for _, f := range tests {
		found := false
		for _, name := range []string{"orders-prod.test.yaml", "orders-dev.test.yaml", "monitoring-prod.test.yaml", "monitoring-dev.test.yaml"} {
			found = found || filepath.Base(f) == name
		}
		if !found {
			t.Errorf("%s is not run by TestRulesUnit", f)
		}
	}
}
