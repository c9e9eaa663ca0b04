// Package tfvars reads what the repository's Terraform inputs set, offline: the
// value an environment gives a variable of terraform/platform (its
// environments/<env>/terraform.tfvars over the variable's default), the values
// of terraform/bootstrap, and the rules a deploy relies on before any call: the
// region written once and alike everywhere, and each environment's backend.hcl.
// The preflight (internal/preflight) and the pipeline read environments with it;
// the checks of the Terraform configurations (test/terraformrules) build on the
// same parser.
//
// Only literal values are read: nothing is evaluated, no provider or module is
// downloaded.
package tfvars

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Layout of the repository, relative to its root.
const (
	BootstrapDir    = "terraform/bootstrap"
	PlatformDir     = "terraform/platform"
	EnvironmentsDir = "environments"
	// WorkflowsDir holds the GitHub Actions workflows.
	WorkflowsDir = ".github/workflows"
)

// Finding is one problem, located in a file.
type Finding struct {
	File  string
	Line  int
	Check string
	Msg   string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: [%s] %s", f.File, f.Line, f.Check, f.Msg)
}

// File is one parsed HCL file.
type File struct {
	Path string
	Src  []byte
	Body *hclsyntax.Body
}

// Module is a Terraform root or child module: the *.tf files of one directory.
type Module struct {
	Dir   string
	Files []*File
}

// LoadModule parses every *.tf file in dir (not recursive). Syntax errors are
// returned as findings, so a broken file is reported like any other problem.
func LoadModule(dir string) (*Module, []Finding, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, nil, err
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("no *.tf files in %s", dir)
	}
	sort.Strings(paths)
	m := &Module{Dir: dir}
	var findings []Finding
	for _, p := range paths {
		f, fs, err := ParseFile(p)
		if err != nil {
			return nil, nil, err
		}
		findings = append(findings, fs...)
		if f != nil {
			m.Files = append(m.Files, f)
		}
	}
	return m, findings, nil
}

// ParseFile parses one HCL file (.tf, .tfvars, .hcl).
func ParseFile(path string) (*File, []Finding, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagFindings("syntax", diags), nil
	}
	return &File{Path: path, Src: src, Body: file.Body.(*hclsyntax.Body)}, nil, nil
}

func diagFindings(check string, diags hcl.Diagnostics) []Finding {
	var out []Finding
	for _, d := range diags {
		f := Finding{Check: check, Msg: d.Summary}
		if d.Detail != "" {
			f.Msg += ": " + d.Detail
		}
		if d.Subject != nil {
			f.File, f.Line = d.Subject.Filename, d.Subject.Start.Line
		}
		out = append(out, f)
	}
	return out
}

// Block is a top-level block with the file it is in.
type Block struct {
	File  *File
	Block *hclsyntax.Block
}

// Blocks returns the top-level blocks of the given type, in file order.
func (m *Module) Blocks(typ string) []Block {
	var out []Block
	for _, f := range m.Files {
		for _, b := range f.Body.Blocks {
			if b.Type == typ {
				out = append(out, Block{File: f, Block: b})
			}
		}
	}
	return out
}

// LiteralString returns the value of an expression that is a plain string
// literal (no interpolation, no function call).
func LiteralString(e hclsyntax.Expression) (string, bool) {
	switch x := e.(type) {
	case *hclsyntax.TemplateExpr:
		if !x.IsStringLiteral() {
			return "", false
		}
		v, diags := x.Value(nil)
		if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.String) {
			return "", false
		}
		return v.AsString(), true
	case *hclsyntax.LiteralValueExpr:
		if x.Val.Type().Equals(cty.String) && !x.Val.IsNull() {
			return x.Val.AsString(), true
		}
	}
	return "", false
}

// LiteralBool returns the value of a literal true/false.
func LiteralBool(e hclsyntax.Expression) (bool, bool) {
	if x, ok := e.(*hclsyntax.LiteralValueExpr); ok && x.Val.Type().Equals(cty.Bool) && !x.Val.IsNull() {
		return x.Val.True(), true
	}
	return false, false
}

