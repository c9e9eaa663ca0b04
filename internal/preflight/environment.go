package preflight

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/orders-platform/orders/internal/tfvars"
)

// Environment is what an environment's Terraform inputs ask of the account: its
// environments/<env>/terraform.tfvars over terraform/platform's defaults.
type Environment struct {
	Name, Region, Project string
	// StateBucket and StateKey are where its Terraform state lives.
	StateBucket, StateKey string

	AZCount    int
	SingleNAT  bool
	NodeGroups int // one per AZ with node_group_per_az, else one
	MaxNodes   int // per group
	Spot       bool
	// InstanceTypes of the nodes; the largest decides the vCPUs a node takes.
	InstanceTypes []string

	DomainName, ZoneName string

	PublicEndpoint bool
	PublicCIDRs    []string

	// Roles given access entries by name (cluster-admin, deploy, operator), the
	// extra admins of the tfvars and the SSM parameter of the bootstrap's.
	AccessRoles     []string
	AdminPrincipals []string
	AdminParameter  string

	// What would stop terraform destroy half-way.
	DeletionProtection, ECRForceDelete, BackupForceDestroy bool

	// RepositoryProblems are what the repository's files say against each other
	// (the region written twice, or two regions), found before any call.
	RepositoryProblems []Problem
}

// ClusterName is the EKS cluster of the environment (terraform/platform: <project>-<env>).
func (e *Environment) ClusterName() string { return e.Project + "-" + e.Name }

// NATGateways is how many NAT gateways (each with an Elastic IP) the VPC gets.
func (e *Environment) NATGateways() int {
	if e.SingleNAT {
		return 1
	}
	return e.AZCount
}

// Load reads environment env from a repository (or the part of it the pipeline
// exports: environments/, terraform/, .github/workflows/) at root. bucket is the
// state bucket the run uses.
func Load(root, env, bucket, stateKey string) (*Environment, error) {
	e := &Environment{Name: env, StateBucket: bucket, StateKey: stateKey}
	read := func(name string) (cty.Value, error) {
		v, found, err := tfvars.EnvironmentValue(root, env, name)
		if err != nil {
			return cty.NilVal, err
		}
		if !found || v.IsNull() {
			return cty.NilVal, fmt.Errorf("environments/%s/terraform.tfvars: %s is not set and has no default", env, name)
		}
		return v, nil
	}
	str := func(name string, dst *string) error {
		v, err := read(name)
		if err == nil {
			*dst = v.AsString()
		}
		return err
	}
	boolean := func(name string, dst *bool) error {
		v, err := read(name)
		if err == nil {
			*dst = v.True()
		}
		return err
	}
	number := func(name string, dst *int) error {
		v, err := read(name)
		if err == nil {
			f, _ := v.AsBigFloat().Int64()
			*dst = int(f)
		}
		return err
	}
	list := func(name string, dst *[]string) error {
		v, err := read(name)
		if err == nil {
			for _, x := range v.AsValueSlice() {
				*dst = append(*dst, x.AsString())
			}
		}
		return err
	}
	var perAZ bool
	var capacity, adminRole, deployRole, operatorRole string
	for _, err := range []error{
		str("region", &e.Region), str("project", &e.Project),
		number("az_count", &e.AZCount), boolean("single_nat_gateway", &e.SingleNAT),
		boolean("node_group_per_az", &perAZ), number("node_max_size", &e.MaxNodes),
		str("node_capacity_type", &capacity), list("node_instance_types", &e.InstanceTypes),
		str("domain_name", &e.DomainName), str("route53_zone_name", &e.ZoneName),
		boolean("cluster_endpoint_public_access", &e.PublicEndpoint), list("cluster_endpoint_public_access_cidrs", &e.PublicCIDRs),
		str("cluster_admin_role_name", &adminRole), str("deploy_role_name", &deployRole), str("operator_role_name", &operatorRole),
		list("cluster_admin_principal_arns", &e.AdminPrincipals), str("admin_principals_parameter", &e.AdminParameter),
		boolean("cluster_deletion_protection", &e.DeletionProtection), boolean("ecr_force_delete", &e.ECRForceDelete),
		boolean("backup_bucket_force_destroy", &e.BackupForceDestroy),
	} {
		if err != nil {
			return nil, err
		}
	}
	e.Spot = capacity == "SPOT"
	e.NodeGroups = 1
	if perAZ {
		e.NodeGroups = e.AZCount
	}
	e.AccessRoles = []string{adminRole, deployRole, operatorRole}

	// The region: the same everywhere, written once.
	fs, err := tfvars.CheckRegionOnce(root)
	if err != nil {
		return nil, err
	}
	fs = append(fs, tfvars.CheckBackendConfig(filepath.Join(root, "environments", env, "backend.hcl"), env)...)
	for _, f := range tfvars.Relative(root, fs) {
		// Only this environment's files and what every deploy reads (the
		// workflows); another environment's region is that one's business.
		mine := strings.HasPrefix(f.File, filepath.Join("environments", env)+"/") || strings.HasPrefix(f.File, ".github/")
		if !mine || (f.Check != "region" && !strings.Contains(f.Msg, "region")) {
			continue
		}
		e.RepositoryProblems = append(e.RepositoryProblems, Problem{Check: "region", Message: fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Msg),
			Fix: "write the region once, in environments/<env>/terraform.tfvars, the same as terraform/bootstrap/terraform.tfvars"})
	}
	return e, nil
}
