// Package iamrules evaluates the IAM that the Terraform configurations declare,
// offline: the roles of terraform/bootstrap with their trust and permission
// policies, and the EKS access entries of terraform/platform. It renders the
// HCL as Terraform would for the values that can be known without an AWS
// account (variables from terraform.tfvars and their defaults, locals, the names
// and ARNs of the roles and policies the configuration itself creates), and
// evaluates IAM policies the way AWS documents its evaluation logic, so that
// tests can ask which job may assume which role and what each role is refused.
package iamrules

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/orders-platform/orders/internal/tfvars"
	"github.com/orders-platform/orders/test/terraformrules"
)

// Config is a Terraform module rendered for known inputs.
type Config struct {
	Module *tfvars.Module
	ctx    *hcl.EvalContext
}

// Known are values a configuration reads from AWS (data sources, attributes
// computed on apply) that the test fixes, by "<type>.<name>.<attribute>" or
// "data.<type>.<name>.<attribute>", e.g. "data.aws_caller_identity.current.account_id".
type Known map[string]cty.Value

// Load renders the module in dir with the variables set in tfvarsFile (empty:
// defaults only) and the known values. Anything else computed stays unknown.
func Load(dir, tfvarsFile string, known Known) (*Config, error) {
	m, fs, err := tfvars.LoadModule(dir)
	if err != nil {
		return nil, err
	}
	if len(fs) > 0 {
		return nil, fmt.Errorf("%s: %v", dir, fs)
	}
	vars, err := variables(m, tfvarsFile)
	if err != nil {
		return nil, err
	}
	c := &Config{Module: m}
	c.ctx = &hcl.EvalContext{Functions: functions(), Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}}
	// Locals and resources refer to each other: evaluate until nothing changes.
	prev := ""
	for i := 0; i < 30; i++ {
		c.ctx.Variables["local"] = c.locals()
		for typ, v := range c.objects(known) {
			c.ctx.Variables[typ] = v
		}
		cur := fmt.Sprintf("%#v", c.ctx.Variables)
		if cur == prev {
			return c, nil
		}
		prev = cur
	}
	return nil, fmt.Errorf("%s: locals and resources do not settle after 30 rounds", dir)
}

// variables are the declared variables' defaults, overridden by tfvarsFile.
func variables(m *tfvars.Module, tfvarsFile string) (map[string]cty.Value, error) {
	vars := map[string]cty.Value{}
	for _, b := range m.Blocks("variable") {
		name := b.Block.Labels[0]
		vars[name] = cty.DynamicVal
		if a, ok := b.Block.Body.Attributes["default"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, fmt.Errorf("variable %s: default: %v", name, diags)
			}
			vars[name] = v
		}
	}
	if tfvarsFile == "" {
		return vars, nil
	}
	f, fs, err := tfvars.ParseFile(tfvarsFile)
	if err != nil || len(fs) > 0 {
		return nil, fmt.Errorf("%s: %v %v", tfvarsFile, err, fs)
	}
	for name, a := range f.Body.Attributes {
		if _, declared := vars[name]; !declared {
			return nil, fmt.Errorf("%s sets %s, which %s does not declare", tfvarsFile, name, m.Dir)
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s: %v", tfvarsFile, name, diags)
		}
		vars[name] = v
	}
	return vars, nil
}

func (c *Config) locals() cty.Value {
	out := map[string]cty.Value{}
	for _, b := range c.Module.Blocks("locals") {
		for name, a := range b.Block.Body.Attributes {
			v, diags := a.Expr.Value(c.ctx)
			if diags.HasErrors() {
				v = cty.DynamicVal
			}
			out[name] = v
		}
	}
	return cty.ObjectVal(out)
}

// Instance is one instance of a resource or data block: its key (for_each) or
// index (count), and the EvalContext its attributes are evaluated in.
type Instance struct {
	Key   cty.Value // cty.NilVal for a single instance
	Block *hclsyntax.Block
	ctx   *hcl.EvalContext
}

// Attr evaluates an attribute of the instance; an attribute that is not set is an error.
func (i Instance) Attr(name string) (cty.Value, error) {
	a, ok := i.Block.Body.Attributes[name]
	if !ok {
		return cty.NilVal, fmt.Errorf("%s %v has no %s", i.Block.Type, i.Block.Labels, name)
	}
	v, diags := a.Expr.Value(i.ctx)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s %v %s: %v", i.Block.Type, i.Block.Labels, name, diags)
	}
	return v, nil
}

// String evaluates an attribute that must be a known string.
func (i Instance) String(name string) (string, error) {
	v, err := i.Attr(name)
	if err != nil {
		return "", err
	}
	if !v.IsWhollyKnown() || v.IsNull() || !v.Type().Equals(cty.String) {
		return "", fmt.Errorf("%s %v %s is not a known string (%#v)", i.Block.Type, i.Block.Labels, name, v)
	}
	return v.AsString(), nil
}