// Relative rewrites finding paths relative to root, for readable reports.
func Relative(root string, fs []Finding) []Finding {
	out := make([]Finding, len(fs))
	for i, f := range fs {
		if r, err := filepath.Rel(root, f.File); err == nil && !strings.HasPrefix(r, "..") {
			f.File = r
		}
		out[i] = f
	}
	return out
}

// Environment is one folder under environments/ that deploys to AWS: it has a
// terraform.tfvars for terraform/platform and a backend.hcl for its state.
// Folders without terraform.tfvars (local) are not Terraform environments.
type Environment struct {
	Name    string
	Dir     string
	Tfvars  string
	Backend string
}

// Environments lists the Terraform environments of the repository at root.
func Environments(root string) ([]Environment, error) {
	entries, err := os.ReadDir(filepath.Join(root, EnvironmentsDir))
	if err != nil {
		return nil, err
	}
	var out []Environment
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, EnvironmentsDir, e.Name())
		tfvars := filepath.Join(dir, "terraform.tfvars")
		if _, err := os.Stat(tfvars); err != nil {
			continue
		}
		out = append(out, Environment{Name: e.Name(), Dir: dir, Tfvars: tfvars, Backend: filepath.Join(dir, "backend.hcl")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// EnvironmentValue is the value environment env gives variable name of
// terraform/platform (under root): its terraform.tfvars assignment, else the
// variable's default. Only literal values can be read; found is false when neither
// sets one.
func EnvironmentValue(root, env, name string) (v cty.Value, found bool, err error) {
	tfvars := filepath.Join(root, EnvironmentsDir, env, "terraform.tfvars")
	f, fs, err := ParseFile(tfvars)
	if err != nil || len(fs) > 0 {
		return cty.NilVal, false, fmt.Errorf("%s: %v %v", tfvars, err, fs)
	}
	if a, ok := f.Body.Attributes[name]; ok {
		return literalValue(tfvars, name, a.Expr)
	}
	m, fs, err := LoadModule(filepath.Join(root, PlatformDir))
	if err != nil || len(fs) > 0 {
		return cty.NilVal, false, fmt.Errorf("%s: %v %v", PlatformDir, err, fs)
	}
	for _, b := range m.Blocks("variable") {
		if len(b.Block.Labels) == 1 && b.Block.Labels[0] == name {
			if a, ok := b.Block.Body.Attributes["default"]; ok {
				return literalValue(b.File.Path, name, a.Expr)
			}
		}
	}
	return cty.NilVal, false, nil
}

func literalValue(file, name string, e hclsyntax.Expression) (cty.Value, bool, error) {
	v, diags := e.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, false, fmt.Errorf("%s: %s is not a literal value: %v", file, name, diags)
	}
	return v, true, nil
}

// BootstrapStrings is the value terraform/bootstrap gives a string or
// list-of-strings variable: its terraform.tfvars assignment, else its default.
func BootstrapStrings(root, name string) ([]string, error) {
	tfvars := filepath.Join(root, BootstrapDir, "terraform.tfvars")
	f, fs, err := ParseFile(tfvars)
	if err != nil || f == nil {
		return nil, fmt.Errorf("%s: %v %v", tfvars, err, fs)
	}
	var v cty.Value
	if a, ok := f.Body.Attributes[name]; ok {
		if v, _, err = literalValue(tfvars, name, a.Expr); err != nil {
			return nil, err
		}
	} else {
		m, fs, err := LoadModule(filepath.Join(root, BootstrapDir))
		if err != nil || len(fs) > 0 {
			return nil, fmt.Errorf("%s: %v %v", BootstrapDir, err, fs)
		}
		for _, b := range m.Blocks("variable") {
			if a, ok := b.Block.Body.Attributes["default"]; ok && b.Block.Labels[0] == name {
				if v, _, err = literalValue(b.File.Path, name, a.Expr); err != nil {
					return nil, err
				}
			}
		}
	}
	switch {
	case v == cty.NilVal || v.IsNull():
		return nil, fmt.Errorf("terraform/bootstrap: %s is neither set in %s nor defaulted", name, tfvars)
	case v.Type() == cty.String:
		return []string{v.AsString()}, nil
	}
	var out []string
	for _, x := range v.AsValueSlice() {
		out = append(out, x.AsString())
	}
	return out, nil
}
