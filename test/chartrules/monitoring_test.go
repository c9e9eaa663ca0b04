package chartrules

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/orders-platform/orders/test/alertrules"
	"github.com/orders-platform/orders/test/docrules"
	"github.com/orders-platform/orders/test/localrun"
	"github.com/orders-platform/orders/test/toolcache"
)

// docsURL is where every alert's runbook_url must point (the charts' default runbook base).
const docsURL = "https://github.com/orders-platform/orders/blob/main/docs/operations.md"

// wantAlerts are alerts each AWS environment must have (a chart or values change that
// drops one fails here rather than silently).
var wantAlerts = map[string][]string{
	"dev": {"OrdersServiceDown", "OrdersHighErrorRate", "OrdersHighLatency", "OrdersDatabaseUnreachable",
		"PodCrashLooping", "ContainerRestartingOften", "DeploymentReplicasNotReady", "StatefulSetReplicasNotReady",
		"NodeNotReady", "NodeUnderPressure", "PersistentVolumeAlmostFull", "PersistentVolumeFillingUp",
		"MongoDBDown", "MongoDBMetricsAbsent", "EnvoyProxyDown", "EnvoyHighDownstream5xxRatio", "EnvoyUpstreamErrors",
		"EnvoyNoHealthyUpstream", "KubeClientCertificateExpiring", "MongoDBBackupTooOld"},
}

func init() {
	wantAlerts["prod"] = append(append([]string{}, wantAlerts["dev"]...), "MongoDBReplicaSetMemberUnhealthy", "MongoDBReplicaSetNoPrimary")
}

type envRule struct {
	env, release string
	alertrules.Rule
}

// renderedRules renders every release for every environment and returns its alerting rules.
func renderedRules(t *testing.T) []envRule {
	t.Helper()
	_, cs := cases(t)
	for _, want := range []string{"dev/monitoring", "prod/monitoring"} {
		found := false
		for _, c := range cs {
			found = found || c.env+"/"+c.release.Name == want
		}
		if !found {
			t.Errorf("no render case %s: environments/%s.yaml is missing", want, strings.Replace(want, "/", "/values/", 1))
		}
	}
	var out []envRule
	for _, c := range cs {
		r := render(t, c)
		rules, err := alertrules.AlertingRules(r.All())
		if err != nil {
			t.Fatalf("%s/%s: %v", c.env, c.release.Name, err)
		}
		for _, rule := range rules {
			out = append(out, envRule{env: c.env, release: c.release.Name, Rule: rule})
		}
	}
	return out
}

func readDocs(t *testing.T) []byte {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runbookHeadings are the "### " headings of the "## Runbooks" section.
func runbookHeadings(md []byte) []string {
	var out []string
	in := false
	for _, line := range strings.Split(string(md), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			in = strings.TrimSpace(line) == "## Runbooks"
		case in && strings.HasPrefix(line, "### "):
			out = append(out, strings.TrimSpace(strings.TrimPrefix(line, "### ")))
		}
	}
	return out
}

// TestAlertRunbooks: every alert of every rendered PrometheusRule (all charts, all
// environments) has a known severity, summary, description and a runbook_url whose
// anchor is its own heading in docs/operations.md; every runbook there belongs to an alert.
func TestAlertRunbooks(t *testing.T) {
	rules := renderedRules(t)
	docs := readDocs(t)
	anchors := docrules.Anchors(docs)
	names := map[string]bool{}
	perEnv := map[string]map[string]int{}
	for _, r := range rules {
		names[r.Alert] = true
		if perEnv[r.env] == nil {
			perEnv[r.env] = map[string]int{}
		}
		perEnv[r.env][r.Alert]++
		for _, p := range alertrules.CheckRule(r.Rule, docsURL, anchors) {
			t.Errorf("%s/%s: PrometheusRule %s, alert %s: %s", r.env, r.release, r.Object, r.Alert, p)
		}
		if r.Labels["environment"] != r.env {
			t.Errorf("%s/%s: alert %s: labels.environment %q, want %q (Alertmanager routes by it)", r.env, r.release, r.Alert, r.Labels["environment"], r.env)
		}
	}
	for env, want := range wantAlerts {
		for _, a := range want {
			if perEnv[env][a] == 0 {
				t.Errorf("%s: alert %s is not rendered", env, a)
			}
		}
	}
	for env, counts := range perEnv {
		for a, n := range counts {
			if n > 1 {
				t.Errorf("%s: alert %s is defined %d times (one name, one runbook)", env, a, n)
			}
		}
	}
	for _, h := range runbookHeadings(docs) {
		if !names[h] {
			t.Errorf("docs/operations.md: runbook %q belongs to no rendered alert", h)
		}
	}
	var summary []string
	for env, counts := range perEnv {
		summary = append(summary, fmt.Sprintf("%s=%d", env, len(counts)))
	}
	sort.Strings(summary)
	t.Logf("alerts per environment: %s; %d runbooks", strings.Join(summary, " "), len(runbookHeadings(docs)))
}

