package enginerules

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/iancoleman/strcase"
	"sigs.k8s.io/yaml"
)

// cliName is the command or flag name the CLI shows for a Go name: the Go SDK
// registers the Go method or parameter name (module_funcs.go, dag.Function /
// WithArg with spec.name, in cmd/codegen/generator/go/templates), the engine
// stores strcase.ToLowerCamel of it (NewFunction, NewFunctionArg in
// core/typedef.go) and the CLI turns that into strcase.ToKebab (cliName in
// cmd/dagger/module_inspect.go); all at v0.21.8, with
// github.com/iancoleman/strcase v0.3.0 as the engine's go.mod pins it.
func cliName(goName string) string { return strcase.ToKebab(strcase.ToLowerCamel(goName)) }

func TestCLINameConversion(t *testing.T) {
	for goName, want := range map[string]string{
		"DBTunnel": "dbtunnel", "DbTunnel": "db-tunnel", "RemoveTenant": "remove-tenant", "Sbom": "sbom",
		"awsAccessKeyID": "aws-access-key-id", "failOnDrift": "fail-on-drift", "acceptVulnerabilities": "accept-vulnerabilities",
	} {
		if got := cliName(goName); got != want {
			t.Errorf("cliName(%q) = %q, want %q", goName, got, want)
		}
	}
}

// arg is one flag of a function.
type arg struct {
	flag     string
	boolean  bool
	required bool
}

// function is one command: its flags and what it returns (the type name a
// chained call runs on; "" for a scalar).
type function struct {
	name    string
	args    map[string]arg
	returns string
}

// pragmas reads the "+name" and "+name=value" lines of a comment, the Go SDK's
// pragma comments (parsePragmaComment, cmd/codegen/generator/go/templates/
// modules.go@v0.21.8).
func pragmas(comment string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "+") {
			continue
		}
		k, v, _ := strings.Cut(strings.TrimSpace(line[1:]), "=")
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return out
}

// typeName is the Go type of a parameter or result, as written.
func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.StarExpr:
		return typeName(e.X)
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.ArrayType:
		return "[]" + typeName(e.Elt)
	case *ast.Ellipsis:
		return "..." + typeName(e.Elt)
	}
	return fmt.Sprintf("%T", e)
}

// paramComments are the comments written between a function's parameters,
// keyed by the parameter they precede (commentForFuncField in the Go SDK's
// codegen reads them the same way).
func paramComments(fset *token.FileSet, f *ast.File, fn *ast.FuncDecl) map[*ast.Field]string {
	out := map[*ast.Field]string{}
	prev := fn.Type.Params.Opening
	for _, field := range fn.Type.Params.List {
		var b strings.Builder
		for _, cg := range f.Comments {
			if cg.Pos() > prev && cg.End() < field.Pos() {
				b.WriteString(cg.Text())
			}
		}
		out[field] = b.String()
		prev = field.End()
	}
	return out
}

// functionOf reads one function or the constructor.
func functionOf(fset *token.FileSet, f *ast.File, fn *ast.FuncDecl) function {
	fc := function{name: cliName(fn.Name.Name), args: map[string]arg{}}
	if fn.Type.Results != nil && len(fn.Type.Results.List) > 0 {
		if r := typeName(fn.Type.Results.List[0].Type); r != "string" && r != "bool" && r != "int" {
			fc.returns = r
		}
	}
	comments := paramComments(fset, f, fn)
	for _, field := range fn.Type.Params.List {
		t := typeName(field.Type)
		if t == "Context" {
			continue
		}
		p := pragmas(comments[field])
		_, optional := p["optional"]
		_, hasDefault := p["default"]
		_, hasPath := p["defaultPath"]
		for _, n := range field.Names {
			a := arg{flag: cliName(n.Name), boolean: t == "bool", required: !optional && !hasDefault && !hasPath}
			fc.args[a.flag] = a
		}
	}
	return fc
}

// module is the module's command line: the constructor's flags and every
// function, read from ci/main.go as the Go SDK's codegen reads it.
type module struct {
	constructor function
	functions   map[string]function
}

