package enginerules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// SDKModule is the published Go SDK at the engine's version: its core client is
// the API the engine's codegen emits into ci/internal/dagger.
const SDKModule = "dagger.io/dagger@v0.21.8"

// daggerConfig is the part of dagger.json the engine reads to load a module
// (core/modules/config.go@v0.21.8).
type daggerConfig struct {
	Name          string   `json:"name"`
	EngineVersion string   `json:"engineVersion"`
	Source        string   `json:"source"`
	Include       []string `json:"include"`
	Exclude       []string `json:"exclude"`
	SDK           struct {
		Source string `json:"source"`
	} `json:"sdk"`
}

func readDaggerConfig(t *testing.T) daggerConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "dagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg daggerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("dagger.json: %v", err)
	}
	return cfg
}

// loadPatterns are the include patterns the engine hands to the host
// directory load of a local module whose dagger.json sits at the context root
// (the git root):
//   - the config file and the source folder, always (loadModuleSourceContext,
//     core/schema/modulesource.go@v0.21.8);
//   - "include" rebased onto the context, a leading "!" kept as an exclusion
//     (rebasePatterns, same file); a path escaping the context is an error;
//   - "exclude" turned into "!"-includes appended after them (the deprecated
//     field, core/modules/config.go@v0.21.8, ModuleConfig.UnmarshalJSON);
//   - each cleaned with filepath.Join (core/schema/host.go@v0.21.8).
func loadPatterns(cfg daggerConfig) ([]string, error) {
	include := slices.Clone(cfg.Include)
	for _, e := range cfg.Exclude {
		switch {
		case e == "":
		case strings.HasPrefix(e, "!"):
			include = append(include, e[1:])
		default:
			include = append(include, "!"+e)
		}
	}
	source := cfg.Source
	if source == "" && cfg.SDK.Source != "" {
		source = "."
	}
	patterns := []string{"dagger.json"}
	if source == "." {
		patterns = append(patterns, "*") // "." matches nothing; the engine uses "*"
	} else if source != "" {
		if !filepath.IsLocal(source) {
			return nil, fmt.Errorf("source %q leaves the context", source)
		}
		patterns = append(patterns, filepath.Clean(source))
	}
	for _, p := range include {
		neg := strings.HasPrefix(p, "!")
		p = filepath.Join(".", strings.TrimPrefix(p, "!"))
		if !filepath.IsLocal(p) {
			return nil, fmt.Errorf("include/exclude path %q escapes the context", p)
		}
		if neg {
			p = "!" + p
		}
		patterns = append(patterns, p)
	}
	return patterns, nil
}

// gitFiles lists the repository's files as the engine sees a local context
// loaded with gitignore=true: tracked and untracked files, minus what
// .gitignore excludes (also when tracked).
func gitFiles(t *testing.T, root string) []string {
	t.Helper()
	list := func(args ...string) []string {
		out, err := exec.Command("git", append([]string{"-C", root, "ls-files", "-z"}, args...)...).Output()
		if err != nil {
			t.Fatalf("git ls-files %v: %v (the test needs a git checkout, as the engine's gitignore filter does)", args, err)
		}
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		return files
	}
	ignored := map[string]bool{}
	for _, f := range list("--cached", "--ignored", "--exclude-standard") {
		ignored[f] = true
	}
	var files []string
	for _, f := range list("--cached", "--others", "--exclude-standard") {
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil && !ignored[f] {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return slices.Compact(files)
}

// engineLoads is the files of the repository that the engine loads for the
// module, matched as fsutil's include filter does (moby/patternmatcher,
// MatchesOrParentMatches; internal/fsutil/filter.go@v0.21.8).
func engineLoads(t *testing.T, cfg daggerConfig) []string {
	t.Helper()
	patterns, err := loadPatterns(cfg)
	if err != nil {
		t.Fatalf("dagger.json: %v", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf("dagger.json include patterns %v: %v", patterns, err)
	}
	var loaded []string
	for _, f := range gitFiles(t, repoRoot) {
		ok, err := pm.MatchesOrParentMatches(f)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			loaded = append(loaded, f)
		}
	}
	return loaded
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// goCmd runs the go command in dir as the engine's Go SDK container does: its
// own module, no workspace, no toolchain download; the module proxy as this
// machine has it configured.
func goCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// sdkDir is the published SDK's directory in the Go module cache.
func sdkDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", SDKModule).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", SDKModule, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download %s: no directory (%v): %s", SDKModule, err, out)
	}
	return m.Dir
}

// standInClient writes the generated package dagger/orders/internal/dagger as
// the engine's codegen would, from the published SDK at the same version: every
// exported type, constant and function of its core client under the same name
// (type aliases), and Connect() *Client, the generated package's constructor of
// the global client (cmd/codegen/generator/go/templates/src/internal/dagger at
// v0.21.8), connected to the session the engine gives the function.
func standInClient(t *testing.T, sdk string) string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, sdk, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types, values []string
	for _, f := range pkgs["dagger"].Files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() && s.TypeParams == nil {
							types = append(types, s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								values = append(values, n.Name)
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() && d.Type.TypeParams == nil && d.Name.Name != "Connect" {
					values = append(values, d.Name.Name)
				}
			}
		}
	}
	if len(types) < 100 {
		t.Fatalf("%s: found only %d exported types in the SDK: not the core client", SDKModule, len(types))
	}
	sort.Strings(types)
	sort.Strings(values)
	var b strings.Builder
	fmt.Fprintf(&b, "// Stand-in for the engine's generated client: the core API of %s.\npackage dagger\n\n", SDKModule)
	b.WriteString("import (\n\t\"context\"\n\n\tsdk \"dagger.io/dagger\"\n)\n\n")
	for _, n := range types {
		fmt.Fprintf(&b, "type %s = sdk.%s\n", n, n)
	}
	b.WriteString("\nvar (\n")
	for _, n := range values {
		fmt.Fprintf(&b, "\t%s = sdk.%s\n", n, n)
	}
	b.WriteString(")\n\n// Connect is the global client of the module's session.\nfunc Connect() *Client {\n" +
		"\tc, err := sdk.Connect(context.Background())\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\treturn c\n}\n")
	return b.String()
}

