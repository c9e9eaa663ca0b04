package localstack

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRoutesFromTheChartAreTheContract(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	routes, err := RoutesFromChart(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	sortRoutes := func(a, b RouteSpec) int {
		if a.PathPrefix < b.PathPrefix {
			return -1
		}
		if a.PathPrefix > b.PathPrefix {
			return 1
		}
		return 0
	}
	slices.SortFunc(routes, sortRoutes)
	want := slices.Clone(ContractRoutes)
	slices.SortFunc(want, sortRoutes)
	if !slices.Equal(routes, want) {
		t.Fatalf("routes from the chart %+v, want the contract's %+v", routes, want)
	}
}

func TestRouteRulesTheLocalGatewayCannotServeAreErrors(t *testing.T) {
	services := map[string]string{"orders-service1": "service1"}
	rule := func(match, filter, backend map[string]any) map[string]any {
		r := map[string]any{"matches": []any{match}, "backendRefs": []any{backend}}
		if filter != nil {
			r["filters"] = []any{filter}
		}
		return r
	}
	prefix := map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/service1"}}
	rewrite := map[string]any{"type": "URLRewrite", "urlRewrite": map[string]any{"path": map[string]any{"type": "ReplacePrefixMatch", "replacePrefixMatch": "/orders"}}}
	svc := map[string]any{"kind": "Service", "name": "orders-service1", "port": int64(80)}

	tests := []struct {
		name string
		rule map[string]any
		want string // "" when the rule is served
	}{
		{"prefix and rewrite", rule(prefix, rewrite, svc), ""},
		{"prefix without rewrite", rule(prefix, nil, svc), ""},
		{"exact match", rule(map[string]any{"path": map[string]any{"type": "Exact", "value": "/x"}}, nil, svc), "PathPrefix match only"},
		{"header match", rule(map[string]any{"path": prefix["path"], "headers": []any{}}, nil, svc), "PathPrefix match only"},
		{"full path rewrite", rule(prefix, map[string]any{"type": "URLRewrite", "urlRewrite": map[string]any{"path": map[string]any{"type": "ReplaceFullPath"}}}, svc), "ReplacePrefixMatch only"},
		{"redirect", rule(prefix, map[string]any{"type": "RequestRedirect"}, svc), "ReplacePrefixMatch only"},
		{"unknown service", rule(prefix, rewrite, map[string]any{"kind": "Service", "name": "other"}), `backend Service "other"`},
		{"not a service", rule(prefix, rewrite, map[string]any{"kind": "Backend", "name": "orders-service1"}), "only Services"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"rules": []any{tc.rule}}}}
			routes, err := httpRouteRules(obj, services)
			if tc.want == "" {
				if err != nil || len(routes) != 1 || routes[0].Service != "service1" {
					t.Fatalf("routes %+v, error %v; want one route to service1", routes, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
