package terraformrules

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/orders-platform/orders/internal/tfvars"
)

var (
	// exactVersion accepts "1.2.3" and "= 1.2.3": Terraform treats both as one
	// exact version. Ranges (~>, >=, !=, partial versions) are refused.
	exactVersion = regexp.MustCompile(`^=?\s*v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	// registrySource is <namespace>/<name>/<provider>[//subdir], optionally
	// behind a registry host.
	registrySource = regexp.MustCompile(`^([a-z0-9.-]+\.[a-z]{2,}/)?[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+(//.*)?$`)
	// pinnedRef is ?ref=<40-hex commit> or ?ref=<vX.Y.Z tag>.
	pinnedRef = regexp.MustCompile(`[?&]ref=([0-9a-f]{40}|v?\d+\.\d+\.\d+)($|&)`)
)

// CheckPinned reports modules and providers not pinned to one exact version:
// registry modules need version = "X.Y.Z", other remote sources ?ref=<tag|sha>,
// every required provider an exact version, and every provider a resource uses
// must be declared in required_providers (else Terraform picks the newest).
func CheckPinned(m *tfvars.Module) []tfvars.Finding {
	var out []tfvars.Finding
	add := func(file string, line int, format string, args ...any) {
		out = append(out, tfvars.Finding{File: file, Line: line, Check: "pinned", Msg: fmt.Sprintf(format, args...)})
	}

	for _, b := range m.Blocks("module") {
		name := strings.Join(b.Block.Labels, ".")
		line := b.Block.DefRange().Start.Line
		srcAttr, ok := b.Block.Body.Attributes["source"]
		if !ok {
			add(b.File.Path, line, "module %q has no source", name)
			continue
		}
		src, ok := tfvars.LiteralString(srcAttr.Expr)
		if !ok {
			add(b.File.Path, srcAttr.SrcRange.Start.Line, "module %q: source must be a literal string", name)
			continue
		}
		switch {
		case strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../"):
			// Local module: versioned with this repository.
		case registrySource.MatchString(src):
			vAttr, ok := b.Block.Body.Attributes["version"]
			if !ok {
				add(b.File.Path, line, "module %q (%s) has no version; pin one exact version", name, src)
				continue
			}
			v, ok := tfvars.LiteralString(vAttr.Expr)
			if !ok || !exactVersion.MatchString(strings.TrimSpace(v)) {
				add(b.File.Path, vAttr.SrcRange.Start.Line, "module %q (%s) version %q is not one exact version (X.Y.Z)", name, src, v)
			}
		default:
			if !pinnedRef.MatchString(src) {
				add(b.File.Path, srcAttr.SrcRange.Start.Line, "module %q source %q is not pinned to a tag or commit (?ref=vX.Y.Z or a 40-hex commit)", name, src)
			}
		}
	}

	declared := map[string]bool{}
	sawTerraformBlock := false
	for _, b := range m.Blocks("terraform") {
		sawTerraformBlock = true
		if _, ok := b.Block.Body.Attributes["required_version"]; !ok {
			add(b.File.Path, b.Block.DefRange().Start.Line, "terraform block has no required_version")
		}
		for _, rp := range b.Block.Body.Blocks {
			if rp.Type != "required_providers" {
				continue
			}
			names := make([]string, 0, len(rp.Body.Attributes))
			for n := range rp.Body.Attributes {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				attr := rp.Body.Attributes[n]
				declared[n] = true
				line := attr.SrcRange.Start.Line
				obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
				if !ok {
					add(b.File.Path, line, "provider %q: use { source = ..., version = \"X.Y.Z\" }", n)
					continue
				}
				var version, source string
				var hasVersion, hasSource bool
				for _, item := range obj.Items {
					k, ok := objectKey(item.KeyExpr)
					if !ok {
						continue
					}
					val, isLit := tfvars.LiteralString(item.ValueExpr)
					switch k {
					case "version":
						hasVersion, version = true, val
						if !isLit {
							version = "<expression>"
						}
					case "source":
						hasSource, source = true, val
					}
				}
				if !hasSource || source == "" {
					add(b.File.Path, line, "provider %q has no source", n)
				}
				if !hasVersion {
					add(b.File.Path, line, "provider %q has no version; pin one exact version", n)
				} else if !exactVersion.MatchString(strings.TrimSpace(version)) {
					add(b.File.Path, line, "provider %q version %q is not one exact version (X.Y.Z)", n, version)
				}
			}
		}
	}
	if !sawTerraformBlock && len(m.Files) > 0 {
		add(m.Files[0].Path, 1, "no terraform block with required_version and required_providers")
	}

	// Providers used implicitly by resources, data sources and ephemeral resources.
	reported := map[string]bool{}
	for _, typ := range []string{"resource", "data", "ephemeral"} {
		for _, b := range m.Blocks(typ) {
			if len(b.Block.Labels) == 0 {
				continue
			}
			rt := b.Block.Labels[0]
			if typ == "data" && rt == "terraform_remote_state" {
				continue
			}
			if rt == "terraform_data" {
				continue
			}
			prov, _, _ := strings.Cut(rt, "_")
			if !declared[prov] && !reported[prov] {
				reported[prov] = true
				add(b.File.Path, b.Block.DefRange().Start.Line, "%s %q uses provider %q, which is not in required_providers (so not pinned)", typ, rt, prov)
			}
		}
	}
	return out
}

// objectKey returns the name of an object constructor key (bare word or string).
func objectKey(e hclsyntax.Expression) (string, bool) {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if t, ok := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); ok && len(t.Traversal) == 1 {
			return t.Traversal.RootName(), true
		}
		return tfvars.LiteralString(k.Wrapped)
	}
	return "", false
}

// CheckVariables reports variables without a type or a description.
func CheckVariables(m *tfvars.Module) []tfvars.Finding {
	vars := Variables(m)
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []tfvars.Finding
	for _, n := range names {
		v := vars[n]
		if !v.HasType {
			out = append(out, tfvars.Finding{File: v.File, Line: v.Line, Check: "variables", Msg: fmt.Sprintf("variable %q has no type", n)})
		}
		if strings.TrimSpace(v.Description) == "" {
			out = append(out, tfvars.Finding{File: v.File, Line: v.Line, Check: "variables", Msg: fmt.Sprintf("variable %q has no description (a literal, non-empty string)", n)})
		}
	}
	return out
}

// CheckTfvars reports assignments in a .tfvars file to variables the module
// does not declare, and variables without default that the file does not set.
// When env is not empty and the module declares "environment", the file must
// set it to env (the folder name), so that state keys and resource names follow
// the folder.
func CheckTfvars(m *tfvars.Module, tfvarsPath, env string) []tfvars.Finding {
	f, fs, err := tfvars.ParseFile(tfvarsPath)
	if err != nil {
		return []tfvars.Finding{{File: tfvarsPath, Line: 1, Check: "tfvars", Msg: err.Error()}}
	}
	if f == nil {
		return fs
	}
	vars := Variables(m)
	var out []tfvars.Finding
	attrs := sortedAttributes(f.Body)
	for _, a := range attrs {
		if _, ok := vars[a.Name]; !ok {
			out = append(out, tfvars.Finding{File: tfvarsPath, Line: a.SrcRange.Start.Line, Check: "tfvars",
				Msg: fmt.Sprintf("sets %q, which %s does not declare", a.Name, m.Dir)})
		}
	}
	for _, b := range f.Body.Blocks {
		out = append(out, tfvars.Finding{File: tfvarsPath, Line: b.DefRange().Start.Line, Check: "tfvars", Msg: fmt.Sprintf("unexpected block %q in a tfvars file", b.Type)})
	}
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, set := f.Body.Attributes[n]; !vars[n].HasDefault && !set {
			out = append(out, tfvars.Finding{File: tfvarsPath, Line: 1, Check: "tfvars",
				Msg: fmt.Sprintf("does not set required variable %q (declared at %s:%d)", n, vars[n].File, vars[n].Line)})
		}
	}
	if _, ok := vars["environment"]; ok && env != "" {
		if a, ok := f.Body.Attributes["environment"]; ok {
			if v, lit := tfvars.LiteralString(a.Expr); !lit || v != env {
				out = append(out, tfvars.Finding{File: tfvarsPath, Line: a.SrcRange.Start.Line, Check: "tfvars",
					Msg: fmt.Sprintf("environment = %q must equal the folder name %q", v, env)})
			}
		}
	}
	return out
}

func sortedAttributes(b *hclsyntax.Body) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(b.Attributes))
	for _, a := range b.Attributes {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}

// CheckOutputs reports names the pipeline reads that the module does not output.
func CheckOutputs(m *tfvars.Module, names []string) []tfvars.Finding {
	have := Outputs(m)
	var out []tfvars.Finding
	file := filepath.Join(m.Dir, "outputs.tf")
	for _, n := range names {
		if _, ok := have[n]; !ok {
			out = append(out, tfvars.Finding{File: file, Line: 1, Check: "outputs",
				Msg: fmt.Sprintf("output %q, read by the pipeline (internal/tfoutputs), is not declared in %s", n, m.Dir)})
		}
	}
	return out
}