// standInMain is the engine's generated dagger.gen.go of package main: the
// global `dag` and the other top-level names its template declares
// (cmd/codegen/generator/go/templates/src/_dagger.gen.go/module.go.tmpl and
// modules.go, invokeFuncName, at v0.21.8), so that module code clashing with
// one of them fails here as it would there.
const standInMain = `// Stand-in for the engine's generated dagger.gen.go.
package main

import (
	"context"

	"dagger/orders/internal/dagger"
)

var dag = dagger.Connect()

var marshalCtx = context.Background()

func Tracer() any { return nil }

func setMarshalContext(ctx context.Context) { marshalCtx = ctx }

type DaggerObject interface {
	ID(ctx context.Context) (dagger.ID, error)
}

type ExecError = dagger.ExecError

func ptr[T any](v T) *T { return &v }

func convertSlice[I any, O any](in []I, f func(I) O) []O {
	out := make([]O, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func invoke(ctx context.Context, parentJSON []byte, parentName string, fnName string, inputArgs map[string][]byte) (_ any, err error) {
	_ = inputArgs
	return nil, nil
}

func main() {
	_, _ = invoke(context.Background(), nil, "", "", nil)
	setMarshalContext(context.Background())
	_ = dag
}
`

// The module builds and vets from exactly the files the engine loads: a file
// the module needs (through ci/go.mod's replace of the root module) that the
// engine would not load fails here with the missing package or go.mod.
func TestModuleBuildsFromWhatTheEngineLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module: not in -short")
	}
	cfg := readDaggerConfig(t)
	if cfg.SDK.Source != "go" || cfg.Source == "" {
		t.Fatalf("dagger.json: want a Go module with a source folder, got sdk %q source %q", cfg.SDK.Source, cfg.Source)
	}
	loaded := engineLoads(t, cfg)
	dir := t.TempDir()
	for _, f := range loaded {
		copyFile(t, filepath.Join(repoRoot, f), filepath.Join(dir, f))
	}
	src := filepath.Join(dir, cfg.Source)
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		t.Fatalf("the engine loads no %s/go.mod: %v", cfg.Source, err)
	}
	gen := filepath.Join(src, "internal", "dagger", "dagger.gen.go")
	if err := os.MkdirAll(filepath.Dir(gen), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gen, []byte(standInClient(t, sdkDir(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "dagger.gen.go"), []byte(standInMain), 0o644); err != nil {
		t.Fatal(err)
	}
	// The codegen's post-commands end with `go mod tidy` in the source folder
	// (syncModReplaceAndTidy, cmd/codegen/generator/go/generate_module.go@v0.21.8);
	// the runtime then runs `go build` there (core/sdk/go_sdk.go@v0.21.8, Runtime).
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", os.DevNull, "."}, {"vet", "./..."}} {
		if out, err := goCmd(t, src, args...); err != nil {
			t.Fatalf("go %s in the module as the engine loads it (%d files: %s) failed: %v\n%s",
				strings.Join(args, " "), len(loaded), summarize(loaded), err, out)
		}
	}
}

// summarize names the folders the loaded files are in.
func summarize(files []string) string {
	seen := map[string]bool{}
	var dirs []string
	for _, f := range files {
		d := path.Dir(f)
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return strings.Join(dirs, ", ")
}

// The engine's rules as implemented above, on cases read in its source.
func TestLoadPatterns(t *testing.T) {
	cfg := daggerConfig{Source: "ci", Include: []string{"go.mod", "pipeline/*.go", "!**/*_test.go"}, Exclude: []string{"pipeline/tmp.go"}}
	cfg.SDK.Source = "go"
	got, err := loadPatterns(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dagger.json", "ci", "go.mod", "pipeline/*.go", "!**/*_test.go", "!pipeline/tmp.go"}
	if !slices.Equal(got, want) {
		t.Errorf("patterns = %q, want %q", got, want)
	}
	pm, err := patternmatcher.New(got)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]bool{
		"dagger.json": true, "ci/main.go": true, "ci/go.mod": true, "go.mod": true, "go.sum": false,
		"pipeline/up.go": true, "pipeline/up_test.go": false, "pipeline/tmp.go": false, "internal/charts/charts.go": false,
	} {
		if got, _ := pm.MatchesOrParentMatches(f); got != want {
			t.Errorf("%s loaded = %v, want %v", f, got, want)
		}
	}
	if _, err := loadPatterns(daggerConfig{Source: "ci", Include: []string{"../outside"}}); err == nil {
		t.Error("an include leaving the context is accepted; the engine refuses it")
	}
}
