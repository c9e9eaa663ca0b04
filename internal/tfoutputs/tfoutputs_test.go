package tfoutputs

import (
	"encoding/json"
	"strings"
	"testing"
)

// sample is what `terraform output -json` prints for a healthy environment
// (fake ids; 000000000000 is not a real account).
func sample() map[string]any {
	v := map[string]any{
		"environment":                        "dev",
		"region":                             "eu-central-1",
		"cluster_name":                       "orders-dev",
		"cluster_endpoint":                   "https://EXAMPLE.gr7.eu-central-1.eks.amazonaws.com",
		"cluster_certificate_authority_data": "LS0tLS1CRUdJTi...",
		"vpc_id":                             "vpc-0abc",
		"vpc_cidr":                           "10.10.0.0/16",
		"public_subnet_ids":                  []string{"subnet-a", "subnet-b"},
		"private_subnet_ids":                 []string{"subnet-c", "subnet-d"},
		"nlb_eip_allocation_ids":             []string{"eipalloc-1", "eipalloc-2"},
		"nlb_public_ips":                     []string{"192.0.2.10", "192.0.2.11"},
		"ecr_registry":                       "000000000000.dkr.ecr.eu-central-1.amazonaws.com",
		"ecr_repository_urls": map[string]string{
			"service1":       "000000000000.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/service1",
			"service2":       "000000000000.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/service2",
			"mirror/mongodb": "000000000000.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/mongodb",
		},
		"aws_lb_controller_role_arn": "arn:aws:iam::000000000000:role/orders-dev-aws-lb-controller",
		"ebs_csi_role_arn":           "arn:aws:iam::000000000000:role/orders-dev-ebs-csi",
		"backup_role_arn":            "arn:aws:iam::000000000000:role/orders-dev-mongodb-backup",
		"restore_role_arn":           "arn:aws:iam::000000000000:role/orders-dev-mongodb-restore",
		"backup_bucket":              "orders-dev-mongodb-backups-000000000000-eu-central-1",
		"mongodb_namespace":          "mongodb",
		"mongodb_root_secret_arn":    "arn:aws:secretsmanager:eu-central-1:000000000000:secret:orders-dev/mongodb/root-AbCdEf",
		"mongodb_app_secret_arn":     "arn:aws:secretsmanager:eu-central-1:000000000000:secret:orders-dev/mongodb/app-AbCdEf",
		// No domain: the three domain outputs are empty strings, not null.
		"domain_name":          "",
		"edge_certificate_arn": "",
		"route53_zone_id":      "",
		// Extra outputs are allowed and ignored.
		"something_else": "x",
	}
	return v
}