// TestRunbookCheckFails proves the runbook check catches a broken alert: one without
// a runbook and one pointing at a heading that does not exist.
func TestRunbookCheckFails(t *testing.T) {
	anchors := docrules.Anchors(readDocs(t))
	for _, tc := range []struct {
		name string
		ann  map[string]string
		want string
	}{
		{"no runbook_url", map[string]string{"summary": "s", "description": "d"}, "annotations.runbook_url is missing"},
		{"unknown heading", map[string]string{"summary": "s", "description": "d", "runbook_url": docsURL + "#ordersservicegone"}, "no heading of docs/operations.md"},
	} {
		r := alertrules.Rule{Alert: "OrdersServiceGone", Labels: map[string]string{"severity": "critical"}, Annotations: tc.ann}
		got := strings.Join(alertrules.CheckRule(r, docsURL, anchors), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.name, got, tc.want)
		}
	}
}

// grafanaVars replaces the Grafana variables of the dashboard queries with values
// Prometheus accepts, so the queries can be parsed.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$__interval", "1m", "$namespace", "orders")

type dashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// dashboardExprs parses a dashboard and returns its panels' queries, Grafana variables
// substituted; a panel without a query is an error.
func dashboardExprs(b []byte) ([]string, error) {
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		return nil, fmt.Errorf("uid %q, title %q, %d panels: a dashboard needs all three", d.UID, d.Title, len(d.Panels))
	}
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			return nil, fmt.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				return nil, fmt.Errorf("panel %q has an empty query", p.Title)
			}
			out = append(out, grafanaVars.Replace(tg.Expr))
		}
	}
	return out, nil
}

