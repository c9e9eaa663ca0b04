package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Service Quotas codes (service ec2), checked against what the environment needs.
// L-1216C47A "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
// in vCPUs, default 5 (the AWS CLI's get-aws-default-service-quota example,
// docs.aws.amazon.com/cli/latest/userguide/cli_service-quotas_code_examples.html).
// L-34B43A08 "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests",
// in vCPUs. L-0263D0A3 "EC2-VPC Elastic IPs", default 5 per Region
// (docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html).
const (
	QuotaElasticIPs      = "L-0263D0A3"
	QuotaOnDemandVCPUs   = "L-1216C47A"
	QuotaSpotVCPUs       = "L-34B43A08"
	DefaultEgressEchoURL = "https://checkip.amazonaws.com"
)

// Clients are the AWS API clients and the HTTP client the checks use.
type Clients struct {
	STS     *sts.Client
	S3      *s3.Client
	EKS     *eks.Client
	EC2     *ec2.Client
	Quotas  *servicequotas.Client
	Route53 *route53.Client
	SSM     *ssm.Client
	// HTTP asks EchoURL for the caller's egress address.
	HTTP    *http.Client
	EchoURL string
}

// NewClients makes the clients from one SDK configuration (its region is the
// environment's). echoURL answers a GET with the caller's address as plain text
// (default DefaultEgressEchoURL).
func NewClients(cfg aws.Config, echoURL string) Clients {
	if echoURL == "" {
		echoURL = DefaultEgressEchoURL
	}
	return Clients{
		STS: sts.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg), EKS: eks.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		Quotas: servicequotas.NewFromConfig(cfg), Route53: route53.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg),
		HTTP: &http.Client{Timeout: 10 * time.Second}, EchoURL: echoURL,
	}
}

// Run checks the environment for mode and returns the report; it never stops at
// the first problem, except that nothing can be checked without an identity.
func Run(ctx context.Context, c Clients, env *Environment, mode Mode) *Report {
	r := &Report{Env: env.Name, Mode: mode}
	caller, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		r.fail("identity", "pass valid credentials (--aws-access-key-id, --aws-secret-access-key, --aws-session-token of a session that has not expired)",
			"AWS rejected the credentials (sts:GetCallerIdentity): %s", short(err))
		return r
	}
	r.Caller = aws.ToString(caller.Arn)
	r.ok("identity", "%s (account %s)", r.Caller, aws.ToString(caller.Account))

	for _, p := range env.RepositoryProblems {
		r.Lines = append(r.Lines, Line{Check: p.Check, Problem: &p})
	}
	checkStateBucket(ctx, r, c, env)
	admins := append(slices.Clone(env.AdminPrincipals), checkBootstrap(ctx, r, c, env)...)
	if mode.cluster() {
		checkAccessEntry(ctx, r, c, env, admins)
		checkEgress(ctx, r, c, env)
	}
	if mode.quotas() {
		checkElasticIPs(ctx, r, c, env)
		checkVCPUs(ctx, r, c, env)
		checkHostedZone(ctx, r, c, env)
	}
	if mode == ForDestroy {
		checkDestroySettings(r, env)
	}
	return r
}