// render wraps values the way terraform output -json does.
func render(t *testing.T, values map[string]any) []byte {
	t.Helper()
	out := map[string]any{}
	for k, v := range values {
		out[k] = map[string]any{"sensitive": false, "type": "string", "value": v}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseComplete(t *testing.T) {
	o, err := Parse(render(t, sample()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if o.ClusterName != "orders-dev" || o.Region != "eu-central-1" || o.Environment != "dev" {
		t.Errorf("identity not parsed: %+v", o)
	}
	if len(o.NLBEIPAllocationIDs) != 2 || o.NLBEIPAllocationIDs[1] != "eipalloc-2" {
		t.Errorf("EIP allocation ids = %v", o.NLBEIPAllocationIDs)
	}
	u, err := o.RepositoryURL("service2")
	if err != nil || !strings.HasSuffix(u, "/orders-dev/service2") {
		t.Errorf("RepositoryURL(service2) = %q, %v", u, err)
	}
	if _, err := o.RepositoryURL("nope"); err == nil {
		t.Error("RepositoryURL(nope) did not fail")
	}
	if o.DomainName != "" || o.EdgeCertificateARN != "" || o.Route53ZoneID != "" {
		t.Errorf("no domain: got %q %q %q", o.DomainName, o.EdgeCertificateARN, o.Route53ZoneID)
	}
	v := sample()
	v["domain_name"], v["edge_certificate_arn"], v["route53_zone_id"] = "orders.example.com", "arn:aws:acm:eu-central-1:000000000000:certificate/abc", "Z0123456789"
	o, err = Parse(render(t, v))
	if err != nil {
		t.Fatalf("Parse with a domain: %v", err)
	}
	if o.DomainName != "orders.example.com" || o.EdgeCertificateARN != "arn:aws:acm:eu-central-1:000000000000:certificate/abc" || o.Route53ZoneID != "Z0123456789" {
		t.Errorf("domain outputs not parsed: %q %q %q", o.DomainName, o.EdgeCertificateARN, o.Route53ZoneID)
	}
}

// Every name in the list is really read: dropping any one of them fails and
// the error names it.
func TestParseMissingEachOutput(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			v := sample()
			delete(v, name)
			_, err := Parse(render(t, v))
			if err == nil {
				t.Fatalf("Parse succeeded without output %q", name)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error does not name %q: %v", name, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(map[string]any)
		raw    string
		wantIn []string
	}{
		{name: "not json", raw: "Error: no state", wantIn: []string{"terraform output -json"}},
		{name: "no outputs", raw: "null", wantIn: []string{"no outputs"}},
		{name: "empty object", raw: "{}", wantIn: []string{"cluster_name", "region", "backup_bucket"}},
		{
			name:   "two missing named together",
			edit:   func(v map[string]any) { delete(v, "vpc_id"); delete(v, "backup_role_arn") },
			wantIn: []string{"missing: backup_role_arn, vpc_id"},
		},
		{name: "null value", edit: func(v map[string]any) { v["cluster_endpoint"] = nil }, wantIn: []string{"cluster_endpoint"}},
		{name: "wrong type", edit: func(v map[string]any) { v["public_subnet_ids"] = "subnet-a" }, wantIn: []string{`"public_subnet_ids"`}},
		{
			name:   "EIP per subnet",
			edit:   func(v map[string]any) { v["nlb_eip_allocation_ids"] = []string{"eipalloc-1"} },
			wantIn: []string{"nlb_eip_allocation_ids", "one Elastic IP per public subnet"},
		},
		{
			name:   "service repository missing",
			edit:   func(v map[string]any) { v["ecr_repository_urls"] = map[string]string{"service1": "x/service1"} },
			wantIn: []string{`no repository "service2"`},
		},
		{name: "endpoint not https", edit: func(v map[string]any) { v["cluster_endpoint"] = "http://x" }, wantIn: []string{"cluster_endpoint", "https"}},
		{
			name: "certificate without a domain",
			edit: func(v map[string]any) {
				v["edge_certificate_arn"] = "arn:aws:acm:eu-central-1:000000000000:certificate/abc"
			},
			wantIn: []string{"edge_certificate_arn are set but domain_name, route53_zone_id are empty"},
		},
		{
			name: "certificate not an ARN",
			edit: func(v map[string]any) {
				v["domain_name"], v["edge_certificate_arn"], v["route53_zone_id"] = "orders.example.com", "abc", "Z123"
			},
			wantIn: []string{`"edge_certificate_arn" must be an ARN or empty`},
		},
		{
			name: "domain with a scheme",
			edit: func(v map[string]any) {
				v["domain_name"], v["edge_certificate_arn"], v["route53_zone_id"] = "https://orders.example.com", "arn:aws:acm:eu-central-1:000000000000:certificate/abc", "Z123"
			},
			wantIn: []string{`"domain_name" must be a host name`},
		},
		{name: "role not an ARN", edit: func(v map[string]any) { v["backup_role_arn"] = "" }, wantIn: []string{"backup_role_arn", "ARN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			if tc.edit != nil {
				v := sample()
				tc.edit(v)
				data = render(t, v)
			}
			_, err := Parse(data)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			for _, want := range tc.wantIn {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestNamesAreUniqueSnakeCase(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Names() {
		if seen[n] {
			t.Errorf("output %q listed twice", n)
		}
		seen[n] = true
		if strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("output %q is not a Terraform snake_case name", n)
		}
	}
}
