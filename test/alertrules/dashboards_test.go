package alertrules

import (
	"reflect"
	"strings"
	"testing"
)

func TestDashboardQueries(t *testing.T) {
	d := `{"panels": [
	  {"title": "A", "targets": [{"expr": "sum(rate(x{namespace=\"$namespace\",n=\"${name}\"}[$__rate_interval]))"}, {"expr": " "}]},
	  {"title": "B", "targets": [{"expr": "increase(y{a=~\"b$\"}[$__range])"}]}],
	 "templating": {"list": [{"name": "namespace", "current": {"value": "orders"}}, {"name": "name", "current": {"value": "n1"}}]}}`
	got, err := DashboardQueries([]byte(d))
	if err != nil {
		t.Fatal(err)
	}
	want := []PanelQuery{
		{"A", `sum(rate(x{namespace="orders",n="n1"}[5m]))`},
		{"B", `increase(y{a=~"b$"}[1h])`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DashboardQueries = %q, want %q", got, want)
	}
	_, err = DashboardQueries([]byte(`{"panels": [{"title": "C", "targets": [{"expr": "up{job=\"$job\"}"}]}]}`))
	if err == nil || !strings.Contains(err.Error(), `panel "C"`) {
		t.Errorf("an undefined variable must be an error naming the panel, got %v", err)
	}
}
