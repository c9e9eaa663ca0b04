package alertrules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// grafanaBuiltins stand in for Grafana's own interval variables with durations
// Prometheus accepts.
var grafanaBuiltins = map[string]string{"__rate_interval": "5m", "__range": "1h", "__interval": "1m"}

var unknownVariable = regexp.MustCompile(`\$\{?[A-Za-z_]`)

// PanelQuery is one query of a Grafana dashboard panel.
type PanelQuery struct {
	Panel string
	Expr  string // with the dashboard's variables replaced by their current values
}

// DashboardQueries returns the Prometheus queries of a Grafana dashboard's panels,
// each variable ($name or ${name}) replaced by its current value in the dashboard's
// templating (Grafana's interval variables by durations), so that the queries are
// what Grafana sends when the dashboard opens.
func DashboardQueries(b []byte) ([]PanelQuery, error) {
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name    string `json:"name"`
				Current struct {
					Value any `json:"value"`
				} `json:"current"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for k, v := range grafanaBuiltins {
		vars[k] = v
	}
	for _, v := range d.Templating.List {
		if s, ok := v.Current.Value.(string); ok {
			vars[v.Name] = s
		}
	}
	// Longer names first, so that $namespace is not read as $name followed by "space".
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	var pairs []string
	for _, n := range names {
		pairs = append(pairs, "${"+n+"}", vars[n], "$"+n, vars[n])
	}
	replace := strings.NewReplacer(pairs...)

	var out []PanelQuery
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			if strings.TrimSpace(t.Expr) == "" {
				continue
			}
			e := replace.Replace(t.Expr)
			if unknownVariable.MatchString(e) {
				return nil, fmt.Errorf("panel %q: query %q uses a variable the dashboard does not define", p.Title, t.Expr)
			}
			out = append(out, PanelQuery{Panel: p.Title, Expr: e})
		}
	}
	return out, nil
}
