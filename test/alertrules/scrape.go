package alertrules

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Target is what Prometheus scrapes for one endpoint of a ServiceMonitor: the
// container that serves it and the labels the target's series get.
type Target struct {
	ServiceMonitor string
	Container      string
	Labels         map[string]string
}

// ServiceMonitorTargets returns the targets the Prometheus Operator makes of the
// ServiceMonitors among objs (one release, rendered into namespace): each endpoint of
// each selected Service whose port a Deployment's container serves, with the labels of
// prometheus-operator v0.85.0 (kube-prometheus-stack 77.0.0), pkg/prometheus/promcfg.go
// generateServiceMonitorConfig: namespace, service, pod, container, job (the Service's
// name, or its jobLabel label), endpoint (the port name), targetLabels and
// podTargetLabels; and instance, the scraped address, which Prometheus adds. The pod name
// and address are made up in the shape Kubernetes gives them.
func ServiceMonitorTargets(objs []*unstructured.Unstructured, namespace string) ([]Target, error) {
	ns := func(o *unstructured.Unstructured) string {
		if o.GetNamespace() != "" {
			return o.GetNamespace()
		}
		return namespace
	}
	var out []Target
	for _, sm := range objs {
		if sm.GetKind() != "ServiceMonitor" {
			continue
		}
		where := "ServiceMonitor " + sm.GetName()
		sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
		if exprs, _, _ := unstructured.NestedSlice(sm.Object, "spec", "selector", "matchExpressions"); len(exprs) > 0 {
			return nil, fmt.Errorf("%s: selector.matchExpressions is not evaluated here; use matchLabels", where)
		}
		// The namespaces whose Services it selects; nil: every namespace.
		names, _, _ := unstructured.NestedStringSlice(sm.Object, "spec", "namespaceSelector", "matchNames")
		switch anyNamespace, _, _ := unstructured.NestedBool(sm.Object, "spec", "namespaceSelector", "any"); {
		case anyNamespace:
			names = nil
		case len(names) == 0:
			names = []string{ns(sm)}
		}
		jobLabel, _, _ := unstructured.NestedString(sm.Object, "spec", "jobLabel")
		targetLabels, _, _ := unstructured.NestedStringSlice(sm.Object, "spec", "targetLabels")
		podTargetLabels, _, _ := unstructured.NestedStringSlice(sm.Object, "spec", "podTargetLabels")
		endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		for _, svc := range objs {
			if svc.GetKind() != "Service" || !subset(sel, svc.GetLabels()) || (names != nil && !slices.Contains(names, ns(svc))) {
				continue
			}
			for i, e := range endpoints {
				ep, _ := e.(map[string]any)
				port, _ := ep["port"].(string)
				if port == "" {
					return nil, fmt.Errorf("%s endpoint %d: only endpoints naming a Service port are evaluated here", where, i)
				}
				target, ok := servicePort(svc, port)
				if !ok {
					continue // the operator keeps only endpoints of a port with that name
				}
				pod, container, number, err := servingContainer(objs, svc, target)
				if err != nil {
					return nil, fmt.Errorf("%s: Service %s port %s: %w", where, svc.GetName(), port, err)
				}
				labels := map[string]string{
					"namespace": ns(svc), "service": svc.GetName(), "job": svc.GetName(), "endpoint": port,
					"pod": pod.GetName() + "-5d8f7c9b6-x2x7q", "container": container, "instance": "10.0.0.10:" + strconv.FormatInt(number, 10),
				}
				if v := svc.GetLabels()[jobLabel]; jobLabel != "" && v != "" {
					labels["job"] = v
				}
				for _, l := range targetLabels {
					if v := svc.GetLabels()[l]; v != "" {
						labels[sanitizeLabelName(l)] = v
					}
				}
				podLabels, _, _ := unstructured.NestedStringMap(pod.Object, "spec", "template", "metadata", "labels")
				for _, l := range podTargetLabels {
					if v := podLabels[l]; v != "" {
						labels[sanitizeLabelName(l)] = v
					}
				}
				out = append(out, Target{ServiceMonitor: sm.GetName(), Container: container, Labels: labels})
			}
		}
	}
	return out, nil
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// servicePort returns the targetPort (a name or a number) of the Service port called name.
func servicePort(svc *unstructured.Unstructured, name string) (string, bool) {
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		if pm["name"] != name {
			continue
		}
		if tp, ok := pm["targetPort"]; ok {
			return fmt.Sprint(tp), true
		}
		return fmt.Sprint(pm["port"]), true
	}
	return "", false
}

