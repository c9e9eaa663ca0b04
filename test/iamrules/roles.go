package iamrules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Role is an IAM role a configuration creates, with what decides who assumes it
// and what it may do.
type Role struct {
	Resource string // e.g. aws_iam_role.github["preview"]
	Name     string
	Trust    *Policy // nil: the trust is not a jsonencode()d document here
	// Policies are the role's permission policies the configuration writes:
	// inline ones and attached customer-managed ones.
	Policies []Policy
	// Managed are attached policies whose document is not in the configuration
	// (AWS managed policies, variables): by ARN.
	Managed []string
}

// Roles reads every aws_iam_role of the configuration with its policies.
func (c *Config) Roles() ([]*Role, error) {
	byName := map[string]*Role{}
	var out []*Role
	err := c.each("aws_iam_role", func(labels []string, i Instance) error {
		name, err := i.String("name")
		if err != nil {
			return err
		}
		r := &Role{Resource: address(labels, i.Key), Name: name}
		if doc, err := i.String("assume_role_policy"); err == nil && strings.HasPrefix(doc, "{") {
			p, err := ParsePolicy(r.Resource+" trust", doc)
			if err != nil {
				return err
			}
			r.Trust = &p
		}
		byName[name] = r
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	policies := map[string]Policy{} // by ARN
	err = c.each("aws_iam_policy", func(labels []string, i Instance) error {
		arn, err := instanceArn(i)
		if err != nil {
			return err
		}
		p, err := policyOf(labels, i)
		policies[arn] = p
		return err
	})
	if err != nil {
		return nil, err
	}
	role := func(i Instance) (*Role, error) {
		name, err := i.String("role")
		if err != nil {
			return nil, err
		}
		r, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("%s %v names role %q, which this configuration does not create", i.Block.Type, i.Block.Labels, name)
		}
		return r, nil
	}
	err = c.each("aws_iam_role_policy_attachment", func(labels []string, i Instance) error {
		r, err := role(i)
		if err != nil {
			return err
		}
		arn, err := i.String("policy_arn")
		if err != nil {
			return err
		}
		if p, ok := policies[arn]; ok {
			r.Policies = append(r.Policies, p)
		} else {
			r.Managed = append(r.Managed, arn)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = c.each("aws_iam_role_policy", func(labels []string, i Instance) error {
		r, err := role(i)
		if err != nil {
			return err
		}
		if _, err := i.String("policy"); err != nil {
			// A data source's JSON: not evaluated here.
			r.Managed = append(r.Managed, address(labels, i.Key)+" (inline, not evaluated)")
			return nil
		}
		p, err := policyOf(labels, i)
		r.Policies = append(r.Policies, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// policyOf parses the policy attribute of an aws_iam_policy or aws_iam_role_policy.
func policyOf(labels []string, i Instance) (Policy, error) {
	doc, err := i.String("policy")
	if err != nil {
		return Policy{}, err
	}
	return ParsePolicy(address(labels, i.Key), doc)
}

// each calls fn for every instance of every resource of type typ.
func (c *Config) each(typ string, fn func(labels []string, i Instance) error) error {
	for _, labels := range c.Blocks("resource", typ) {
		insts, err := c.Instances("resource", labels...)
		if err != nil {
			return err
		}
		for _, i := range insts {
			if err := fn(labels, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// Policies are the customer-managed policies the configuration creates, by name.
func (c *Config) Policies() (map[string]Policy, error) {
	out := map[string]Policy{}
	err := c.each("aws_iam_policy", func(labels []string, i Instance) error {
		name, err := i.String("name")
		if err != nil {
			return err
		}
		p, err := policyOf(labels, i)
		p.Name = name
		out[name] = p
		return err
	})
	return out, err
}

func instanceArn(i Instance) (string, error) {
	name, err := i.String("name")
	if err != nil {
		return "", err
	}
	// The ARN derive() gives it, read back through the same context.
	for _, t := range []string{i.Block.Labels[0]} {
		v := i.ctx.Variables[t].GetAttr(i.Block.Labels[1])
		if i.Key != cty.NilVal {
			v = v.GetAttr(i.Key.AsString())
		}
		if a := v.GetAttr("arn"); a.IsKnown() && !a.IsNull() {
			return a.AsString(), nil
		}
	}
	return "", fmt.Errorf("policy %s has no known ARN", name)
}

func address(labels []string, key cty.Value) string {
	s := strings.Join(labels, ".")
	switch {
	case key == cty.NilVal:
		return s
	case key.Type() == cty.String:
		return fmt.Sprintf("%s[%q]", s, key.AsString())
	default:
		return fmt.Sprintf("%s[%s]", s, key.AsBigFloat().String())
	}
}
