package alertrules

import (
	"reflect"
	"strings"
	"testing"
)

func TestScrapedSeries(t *testing.T) {
	body := `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{route="/orders",method="POST",status="200",service="service1"} 3
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",service="service1",exported_service="x"} 1
http_request_duration_seconds_bucket{le="+Inf",service="service1",exported_service="x"} 1
http_request_duration_seconds_sum{service="service1",exported_service="x"} 0.05
http_request_duration_seconds_count{service="service1",exported_service="x"} 1
`
	target := map[string]string{"namespace": "orders", "service": "orders-service1", "job": "orders-service1"}
	got, err := ScrapedSeries(strings.NewReader(body), target)
	if err != nil {
		t.Fatal(err)
	}
	byString := map[string]bool{}
	for _, s := range got {
		byString[s.String()] = true
	}
	for _, want := range []string{
		// The target's service label wins; the exposed one is kept as exported_service.
		`http_requests_total{exported_service="service1",job="orders-service1",method="POST",namespace="orders",route="/orders",service="orders-service1",status="200"}`,
		// exported_service is taken: the clash goes one prefix further.
		`http_request_duration_seconds_bucket{exported_exported_service="service1",exported_service="x",job="orders-service1",le="+Inf",namespace="orders",service="orders-service1"}`,
		`http_request_duration_seconds_count{exported_exported_service="service1",exported_service="x",job="orders-service1",namespace="orders",service="orders-service1"}`,
		// Prometheus' own series of the target carry its labels only.
		`up{job="orders-service1",namespace="orders",service="orders-service1"}`,
		`scrape_series_added{job="orders-service1",namespace="orders",service="orders-service1"}`,
	} {
		if !byString[want] {
			t.Errorf("missing %s in %v", want, byString)
		}
	}
	if len(got) != 5+5 {
		t.Errorf("%d series, want 5 samples and 5 of Prometheus' own", len(got))
	}
	if _, err := ScrapedSeries(strings.NewReader("http_requests_total{route=\"/orders\" 3\n"), target); err == nil {
		t.Error("a malformed exposition must be an error")
	}
}

// The targets of the orders chart's ServiceMonitors, as the operator labels them.
func TestServiceMonitorTargets(t *testing.T) {
	objs := renderRelease(t, "orders", "prod", nil).Objects
	got, err := ServiceMonitorTargets(objs, "orders")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{}
	for _, svc := range []string{"service1", "service2"} {
		port := map[string]string{"service1": "3000", "service2": "3001"}[svc]
		want[svc] = map[string]string{"namespace": "orders", "service": "orders-" + svc, "job": "orders-" + svc, "endpoint": "http",
			"container": svc, "pod": "orders-" + svc + "-5d8f7c9b6-x2x7q", "instance": "10.0.0.10:" + port}
	}
	gotBy := map[string]map[string]string{}
	for _, tg := range got {
		gotBy[tg.Container] = tg.Labels
	}
	if !reflect.DeepEqual(gotBy, want) {
		t.Errorf("targets %v, want %v", gotBy, want)
	}

	// Without the ServiceMonitors nothing is scraped.
	off := renderRelease(t, "orders", "prod", map[string]any{"monitoring": map[string]any{"serviceMonitor": map[string]any{"enabled": false}}}).Objects
	if got, err := ServiceMonitorTargets(off, "orders"); err != nil || len(got) != 0 {
		t.Errorf("without ServiceMonitors: %v, %v; want no target", got, err)
	}
}