// Instances are the instances of the block kind ("resource", "data", "module")
// with those labels, in key order.
func (c *Config) Instances(kind string, labels ...string) ([]Instance, error) {
	for _, b := range c.Module.Blocks(kind) {
		if !equal(b.Block.Labels, labels) {
			continue
		}
		return c.instances(b.Block)
	}
	return nil, fmt.Errorf("no %s %v in %s", kind, labels, c.Module.Dir)
}

// Blocks are the labels of every block of that kind and first label.
func (c *Config) Blocks(kind, typ string) [][]string {
	var out [][]string
	for _, b := range c.Module.Blocks(kind) {
		if len(b.Block.Labels) > 0 && b.Block.Labels[0] == typ {
			out = append(out, b.Block.Labels)
		}
	}
	return out
}

func (c *Config) instances(b *hclsyntax.Block) ([]Instance, error) {
	if a, ok := b.Body.Attributes["for_each"]; ok {
		v, diags := a.Expr.Value(c.ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return nil, fmt.Errorf("%s %v: for_each is not known: %v", b.Type, b.Labels, diags)
		}
		var out []Instance
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			if v.Type().IsSetType() {
				k = val
			}
			out = append(out, Instance{Key: k, Block: b, ctx: c.with("each", cty.ObjectVal(map[string]cty.Value{"key": k, "value": val}))})
		}
		return out, nil
	}
	if a, ok := b.Body.Attributes["count"]; ok {
		v, diags := a.Expr.Value(c.ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return nil, fmt.Errorf("%s %v: count is not known: %v", b.Type, b.Labels, diags)
		}
		n, _ := v.AsBigFloat().Int64()
		var out []Instance
		for i := int64(0); i < n; i++ {
			idx := cty.NumberIntVal(i)
			out = append(out, Instance{Key: idx, Block: b, ctx: c.with("count", cty.ObjectVal(map[string]cty.Value{"index": idx}))})
		}
		return out, nil
	}
	return []Instance{{Block: b, ctx: c.ctx}}, nil
}

func (c *Config) with(name string, v cty.Value) *hcl.EvalContext {
	vars := map[string]cty.Value{name: v}
	for k, x := range c.ctx.Variables {
		vars[k] = x
	}
	return &hcl.EvalContext{Functions: c.ctx.Functions, Variables: vars}
}

// objects are the resources (by type), data sources (under "data") and module
// calls (under "module") as Terraform exposes them to expressions: what the
// configuration sets, the names and ARNs of IAM roles and policies derived from
// their names, the known values, and every other attribute that is referred to
// as an unknown string.
func (c *Config) objects(known Known) map[string]cty.Value {
	refs := c.references()
	byType := map[string]map[string]cty.Value{}
	add := func(root, name string, v cty.Value) {
		if byType[root] == nil {
			byType[root] = map[string]cty.Value{}
		}
		byType[root][name] = v
	}
	for _, kind := range []string{"resource", "data", "module"} {
		for _, blk := range c.Module.Blocks(kind) {
			b := blk.Block
			var typ, name, prefix string
			switch kind {
			case "resource":
				typ, name, prefix = b.Labels[0], b.Labels[1], b.Labels[0]+"."+b.Labels[1]
			case "data":
				typ, name, prefix = b.Labels[0], b.Labels[1], "data."+b.Labels[0]+"."+b.Labels[1]
			default:
				typ, name, prefix = "", b.Labels[0], "module."+b.Labels[0]
			}
			one := func(inst Instance) cty.Value {
				attrs := map[string]cty.Value{}
				for a := range refs[prefix] {
					attrs[a] = cty.UnknownVal(cty.String)
				}
				for a := range b.Body.Attributes {
					if v, err := inst.Attr(a); err == nil && kind != "module" {
						attrs[a] = v
					}
				}
				if kind != "module" {
					derive(typ, attrs, known)
				}
				for k, v := range known {
					if a, ok := strings.CutPrefix(k, prefix+"."); ok {
						attrs[a] = v
					}
				}
				return cty.ObjectVal(attrs)
			}
			insts, err := c.instances(b)
			var v cty.Value
			switch {
			case err != nil:
				v = cty.DynamicVal
			case b.Body.Attributes["for_each"] != nil:
				m := map[string]cty.Value{}
				for _, i := range insts {
					m[i.Key.AsString()] = one(i)
				}
				v = cty.ObjectVal(m)
			case b.Body.Attributes["count"] != nil:
				var l []cty.Value
				for _, i := range insts {
					l = append(l, one(i))
				}
				v = cty.TupleVal(l)
				if len(l) == 0 {
					v = cty.EmptyTupleVal
				}
			default:
				v = one(insts[0])
			}
			switch kind {
			case "resource":
				add(typ, name, v)
			case "data":
				if byType["data"] == nil {
					byType["data"] = map[string]cty.Value{}
				}
				inner := byType["data"][typ]
				m := map[string]cty.Value{}
				if inner != cty.NilVal {
					m = inner.AsValueMap()
				}
				m[name] = v
				byType["data"][typ] = cty.ObjectVal(m)
			default:
				add("module", name, v)
			}
		}
	}
	out := map[string]cty.Value{}
	for root, m := range byType {
		out[root] = cty.ObjectVal(m)
	}
	return out
}

