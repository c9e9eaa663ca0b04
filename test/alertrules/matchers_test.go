package alertrules

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/test/localrun"
	"github.com/orders-platform/orders/test/toolcache"
)

// awsEnvironments are the environments that run Prometheus: those of ruleFiles.
var awsEnvironments = []string{"dev", "prod"}

type query struct{ where, env, expr string }

// platformQueries are the alert expressions of the releases that have alerts
// (ruleFiles), rendered for each AWS environment, and every dashboard query (for every
// environment: the monitoring release ships the dashboards to each).
func platformQueries(t *testing.T) []query {
	t.Helper()
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var out []query
	for _, f := range ruleFiles {
		rules, err := AlertingRules(renderRelease(t, f.release, f.env, nil).Objects)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			out = append(out, query{fmt.Sprintf("%s/%s alert %s", f.env, f.release, r.Alert), f.env, r.Expr})
		}
	}
	files, err := filepath.Glob(filepath.Join(root, "charts", "monitoring", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in charts/monitoring/dashboards: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := DashboardQueries(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, env := range awsEnvironments {
			for _, q := range qs {
				out = append(out, query{fmt.Sprintf("%s: dashboard %s panel %q", env, filepath.Base(f), q.Panel), env, q.Expr})
			}
		}
	}
	return out
}

// request is one request to the local gateway and the status it must get.
type request struct {
	method, path string
	body         string
	status       int
}

// serviceExpositions runs the services, sends them a request of every kind the
// dashboards and alerts watch (successes, refusals, and 5xx with the database gone),
// and returns each service's /metrics afterwards.
func serviceExpositions(t *testing.T) map[string][]byte {
	t.Helper()
	// A short database timeout: the 503s below come after it.
	stack := localrun.Start(t, "DB_TIMEOUT_MS=300")
	client := &http.Client{Timeout: 30 * time.Second}
	do := func(r request) {
		t.Helper()
		req, err := http.NewRequest(r.method, stack.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != r.status {
			t.Fatalf("%s %s: %d %q, want %d", r.method, r.path, res.StatusCode, b, r.status)
		}
	}
	for _, r := range []request{
		{"POST", "/service1", "{}", 200},
		{"DELETE", "/service1/1", "", 200},
		{"GET", "/service2", "", 200},
		{"DELETE", "/service1/abc", "", 400},
		{"POST", "/service1", strings.Repeat("x", 5000), 413},
		{"PUT", "/service1", "", 405},
		{"GET", "/service1/a/b", "", 404},
	} {
		do(r)
	}
	if err := stack.StopDatabase(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []request{{"POST", "/service1", "{}", 503}, {"DELETE", "/service1/2", "", 503}, {"GET", "/service2", "", 503}} {
		do(r)
	}
	out := map[string][]byte{}
	for name, base := range stack.Backends {
		// A readiness probe notices the database is gone (db_up 0), as the kubelet's does.
		for _, path := range []string{"/readyz", "/metrics"} {
			res, err := client.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			out[name] = b
		}
	}
	return out
}

// promtoolFails evaluates group(<selector>) for each selector over the series with
// promtool and returns the selectors that match no series (with promtool's reason).
func promtoolFails(t *testing.T, bin string, series []Series, selectors []string) map[string]string {
	t.Helper()
	type sample struct {
		Labels string  `json:"labels"`
		Value  float64 `json:"value"`
	}
	type exprTest struct {
		Expr       string   `json:"expr"`
		EvalTime   string   `json:"eval_time"`
		ExpSamples []sample `json:"exp_samples"`
	}
	type inputSeries struct {
		Series string `json:"series"`
		Values string `json:"values"`
	}
	var in []inputSeries
	for _, s := range series {
		in = append(in, inputSeries{s.String(), "1"})
	}
	var tests []exprTest
	for _, s := range selectors {
		tests = append(tests, exprTest{"group(" + s + ")", "0m", []sample{{"{}", 1}}})
	}
	file := map[string]any{"tests": []any{map[string]any{"interval": "1m", "input_series": in, "promql_expr_test": tests}}}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "matchers.test.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, bin, "test", "rules", path)
	failed := map[string]string{}
	for _, m := range promtoolExpr.FindAllStringSubmatch(out, -1) {
		expr, uerr := strconv.Unquote(m[1])
		if uerr != nil {
			t.Fatalf("promtool output %q: %v", m[0], uerr)
		}
		failed[strings.TrimSuffix(strings.TrimPrefix(expr, "group("), ")")] = strings.TrimSpace(m[2])
	}
	if (err != nil) != (len(failed) > 0) {
		t.Fatalf("promtool test rules: %v, but %d expressions reported failing:\n%s", err, len(failed), out)
	}
	return failed
}

// promtoolExpr is a failing expression in `promtool test rules` output (cmd/promtool/unittest.go).
var promtoolExpr = regexp.MustCompile(`expr: ("(?:[^"\\]|\\.)*"), time: [^,\n]*,?\s*((?:err: .*)|(?:exp: .*\n\s*got: .*))`)

// TestEveryMatcherMatchesWhatTheServicesEmit: every selector of every alert and
// dashboard query on the services' metrics matches a series that Prometheus would
// store from the real services after requests of each kind: the services run here
// against devdb, are scraped, and their series get the labels the ServiceMonitors of
// each environment's orders release give them. promtool (Prometheus' engine) does the
// matching. Selectors of third-party metrics are left to the reviewed list.
func TestEveryMatcherMatchesWhatTheServicesEmit(t *testing.T) {
	bin := promtool(t)
	helper := toolcache.Path(t, "promtool", PrometheusVersion, "promql-metrics")
	queries := platformQueries(t)

	// Selectors are read here; Prometheus' parser must find the same metric names.
	exprs := make([]string, len(queries))
	for i, q := range queries {
		exprs[i] = q.expr
	}
	parsed, err := MetricNames(helper, exprs)
	if err != nil {
		t.Fatal(err)
	}
	selectors := make([][]Selector, len(queries))
	for i, q := range queries {
		if selectors[i], err = Selectors(q.expr); err != nil {
			t.Fatalf("%s: %v: %s", q.where, err, q.expr)
		}
		var names []string
		for _, s := range selectors[i] {
			names = append(names, s.Metric)
		}
		slices.Sort(names)
		if names = slices.Compact(names); !slices.Equal(names, parsed[i].Metrics) || parsed[i].Error != "" {
			t.Fatalf("%s: selectors name %v, Prometheus' parser %v (%s): %s", q.where, names, parsed[i].Metrics, parsed[i].Error, q.expr)
		}
	}

	expositions := serviceExpositions(t)
	checked, skipped := 0, map[string]bool{}
	for _, env := range awsEnvironments {
		targets, err := ServiceMonitorTargets(renderRelease(t, "orders", env, nil).Objects, "orders")
		if err != nil {
			t.Fatal(err)
		}
		if len(targets) == 0 {
			t.Fatalf("%s: the orders release renders no ServiceMonitor target", env)
		}
		var series []Series
		for _, tg := range targets {
			body, ok := expositions[tg.Container]
			if !ok {
				t.Fatalf("%s: ServiceMonitor %s scrapes container %s, which the local stack does not run", env, tg.ServiceMonitor, tg.Container)
			}
			s, err := ScrapedSeries(strings.NewReader(string(body)), tg.Labels)
			if err != nil {
				t.Fatalf("%s /metrics: %v", tg.Container, err)
			}
			series = append(series, s...)
		}
		known := map[string]bool{}
		for _, s := range series {
			known[s["__name__"]] = true
		}

		// Which query uses each selector, and each selector's matchers on their own
		// (to name the one at fault).
		usedBy := map[string][]string{}
		var toCheck []string
		add := func(expr, where string) {
			if usedBy[expr] == nil {
				toCheck = append(toCheck, expr)
			}
			usedBy[expr] = append(usedBy[expr], where)
		}
		sels := map[string]Selector{}
		for i, q := range queries {
			if q.env != env {
				continue
			}
			for _, s := range selectors[i] {
				if !known[s.Metric] {
					skipped[s.Metric] = true
					continue
				}
				add(s.Text, q.where)
				sels[s.Text] = s
				for _, m := range s.Matchers {
					add(s.WithOnly(m), "")
				}
			}
		}
		// The check bites: selectors that are wrong in the ways that happen.
		canaries := map[string]string{
			`http_requests_total{method="POST",status="201"}`: "POST answers 200",
			`up{service="service1"}`:                          "the target's service label is the Kubernetes Service's name",
			`db_up{namespace="default"}`:                      "the release's namespace",
		}
		for c := range canaries {
			add(c, "canary")
		}
		add(`http_requests_total{service="orders-service1",exported_service="service1",method="POST",status="503"}`, "canary that matches")

		failed := promtoolFails(t, bin, series, toCheck)
		for c, why := range canaries {
			if _, ok := failed[c]; !ok {
				t.Errorf("%s: canary %s matched a series though it must not (%s): the check does not bite", env, c, why)
			}
		}
		for _, expr := range toCheck {
			s, isSelector := sels[expr]
			reason, bad := failed[expr]
			if !isSelector || !bad {
				continue
			}
			var culprits []string
			for _, m := range s.Matchers {
				if _, alone := failed[s.WithOnly(m)]; alone {
					culprits = append(culprits, fmt.Sprintf("%s (the services' %s series have %s)", m.Text, s.Metric, labelValues(series, s.Metric, m.Name)))
				}
			}
			if len(culprits) == 0 {
				culprits = append(culprits, "each matcher matches on its own, no series has them all")
			}
			t.Errorf("%s: %s matches no series the services emit: %s\n    used by: %s\n    promtool: %s",
				env, expr, strings.Join(culprits, "; "), strings.Join(usedBy[expr], "; "), reason)
		}
		checked += len(sels)
		t.Logf("%s: %d series from %d targets; %d selectors checked", env, len(series), len(targets), len(sels))
	}
	if checked == 0 {
		t.Fatal("no selector on the services' metrics was checked")
	}
	t.Logf("left to the reviewed third-party list: %s", strings.Join(slices.Sorted(maps.Keys(skipped)), ", "))
}

// labelValues lists the values the label takes on the metric's series, for the
// message of a matcher that matches none.
func labelValues(series []Series, metric, label string) string {
	seen := map[string]bool{}
	for _, s := range series {
		if s["__name__"] == metric {
			seen[strconv.Quote(s[label])] = true
		}
	}
	if len(seen) == 0 {
		return "no series"
	}
	return label + " in " + strings.Join(slices.Sorted(maps.Keys(seen)), ", ")
}