func readModule(t *testing.T) module {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(repoRoot, "ci", "main.go"), nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	m := module{functions: map[string]function{}}
	var object string
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "New" {
			m.constructor = functionOf(fset, f, fn)
			object = typeName(fn.Type.Results.List[0].Type)
		}
	}
	if object == "" {
		t.Fatal("ci/main.go has no constructor New")
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || !fn.Name.IsExported() || typeName(fn.Recv.List[0].Type) != object {
			continue
		}
		fc := functionOf(fset, f, fn)
		if other, dup := m.functions[fc.name]; dup {
			t.Errorf("two functions have the command name %q: %v and %s", fc.name, other, fn.Name.Name)
		}
		m.functions[fc.name] = fc
	}
	return m
}

// coreTypes are the chained calls on what a function returns (export, up, …):
// the published SDK's methods on those types, their required parameters and
// their options, named for the CLI like the module's own.
func coreTypes(t *testing.T) map[string]map[string]function {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(sdkDir(t), "dagger.gen.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string][]string{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok {
			for _, s := range g.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok && strings.HasSuffix(ts.Name.Name, "Opts") {
					if st, ok := ts.Type.(*ast.StructType); ok {
						for _, fl := range st.Fields.List {
							for _, n := range fl.Names {
								opts[ts.Name.Name] = append(opts[ts.Name.Name], n.Name+":"+typeName(fl.Type))
							}
						}
					}
				}
			}
		}
	}
	out := map[string]map[string]function{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || !fn.Name.IsExported() {
			continue
		}
		recv := typeName(fn.Recv.List[0].Type)
		fc := function{name: cliName(fn.Name.Name), args: map[string]arg{}}
		if fn.Type.Results != nil {
			if r := typeName(fn.Type.Results.List[0].Type); r != "string" && r != "bool" && r != "int" && r != "error" {
				fc.returns = r
			}
		}
		for _, field := range fn.Type.Params.List {
			t := typeName(field.Type)
			switch {
			case t == "Context":
			case strings.HasPrefix(t, "..."):
				for _, o := range opts[strings.TrimPrefix(t, "...")] {
					name, typ, _ := strings.Cut(o, ":")
					fc.args[cliName(name)] = arg{flag: cliName(name), boolean: typ == "bool"}
				}
			default:
				for _, n := range field.Names {
					fc.args[cliName(n.Name)] = arg{flag: cliName(n.Name), boolean: t == "bool", required: true}
				}
			}
		}
		if out[recv] == nil {
			out[recv] = map[string]function{}
		}
		out[recv][fc.name] = fc
	}
	return out
}

// callFlags are the flags `dagger call` itself takes (cmd/dagger/functions.go@v0.21.8:
// --output/-o, --json/-j; -m/--mod selects the module; --help/-h), name → takes a value.
var callFlags = map[string]bool{"output": true, "o": true, "json": false, "j": false, "mod": true, "m": true, "help": false, "h": false}

// check parses the words after `dagger call` and says what the CLI would refuse.
func (m module) check(words []string, core map[string]map[string]function) error {
	i := 0
	flags := func(fc function, top bool) (map[string]bool, error) {
		seen := map[string]bool{}
		for i < len(words) && strings.HasPrefix(words[i], "-") {
			name, _, hasValue := strings.Cut(strings.TrimLeft(words[i], "-"), "=")
			i++
			a, ok := fc.args[name]
			if !ok && top {
				if takesValue, global := callFlags[name]; global {
					if takesValue && !hasValue {
						i++
					}
					continue
				}
			}
			if !ok {
				return nil, fmt.Errorf("unknown flag --%s for %s (flags: %s)", name, fc.name, names(fc.args))
			}
			if !a.boolean && !hasValue {
				if i >= len(words) {
					return nil, fmt.Errorf("flag --%s of %s needs a value", name, fc.name)
				}
				i++
			}
			seen[name] = true
		}
		return seen, nil
	}
	required := func(fc function, seen map[string]bool) error {
		for _, a := range fc.args {
			if a.required && !seen[a.flag] {
				return fmt.Errorf("%s needs --%s", fc.name, a.flag)
			}
		}
		return nil
	}
	ctor := m.constructor
	ctor.name = "the module (dagger call)"
	for {
		seen, err := flags(ctor, true)
		if err != nil {
			return err
		}
		if i < len(words) && isEllipsis(words[i]) { // "dagger call … deploy": the credential flags, elided
			i++
			continue
		}
		if len(seen) == 0 {
			break
		}
	}
	if i == len(words) {
		return nil // "dagger call" alone, or with flags: lists the functions
	}
	fc, ok := m.functions[words[i]]
	if !ok {
		return fmt.Errorf("unknown function %q (functions: %s)", words[i], strings.Join(sortedKeys(m.functions), ", "))
	}
	for {
		i++
		seen, err := flags(fc, true)
		if err != nil {
			return err
		}
		if err := required(fc, seen); err != nil {
			return err
		}
		if i == len(words) {
			return nil
		}
		if fc.returns == "" {
			return fmt.Errorf("%s returns a value, not an object: nothing can follow it, got %q", fc.name, words[i])
		}
		next, ok := core[fc.returns][words[i]]
		if !ok {
			return fmt.Errorf("%s returns a %s, which has no function %q", fc.name, fc.returns, words[i])
		}
		fc = next
	}
}

