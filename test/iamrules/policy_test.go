package iamrules

import "testing"

// The evaluation rules of the IAM User Guide (policy.go) that the role tests
// rely on, each on a policy that would pass a careless evaluator.
func TestEvaluate(t *testing.T) {
	p, err := ParsePolicy("p", `{"Statement":[
		{"Sid":"Repos","Effect":"Allow","Action":["ecr:Put*"],"Resource":"arn:aws:ecr:r:1:repository/orders-dev/*"},
		{"Sid":"NoMirror","Effect":"Deny","Action":"ecr:PutImage","Resource":"arn:aws:ecr:r:1:repository/orders-dev/mirror/*"},
		{"Sid":"Tagged","Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/Environment":["dev","test"]}}},
		{"Sid":"NotProd","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/Environment":"prod"}}},
		{"Sid":"Like","Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/x"},"Condition":{"StringLike":{"x:sub":"repo:o/r:ref:refs/heads/release-?"}}}
	]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		req  Request
		want bool
	}{
		{"wildcard spans slashes", Request{Action: "ecr:PutImage", Resource: "arn:aws:ecr:r:1:repository/orders-dev/a/b"}, true},
		{"actions are case-insensitive", Request{Action: "ECR:putimage", Resource: "arn:aws:ecr:r:1:repository/orders-dev/service1"}, true},
		{"resources are case-sensitive", Request{Action: "ecr:PutImage", Resource: "arn:aws:ecr:r:1:repository/Orders-dev/service1"}, false},
		{"explicit deny wins over an allow", Request{Action: "ecr:PutImage", Resource: "arn:aws:ecr:r:1:repository/orders-dev/mirror/mongodb"}, false},
		{"another action is not allowed", Request{Action: "ecr:DeleteRepository", Resource: "arn:aws:ecr:r:1:repository/orders-dev/service1"}, false},
		{"condition values are ORed", Request{Action: "kms:Decrypt", Resource: "k", Context: map[string][]string{"aws:ResourceTag/Environment": {"test"}}}, true},
		{"a missing key fails a positive operator", Request{Action: "kms:Decrypt", Resource: "k"}, false},
		{"a missing key passes a negated operator", Request{Action: "s3:GetObject", Resource: "o"}, true},
		{"a negated operator refuses the value", Request{Action: "s3:GetObject", Resource: "o", Context: map[string][]string{"aws:ResourceTag/Environment": {"prod"}}}, false},
		{"? is one character", Request{Action: "sts:AssumeRoleWithWebIdentity", Principal: "Federated:arn:aws:iam::1:oidc-provider/x", Context: map[string][]string{"x:sub": {"repo:o/r:ref:refs/heads/release-1"}}}, true},
		{"? is not two", Request{Action: "sts:AssumeRoleWithWebIdentity", Principal: "Federated:arn:aws:iam::1:oidc-provider/x", Context: map[string][]string{"x:sub": {"repo:o/r:ref:refs/heads/release-10"}}}, false},
		{"another principal", Request{Action: "sts:AssumeRoleWithWebIdentity", Principal: "Federated:arn:aws:iam::1:oidc-provider/y", Context: map[string][]string{"x:sub": {"repo:o/r:ref:refs/heads/release-1"}}}, false},
	} {
		d, err := Evaluate(c.req, []Policy{p}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != c.want {
			t.Errorf("%s: %s allowed=%v, want %v (%s)", c.name, c.req, d.Allowed, c.want, d.Reason)
		}
	}
	b, _ := ParsePolicy("b", `{"Statement":[{"Sid":"B","Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}]}`)
	if d, _ := Evaluate(Request{Action: "ecr:PutLifecyclePolicy", Resource: "arn:aws:ecr:r:1:repository/orders-dev/x"}, []Policy{p}, &b); d.Allowed {
		t.Error("an action outside the boundary was allowed")
	}
	if d, _ := Evaluate(Request{Action: "ecr:PutImage", Resource: "arn:aws:ecr:r:1:repository/orders-dev/x"}, []Policy{p}, &b); !d.Allowed {
		t.Errorf("an action inside both was refused: %s", d.Reason)
	}
	bad, _ := ParsePolicy("bad", `{"Statement":[{"Sid":"X","Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020"}}}]}`)
	if _, err := Evaluate(Request{Action: "a:b", Resource: "r"}, []Policy{bad}, nil); err == nil {
		t.Error("an operator this evaluator does not implement was evaluated")
	}
}
