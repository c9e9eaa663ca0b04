package alertrules

import (
	"fmt"
	"strconv"
	"strings"
)

// Matcher is one label matcher of a selector, e.g. status=~"5..".
type Matcher struct {
	Name, Op, Value string
	Text            string // as written in the expression
}

// Selector is one vector selector of a PromQL expression, e.g.
// http_requests_total{namespace="orders",status=~"5.."}.
type Selector struct {
	// Metric is the name before the braces, or of an equality __name__ matcher.
	Metric   string
	Matchers []Matcher
	Text     string // as written, without a range or offset
}

// WithOnly returns a selector of s's metric with the one matcher m, for telling which
// matcher of a selector that matches nothing is at fault.
func (s Selector) WithOnly(m Matcher) string {
	return fmt.Sprintf("{__name__=%s, %s}", strconv.Quote(s.Metric), m.Text)
}

// PromQL words that are no selectors, matched case-insensitively as the parser does:
// the key map of promql/parser/lex.go in Prometheus v3.5.0, and Inf and NaN, which it
// reads as numbers.
var (
	labelListKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}
	otherKeywords     = map[string]bool{"and": true, "or": true, "unless": true, "atan2": true, "bool": true, "offset": true,
		"start": true, "end": true, "inf": true, "nan": true}
	aggregators = map[string]bool{"sum": true, "avg": true, "count": true, "min": true, "max": true, "group": true,
		"stddev": true, "stdvar": true, "topk": true, "bottomk": true, "count_values": true, "quantile": true,
		"limitk": true, "limit_ratio": true}
)

type token struct {
	kind       byte // 'i' identifier, 's' string, 'n' number or duration, else the punctuation itself ('=' for = == =~ …: see text)
	text       string
	start, end int
}

// lex splits a PromQL expression into the tokens Selectors needs.
func lex(expr string) ([]token, error) {
	var out []token
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#': // a comment runs to the end of the line
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(expr) && (isIdentStart(expr[j]) || isDigit(expr[j])) {
				j++
			}
			out = append(out, token{'i', expr[i:j], i, j})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(expr) && isDigit(expr[i+1])):
			j := i + 1
			for j < len(expr) {
				d := expr[j]
				exponentSign := (d == '+' || d == '-') && (expr[j-1] == 'e' || expr[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(expr[i:j]), "0x")
				if !(isDigit(d) || isIdentStart(d) || d == '.' || exponentSign) || d == ':' {
					break
				}
				j++
			}
			out = append(out, token{'n', expr[i:j], i, j})
			i = j
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			out = append(out, token{'s', expr[i : j+1], i, j + 1})
			i = j + 1
		default:
			j := i + 1
			if j < len(expr) && ((c == '=' || c == '!') && (expr[j] == '~' || expr[j] == '=') || (c == '<' || c == '>') && expr[j] == '=') {
				j++
			}
			out = append(out, token{c, expr[i:j], i, j})
			i = j
		}
	}
	return out, nil
}

// unquote reads a PromQL string literal: double- and single-quoted ones with Go's
// escapes, back-quoted ones raw (promql/parser/lex.go, Prometheus v3.5.0).
func unquote(lit string) (string, error) {
	switch lit[0] {
	case '`':
		return lit[1 : len(lit)-1], nil
	case '\'':
		inner := strings.ReplaceAll(strings.ReplaceAll(lit[1:len(lit)-1], `\'`, `'`), `"`, `\"`)
		return strconv.Unquote(`"` + inner + `"`)
	default:
		return strconv.Unquote(lit)
	}
}

// Selectors returns the vector selectors of a PromQL expression in order, with their
// label matchers. It reads only as much PromQL as selectors need: what else the
// expression says is Prometheus' parser's business (the promql-metrics helper checks
// that the names found here are the ones it finds).
func Selectors(expr string) ([]Selector, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	var out []Selector
	next := func(i int) byte {
		if i+1 < len(toks) {
			return toks[i+1].kind
		}
		return 0
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case '[': // a range or subquery: durations only
			for i < len(toks) && toks[i].kind != ']' {
				i++
			}
		case 'i':
			word := strings.ToLower(t.text)
			switch {
			case labelListKeywords[word]:
				if next(i) == '(' {
					for i < len(toks) && toks[i].kind != ')' {
						i++
					}
				}
				continue
			case otherKeywords[word], aggregators[word], next(i) == '(':
				continue // a keyword, an aggregation or a function call
			}
			s := Selector{Metric: t.text}
			end := t.end
			if next(i) == '{' {
				i++
				if i, end, err = matchers(toks, i, &s); err != nil {
					return nil, err
				}
			}
			s.Text = expr[t.start:end]
			out = append(out, s)
		case '{':
			s := Selector{}
			start := t.start
			var end int
			if i, end, err = matchers(toks, i, &s); err != nil {
				return nil, err
			}
			for _, m := range s.Matchers {
				if m.Name == "__name__" && m.Op == "=" {
					s.Metric = m.Value
				}
			}
			s.Text = expr[start:end]
			out = append(out, s)
		}
	}
	return out, nil
}

// matchers reads the braces that start at toks[i] into s; it returns the index of the
// closing brace and the offset after it.
func matchers(toks []token, i int, s *Selector) (int, int, error) {
	at := func(j int) token {
		if j < len(toks) {
			return toks[j]
		}
		return token{kind: 0, text: "end of expression"}
	}
	for i++; ; {
		name := at(i)
		switch {
		case name.kind == '}':
			return i, name.end, nil
		case name.kind == ',':
			i++
			continue
		case name.kind == 's' && (at(i+1).kind == ',' || at(i+1).kind == '}'): // {"metric.name"}
			v, err := unquote(name.text)
			if err != nil {
				return 0, 0, fmt.Errorf("metric name %s: %w", name.text, err)
			}
			s.Metric = v
			i++
			continue
		case name.kind != 'i' && name.kind != 's':
			return 0, 0, fmt.Errorf("at offset %d: want a label name, got %q", name.start, name.text)
		}
		op, val := at(i+1), at(i+2)
		if op.kind != '=' && op.kind != '!' || val.kind != 's' {
			return 0, 0, fmt.Errorf("at offset %d: want a matcher like %s=\"value\", got %s %s", name.start, name.text, op.text, val.text)
		}
		label := name.text
		if name.kind == 's' {
			var err error
			if label, err = unquote(name.text); err != nil {
				return 0, 0, err
			}
		}
		v, err := unquote(val.text)
		if err != nil {
			return 0, 0, fmt.Errorf("value %s: %w", val.text, err)
		}
		if op.text != "=" && op.text != "!=" && op.text != "=~" && op.text != "!~" {
			return 0, 0, fmt.Errorf("at offset %d: %q is no label matcher operator", op.start, op.text)
		}
		s.Matchers = append(s.Matchers, Matcher{Name: label, Op: op.text, Value: v, Text: fmt.Sprintf("%s%s%s", name.text, op.text, val.text)})
		i += 3
	}
}
