package chartrules

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/orders-platform/orders/internal/tfvars"
)

// checkCondition is the condition of terraform/platform/checks.tf's check block name.
func checkCondition(t *testing.T, root, name string) hclsyntax.Expression {
	t.Helper()
	path := filepath.Join(root, "terraform", "platform", "checks.tf")
	for _, b := range platformFile(t, path).Blocks {
		if b.Type != "check" || len(b.Labels) != 1 || b.Labels[0] != name {
			continue
		}
		for _, a := range b.Body.Blocks {
			if a.Type == "assert" {
				return a.Body.Attributes["condition"].Expr
			}
		}
	}
	t.Fatalf("%s: no check %q with an assert", path, name)
	return nil
}

// evalCondition evaluates a check condition with env's variables (terraform.tfvars,
// else the defaults) and overrides, as Terraform would at plan time.
func evalCondition(t *testing.T, root, env string, cond hclsyntax.Expression, overrides map[string]cty.Value) bool {
	t.Helper()
	vars := map[string]cty.Value{}
	for _, tr := range cond.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			t.Fatalf("condition refers to %s: only var.* is evaluated here", tr.RootName())
		}
		name := tr[1].(hcl.TraverseAttr).Name
		if v, ok := overrides[name]; ok {
			vars[name] = v
			continue
		}
		v, found, err := tfvars.EnvironmentValue(root, env, name)
		if err != nil || !found {
			t.Fatalf("%s: variable %s: %v (found %t)", env, name, err, found)
		}
		vars[name] = v
	}
	v, diags := cond.Value(&hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return v.True()
}

// TestProdHighAvailabilityCheck: the plan-time warning prod_is_highly_available holds
// for prod as configured (one on-demand node group per AZ, node_min_size per group)
// and fires for each way prod could lose an AZ's worth of capacity.
func TestProdHighAvailabilityCheck(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cond := checkCondition(t, root, "prod_is_highly_available")
	for _, tc := range []struct {
		name, env string
		overrides map[string]cty.Value
		want      bool
	}{
		{"prod as configured", "prod", nil, true},
		{"dev is not checked", "dev", nil, true},
		{"prod, one group across the AZs with one node", "prod", map[string]cty.Value{"node_group_per_az": cty.False, "node_min_size": cty.NumberIntVal(1)}, false},
		{"prod, one group across the AZs with a node per AZ", "prod", map[string]cty.Value{"node_group_per_az": cty.False, "node_min_size": cty.NumberIntVal(3)}, true},
		{"prod, one NAT gateway", "prod", map[string]cty.Value{"single_nat_gateway": cty.True}, false},
		{"prod on spot", "prod", map[string]cty.Value{"node_capacity_type": cty.StringVal("SPOT")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evalCondition(t, root, tc.env, cond, tc.overrides); got != tc.want {
				t.Errorf("condition is %t, want %t", got, tc.want)
			}
		})
	}
}

// platformFile is the body of a Terraform file.
func platformFile(t *testing.T, path string) *hclsyntax.Body {
	t.Helper()
	f, findings, err := tfvars.ParseFile(path)
	if err != nil || len(findings) > 0 {
		t.Fatalf("%s: %v %v", path, err, findings)
	}
	return f.Body
}
