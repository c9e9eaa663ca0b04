package alertrules

import (
	"reflect"
	"testing"
)

func TestSelectors(t *testing.T) {
	type sel struct {
		metric   string
		text     string
		matchers []string // name op value
	}
	for _, tc := range []struct {
		expr string
		want []sel
	}{
		{`sum by (service) (rate(http_requests_total{namespace="orders", status=~"5.."}[5m])) / sum by (service) (rate(http_requests_total{namespace="orders"}[5m])) > 0.05`,
			[]sel{{"http_requests_total", `http_requests_total{namespace="orders", status=~"5.."}`, []string{"namespace = orders", "status =~ 5.."}},
				{"http_requests_total", `http_requests_total{namespace="orders"}`, []string{"namespace = orders"}}}},
		{`histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m]))) > 1.5e-1`,
			[]sel{{"http_request_duration_seconds_bucket", "http_request_duration_seconds_bucket", nil}}},
		{`absent(mongodb_up{namespace='mongodb'}) and on () count({__name__="kube_node_status_condition", status!="true"}) > 0`,
			[]sel{{"mongodb_up", `mongodb_up{namespace='mongodb'}`, []string{"namespace = mongodb"}},
				{"kube_node_status_condition", `{__name__="kube_node_status_condition", status!="true"}`, []string{"__name__ = kube_node_status_condition", "status != true"}}}},
		{"time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{cronjob=`a\"b`}) > 26 * 3600",
			[]sel{{"kube_cronjob_status_last_successful_time", "kube_cronjob_status_last_successful_time{cronjob=`a\"b`}", []string{`cronjob = a"b`}}}},
		{`a:b:rate5m offset 5m unless ON(job) group_left(x) up{job!~"x|y",} == bool 0 # up{commented="out"}`,
			[]sel{{"a:b:rate5m", "a:b:rate5m", nil}, {"up", `up{job!~"x|y",}`, []string{"job !~ x|y"}}}},
		{`SUM(x) BY (le) + Inf - max_over_time(y[1h:5m] @ end())`, []sel{{"x", "x", nil}, {"y", "y", nil}}},
	} {
		got, err := Selectors(tc.expr)
		if err != nil {
			t.Errorf("Selectors(%q): %v", tc.expr, err)
			continue
		}
		var gs []sel
		for _, s := range got {
			g := sel{metric: s.Metric, text: s.Text}
			for _, m := range s.Matchers {
				g.matchers = append(g.matchers, m.Name+" "+m.Op+" "+m.Value)
			}
			gs = append(gs, g)
		}
		if !reflect.DeepEqual(gs, tc.want) {
			t.Errorf("Selectors(%q)\n got %+v\nwant %+v", tc.expr, gs, tc.want)
		}
	}
	for _, bad := range []string{`up{job="x`, `up{job}`, `up{job=x}`, `up{job=~"a"`} {
		if s, err := Selectors(bad); err == nil {
			t.Errorf("Selectors(%q) = %+v, want an error", bad, s)
		}
	}
	s, _ := Selectors(`up{job="a", instance!~'b.*'}`)
	if got, want := s[0].WithOnly(s[0].Matchers[1]), `{__name__="up", instance!~'b.*'}`; got != want {
		t.Errorf("WithOnly = %s, want %s", got, want)
	}
}