func checkStateBucket(ctx context.Context, r *Report, c Clients, env *Environment) {
	const check = "state-bucket"
	bucket := env.StateBucket
	head, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	var notFound *s3types.NotFound
	switch {
	case errors.As(err, &notFound) || statusOf(err) == http.StatusNotFound:
		r.fail(check, "apply terraform/bootstrap in this account (docs/deployment.md, step 1), or pass --state-bucket=<its state_bucket output>",
			"state bucket %s does not exist", bucket)
		return
	case statusOf(err) == http.StatusForbidden:
		r.fail(check, "use credentials of the operator or deploy role (docs/deployment.md, step 3), or allow s3:ListBucket, GetObject and PutObject on it",
			"the caller may not use state bucket %s (403 on HeadBucket)", bucket)
		return
	case err != nil:
		r.fail(check, "check the bucket name (--state-bucket) and the region", "state bucket %s: %s", bucket, short(err))
		return
	}
	r.BucketRegion = aws.ToString(head.BucketRegion)
	if r.BucketRegion != "" && r.BucketRegion != env.Region {
		r.fail("region", fmt.Sprintf("use the bootstrap's region in environments/%s/terraform.tfvars, or pass --state-bucket of a bucket in %s", env.Name, env.Region),
			"state bucket %s is in %s, environments/%s/terraform.tfvars says %s", bucket, r.BucketRegion, env.Name, env.Region)
	}
	_, err = c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &env.StateKey})
	switch status := statusOf(err); {
	case err == nil:
		r.ok(check, "s3://%s/%s readable", bucket, env.StateKey)
	case status == http.StatusNotFound:
		r.ok(check, "s3://%s exists; no state at %s yet (first run)", bucket, env.StateKey)
	case status == http.StatusForbidden:
		r.fail(check, "use credentials of the operator or deploy role, or allow s3:GetObject and s3:PutObject on it (and kms:Decrypt on its key)",
			"the caller may not read s3://%s/%s", bucket, env.StateKey)
	default:
		r.fail(check, "check the bucket and the credentials", "s3://%s/%s: %s", bucket, env.StateKey, short(err))
	}
}

// checkBootstrap: the platform reads the cluster admins the bootstrap stores;
// without the parameter its plan fails. It returns the admins.
func checkBootstrap(ctx context.Context, r *Report, c Clients, env *Environment) []string {
	if env.AdminParameter == "" {
		return nil
	}
	out, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: &env.AdminParameter})
	var missing *ssmtypes.ParameterNotFound
	switch {
	case errors.As(err, &missing):
		r.fail("bootstrap", "apply terraform/bootstrap as it is now (docs/deployment.md, step 1): it creates the parameter and the orders-operator role",
			"SSM parameter %s, which terraform/platform reads, does not exist", env.AdminParameter)
		return nil
	case err != nil:
		r.fail("bootstrap", "allow ssm:GetParameter on it", "read SSM parameter %s: %s", env.AdminParameter, short(err))
		return nil
	}
	var arns []string
	if err := json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &arns); err != nil {
		r.fail("bootstrap", "apply terraform/bootstrap again (it writes a JSON list of ARNs)", "SSM parameter %s is not a JSON list of ARNs", env.AdminParameter)
		return nil
	}
	r.ok("bootstrap", "%s lists %d cluster admin(s)", env.AdminParameter, len(arns))
	return arns
}

// principal is the IAM principal an access entry would name for a caller: a
// user's ARN, or the role of an assumed-role session (by name: its path is not
// in the session ARN).
func principal(arn string) (user, role string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return "", "", fmt.Errorf("%q is not an ARN", arn)
	}
	res := parts[5]
	switch {
	case res == "root":
		return "", "", errors.New("the account's root user cannot be given an access entry")
	case strings.HasPrefix(res, "user/"):
		return arn, "", nil
	case strings.HasPrefix(res, "assumed-role/"):
		return "", strings.SplitN(strings.TrimPrefix(res, "assumed-role/"), "/", 2)[0], nil
	}
	return "", "", fmt.Errorf("%s is not an IAM user or role session (federated users cannot be given an access entry)", arn)
}

// names reports whether an access entry's principal ARN is the caller's.
func names(entry, user, role string) bool {
	if user != "" {
		return entry == user
	}
	i := strings.Index(entry, ":role/")
	return i >= 0 && entry[strings.LastIndex(entry, "/")+1:] == role
}