// servingContainer finds the Deployment whose pods the Service selects and the
// container whose port is target (by name or number).
func servingContainer(objs []*unstructured.Unstructured, svc *unstructured.Unstructured, target string) (*unstructured.Unstructured, string, int64, error) {
	sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	for _, d := range objs {
		podLabels, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
		if d.GetKind() != "Deployment" || !subset(sel, podLabels) {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			cm, _ := c.(map[string]any)
			ports, _, _ := unstructured.NestedSlice(cm, "ports")
			for _, p := range ports {
				pm, _ := p.(map[string]any)
				number, _, _ := unstructured.NestedInt64(pm, "containerPort")
				if pm["name"] == target || strconv.FormatInt(number, 10) == target {
					name, _ := cm["name"].(string)
					return d, name, number, nil
				}
			}
		}
	}
	return nil, "", 0, fmt.Errorf("no Deployment's container serves port %s of the pods it selects", target)
}

// Series is one stored time series: its labels, __name__ included.
type Series map[string]string

// String shows the series in PromQL's notation, which promtool's input_series reads.
func (s Series) String() string {
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if k != "__name__" {
			labels = append(labels, k+"="+strconv.Quote(s[k]))
		}
	}
	return s["__name__"] + "{" + strings.Join(labels, ",") + "}"
}

// ScrapedSeries returns the series Prometheus v3.5.0 stores from one scrape of a target
// that answered body (the Prometheus text format): each sample with the target's labels
// set over its own (honor_labels false, the operator's default: an exposed label that
// clashes is kept as exported_<name>, scrape/scrape.go mutateSampleLabels), and the
// series Prometheus adds for every target, up among them (scrape/scrape.go report).
func ScrapedSeries(body io.Reader, target map[string]string) ([]Series, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(body)
	if err != nil {
		return nil, fmt.Errorf("parse the exposition: %w", err)
	}
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{}, slices.Collect(maps.Values(families))...)
	if err != nil {
		return nil, err
	}
	var out []Series
	for _, smp := range samples {
		s := Series{}
		for k, v := range smp.Metric {
			s[string(k)] = string(v)
		}
		out = append(out, withTarget(s, target))
	}
	for _, name := range []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		out = append(out, withTarget(Series{"__name__": name}, target))
	}
	return out, nil
}

// withTarget sets the target's labels on s; an exposed label they replace moves to
// exported_<name> (exported_exported_<name> when that is taken, and so on), shorter
// names first, as scrape/scrape.go resolveConflictingExposedLabels does.
func withTarget(s Series, target map[string]string) Series {
	var clashes []string
	for _, k := range slices.Sorted(maps.Keys(target)) {
		if s[k] != "" {
			clashes = append(clashes, k, s[k])
		}
	}
	maps.Copy(s, target)
	pairs := slices.Collect(slices.Chunk(clashes, 2))
	slices.SortStableFunc(pairs, func(a, b []string) int { return len(a[0]) - len(b[0]) })
	for _, p := range pairs {
		name := p[0]
		for {
			name = model.ExportedLabelPrefix + name
			if s[name] == "" {
				s[name] = p[1]
				break
			}
		}
	}
	return s
}

// sanitizeLabelName is the operator's: every character outside [a-zA-Z0-9_] becomes _
// (pkg/prometheus/promcfg.go, invalidLabelCharRE).
func sanitizeLabelName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, name)
}
