// Package alertrules checks the platform's Prometheus alerts and Grafana dashboards: the
// alerting rules rendered from the charts' PrometheusRule objects, their annotations and
// runbook links into docs/operations.md, and the metric names their PromQL uses against
// the metrics something we run actually exports (the services, scraped for real, and a
// reviewed list of third-party exporters with the source of each name).
//
// PromQL is parsed by Prometheus' own parser through the promql-metrics helper and the
// rules are evaluated by promtool, both built from the pinned tool module test/tools/promtool
// (test/tools/install-promtool.sh), so the root module does not depend on Prometheus.
package alertrules

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orders-platform/orders/test/docrules"
)

// PrometheusVersion is the Prometheus whose promtool and PromQL parser the tests use:
// the one kube-prometheus-stack 77.0.0 (charts/addons.yaml) runs.
const PrometheusVersion = "v3.5.0"

// RequiredAnnotations are on every alert of the platform.
var RequiredAnnotations = []string{"summary", "description", "runbook_url"}

// Severities are the values the severity label may take (Alertmanager routes by them).
var Severities = map[string]bool{"critical": true, "warning": true, "info": true}

// Rule is one alerting rule of a rendered PrometheusRule.
type Rule struct {
	Object      string // PrometheusRule name
	Group       string
	Alert       string
	Expr        string
	For         string
	Labels      map[string]string
	Annotations map[string]string
}

// PrometheusRules returns the PrometheusRule objects among objs.
func PrometheusRules(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "PrometheusRule" && o.GroupVersionKind().Group == "monitoring.coreos.com" {
			out = append(out, o)
		}
	}
	return out
}

type ruleSpec struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Record      string            `json:"record"`
			Expr        json.RawMessage   `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// AlertingRules returns the alerting rules (not recording rules) of PrometheusRule objects.
func AlertingRules(objs []*unstructured.Unstructured) ([]Rule, error) {
	var out []Rule
	for _, o := range PrometheusRules(objs) {
		spec, err := json.Marshal(o.Object["spec"])
		if err != nil {
			return nil, err
		}
		var s ruleSpec
		if err := json.Unmarshal(spec, &s); err != nil {
			return nil, fmt.Errorf("PrometheusRule %s: %w", o.GetName(), err)
		}
		for _, g := range s.Groups {
			for i, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				// expr is an int-or-string in the CRD; ours are always strings.
				var expr string
				if err := json.Unmarshal(r.Expr, &expr); err != nil {
					return nil, fmt.Errorf("PrometheusRule %s group %s rule %d (%s): expr is not a string: %s", o.GetName(), g.Name, i, r.Alert, r.Expr)
				}
				out = append(out, Rule{Object: o.GetName(), Group: g.Name, Alert: r.Alert, Expr: strings.TrimSpace(expr),
					For: r.For, Labels: r.Labels, Annotations: r.Annotations})
			}
		}
	}
	return out, nil
}

// RuleFile returns a PrometheusRule's spec as a Prometheus rule file (the same YAML
// shape: groups → rules), for promtool.
func RuleFile(o *unstructured.Unstructured) ([]byte, error) {
	spec, ok := o.Object["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("PrometheusRule %s has no spec", o.GetName())
	}
	// JSON is valid YAML; promtool reads either.
	return json.MarshalIndent(map[string]any{"groups": spec["groups"]}, "", "  ")
}

// CheckRule returns what is wrong with an alert's labels and annotations: the required
// annotations, a known severity, and a runbook_url of the form <docsURL>#<anchor> whose
// anchor is a heading of the runbook page (anchors, see docrules.Anchors) and is the
// alert's own name.
func CheckRule(r Rule, docsURL string, anchors map[string]bool) []string {
	var out []string
	if !Severities[r.Labels["severity"]] {
		out = append(out, fmt.Sprintf("labels.severity %q is not one of critical, warning, info", r.Labels["severity"]))
	}
	for _, a := range RequiredAnnotations {
		if strings.TrimSpace(r.Annotations[a]) == "" {
			out = append(out, fmt.Sprintf("annotations.%s is missing", a))
		}
	}
	if u := r.Annotations["runbook_url"]; u != "" {
		base, frag, _ := strings.Cut(u, "#")
		switch {
		case base != docsURL:
			out = append(out, fmt.Sprintf("annotations.runbook_url %q does not point at %s", u, docsURL))
		case frag == "" || !anchors[frag]:
			out = append(out, fmt.Sprintf("annotations.runbook_url %q: anchor #%s is no heading of docs/operations.md", u, frag))
		case frag != docrules.Slug(r.Alert):
			out = append(out, fmt.Sprintf("annotations.runbook_url %q: anchor #%s is not the alert's own heading #%s", u, frag, docrules.Slug(r.Alert)))
		}
		if _, err := url.Parse(u); err != nil {
			out = append(out, fmt.Sprintf("annotations.runbook_url %q: %v", u, err))
		}
	}
	return out
}

// ExpositionNames returns the metric names a Prometheus text exposition (a /metrics
// body) declares or samples, with the series names of histograms and summaries
// (_bucket, _sum, _count) that PromQL uses.
func ExpositionNames(body io.Reader) (map[string]bool, error) {
	out := map[string]bool{}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "#" && f[1] == "TYPE" {
			name, typ := f[2], f[3]
			out[name] = true
			switch typ {
			case "histogram":
				out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
			case "summary":
				out[name+"_sum"], out[name+"_count"] = true, true
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if name == "" {
			return nil, fmt.Errorf("malformed exposition line %q", line)
		}
		out[name] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the exposition declares no metric")
	}
	return out, nil
}

// Parsed is one expression as Prometheus' parser sees it.
type Parsed struct {
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics"`
	Error   string   `json:"error,omitempty"`
}

// MetricNames parses expressions with the promql-metrics helper (test/tools/promtool) and
// returns, for each in order, the metric names it selects or the parse error.
func MetricNames(helper string, exprs []string) ([]Parsed, error) {
	var in bytes.Buffer
	for _, e := range exprs {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	cmd := exec.Command(helper)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", helper, err, strings.TrimSpace(stderr.String()))
	}
	var res []Parsed
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p Parsed
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s: unreadable output: %w", helper, err)
		}
		res = append(res, p)
	}
	if len(res) != len(exprs) {
		return nil, fmt.Errorf("%s answered %d results for %d expressions", helper, len(res), len(exprs))
	}
	return res, nil
}

// Unknown returns the names not in any of the known sets, sorted.
func Unknown(names []string, known ...map[string]bool) []string {
	var out []string
	for _, n := range names {
		found := false
		for _, k := range known {
			found = found || k[n]
		}
		if !found {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