func isEllipsis(w string) bool { return w == "…" || w == "..." }

func names(args map[string]arg) string {
	var out []string
	for n := range args {
		out = append(out, "--"+n)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// call is one `dagger call …` that a user is told to type.
type call struct {
	where string // file:line
	words []string
}

// words splits a command line at blanks and stops at what ends the command in
// a shell or in prose: a comment, a pipe, a semicolon, a closing bracket.
func words(s string) []string {
	s = placeholder.ReplaceAllString(s, "<value>")
	var out []string
	for _, w := range strings.Fields(s) {
		if w == "#" || w == "|" || w == "&&" || w == "||" || strings.HasPrefix(w, "#") {
			break
		}
		if end := strings.IndexAny(w, ";)]"); end >= 0 {
			if w = w[:end]; w != "" {
				out = append(out, w)
			}
			break
		}
		out = append(out, w)
	}
	return out
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// placeholder is a value a reader fills in: <elastic ip>, ${{ github.sha }}.
var placeholder = regexp.MustCompile(`<[^<>]*>|\$\{\{[^}]*\}\}`)

// afterDaggerCall returns the words after "dagger call" in s, if s has it.
func afterDaggerCall(s string) ([]string, bool) {
	_, rest, ok := strings.Cut(s, "dagger call")
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return nil, false
	}
	return words(rest), true
}

// markdownCalls finds the calls in a Markdown file: lines of fenced code
// blocks (backslash continuations joined; Mermaid diagrams are not commands),
// inline code spans, and the code spans of the first column of a table headed
// "`dagger call` function".
func markdownCalls(file, text string) []call {
	var out []call
	lines := strings.Split(text, "\n")
	fence, fenceLang, functionTable := false, "", false
	for n := 0; n < len(lines); n++ {
		line := lines[n]
		where := fmt.Sprintf("%s:%d", file, n+1)
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			fence, fenceLang = !fence, strings.TrimPrefix(trimmed, "```")
			continue
		}
		if fence {
			if fenceLang == "mermaid" {
				continue
			}
			for strings.HasSuffix(strings.TrimSpace(line), `\`) && n+1 < len(lines) {
				n++
				line = strings.TrimSuffix(strings.TrimSpace(line), `\`) + " " + lines[n]
			}
			if w, ok := afterDaggerCall(line); ok {
				out = append(out, call{where, w})
			}
			continue
		}
		if strings.HasPrefix(trimmed, "|") {
			cells := strings.Split(strings.Trim(trimmed, "|"), "|")
			if strings.Contains(cells[0], "`dagger call` function") {
				functionTable = true
				continue
			}
			if functionTable && !strings.HasPrefix(strings.TrimSpace(cells[0]), "---") {
				for _, m := range codeSpan.FindAllStringSubmatch(cells[0], -1) {
					out = append(out, call{where, words(m[1])})
				}
			}
		} else {
			functionTable = false
		}
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			if w, ok := afterDaggerCall(m[1]); ok {
				out = append(out, call{where, w})
			}
		}
	}
	return out
}

// workflowCalls finds the calls in a GitHub workflow: the dagger-for-github
// action's `verb: call` with its `args`, `dagger call` in `run` scripts and in
// comments.
func workflowCalls(t *testing.T, file, text string) []call {
	t.Helper()
	var out []call
	for n, line := range strings.Split(text, "\n") {
		if c := strings.Index(line, "#"); c >= 0 {
			if w, ok := afterDaggerCall(line[c:]); ok {
				out = append(out, call{fmt.Sprintf("%s:%d", file, n+1), w})
			}
		}
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string            `json:"name"`
				Uses string            `json:"uses"`
				Run  string            `json:"run"`
				With map[string]string `json:"with"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(text), &wf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, job := range sortedKeys(wf.Jobs) {
		for i, s := range wf.Jobs[job].Steps {
			where := fmt.Sprintf("%s: job %s step %d (%s)", file, job, i+1, s.Name)
			if strings.HasPrefix(s.Uses, "dagger/dagger-for-github") && s.With["verb"] == "call" {
				out = append(out, call{where, words(s.With["args"])})
			}
			for _, l := range strings.Split(s.Run, "\n") {
				if w, ok := afterDaggerCall(l); ok {
					out = append(out, call{where, w})
				}
			}
		}
	}
	return out
}

// documentedCalls gathers every `dagger call` of README.md, docs/,
// .github/workflows and the Makefile.
func documentedCalls(t *testing.T) []call {
	t.Helper()
	var files []string
	for _, pattern := range []string{"README.md", "docs/*.md", "docs/*/*.md", ".github/workflows/*.yml", ".github/workflows/*.yaml", "Makefile"} {
		m, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var out []call
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot, f)
		switch {
		case strings.HasSuffix(f, ".md"):
			out = append(out, markdownCalls(rel, string(data))...)
		case strings.Contains(rel, ".github"):
			out = append(out, workflowCalls(t, rel, string(data))...)
		default:
			for n, line := range strings.Split(string(data), "\n") {
				if w, ok := afterDaggerCall(line); ok {
					out = append(out, call{fmt.Sprintf("%s:%d", rel, n+1), w})
				}
			}
		}
	}
	return out
}

// Every `dagger call` the README, the docs, the workflows and the Makefile tell
// a user to type is one the CLI accepts: known functions and flags, required
// flags given, chained calls that exist on what the function returns.
func TestDocumentedDaggerCallsAreAccepted(t *testing.T) {
	m := readModule(t)
	core := coreTypes(t)
	calls := documentedCalls(t)
	checked := map[string]bool{}
	for _, c := range calls {
		if err := m.check(c.words, core); err != nil {
			t.Errorf("%s: dagger call %s: %v", c.where, strings.Join(c.words, " "), err)
		}
		for _, w := range c.words {
			if _, ok := m.functions[w]; ok {
				checked[w] = true
			}
		}
	}
	if len(calls) < 20 {
		t.Errorf("found only %d dagger call lines: the extraction is broken", len(calls))
	}
	for _, fn := range []string{"test", "deploy", "up", "db-tunnel", "smoke"} {
		if !checked[fn] {
			t.Errorf("no documented call of %q was checked: the README's entry points must be covered", fn)
		}
	}
}

// The checker refuses what the engine's CLI refuses.
func TestCallChecker(t *testing.T) {
	m := readModule(t)
	core := coreTypes(t)
	for line, want := range map[string]string{
		"up up --ports=8080:80":                        "",
		"… deploy --env=dev export --path=deploy-dev":  "",
		"--aws-access-key-id=env://X deploy --env dev": "",
		"sbom --service <name>":                        "",
		"smoke --url=http://<elastic ip>":              "",
		"--commit=${{ github.sha }} test":              "",
		"deploy":                                       "needs --env",
		"deploy --env=dev --bogus":                     "unknown flag --bogus",
		"dbtunnel --env=dev":                           "unknown function",
		"smoke --url=x export --path=y":                "returns a value",
		"build --service=x up":                         "has no function",
		"up up --bogus=1":                              "unknown flag --bogus",
	} {
		err := m.check(words(line), core)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", line, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", line, err, want)
		}
	}
	got := markdownCalls("x.md", "a `dagger call test` b\n```sh\ndagger call \\\n  --commit=x deploy --env=dev   # c\n```\n```mermaid\na([dagger call])\n```\n"+
		"| `dagger call` function | x |\n|---|---|\n| `plan --env=dev`, `up` | y |\n\nafter `x`\n")
	var lines []string
	for _, c := range got {
		lines = append(lines, c.where+" "+strings.Join(c.words, " "))
	}
	want := []string{"x.md:1 test", "x.md:3 --commit=x deploy --env=dev", "x.md:11 plan --env=dev", "x.md:11 up"}
	if !slices.Equal(lines, want) {
		b, _ := json.Marshal(lines)
		t.Errorf("markdown calls = %s, want %q", b, want)
	}
}
