// Package tfcheck holds the offline checks of the Terraform configurations
// (terraform/bootstrap, terraform/platform) and of the environments' inputs
// (environments/<env>/terraform.tfvars, backend.hcl): what can be proven
// without downloading a provider or module. The checks are plain functions
// that return findings with file and line; the package's tests run them on the
// repository and on deliberately broken fixtures.
package tfcheck

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

// Variable describes a declared input variable.
type Variable struct {
	Name        string
	File        string
	Line        int
	HasType     bool
	Description string
	HasDefault  bool
}

// Variables returns the declared variables by name.
func (m *Module) Variables() map[string]Variable {
	out := map[string]Variable{}
	for _, b := range m.Blocks("variable") {
		if len(b.Block.Labels) != 1 {
			continue
		}
		v := Variable{Name: b.Block.Labels[0], File: b.File.Path, Line: b.Block.DefRange().Start.Line}
		attrs := b.Block.Body.Attributes
		_, v.HasType = attrs["type"]
		_, v.HasDefault = attrs["default"]
		if d, ok := attrs["description"]; ok {
			if s, ok := literalString(d.Expr); ok {
				v.Description = s
			}
		}
		out[v.Name] = v
	}
	return out
}

// Outputs returns the declared output names with their location.
func (m *Module) Outputs() map[string]Finding {
	out := map[string]Finding{}
	for _, b := range m.Blocks("output") {
		if len(b.Block.Labels) == 1 {
			out[b.Block.Labels[0]] = Finding{File: b.File.Path, Line: b.Block.DefRange().Start.Line}
		}
	}
	return out
}

// literalString returns the value of an expression that is a plain string
// literal (no interpolation, no function call).
func literalString(e hclsyntax.Expression) (string, bool) {
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

// literalBool returns the value of a literal true/false.
func literalBool(e hclsyntax.Expression) (bool, bool) {
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

// EnvironmentValue is the value environment env gives variable name of
// terraform/platform (under root): its terraform.tfvars assignment, else the
// variable's default. Only literal values can be read; found is false when neither
// sets one.
func EnvironmentValue(root, env, name string) (v cty.Value, found bool, err error) {
	tfvars := filepath.Join(root, "environments", env, "terraform.tfvars")
	f, fs, err := ParseFile(tfvars)
	if err != nil || len(fs) > 0 {
		return cty.NilVal, false, fmt.Errorf("%s: %v %v", tfvars, err, fs)
	}
	if a, ok := f.Body.Attributes[name]; ok {
		return literalValue(tfvars, name, a.Expr)
	}
	m, fs, err := LoadModule(filepath.Join(root, "terraform", "platform"))
	if err != nil || len(fs) > 0 {
		return cty.NilVal, false, fmt.Errorf("terraform/platform: %v %v", err, fs)
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
