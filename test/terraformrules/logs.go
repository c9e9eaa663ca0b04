package terraformrules

import (
	"fmt"
	"strings"

	"github.com/orders-platform/orders/internal/tfvars"
)

// logGroupModules: registry modules that create CloudWatch log groups, with the
// input that switches the log group off and the inputs that set its retention
// and KMS key. Without them the module's group keeps its own default retention
// and is encrypted with CloudWatch's service key only.
var logGroupModules = map[string]struct {
	offIfFalse        []string // any of these literally false: no log group
	offUnlessSet      []string // inputs that default to false in the module
	retention, kmsKey string
}{
	"terraform-aws-modules/eks/aws": {
		offIfFalse: []string{"create_cloudwatch_log_group"},
		retention:  "cloudwatch_log_group_retention_in_days",
		kmsKey:     "cloudwatch_log_group_kms_key_id",
	},
	"terraform-aws-modules/vpc/aws": {
		offIfFalse:   []string{"enable_flow_log", "create_flow_log_cloudwatch_log_group"},
		offUnlessSet: []string{"enable_flow_log"},
		retention:    "flow_log_cloudwatch_log_group_retention_in_days",
		kmsKey:       "flow_log_cloudwatch_log_group_kms_key_id",
	},
}

// CheckLogGroups reports CloudWatch log groups that would be created with
// infinite retention or without a customer-managed key: every
// aws_cloudwatch_log_group must set retention_in_days and kms_key_id, and the
// registry modules that create log groups (EKS control plane, VPC flow logs)
// must be given both inputs. A module whose log group is switched off with a
// literal false needs neither (the vpc module's flow logs are off by default).
func CheckLogGroups(m *tfvars.Module) []tfvars.Finding {
	var out []tfvars.Finding
	add := func(file string, line int, format string, args ...any) {
		out = append(out, tfvars.Finding{File: file, Line: line, Check: "log-groups", Msg: fmt.Sprintf(format, args...)})
	}
	for _, b := range m.Blocks("resource") {
		if len(b.Block.Labels) != 2 || b.Block.Labels[0] != "aws_cloudwatch_log_group" {
			continue
		}
		name := strings.Join(b.Block.Labels, ".")
		for _, a := range []string{"retention_in_days", "kms_key_id"} {
			if _, ok := b.Block.Body.Attributes[a]; !ok {
				add(b.File.Path, b.Block.DefRange().Start.Line, "%s has no %s: set it (CloudWatch would keep the logs forever / encrypt them with its own key only)", name, a)
			}
		}
	}
	for _, b := range m.Blocks("module") {
		srcAttr, ok := b.Block.Body.Attributes["source"]
		if !ok {
			continue
		}
		src, _ := tfvars.LiteralString(srcAttr.Expr)
		rule, ok := logGroupModules[src]
		if !ok {
			continue
		}
		attrs := b.Block.Body.Attributes
		switchedOff := false
		for _, in := range rule.offUnlessSet {
			if _, set := attrs[in]; !set {
				switchedOff = true
			}
		}
		for _, in := range rule.offIfFalse {
			if a, set := attrs[in]; set {
				if v, lit := tfvars.LiteralBool(a.Expr); lit && !v {
					switchedOff = true
				}
			}
		}
		if switchedOff {
			continue
		}
		for _, a := range []string{rule.retention, rule.kmsKey} {
			if _, ok := attrs[a]; !ok {
				add(b.File.Path, b.Block.DefRange().Start.Line, "module %q (%s) creates a log group but does not set %s", b.Block.Labels[0], src, a)
			}
		}
	}
	return out
}
