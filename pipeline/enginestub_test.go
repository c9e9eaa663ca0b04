package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// engineStub answers the published SDK's GraphQL requests at the session
// endpoint a module function gets (DAGGER_SESSION_PORT/DAGGER_SESSION_TOKEN,
// dagger.io/dagger@v0.21.8 engineconn/env.go), so a test can read the query the
// pipeline would send to the engine. It is the thinnest stand-in for an engine
// that cannot run here: every leaf field answers an opaque id.
type engineStub struct {
	mu      sync.Mutex
	queries []string
	next    int
}

// openOnStub opens a Pipeline whose session is an engineStub.
func openOnStub(t *testing.T) (*Pipeline, *engineStub) {
	t.Helper()
	stub := &engineStub{}
	srv := httptest.NewServer(http.HandlerFunc(stub.serve))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DAGGER_SESSION_PORT", port)
	t.Setenv("DAGGER_SESSION_TOKEN", "test")
	p, err := Open(context.Background(), Inputs{SourceID: "source-id", Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, stub
}

func (s *engineStub) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	doc, gqlErr := parser.ParseQuery(&ast.Source{Input: req.Query})
	if gqlErr != nil || len(doc.Operations) != 1 {
		http.Error(w, fmt.Sprintf("bad query %q: %v", req.Query, gqlErr), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, req.Query)
	data := s.answer(doc.Operations[0].SelectionSet)
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func (s *engineStub) answer(set ast.SelectionSet) map[string]any {
	out := map[string]any{}
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		if len(f.SelectionSet) == 0 {
			s.next++
			out[key] = "stub-" + strconv.Itoa(s.next)
			continue
		}
		out[key] = s.answer(f.SelectionSet)
	}
	return out
}

// call is one field of a query's chain with its arguments, as sent.
type call struct {
	name string
	args map[string]*ast.Value
}

// chain is the query that contains field, as the list of calls from the root.
func (s *engineStub) chain(t *testing.T, field string) []call {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queries {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		var calls []call
		set := doc.Operations[0].SelectionSet
		for len(set) > 0 {
			f := set[0].(*ast.Field)
			c := call{name: f.Name, args: map[string]*ast.Value{}}
			for _, a := range f.Arguments {
				c.args[a.Name] = a.Value
			}
			calls = append(calls, c)
			set = f.SelectionSet
		}
		for _, c := range calls {
			if c.name == field {
				return calls
			}
		}
	}
	t.Fatalf("no query with %s was sent; queries: %q", field, s.queries)
	return nil
}

// str is an argument's value as the engine would read it.
func str(v *ast.Value) string {
	if v == nil {
		return ""
	}
	if v.Kind == ast.ListValue {
		var parts []string
		for _, c := range v.Children {
			parts = append(parts, str(c.Value))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return v.Raw
}