func checkAccessEntry(ctx context.Context, r *Report, c Clients, env *Environment, admins []string) {
	const check = "access-entry"
	fix := fmt.Sprintf("assume the role %s (docs/deployment.md, step 3), or add your IAM user or role ARN to cluster_admin_principal_arns in terraform/bootstrap/terraform.tfvars, apply the bootstrap, then provision", env.AccessRoles[len(env.AccessRoles)-1])
	user, role, err := principal(r.Caller)
	if err != nil {
		r.fail(check, fix, "%v", err)
		return
	}
	who := user
	if who == "" {
		who = "role " + role
	}
	cluster := env.ClusterName()
	_, err = c.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &cluster})
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		will := slices.Contains(env.AccessRoles, role) || slices.ContainsFunc(admins, func(a string) bool { return names(a, user, role) })
		if will {
			r.ok(check, "cluster %s does not exist yet; %s gets an access entry when it is created", cluster, who)
		} else {
			r.fail(check, fix, "cluster %s does not exist yet, and %s is not among the principals that get an access entry (roles %s, admins %v): the Helm step would fail Unauthorized after the apply",
				cluster, who, strings.Join(env.AccessRoles, ", "), admins)
		}
		return
	case err != nil:
		r.fail(check, "allow eks:DescribeCluster and eks:ListAccessEntries (the operator and deploy roles may)", "describe cluster %s: %s", cluster, short(err))
		return
	}
	pages := eks.NewListAccessEntriesPaginator(c.EKS, &eks.ListAccessEntriesInput{ClusterName: &cluster})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.fail(check, "allow eks:ListAccessEntries (the operator and deploy roles may)", "list the access entries of %s: %s", cluster, short(err))
			return
		}
		for _, e := range page.AccessEntries {
			if names(e, user, role) {
				r.ok(check, "%s has an access entry on %s", who, cluster)
				return
			}
		}
	}
	r.fail(check, fix, "%s has no access entry on cluster %s: Kubernetes would answer Unauthorized", who, cluster)
}

// egress asks the echo URL for the caller's public address.
func egress(ctx context.Context, c Clients) (netip.Addr, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.EchoURL, nil)
	if err != nil {
		return netip.Addr{}, err
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return netip.Addr{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 256))
	if err != nil {
		return netip.Addr{}, err
	}
	if res.StatusCode != http.StatusOK {
		return netip.Addr{}, fmt.Errorf("%s answered %s", c.EchoURL, res.Status)
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(string(body)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s did not answer with an address: %q", c.EchoURL, strings.TrimSpace(string(body)))
	}
	return addr, nil
}

func checkEgress(ctx context.Context, r *Report, c Clients, env *Environment) {
	const check = "api-egress"
	addr, err := egress(ctx, c)
	if err != nil {
		r.fail(check, "let the caller reach the echo URL, or pass --egress-echo-url of one that answers with the caller's address", "cannot learn the caller's egress address: %s", short(err))
		return
	}
	tfvars := fmt.Sprintf("environments/%s/terraform.tfvars", env.Name)
	if env.PublicEndpoint {
		for _, cidr := range env.PublicCIDRs {
			if p, err := netip.ParsePrefix(cidr); err == nil && p.Contains(addr) {
				r.ok(check, "egress address %s is inside %s (public endpoint, IAM authentication)", addr, cidr)
				return
			}
		}
		r.fail(check, fmt.Sprintf("add %s/32 (or your network's range) to cluster_endpoint_public_access_cidrs in %s and provision, or run from a network inside them", addr, tfvars),
			"egress address %s is outside cluster_endpoint_public_access_cidrs %v: the Kubernetes API would time out after the apply", addr, env.PublicCIDRs)
		return
	}
	// Private endpoint only: the caller must be inside the VPC, whose traffic to
	// the internet leaves through its NAT gateways.
	out, err := c.EC2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []ec2types.Filter{
		{Name: aws.String("tag:Project"), Values: []string{env.Project}},
		{Name: aws.String("tag:Environment"), Values: []string{env.Name}},
		{Name: aws.String("state"), Values: []string{"available"}},
	}})
	if err != nil {
		r.fail(check, "allow ec2:DescribeNatGateways", "list the NAT gateways of %s: %s", env.Name, short(err))
		return
	}
	var nat []string
	for _, g := range out.NatGateways {
		for _, a := range g.NatGatewayAddresses {
			nat = append(nat, aws.ToString(a.PublicIp))
		}
	}
	if slices.Contains(nat, addr.String()) {
		r.ok(check, "private endpoint; the caller is inside the VPC (egress through NAT gateway address %s)", addr)
		return
	}
	r.fail(check, fmt.Sprintf("run from a runner inside the VPC of %s, or set cluster_endpoint_public_access = true in %s and provision", env.Name, tfvars),
		"the API endpoint is private and the caller is not inside the VPC (egress address %s, the VPC's NAT gateway addresses %v)", addr, nat)
}