func dashboardFiles(t *testing.T) map[string][]byte {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "charts", "monitoring", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no charts/monitoring/dashboards/*.json: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestDashboards: every dashboard parses, every panel has a query, and the monitoring
// release ships each one byte for byte in a ConfigMap the Grafana sidecar loads.
func TestDashboards(t *testing.T) {
	files := dashboardFiles(t)
	for name, b := range files {
		exprs, err := dashboardExprs(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %d queries", name, len(exprs))
	}
	for _, broken := range []string{`{"uid": "x", "title": "X", "panels": [{"title": "p", "targets": []}]}`, `{"uid": `} {
		if _, err := dashboardExprs([]byte(broken)); err == nil {
			t.Errorf("dashboard %s must be refused", broken)
		}
	}

	_, cs := cases(t)
	checked := 0
	for _, c := range cs {
		if c.release.Name != "monitoring" {
			continue
		}
		var cms int
		for _, o := range render(t, c).Objects {
			if o.GetKind() != "ConfigMap" || o.GetLabels()["grafana_dashboard"] != "1" {
				continue
			}
			cms++
			data, _ := o.Object["data"].(map[string]any)
			for name, b := range files {
				if got, _ := data[name].(string); got != string(b) {
					t.Errorf("%s: ConfigMap %s data[%s] differs from charts/monitoring/dashboards/%s (%d vs %d bytes)", c.env, o.GetName(), name, name, len(got), len(b))
				}
			}
			if len(data) != len(files) {
				t.Errorf("%s: ConfigMap %s has %d dashboards, the chart %d", c.env, o.GetName(), len(data), len(files))
			}
		}
		if cms != 1 {
			t.Errorf("%s: %d ConfigMaps labelled grafana_dashboard=1, want 1", c.env, cms)
		}
		checked++
	}
	if checked < 2 {
		t.Errorf("dashboards checked in %d environments, want dev and prod", checked)
	}
}

// serviceMetrics starts the real services (local stack), sends a request of each kind
// and returns the metric names their /metrics expose.
func serviceMetrics(t *testing.T) map[string]bool {
	t.Helper()
	stack := localrun.Start(t)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, req := range []struct{ method, path string }{{"POST", "/service1"}, {"GET", "/service2"}, {"DELETE", "/service1/999999"}} {
		r, err := http.NewRequest(req.method, stack.URL+req.path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	names := map[string]bool{}
	for svc, base := range stack.Backends {
		resp, err := client.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		got, err := alertrules.ExpositionNames(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s /metrics: %d, %v", svc, resp.StatusCode, err)
		}
		for n := range got {
			names[n] = true
		}
	}
	for _, n := range []string{"http_requests_total", "http_request_duration_seconds_bucket", "db_up", "db_errors_total"} {
		if !names[n] {
			t.Fatalf("the services do not export %s (exported: %d names)", n, len(names))
		}
	}
	return names
}

// TestAlertAndDashboardMetricsExist: every PromQL expression of every rendered alert and
// every dashboard query parses (Prometheus' own parser), and every metric it names is
// exported by the running services or is on the reviewed third-party list
// (test/alertrules/metrics.go); every entry of that list is used.
func TestAlertAndDashboardMetricsExist(t *testing.T) {
	helper := toolcache.Path(t, "promtool", alertrules.PrometheusVersion, "promql-metrics")
	type query struct{ where, expr string }
	var qs []query
	for _, r := range renderedRules(t) {
		qs = append(qs, query{fmt.Sprintf("%s/%s alert %s", r.env, r.release, r.Alert), r.Expr})
	}
	for name, b := range dashboardFiles(t) {
		exprs, err := dashboardExprs(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, e := range exprs {
			qs = append(qs, query{fmt.Sprintf("dashboard %s query %d", name, i), e})
		}
	}
	exprs := make([]string, len(qs))
	for i, q := range qs {
		exprs[i] = q.expr
	}
	parsed, err := alertrules.MetricNames(helper, exprs)
	if err != nil {
		t.Fatal(err)
	}

	services := serviceMetrics(t)
	thirdParty := alertrules.ThirdPartyNames()
	for n := range thirdParty {
		if services[n] {
			t.Errorf("%s is exported by the services; remove it from the third-party list", n)
		}
	}
	used := map[string]bool{}
	for i, p := range parsed {
		if p.Error != "" {
			t.Errorf("%s: %s: %s", qs[i].where, p.Error, qs[i].expr)
			continue
		}
		for _, n := range p.Metrics {
			used[n] = true
		}
		if u := alertrules.Unknown(p.Metrics, services, thirdParty); len(u) > 0 {
			t.Errorf("%s: unknown metrics %v (neither exported by the services nor in test/alertrules/metrics.go): %s", qs[i].where, u, qs[i].expr)
		}
	}
	for _, n := range alertrules.SortedThirdPartyNames() {
		if !used[n] {
			t.Errorf("third-party metric %s is used by no alert or dashboard; remove it from the reviewed list", n)
		}
	}
	// The check bites: a misspelt service metric is unknown.
	if u := alertrules.Unknown([]string{"http_request_total", "db_up"}, services, thirdParty); len(u) != 1 || u[0] != "http_request_total" {
		t.Errorf("a misspelt metric must be reported, got %v", u)
	}
	t.Logf("%d queries, %d metric names (%d from the services' /metrics, %d reviewed third-party names)", len(qs), len(used), len(services), len(thirdParty))
}

// TestMonitoringSchemaRejectsBadValues: the monitoring chart's schema refuses mistakes
// naming the key, before anything renders.
func TestMonitoringSchemaRejectsBadValues(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "charts", "monitoring")
	base, err := ReadValues(ValuesFile(root, "prod", "monitoring"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(dir, "monitoring", "monitoring", base); err != nil {
		t.Fatalf("prod values must render: %v", err)
	}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"unknown severity", map[string]any{"rules": map[string]any{"nodes": map[string]any{"notReady": map[string]any{"severity": "page"}}}}, "severity"},
		{"bad duration", map[string]any{"rules": map[string]any{"mongodb": map[string]any{"down": map[string]any{"for": "two minutes"}}}}, "for"},
		{"ratio above 1", map[string]any{"rules": map[string]any{"edge": map[string]any{"errorRatio": map[string]any{"threshold": 5}}}}, "threshold"},
		{"runbook URL with a fragment", map[string]any{"runbooks": map[string]any{"baseURL": docsURL + "#top"}}, "baseURL"},
		{"unknown key", map[string]any{"rules": map[string]any{"workloads": map[string]any{"crashLoop": map[string]any{}}}}, "crashLoop"},
		{"severity as alert label", map[string]any{"alertLabels": map[string]any{"severity": "x"}}, "invalid propertyName 'severity'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(dir, "monitoring", "monitoring", MergeValues(base, tc.values))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("render must fail naming %q, got %v", tc.want, err)
			}
		})
	}
}

// TestOrdersAlertValuesRejected: the orders chart's schema refuses bad alert settings
// (monitoring.prometheusRule), naming the key.
func TestOrdersAlertValuesRejected(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "charts", "orders")
	base, err := ReadValues(ValuesFile(root, "prod", "orders"))
	if err != nil {
		t.Fatal(err)
	}
	base = MergeValues(base, deployTimeValues("prod", "orders"))
	if _, err := Render(dir, "orders", "orders", base); err != nil {
		t.Fatalf("prod values must render: %v", err)
	}
	rule := func(v map[string]any) map[string]any {
		return map[string]any{"monitoring": map[string]any{"prometheusRule": v}}
	}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"unknown severity", rule(map[string]any{"serviceDown": map[string]any{"severity": "page"}}), "severity"},
		{"error ratio above 1", rule(map[string]any{"highErrorRate": map[string]any{"ratio": 2}}), "ratio"},
		{"latency not positive", rule(map[string]any{"highLatency": map[string]any{"p99Seconds": 0}}), "p99Seconds"},
		{"runbook URL not http", rule(map[string]any{"runbookBaseURL": "docs/operations.md"}), "runbookBaseURL"},
		{"unknown threshold key", rule(map[string]any{"databaseDown": map[string]any{}}), "databaseDown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(dir, "orders", "orders", MergeValues(base, tc.values))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("render must fail naming %q, got %v", tc.want, err)
			}
		})
	}
}