// derive sets what AWS computes from a name, for the IAM objects the
// configuration creates or looks up by name: a role's and a policy's ARN and id.
func derive(typ string, attrs map[string]cty.Value, known Known) {
	account, partition := known["data.aws_caller_identity.current.account_id"], known["data.aws_partition.current.partition"]
	name, ok := attrs["name"]
	if !ok || !name.IsKnown() || name.IsNull() || account == cty.NilVal || partition == cty.NilVal {
		return
	}
	switch typ {
	case "aws_iam_role":
		attrs["arn"] = cty.StringVal(fmt.Sprintf("arn:%s:iam::%s:role/%s", partition.AsString(), account.AsString(), name.AsString()))
		attrs["id"] = name
	case "aws_iam_policy":
		arn := cty.StringVal(fmt.Sprintf("arn:%s:iam::%s:policy/%s", partition.AsString(), account.AsString(), name.AsString()))
		attrs["arn"], attrs["id"] = arn, arn
	}
}

// references are the attributes the module reads of each resource, data source
// and module call, by "<type>.<name>" (data. and module. prefixed).
func (c *Config) references() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	var walk func(body *hclsyntax.Body)
	walk = func(body *hclsyntax.Body) {
		for _, a := range body.Attributes {
			for _, tr := range a.Expr.Variables() {
				var parts []string
				for _, step := range tr {
					switch s := step.(type) {
					case hcl.TraverseRoot:
						parts = append(parts, s.Name)
					case hcl.TraverseAttr:
						parts = append(parts, s.Name)
					}
				}
				n := 2
				if parts[0] == "data" {
					n = 3
				}
				if parts[0] == "var" || parts[0] == "local" || parts[0] == "each" || parts[0] == "count" || len(parts) <= n {
					continue
				}
				key := strings.Join(parts[:n], ".")
				if out[key] == nil {
					out[key] = map[string]bool{}
				}
				out[key][parts[n]] = true
			}
		}
		for _, b := range body.Blocks {
			walk(b.Body)
		}
	}
	for _, f := range c.Module.Files {
		walk(f.Body)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// functions are the Terraform functions the configurations use, from go-cty's
// standard library (the same implementations Terraform wraps).
func functions() map[string]function.Function {
	toSet := stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType))
	str := func(f func(s, x string) bool) function.Function {
		return function.New(&function.Spec{
			Params: []function.Parameter{{Name: "s", Type: cty.String}, {Name: "x", Type: cty.String}},
			Type:   function.StaticReturnType(cty.Bool),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
			},
		})
	}
	identity := function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowNull: true, AllowMarked: true}},
		Type:   func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		Impl:   func(args []cty.Value, _ cty.Type) (cty.Value, error) { return args[0], nil },
	})
	alltrue := function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for it := args[0].ElementIterator(); it.Next(); {
				if _, v := it.Element(); v.False() {
					return cty.False, nil
				}
			}
			return cty.True, nil
		},
	})
	return map[string]function.Function{
		"alltrue": alltrue, "can": tryfunc.CanFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
		"distinct": stdlib.DistinctFunc, "endswith": str(strings.HasSuffix), "flatten": stdlib.FlattenFunc,
		"format": stdlib.FormatFunc, "join": stdlib.JoinFunc, "jsondecode": stdlib.JSONDecodeFunc, "jsonencode": stdlib.JSONEncodeFunc,
		"keys": stdlib.KeysFunc, "length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc, "lower": stdlib.LowerFunc,
		"merge": stdlib.MergeFunc, "nonsensitive": identity, "regex": stdlib.RegexFunc, "replace": stdlib.ReplaceFunc,
		"setsubtract": stdlib.SetSubtractFunc, "slice": stdlib.SliceFunc, "startswith": str(strings.HasPrefix), "title": stdlib.TitleFunc,
		"toset": toSet, "try": tryfunc.TryFunc, "upper": stdlib.UpperFunc, "values": stdlib.ValuesFunc,
	}
}

// RepoRoot is the repository root above dir.
func RepoRoot(dir string) (string, error) { return terraformrules.FindRoot(dir) }

// Bootstrap renders terraform/bootstrap of the repository at root with its
// terraform.tfvars.
func Bootstrap(root string, known Known) (*Config, error) {
	return Load(filepath.Join(root, tfvars.BootstrapDir), filepath.Join(root, tfvars.BootstrapDir, "terraform.tfvars"), known)
}

// Platform renders terraform/platform for environment env.
func Platform(root, env string, known Known) (*Config, error) {
	return Load(filepath.Join(root, tfvars.PlatformDir), filepath.Join(root, tfvars.EnvironmentsDir, env, "terraform.tfvars"), known)
}

// sortedKeys of a map.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
