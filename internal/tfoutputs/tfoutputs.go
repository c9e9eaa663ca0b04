// Package tfoutputs is the contract between terraform/platform and the
// pipeline: the one list of Terraform output names the pipeline reads, and a
// parser for `terraform output -json` into a typed struct.
//
// Adding an output the pipeline needs means adding it here (a field and a row
// in fields) and in terraform/platform/outputs.tf; the tests in test/terraformrules
// fail while the two disagree.
package tfoutputs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Outputs are the values of terraform/platform the pipeline uses.
type Outputs struct {
	Environment string
	Region      string

	ClusterName string
	// ClusterEndpoint is the HTTPS URL of the Kubernetes API.
	ClusterEndpoint string
	// ClusterCAData is the base64-encoded CA certificate of the API.
	ClusterCAData string

	VPCID            string
	VPCCIDR          string
	PublicSubnetIDs  []string
	PrivateSubnetIDs []string

	// NLBEIPAllocationIDs are in the same order as PublicSubnetIDs, one per subnet.
	NLBEIPAllocationIDs []string
	NLBPublicIPs        []string

	// ECRRegistry is the registry host, e.g. <account>.dkr.ecr.<region>.amazonaws.com.
	ECRRegistry string
	// ECRRepositoryURLs maps short names (service1, mirror/mongodb, …) to repository URLs.
	ECRRepositoryURLs map[string]string

	AWSLBControllerRoleARN string
	EBSCSIRoleARN          string
	BackupRoleARN          string
	RestoreRoleARN         string

	BackupBucket         string
	MongoDBNamespace     string
	MongoDBRootSecretARN string
	MongoDBAppSecretARN  string

	// DomainName is the public host name of the environment ("" when it has no domain).
	DomainName string
	// EdgeCertificateARN is the ACM certificate of DomainName for the NLB's TLS
	// listener ("" when there is no domain).
	EdgeCertificateARN string
	// Route53ZoneID is the hosted zone of DomainName ("" when there is no domain).
	Route53ZoneID string
}

// field binds one output name to where its value goes.
type field struct {
	name string
	dst  func(*Outputs) any
}

// fields is the single list of outputs the pipeline reads.
var fields = []field{
	{"environment", func(o *Outputs) any { return &o.Environment }},
	{"region", func(o *Outputs) any { return &o.Region }},
	{"cluster_name", func(o *Outputs) any { return &o.ClusterName }},
	{"cluster_endpoint", func(o *Outputs) any { return &o.ClusterEndpoint }},
	{"cluster_certificate_authority_data", func(o *Outputs) any { return &o.ClusterCAData }},
	{"vpc_id", func(o *Outputs) any { return &o.VPCID }},
	{"vpc_cidr", func(o *Outputs) any { return &o.VPCCIDR }},
	{"public_subnet_ids", func(o *Outputs) any { return &o.PublicSubnetIDs }},
	{"private_subnet_ids", func(o *Outputs) any { return &o.PrivateSubnetIDs }},
	{"nlb_eip_allocation_ids", func(o *Outputs) any { return &o.NLBEIPAllocationIDs }},
	{"nlb_public_ips", func(o *Outputs) any { return &o.NLBPublicIPs }},
	{"ecr_registry", func(o *Outputs) any { return &o.ECRRegistry }},
	{"ecr_repository_urls", func(o *Outputs) any { return &o.ECRRepositoryURLs }},
	{"aws_lb_controller_role_arn", func(o *Outputs) any { return &o.AWSLBControllerRoleARN }},
	{"ebs_csi_role_arn", func(o *Outputs) any { return &o.EBSCSIRoleARN }},
	{"backup_role_arn", func(o *Outputs) any { return &o.BackupRoleARN }},
	{"restore_role_arn", func(o *Outputs) any { return &o.RestoreRoleARN }},
	{"backup_bucket", func(o *Outputs) any { return &o.BackupBucket }},
	{"mongodb_namespace", func(o *Outputs) any { return &o.MongoDBNamespace }},
	{"mongodb_root_secret_arn", func(o *Outputs) any { return &o.MongoDBRootSecretARN }},
	{"mongodb_app_secret_arn", func(o *Outputs) any { return &o.MongoDBAppSecretARN }},
	{"domain_name", func(o *Outputs) any { return &o.DomainName }},
	{"edge_certificate_arn", func(o *Outputs) any { return &o.EdgeCertificateARN }},
	{"route53_zone_id", func(o *Outputs) any { return &o.Route53ZoneID }},
}

// RequiredRepositories are the ECR repositories the pipeline pushes to.
var RequiredRepositories = []string{"service1", "service2"}

// Names returns the output names the pipeline reads, in a stable order.
func Names() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// rawOutput is one entry of `terraform output -json`.
type rawOutput struct {
	Sensitive bool            `json:"sensitive"`
	Type      json.RawMessage `json:"type"`
	Value     json.RawMessage `json:"value"`
}

