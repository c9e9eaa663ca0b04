// Package terraformrules holds the offline checks of the Terraform configurations
// (terraform/bootstrap, terraform/platform) and of the environments' inputs
// (environments/<env>/terraform.tfvars, backend.hcl): what can be proven
// without downloading a provider or module. The checks are plain functions
// that return findings with file and line; the package's tests run them on the
// repository and on deliberately broken fixtures. They read the files with
// internal/tfvars, which the preflight ships with; its region and backend rules
// are tested here too, on the same fixtures.
package terraformrules

import "github.com/orders-platform/orders/internal/tfvars"

// Variable describes a declared input variable.
type Variable struct {
	Name        string
	File        string
	Line        int
	HasType     bool
	Description string
	HasDefault  bool
}

// Variables returns the variables m declares, by name.
func Variables(m *tfvars.Module) map[string]Variable {
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
			if s, ok := tfvars.LiteralString(d.Expr); ok {
				v.Description = s
			}
		}
		out[v.Name] = v
	}
	return out
}

// Outputs returns the output names m declares, with their location.
func Outputs(m *tfvars.Module) map[string]tfvars.Finding {
	out := map[string]tfvars.Finding{}
	for _, b := range m.Blocks("output") {
		if len(b.Block.Labels) == 1 {
			out[b.Block.Labels[0]] = tfvars.Finding{File: b.File.Path, Line: b.Block.DefRange().Start.Line}
		}
	}
	return out
}