// quota reads a quota's applied value, or AWS's default where none is applied.
func quota(ctx context.Context, c Clients, code string) (float64, error) {
	out, err := c.Quotas.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: &code})
	var none *sqtypes.NoSuchResourceException
	if errors.As(err, &none) {
		def, err := c.Quotas.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: &code})
		if err != nil {
			return 0, err
		}
		return aws.ToFloat64(def.Quota.Value), nil
	}
	if err != nil {
		return 0, err
	}
	return aws.ToFloat64(out.Quota.Value), nil
}

func tagged(tags []ec2types.Tag, key, value string) bool {
	return slices.ContainsFunc(tags, func(t ec2types.Tag) bool { return aws.ToString(t.Key) == key && aws.ToString(t.Value) == value })
}

func checkElasticIPs(ctx context.Context, r *Report, c Clients, env *Environment) {
	const check = "elastic-ips"
	limit, err := quota(ctx, c, QuotaElasticIPs)
	if err != nil {
		r.fail(check, "allow servicequotas:GetServiceQuota", "read the Elastic IP quota (%s): %s", QuotaElasticIPs, short(err))
		return
	}
	out, err := c.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil {
		r.fail(check, "allow ec2:DescribeAddresses", "list the Elastic IPs: %s", short(err))
		return
	}
	own := 0
	for _, a := range out.Addresses {
		if tagged(a.Tags, "Project", env.Project) && tagged(a.Tags, "Environment", env.Name) {
			own++
		}
	}
	need := env.NATGateways() + env.AZCount
	missing := max(need-own, 0)
	used := len(out.Addresses)
	if float64(used+missing) > limit {
		r.fail(check, fmt.Sprintf("request \"EC2-VPC Elastic IPs\" (%s) of at least %d in %s in the Service Quotas console (or release unused addresses)", QuotaElasticIPs, used+missing, env.Region),
			"%s needs %d Elastic IPs (%d NAT gateway(s) + %d for the load balancer), %d of them still to allocate; %d of the quota of %.0f are in use in %s: the apply would stop half-way with AddressLimitExceeded",
			env.Name, need, env.NATGateways(), env.AZCount, missing, used, limit, env.Region)
		return
	}
	r.ok(check, "%d to allocate, %d in use, quota %.0f", missing, used, limit)
}

// standardFamily: the A, C, D, H, I, M, R, T, Z families the standard vCPU
// quotas count (not Inf, DL, Trn, HPC or Mac, whose quotas are their own).
func standardFamily(instanceType string) bool {
	for _, other := range []string{"inf", "dl", "trn", "hpc", "mac"} {
		if strings.HasPrefix(instanceType, other) {
			return false
		}
	}
	return instanceType != "" && strings.ContainsRune("acdhimrtz", rune(instanceType[0]))
}