// Parse reads the JSON printed by `terraform output -json` for terraform/platform.
// Every output in Names must be present and non-null; the error names all that
// are missing, and the output whose value has the wrong type.
func Parse(data []byte) (*Outputs, error) {
	var raw map[string]rawOutput
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("terraform output -json: %w", err)
	}
	if raw == nil {
		return nil, errors.New("terraform output -json: no outputs (was terraform applied for this environment?)")
	}

	var missing []string
	out := &Outputs{}
	var errs []error
	for _, f := range fields {
		r, ok := raw[f.name]
		if !ok || len(r.Value) == 0 || string(r.Value) == "null" {
			missing = append(missing, f.name)
			continue
		}
		if err := json.Unmarshal(r.Value, f.dst(out)); err != nil {
			errs = append(errs, fmt.Errorf("terraform output %q: %w", f.name, err))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		errs = append([]error{fmt.Errorf("terraform outputs missing: %s (is terraform/platform/outputs.tf up to date and applied?)", strings.Join(missing, ", "))}, errs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// Validate checks what the pipeline relies on beyond presence: values are
// non-empty, every public subnet has an Elastic IP, the service repositories exist.
func (o *Outputs) Validate() error {
	var errs []error
	empty := func(name, v string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("terraform output %q is empty", name))
		}
	}
	empty("environment", o.Environment)
	empty("region", o.Region)
	empty("cluster_name", o.ClusterName)
	empty("cluster_certificate_authority_data", o.ClusterCAData)
	empty("vpc_id", o.VPCID)
	empty("ecr_registry", o.ECRRegistry)
	empty("backup_bucket", o.BackupBucket)
	if !strings.HasPrefix(o.ClusterEndpoint, "https://") {
		errs = append(errs, fmt.Errorf("terraform output %q must be an https URL, got %q", "cluster_endpoint", o.ClusterEndpoint))
	}
	if len(o.PublicSubnetIDs) == 0 {
		errs = append(errs, fmt.Errorf("terraform output %q is empty", "public_subnet_ids"))
	}
	if len(o.NLBEIPAllocationIDs) != len(o.PublicSubnetIDs) {
		errs = append(errs, fmt.Errorf("terraform outputs %q (%d) and %q (%d) must have one Elastic IP per public subnet",
			"nlb_eip_allocation_ids", len(o.NLBEIPAllocationIDs), "public_subnet_ids", len(o.PublicSubnetIDs)))
	}
	for _, arn := range []struct{ name, v string }{
		{"aws_lb_controller_role_arn", o.AWSLBControllerRoleARN},
		{"ebs_csi_role_arn", o.EBSCSIRoleARN},
		{"backup_role_arn", o.BackupRoleARN},
		{"restore_role_arn", o.RestoreRoleARN},
		{"mongodb_root_secret_arn", o.MongoDBRootSecretARN},
		{"mongodb_app_secret_arn", o.MongoDBAppSecretARN},
	} {
		if !strings.HasPrefix(arn.v, "arn:") {
			errs = append(errs, fmt.Errorf("terraform output %q must be an ARN, got %q", arn.name, arn.v))
		}
	}
	// The domain outputs are all set or all empty: a certificate or zone without a
	// name (or the reverse) would deploy a listener nobody can reach by name.
	domain := []struct{ name, v string }{
		{"domain_name", o.DomainName}, {"edge_certificate_arn", o.EdgeCertificateARN}, {"route53_zone_id", o.Route53ZoneID},
	}
	var set, unset []string
	for _, d := range domain {
		if strings.TrimSpace(d.v) == "" {
			unset = append(unset, d.name)
		} else {
			set = append(set, d.name)
		}
	}
	if len(set) > 0 && len(unset) > 0 {
		errs = append(errs, fmt.Errorf("terraform outputs %s are set but %s are empty: set all three (a domain) or none", strings.Join(set, ", "), strings.Join(unset, ", ")))
	}
	if o.EdgeCertificateARN != "" && !strings.HasPrefix(o.EdgeCertificateARN, "arn:") {
		errs = append(errs, fmt.Errorf("terraform output %q must be an ARN or empty, got %q", "edge_certificate_arn", o.EdgeCertificateARN))
	}
	if o.DomainName != "" && (strings.ContainsAny(o.DomainName, "/: ") || !strings.Contains(o.DomainName, ".")) {
		errs = append(errs, fmt.Errorf("terraform output %q must be a host name like orders.example.com, got %q", "domain_name", o.DomainName))
	}
	for _, r := range RequiredRepositories {
		if o.ECRRepositoryURLs[r] == "" {
			have := make([]string, 0, len(o.ECRRepositoryURLs))
			for k := range o.ECRRepositoryURLs {
				have = append(have, k)
			}
			slices.Sort(have)
			errs = append(errs, fmt.Errorf("terraform output %q has no repository %q (has: %s)", "ecr_repository_urls", r, strings.Join(have, ", ")))
		}
	}
	return errors.Join(errs...)
}

// RepositoryURL returns the URL of the repository with the given short name.
func (o *Outputs) RepositoryURL(name string) (string, error) {
	u, ok := o.ECRRepositoryURLs[name]
	if !ok {
		return "", fmt.Errorf("no ECR repository %q in terraform output ecr_repository_urls", name)
	}
	return u, nil
}
