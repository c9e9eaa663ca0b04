package chartrules

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/orders-platform/orders/internal/charts"
)

// MongoDBUpstream is charts/mongodb/upstream.yaml (see charts.MongoDBUpstream).
type MongoDBUpstream = charts.MongoDBUpstream

// ReadMongoDBUpstream reads charts/mongodb/upstream.yaml.
func ReadMongoDBUpstream(path string) (*MongoDBUpstream, error) {
	return charts.ReadMongoDBUpstream(path)
}

// ChartKeys are the key paths of a chart's values.yaml with the type of each
// default: map (fixed keys), freemap (any keys), list, string, number, bool, null.
type ChartKeys map[string]string

// ReadChartKeys reads a "<path>\t<type>" file (comments start with #).
func ReadChartKeys(path string) (ChartKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := ChartKeys{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, t, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s: malformed line %q", path, line)
		}
		keys[p] = t
	}
	return keys, sc.Err()
}

// DeriveChartKeys lists the key paths of a chart's values (to regenerate the key file
// when the chart is upgraded).
func DeriveChartKeys(values map[string]any) ChartKeys {
	keys := ChartKeys{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			keys[p] = typeName(v)
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(p, sub)
			}
		}
	}
	walk("", values)
	return keys
}

func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case string:
		return "string"
	case float64, int, int64:
		return "number"
	case []any:
		return "list"
	case map[string]any:
		if len(x) == 0 {
			return "freemap"
		}
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

// CheckKeys reports every key of values that the chart does not have, and every
// value whose shape contradicts the chart's default (a map where the chart has a
// scalar, or a non-boolean where it has a boolean).
func (k ChartKeys) CheckKeys(values map[string]any) []string {
	var problems []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for key, v := range m {
			p := key
			if prefix != "" {
				p = prefix + "." + key
			}
			want, ok := k[p]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: no such key in the chart's values", p))
				continue
			}
			got := typeName(v)
			switch {
			case want == "freemap" || want == "list" && got == "list":
				continue // free-form below this point
			case want == "map":
				if sub, ok := v.(map[string]any); ok {
					walk(p, sub)
				} else {
					problems = append(problems, fmt.Sprintf("%s: the chart expects a map, got %s", p, got))
				}
			case want == "bool" && got != "bool",
				want == "list" && got != "list",
				(want == "string" || want == "number" || want == "null") && (got == "map" || got == "freemap" || got == "list"):
				problems = append(problems, fmt.Sprintf("%s: the chart expects a %s, got %s", p, want, got))
			}
		}
	}
	walk("", values)
	sort.Strings(problems)
	return problems
}
