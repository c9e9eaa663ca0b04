package alertrules

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orders-platform/orders/test/toolcache"
)

func TestCheckRule(t *testing.T) {
	const docs = "https://example.org/docs/operations.md"
	anchors := map[string]bool{"mongodbdown": true, "nodenotready": true}
	good := Rule{Alert: "MongoDBDown", Labels: map[string]string{"severity": "critical"}, Annotations: map[string]string{
		"summary": "s", "description": "d", "runbook_url": docs + "#mongodbdown"}}
	with := func(f func(r *Rule)) Rule {
		r := good
		r.Labels = map[string]string{"severity": "critical"}
		r.Annotations = map[string]string{}
		for k, v := range good.Annotations {
			r.Annotations[k] = v
		}
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		rule Rule
		want []string // substrings of the problems, in order
	}{
		{"complete", good, nil},
		{"no severity", with(func(r *Rule) { delete(r.Labels, "severity") }), []string{`labels.severity ""`}},
		{"unknown severity", with(func(r *Rule) { r.Labels["severity"] = "page" }), []string{`labels.severity "page"`}},
		{"no summary", with(func(r *Rule) { r.Annotations["summary"] = " " }), []string{"annotations.summary is missing"}},
		{"no runbook", with(func(r *Rule) { delete(r.Annotations, "runbook_url") }), []string{"annotations.runbook_url is missing"}},
		{"other page", with(func(r *Rule) { r.Annotations["runbook_url"] = "https://example.org/other.md#mongodbdown" }), []string{"does not point at " + docs}},
		{"missing heading", with(func(r *Rule) { r.Annotations["runbook_url"] = docs + "#mongodbup" }), []string{"anchor #mongodbup is no heading"}},
		{"no anchor", with(func(r *Rule) { r.Annotations["runbook_url"] = docs }), []string{"anchor # is no heading"}},
		{"another alert's heading", with(func(r *Rule) { r.Annotations["runbook_url"] = docs + "#nodenotready" }), []string{"not the alert's own heading #mongodbdown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckRule(tc.rule, docs, anchors)
			if len(got) != len(tc.want) {
				t.Fatalf("CheckRule = %q, want %d problems like %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestAlertingRules(t *testing.T) {
	pr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": map[string]any{"name": "r"},
		"spec": map[string]any{"groups": []any{map[string]any{"name": "g", "rules": []any{
			map[string]any{"record": "job:up:sum", "expr": "sum by (job) (up)"},
			map[string]any{"alert": "Down", "expr": "up == 0\n", "for": "5m", "labels": map[string]any{"severity": "critical"},
				"annotations": map[string]any{"summary": "s"}},
		}}}},
	}}
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}}}
	rules, err := AlertingRules([]*unstructured.Unstructured{other, pr})
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{{Object: "r", Group: "g", Alert: "Down", Expr: "up == 0", For: "5m",
		Labels: map[string]string{"severity": "critical"}, Annotations: map[string]string{"summary": "s"}}}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("AlertingRules = %+v, want %+v", rules, want)
	}
	b, err := RuleFile(pr)
	if err != nil || !strings.Contains(string(b), `"groups"`) || !strings.Contains(string(b), `"alert": "Down"`) {
		t.Errorf("RuleFile = %s, %v", b, err)
	}

	pr.Object["spec"].(map[string]any)["groups"].([]any)[0].(map[string]any)["rules"].([]any)[1].(map[string]any)["expr"] = int64(1)
	if _, err := AlertingRules([]*unstructured.Unstructured{pr}); err == nil || !strings.Contains(err.Error(), "Down") {
		t.Errorf("a non-string expr must be an error naming the alert, got %v", err)
	}
}

func TestExpositionNames(t *testing.T) {
	body := `# HELP http_requests_total HTTP requests.
# TYPE http_requests_total counter
http_requests_total{route="/orders",method="POST",status="201",service="service1"} 3
# HELP http_request_duration_seconds Duration.
# TYPE http_request_duration_seconds histogram
# HELP db_errors_total Errors.
# TYPE db_errors_total counter
# TYPE rpc summary
process_cpu_seconds_total 1.5
`
	got, err := ExpositionNames(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_sum",
		"http_request_duration_seconds_count", "db_errors_total", "rpc_sum", "rpc_count", "process_cpu_seconds_total"} {
		if !got[n] {
			t.Errorf("%s missing from %v", n, got)
		}
	}
	if got["rpc_bucket"] {
		t.Error("a summary has no _bucket series")
	}
	if _, err := ExpositionNames(strings.NewReader("# nothing here\n")); err == nil {
		t.Error("an exposition without metrics must be an error")
	}
}

// TestMetricNames runs the promql-metrics helper: Prometheus' parser names the metrics
// of each expression, refuses bad PromQL and selectors without a metric name.
func TestMetricNames(t *testing.T) {
	helper := toolcache.Path(t, "promtool", PrometheusVersion, "promql-metrics")
	got, err := MetricNames(helper, []string{
		`sum by (service) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (service) (rate(http_requests_total[5m])) > 0.05`,
		`absent(mongodb_up{namespace="mongodb"}) and on () count({__name__="kube_node_status_condition"}) > 0`,
		`sum by (x (up)`,
		`{job="apiserver"}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"http_requests_total"}, {"kube_node_status_condition", "mongodb_up"}}
	for i, w := range want {
		if got[i].Error != "" || !reflect.DeepEqual(got[i].Metrics, w) {
			t.Errorf("expression %d: %+v, want metrics %v", i, got[i], w)
		}
	}
	if !strings.Contains(got[2].Error, "parse error") {
		t.Errorf("bad PromQL: %+v, want a parse error", got[2])
	}
	if !strings.Contains(got[3].Error, "names no metric") {
		t.Errorf("selector without a name: %+v, want it refused", got[3])
	}
	if u := Unknown([]string{"up", "http_request_total", "db_up"}, map[string]bool{"up": true}, map[string]bool{"db_up": true}); !reflect.DeepEqual(u, []string{"http_request_total"}) {
		t.Errorf("Unknown = %v", u)
	}
}

// The reviewed list names a source for every metric.
func TestThirdPartyMetricsHaveSources(t *testing.T) {
	for _, n := range SortedThirdPartyNames() {
		if strings.TrimSpace(ThirdPartyMetrics[n]) == "" {
			t.Errorf("%s has no source", n)
		}
	}
}
