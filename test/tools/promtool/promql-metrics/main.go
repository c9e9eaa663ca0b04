// Command promql-metrics reads PromQL expressions, one JSON string per line on stdin,
// and writes for each a JSON line {"expr": …, "metrics": […], "error": …}: the metric
// names its vector selectors name (sorted, unique), parsed by Prometheus' own PromQL
// parser. The repository's tests (test/alertrules) use it so that the root module
// does not depend on github.com/prometheus/prometheus. Exit status 1 on unreadable input;
// a parse error is reported in "error" for that line.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics"`
	Error   string   `json:"error,omitempty"`
}

func names(expr string) ([]string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var walkErr error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name == "" {
			// A selector without a fixed metric name could match anything: refuse it.
			walkErr = fmt.Errorf("selector %s names no metric", vs.String())
			return walkErr
		}
		seen[name] = true
		return nil
	})
	if walkErr != nil {
		return nil, walkErr
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	enc := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		var expr string
		if err := json.Unmarshal(sc.Bytes(), &expr); err != nil {
			fmt.Fprintf(os.Stderr, "promql-metrics: input line is not a JSON string: %v\n", err)
			os.Exit(1)
		}
		r := result{Expr: expr, Metrics: []string{}}
		if m, err := names(expr); err != nil {
			r.Error = err.Error()
		} else {
			r.Metrics = m
		}
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(os.Stderr, "promql-metrics: %v\n", err)
			os.Exit(1)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "promql-metrics: %v\n", err)
		os.Exit(1)
	}
}