func checkVCPUs(ctx context.Context, r *Report, c Clients, env *Environment) {
	const check = "vcpus"
	code, market := QuotaOnDemandVCPUs, "on-demand"
	if env.Spot {
		code, market = QuotaSpotVCPUs, "spot"
	}
	limit, err := quota(ctx, c, code)
	if err != nil {
		r.fail(check, "allow servicequotas:GetServiceQuota", "read the %s vCPU quota (%s): %s", market, code, short(err))
		return
	}
	types := make([]ec2types.InstanceType, len(env.InstanceTypes))
	for i, t := range env.InstanceTypes {
		types[i] = ec2types.InstanceType(t)
	}
	its, err := c.EC2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: types})
	if err != nil {
		r.fail(check, fmt.Sprintf("use instance types offered in %s in node_instance_types", env.Region), "describe instance types %v: %s", env.InstanceTypes, short(err))
		return
	}
	perNode := int32(0)
	for _, it := range its.InstanceTypes {
		if it.VCpuInfo != nil {
			perNode = max(perNode, aws.ToInt32(it.VCpuInfo.DefaultVCpus))
		}
	}
	need := int(perNode) * env.MaxNodes * env.NodeGroups
	used := 0
	pages := ec2.NewDescribeInstancesPaginator(c.EC2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
	}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.fail(check, "allow ec2:DescribeInstances", "list the running instances: %s", short(err))
			return
		}
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				spot := in.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot
				if spot != env.Spot || !standardFamily(string(in.InstanceType)) || tagged(in.Tags, "eks:cluster-name", env.ClusterName()) {
					continue
				}
				if in.CpuOptions != nil {
					used += int(aws.ToInt32(in.CpuOptions.CoreCount) * aws.ToInt32(in.CpuOptions.ThreadsPerCore))
				}
			}
		}
	}
	if float64(used+need) > limit {
		r.fail(check, fmt.Sprintf("request the %s vCPU quota (%s) of at least %d in %s in the Service Quotas console, or lower node_max_size", market, code, used+need, env.Region),
			"%s may run %d %s vCPUs (%d node group(s) × %d nodes × %d vCPUs), %d are in use by other instances, the quota is %.0f: nodes would fail to launch",
			env.Name, need, market, env.NodeGroups, env.MaxNodes, perNode, used, limit)
		return
	}
	r.ok(check, "%d %s vCPUs at most, %d in use elsewhere, quota %.0f", need, market, used, limit)
}

func checkHostedZone(ctx context.Context, r *Report, c Clients, env *Environment) {
	if env.DomainName == "" {
		return
	}
	const check = "hosted-zone"
	zone := strings.TrimSuffix(env.ZoneName, ".") + "."
	out, err := c.Route53.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: &zone, MaxItems: aws.Int32(10)})
	if err != nil {
		r.fail(check, "allow route53:ListHostedZonesByName", "look up hosted zone %s: %s", zone, short(err))
		return
	}
	for _, z := range out.HostedZones {
		if aws.ToString(z.Name) == zone && (z.Config == nil || !z.Config.PrivateZone) {
			r.ok(check, "public hosted zone %s holds %s", zone, env.DomainName)
			return
		}
	}
	r.fail(check, fmt.Sprintf("create the public hosted zone %s in this account (and delegate it), or correct route53_zone_name in environments/%s/terraform.tfvars", strings.TrimSuffix(zone, "."), env.Name),
		"no public Route 53 hosted zone %s in this account for domain_name %s: the certificate could never be validated", zone, env.DomainName)
}

func checkDestroySettings(r *Report, env *Environment) {
	tfvars := fmt.Sprintf("environments/%s/terraform.tfvars", env.Name)
	for _, s := range []struct {
		block       bool
		name, why   string
		alternative string
	}{
		{env.DeletionProtection, "cluster_deletion_protection = true", "EKS refuses to delete the cluster", ""},
		{!env.ECRForceDelete, "ecr_force_delete = false", "terraform destroy cannot delete repositories that hold images", " (or delete the images first)"},
		{!env.BackupForceDestroy, "backup_bucket_force_destroy = false", "terraform destroy cannot delete the backup bucket while it holds backups", " (or empty the bucket first)"},
	} {
		if s.block {
			r.fail("destroy", fmt.Sprintf("flip it in %s and run provision first%s", tfvars, s.alternative), "%s: %s, so destroy would stop half-way", s.name, s.why)
		}
	}
}

// statusOf is the HTTP status of an AWS error, or 0.
func statusOf(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// short is an AWS error in one line: its code and message, without the request id.
func short(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
