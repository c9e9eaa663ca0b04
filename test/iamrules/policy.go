package iamrules

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// The IAM rules this file follows, read in the IAM User Guide
// (docs.aws.amazon.com/IAM/latest/UserGuide/):
//   - reference_policies_evaluation-logic.html: an explicit Deny in any policy
//     wins; otherwise an Allow is needed; a permissions boundary must allow too
//     (the effective permissions are the intersection).
//   - reference_policies_elements_action.html: action names are
//     case-insensitive; * and ? are wildcards.
//   - reference_policies_elements_resource.html, reference_policies_elements_condition_operators.html:
//     resource ARNs and String*Like/Arn*Like values match with * and ?,
//     case-sensitively; the conditions of a statement are ANDed, the values of
//     one key ORed; a key missing from the request makes a positive operator
//     false and a negated one (StringNotEquals, StringNotLike) true, and
//     …IfExists true.
// Operators the configurations do not use are refused rather than guessed.

// Policy is an IAM policy document.
type Policy struct {
	Name       string
	Statements []Statement
}

// Statement is one statement, with its lists normalised.
type Statement struct {
	Sid, Effect          string
	Action, NotAction    []string
	Resource, Principals []string // Principals as "<type>:<id>", e.g. "Federated:arn:…"
	Condition            map[string]map[string][]string
}

// ParsePolicy reads a policy document as jsonencode() renders it.
func ParsePolicy(name, doc string) (Policy, error) {
	var raw struct {
		Statement []struct {
			Sid       string
			Effect    string
			Action    stringList
			NotAction stringList
			Resource  stringList
			Principal map[string]stringList
			Condition map[string]map[string]stringList
		}
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	p := Policy{Name: name}
	for _, s := range raw.Statement {
		st := Statement{Sid: s.Sid, Effect: s.Effect, Action: s.Action, NotAction: s.NotAction, Resource: s.Resource, Condition: map[string]map[string][]string{}}
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return Policy{}, fmt.Errorf("policy %s: statement %q has effect %q", name, s.Sid, s.Effect)
		}
		for typ, ids := range s.Principal {
			for _, id := range ids {
				st.Principals = append(st.Principals, typ+":"+id)
			}
		}
		for op, kv := range s.Condition {
			st.Condition[op] = map[string][]string{}
			for k, v := range kv {
				st.Condition[op][k] = v
			}
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// stringList is a JSON string or list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// Request is one API call: the action, the resource, for a trust policy the
// principal, and the condition keys of the request (absent keys are missing).
type Request struct {
	Action, Resource, Principal string
	Context                     map[string][]string
}

func (r Request) String() string {
	s := r.Action + " " + r.Resource
	keys := sortedKeys(r.Context)
	for _, k := range keys {
		s += fmt.Sprintf(" %s=%s", k, strings.Join(r.Context[k], ","))
	}
	return s
}

// Decision is the outcome of an evaluation, with the statement that decided it.
type Decision struct {
	Allowed bool
	Reason  string
}

// Evaluate decides a request against identity policies and, when boundary is
// not nil, a permissions boundary. An unsupported condition operator is an error.
func Evaluate(req Request, policies []Policy, boundary *Policy) (Decision, error) {
	allow := ""
	for _, p := range policies {
		for _, s := range p.Statements {
			ok, err := s.matches(req)
			if err != nil {
				return Decision{}, fmt.Errorf("%s: %w", p.Name, err)
			}
			if !ok {
				continue
			}
			if s.Effect == "Deny" {
				return Decision{Reason: fmt.Sprintf("explicit deny %s/%s", p.Name, s.Sid)}, nil
			}
			if allow == "" {
				allow = p.Name + "/" + s.Sid
			}
		}
	}
	if allow == "" {
		return Decision{Reason: "no statement allows it"}, nil
	}
	if boundary != nil {
		d, err := Evaluate(req, []Policy{*boundary}, nil)
		if err != nil {
			return Decision{}, err
		}
		if !d.Allowed {
			return Decision{Reason: "outside the permissions boundary " + boundary.Name + " (" + d.Reason + ")"}, nil
		}
	}
	return Decision{Allowed: true, Reason: "allowed by " + allow}, nil
}

func (s Statement) matches(req Request) (bool, error) {
	switch {
	case len(s.Action) > 0 && !anyMatch(s.Action, req.Action, true):
		return false, nil
	case len(s.NotAction) > 0 && anyMatch(s.NotAction, req.Action, true):
		return false, nil
	}
	if len(s.Principals) > 0 {
		if !anyMatch(s.Principals, req.Principal, false) {
			return false, nil
		}
	} else if len(s.Resource) == 0 || !anyMatch(s.Resource, req.Resource, false) {
		return false, nil
	}
	for op, kv := range s.Condition {
		for key, values := range kv {
			ok, err := condition(op, values, req.Context[key], hasKey(req.Context, key))
			if err != nil {
				return false, fmt.Errorf("statement %s: %w", s.Sid, err)
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

func hasKey(ctx map[string][]string, key string) bool {
	_, ok := ctx[key]
	return ok
}

// condition evaluates one operator on one key: any request value against any
// policy value.
func condition(op string, want, got []string, present bool) (bool, error) {
	base, ifExists := strings.CutSuffix(op, "IfExists")
	switch base {
	case "StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool", "Null":
	default:
		return false, fmt.Errorf("condition operator %s is not evaluated here", op)
	}
	if !present {
		switch {
		case ifExists:
			return true, nil
		case base == "StringNotEquals" || base == "StringNotLike" || base == "ArnNotLike" || base == "ArnNotEquals":
			return true, nil
		case base == "Null":
			return len(want) == 1 && want[0] == "true", nil
		}
		return false, nil
	}
	any := func(match func(pattern, value string) bool) bool {
		for _, g := range got {
			for _, w := range want {
				if match(w, g) {
					return true
				}
			}
		}
		return false
	}
	equals := func(w, g string) bool { return w == g }
	like := func(w, g string) bool { return glob(w, g, false) }
	switch base {
	case "StringEquals", "ArnEquals":
		return any(equals), nil
	case "StringNotEquals", "ArnNotEquals":
		return !any(equals), nil
	case "StringLike", "ArnLike":
		return any(like), nil
	case "StringNotLike", "ArnNotLike":
		return !any(like), nil
	case "Bool":
		return any(func(w, g string) bool { return strings.EqualFold(w, g) }), nil
	case "Null":
		return len(want) == 1 && want[0] == "false", nil
	}
	return false, fmt.Errorf("condition operator %s is not evaluated here", op)
}

func anyMatch(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, value, fold) {
			return true
		}
	}
	return false
}

// glob matches IAM wildcards: * any run of characters (including /), ? one.
func glob(pattern, value string, fold bool) bool {
	if fold {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	// path.Match's * stops at '/'; IAM's does not: match segment-free by mapping '/'.
	const sep = "\x00"
	ok, err := path.Match(strings.ReplaceAll(escape(pattern), "/", sep), strings.ReplaceAll(value, "/", sep))
	return err == nil && ok
}

// escape quotes path.Match's own metacharacters except * and ?.
func escape(p string) string {
	r := strings.NewReplacer(`[`, `\[`, `]`, `\]`, `\`, `\\`)
	return r.Replace(p)
}

// Actions of all Allow statements, sorted: what a role is given.
func (p Policy) AllowedActions() []string {
	set := map[string]bool{}
	for _, s := range p.Statements {
		if s.Effect == "Allow" {
			for _, a := range s.Action {
				set[a] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
