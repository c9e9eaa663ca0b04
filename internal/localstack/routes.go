package localstack

import (
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orders-platform/orders/internal/charts"
)

// RoutesFromChart renders the orders chart for the local environment, as the
// cluster gets it, and turns its HTTPRoutes into gateway routes: each rule's
// PathPrefix match and ReplacePrefixMatch rewrite, to the service whose
// Service the rule's backend names. Anything else in a route is an error, so
// the local gateway never silently differs from the cluster's.
func RoutesFromChart(root string) ([]RouteSpec, error) {
	values, err := charts.ReadValues(charts.ValuesFile(root, "local", "orders"))
	if err != nil {
		return nil, fmt.Errorf("localstack: local values of the orders chart: %w", err)
	}
	rendered, err := charts.Render(filepath.Join(root, "charts", "orders"), "orders", "orders", values)
	if err != nil {
		return nil, fmt.Errorf("localstack: render the orders chart: %w", err)
	}
	return RoutesFromObjects(rendered.Objects)
}

// RoutesFromObjects turns the HTTPRoutes of a rendered orders release (e.g. a
// tenant's, under /<tenant>) into gateway routes; see RoutesFromChart.
func RoutesFromObjects(objects []*unstructured.Unstructured) ([]RouteSpec, error) {
	services := map[string]string{} // Kubernetes Service name → local service
	for _, obj := range objects {
		if obj.GetKind() == "Service" {
			services[obj.GetName()] = obj.GetLabels()["app.kubernetes.io/component"]
		}
	}
	var routes []RouteSpec
	for _, obj := range objects {
		if obj.GetKind() != "HTTPRoute" {
			continue
		}
		rs, err := httpRouteRules(obj, services)
		if err != nil {
			return nil, fmt.Errorf("localstack: HTTPRoute %s: %w", obj.GetName(), err)
		}
		routes = append(routes, rs...)
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("localstack: the orders release renders no HTTPRoute")
	}
	return routes, nil
}

func httpRouteRules(obj *unstructured.Unstructured, services map[string]string) ([]RouteSpec, error) {
	rules, _, err := unstructured.NestedSlice(obj.Object, "spec", "rules")
	if err != nil {
		return nil, err
	}
	var out []RouteSpec
	for i, r := range rules {
		rule, _ := r.(map[string]any)
		spec := RouteSpec{}
		matches, _, _ := unstructured.NestedSlice(rule, "matches")
		if len(matches) != 1 {
			return nil, fmt.Errorf("rule %d: %d matches; the local gateway handles exactly one PathPrefix match", i, len(matches))
		}
		match, _ := matches[0].(map[string]any)
		typ, _, _ := unstructured.NestedString(match, "path", "type")
		value, _, _ := unstructured.NestedString(match, "path", "value")
		if typ != "PathPrefix" || len(match) != 1 {
			return nil, fmt.Errorf("rule %d: match %v; the local gateway handles a path PathPrefix match only", i, match)
		}
		spec.PathPrefix = value
		filters, _, _ := unstructured.NestedSlice(rule, "filters")
		for _, f := range filters {
			filter, _ := f.(map[string]any)
			ftype, _, _ := unstructured.NestedString(filter, "type")
			rtype, _, _ := unstructured.NestedString(filter, "urlRewrite", "path", "type")
			if ftype != "URLRewrite" || rtype != "ReplacePrefixMatch" {
				return nil, fmt.Errorf("rule %d: filter %v; the local gateway handles URLRewrite ReplacePrefixMatch only", i, filter)
			}
			spec.RewritePrefix, _, _ = unstructured.NestedString(filter, "urlRewrite", "path", "replacePrefixMatch")
		}
		if spec.RewritePrefix == "" {
			spec.RewritePrefix = spec.PathPrefix
		}
		backends, _, _ := unstructured.NestedSlice(rule, "backendRefs")
		if len(backends) != 1 {
			return nil, fmt.Errorf("rule %d: %d backends; the local gateway sends each rule to one service", i, len(backends))
		}
		backend, _ := backends[0].(map[string]any)
		name, _, _ := unstructured.NestedString(backend, "name")
		if kind, _, _ := unstructured.NestedString(backend, "kind"); kind != "" && kind != "Service" {
			return nil, fmt.Errorf("rule %d: backend kind %s; only Services are served locally", i, kind)
		}
		spec.Service = services[name]
		if spec.Service == "" {
			return nil, fmt.Errorf("rule %d: backend Service %q is not one the chart renders with an app.kubernetes.io/component label", i, name)
		}
		out = append(out, spec)
	}
	return out, nil
}
