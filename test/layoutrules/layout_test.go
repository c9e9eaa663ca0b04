package layoutrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// goPackage is what `go list -json` says of one package.
type goPackage struct {
	ImportPath, Name string
	// Imports are those of its non-test files: what ships with it.
	Imports []string
}

// listPackages lists every package of the Go module at root.
func listPackages(root string) ([]goPackage, error) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Name,Imports", "./...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %v\n%s", root, err, stderr.String())
	}
	var pkgs []goPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
}

// ciImports are the imports of the Dagger module's source files (ci/*.go):
// the engine builds it, with the root module replaced by the repository.
func ciImports(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			return nil, err
		}
		for _, imp := range ast.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// shipped are the folders whose packages ship; proof is the one whose packages never do.
var (
	shipped = []string{"cmd", "internal", "pipeline"}
	proof   = "test"
)

// layoutProblems checks the packages of module against the layout. entry are
// the import paths the Dagger module imports; the programs under cmd/ are the
// other entry points. Everything the entry points import (not their tests)
// ships.
func layoutProblems(module string, pkgs []goPackage, entry []string) []string {
	byPath := map[string]goPackage{}
	var queue []string
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
		if p.Name == "main" && topFolder(module, p.ImportPath) == "cmd" {
			queue = append(queue, p.ImportPath)
		}
	}
	for _, e := range entry {
		if _, ok := byPath[e]; ok {
			queue = append(queue, e)
		}
	}
	ships := map[string]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if ships[p] {
			continue
		}
		ships[p] = true
		for _, imp := range byPath[p].Imports {
			if _, ours := byPath[imp]; ours {
				queue = append(queue, imp)
			}
		}
	}
	var out []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		switch top := topFolder(module, p.ImportPath); {
		case top == proof:
			if ships[p.ImportPath] {
				out = append(out, fmt.Sprintf("%s ships (a command or the Dagger module imports it): test/ is for what never ships", rel))
			}
		case slices.Contains(shipped, top):
			if !ships[p.ImportPath] {
				out = append(out, fmt.Sprintf("%s: neither a command nor the Dagger module imports it, only tests do: move it under test/", rel))
			}
			for _, imp := range p.Imports {
				if topFolder(module, imp) == proof {
					out = append(out, fmt.Sprintf("%s imports %s outside its _test.go files: shipped code must not depend on test/", rel, strings.TrimPrefix(imp, module+"/")))
				}
			}
		default:
			out = append(out, fmt.Sprintf("%s is neither under %s (shipped) nor under %s/ (proof)", rel, strings.Join(shipped, "/, ")+"/", proof))
		}
	}
	return out
}

// topFolder is the first folder of a package of module ("" for the root
// package and for other modules' packages).
func topFolder(module, importPath string) string {
	rel, ok := strings.CutPrefix(importPath, module+"/")
	if !ok {
		return ""
	}
	top, _, _ := strings.Cut(rel, "/")
	return top
}

// checkLayout lists the module at root and checks it against the layout: the
// entry points are the programs under cmd/ and what ci/ imports.
func checkLayout(root, module string) (problems, entry []string, err error) {
	pkgs, err := listPackages(root)
	if err != nil {
		return nil, nil, err
	}
	if entry, err = ciImports(filepath.Join(root, "ci")); err != nil {
		return nil, nil, err
	}
	return layoutProblems(module, pkgs, entry), entry, nil
}

// The repository as it is: every package's folder says whether it ships.
func TestRepositoryLayout(t *testing.T) {
	const module = "github.com/orders-platform/orders"
	problems, entry, err := checkLayout("../..", module)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(entry, module+"/pipeline") {
		t.Fatalf("ci/ imports %v: the Dagger module no longer runs pipeline/; say here what it runs", entry)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// The rule on a module made to break it in each way: a package under
// internal/ that only a test imports, shipped code importing test/ (a test
// file may), a test/ package that thereby ships, and a folder of neither kind.
func TestLayoutProblems(t *testing.T) {
	file := func(src string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(src), Mode: 0o644} }
	dir := t.TempDir()
	err := os.CopyFS(dir, fstest.MapFS{
		"go.mod":                     file("module example.com/m\n\ngo 1.26\n"),
		"cmd/app/main.go":            file("package main\n\nimport _ \"example.com/m/internal/run\"\n\nfunc main() {}\n"),
		"internal/run/run.go":        file("package run\n\nimport _ \"example.com/m/test/harness\"\n"),
		"internal/run/run_test.go":   file("package run\n\nimport _ \"example.com/m/internal/helper\"\n"),
		"internal/helper/helper.go":  file("package helper\n"),
		"internal/ok/ok.go":          file("package ok\n"),
		"internal/ok/ok_test.go":     file("package ok\n\nimport _ \"example.com/m/test/harness\"\n"),
		"pipeline/pipeline.go":       file("package pipeline\n\nimport _ \"example.com/m/internal/ok\"\n"),
		"test/harness/harness.go":    file("package harness\n"),
		"test/checks/checks_test.go": file("package checks\n\nimport _ \"example.com/m/internal/ok\"\n"),
		"tools/stray/stray.go":       file("package stray\n"),
		"ci/main.go":                 file("package main\n\nimport _ \"example.com/m/pipeline\"\n"),
		"ci/go.mod":                  file("module dagger/m\n\ngo 1.26\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := checkLayout(dir, "example.com/m")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"internal/helper: neither a command nor the Dagger module imports it, only tests do: move it under test/",
		"internal/run imports test/harness outside its _test.go files: shipped code must not depend on test/",
		"test/harness ships (a command or the Dagger module imports it): test/ is for what never ships",
		"tools/stray is neither under cmd/, internal/, pipeline/ (shipped) nor under test/ (proof)",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
