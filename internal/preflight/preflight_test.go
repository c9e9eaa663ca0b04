package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/middleware"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/test/awsstub"
)

// account is a fake AWS account: the SDK clients build and sign their requests
// as usual, and test/awsstub answers each one at the deserialize step in the
// service's own wire format, so the SDK's real deserializers read the answers.
type account struct {
	caller          string // "" = credentials rejected
	bucketRegion    string // "" = no bucket
	bucketForbidden bool
	adminParameter  *string // nil = not created by the bootstrap
	cluster         bool
	entries         []string
	eipQuota        float64 // 0 = no applied value: the AWS default (5) is read
	addresses       []address
	vcpuQuota       map[string]float64
	instances       []instance
	nat             []string
	zones           []zone

	mu    sync.Mutex
	calls []string
}

type address struct{ ip, project, env string }
type instance struct {
	typ, cluster string
	vcpus        int
	spot         bool
}
type zone struct {
	name    string
	private bool
}

const ec2NS = `xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"`

func jsonErr(status int, code string) (int, http.Header, string) {
	h := http.Header{"X-Amzn-Errortype": {code}, "Content-Type": {"application/x-amz-json-1.1"}}
	return status, h, fmt.Sprintf(`{"__type":%q,"message":"stubbed %s"}`, code, code)
}

func (a *account) answer(c awsstub.Call) (int, http.Header, string) {
	a.mu.Lock()
	a.calls = append(a.calls, c.Service+"."+c.Operation)
	a.mu.Unlock()
	switch c.Service + "." + c.Operation {
	case "STS.GetCallerIdentity":
		if a.caller == "" {
			return 403, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>`
		}
		return 200, nil, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>` + a.caller +
			`</Arn><UserId>AIDEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`
	case "S3.HeadBucket", "S3.HeadObject":
		switch {
		case a.bucketForbidden:
			return 403, nil, ""
		case a.bucketRegion == "", c.Operation == "HeadObject":
			return 404, nil, ""
		}
		return 200, http.Header{"X-Amz-Bucket-Region": {a.bucketRegion}}, ""
	case "SSM.GetParameter":
		if a.adminParameter == nil {
			return jsonErr(400, "ParameterNotFound")
		}
		in := c.Input.(*ssm.GetParameterInput)
		b, _ := json.Marshal(map[string]any{"Parameter": map[string]any{"Name": aws.ToString(in.Name), "Type": "String", "Value": *a.adminParameter, "Version": 1}})
		return 200, nil, string(b)
	case "EKS.DescribeCluster":
		if !a.cluster {
			return 404, http.Header{"X-Amzn-Errortype": {"ResourceNotFoundException"}}, `{"message":"No cluster found"}`
		}
		name := aws.ToString(c.Input.(*eks.DescribeClusterInput).Name)
		return 200, nil, `{"cluster":{"name":"` + name + `","status":"ACTIVE"}}`
	case "EKS.ListAccessEntries":
		b, _ := json.Marshal(map[string]any{"accessEntries": a.entries})
		return 200, nil, string(b)
	case "Service Quotas.GetServiceQuota", "Service Quotas.GetAWSDefaultServiceQuota":
		code := ""
		if in, ok := c.Input.(*servicequotas.GetServiceQuotaInput); ok {
			code = aws.ToString(in.QuotaCode)
		} else {
			code = aws.ToString(c.Input.(*servicequotas.GetAWSDefaultServiceQuotaInput).QuotaCode)
		}
		value := map[string]float64{QuotaElasticIPs: a.eipQuota}[code]
		if code != QuotaElasticIPs {
			value = a.vcpuQuota[code]
		}
		if value == 0 && c.Operation == "GetServiceQuota" {
			return jsonErr(400, "NoSuchResourceException")
		}
		if value == 0 {
			value = 5
		}
		return 200, nil, fmt.Sprintf(`{"Quota":{"ServiceCode":"ec2","QuotaCode":%q,"Value":%g}}`, code, value)
	case "EC2.DescribeAddresses":
		var b strings.Builder
		for i, ad := range a.addresses {
			fmt.Fprintf(&b, `<item><publicIp>%s</publicIp><allocationId>eipalloc-%d</allocationId><domain>vpc</domain><tagSet><item><key>Project</key><value>%s</value></item><item><key>Environment</key><value>%s</value></item></tagSet></item>`, ad.ip, i, ad.project, ad.env)
		}
		return 200, nil, `<DescribeAddressesResponse ` + ec2NS + `><requestId>r</requestId><addressesSet>` + b.String() + `</addressesSet></DescribeAddressesResponse>`
	case "EC2.DescribeInstanceTypes":
		var b strings.Builder
		for _, t := range c.Input.(*ec2.DescribeInstanceTypesInput).InstanceTypes {
			fmt.Fprintf(&b, `<item><instanceType>%s</instanceType><vCpuInfo><defaultVCpus>2</defaultVCpus></vCpuInfo></item>`, t)
		}
		return 200, nil, `<DescribeInstanceTypesResponse ` + ec2NS + `><requestId>r</requestId><instanceTypeSet>` + b.String() + `</instanceTypeSet></DescribeInstanceTypesResponse>`
	case "EC2.DescribeInstances":
		var b strings.Builder
		for i, in := range a.instances {
			life := ""
			if in.spot {
				life = "<instanceLifecycle>spot</instanceLifecycle>"
			}
			fmt.Fprintf(&b, `<item><reservationId>r-%d</reservationId><instancesSet><item><instanceId>i-%d</instanceId><instanceType>%s</instanceType>%s<cpuOptions><coreCount>%d</coreCount><threadsPerCore>1</threadsPerCore></cpuOptions><tagSet><item><key>eks:cluster-name</key><value>%s</value></item></tagSet></item></instancesSet></item>`,
				i, i, in.typ, life, in.vcpus, in.cluster)
		}
		return 200, nil, `<DescribeInstancesResponse ` + ec2NS + `><requestId>r</requestId><reservationSet>` + b.String() + `</reservationSet></DescribeInstancesResponse>`
	case "EC2.DescribeNatGateways":
		var b strings.Builder
		for i, ip := range a.nat {
			fmt.Fprintf(&b, `<item><natGatewayId>nat-%d</natGatewayId><state>available</state><natGatewayAddressSet><item><publicIp>%s</publicIp></item></natGatewayAddressSet></item>`, i, ip)
		}
		return 200, nil, `<DescribeNatGatewaysResponse ` + ec2NS + `><requestId>r</requestId><natGatewaySet>` + b.String() + `</natGatewaySet></DescribeNatGatewaysResponse>`
	case "Route 53.ListHostedZonesByName":
		var b strings.Builder
		for i, z := range a.zones {
			fmt.Fprintf(&b, `<HostedZone><Id>/hostedzone/Z%d</Id><Name>%s</Name><CallerReference>c</CallerReference><Config><PrivateZone>%t</PrivateZone></Config></HostedZone>`, i, z.name, z.private)
		}
		return 200, nil, `<?xml version="1.0"?><ListHostedZonesByNameResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZones>` + b.String() + `</HostedZones><IsTruncated>false</IsTruncated><MaxItems>10</MaxItems></ListHostedZonesByNameResponse>`
	}
	return 500, nil, "unexpected call " + c.Service + "." + c.Operation
}

// healthy is an account where dev can be deployed for the first time by the
// operator role: bucket, bootstrap, quotas, no cluster yet.
func healthy() *account {
	admins := `["arn:aws:iam::123456789012:user/bootstrapper"]`
	return &account{
		caller:         "arn:aws:sts::123456789012:assumed-role/orders-operator/alice",
		bucketRegion:   "eu-central-1",
		adminParameter: &admins,
		vcpuQuota:      map[string]float64{QuotaOnDemandVCPUs: 16, QuotaSpotVCPUs: 16},
		zones:          []zone{{name: "example.com."}},
	}
}

func devEnv() *Environment {
	return &Environment{
		Name: "dev", Region: "eu-central-1", Project: "orders", StateBucket: "orders-tfstate-123456789012-eu-central-1", StateKey: "platform/dev/terraform.tfstate",
		AZCount: 2, SingleNAT: true, NodeGroups: 1, MaxNodes: 3, Spot: true, InstanceTypes: []string{"t3.medium", "t3a.medium"},
		PublicEndpoint: true, PublicCIDRs: []string{"0.0.0.0/0"},
		AccessRoles:    []string{"orders-cluster-admin", "orders-github-deploy", "orders-operator"},
		AdminParameter: "/orders/cluster-admin-principal-arns", ECRForceDelete: true, BackupForceDestroy: true,
	}
}

func prodEnv() *Environment {
	e := devEnv()
	e.Name, e.StateKey = "prod", "platform/prod/terraform.tfstate"
	e.AZCount, e.SingleNAT, e.NodeGroups, e.MaxNodes, e.Spot, e.InstanceTypes = 3, false, 3, 2, false, []string{"t3.medium"}
	e.DeletionProtection, e.ECRForceDelete, e.BackupForceDestroy = true, false, false
	return e
}

// echo answers with the caller's address, as the real echo endpoint does.
func echo(t *testing.T, addr string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, addr) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func run(t *testing.T, a *account, env *Environment, mode Mode, egressAddr string) *Report {
	t.Helper()
	cfg := aws.Config{
		Region:      env.Region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token"),
		APIOptions:  []func(*middleware.Stack) error{awsstub.CallResponder(a.answer)},
		// No retries: a stubbed 5xx (an unexpected call) shows at once.
		RetryMaxAttempts: 1,
	}
	r := Run(context.Background(), NewClients(cfg, echo(t, egressAddr)), env, mode)
	for _, call := range a.calls {
		op := call[strings.LastIndex(call, ".")+1:]
		if !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "List") && !strings.HasPrefix(op, "Head") {
			t.Errorf("the preflight called %s: it may only read", call)
		}
	}
	return r
}

// failed returns the report's failed lines by check.
func failed(r *Report) map[string][]string {
	out := map[string][]string{}
	for _, p := range r.Problems() {
		out[p.Check] = append(out[p.Check], p.String())
	}
	return out
}

func requireOnly(t *testing.T, r *Report, wants map[string]string) {
	t.Helper()
	got := failed(r)
	for check, sub := range wants {
		lines := got[check]
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, sub) }) {
			t.Errorf("no failed %s line containing %q; report:\n%s", check, sub, r)
		}
		delete(got, check)
	}
	for check, lines := range got {
		t.Errorf("unexpected failed %s: %v", check, lines)
	}
	if (len(wants) == 0) != (r.Err() == nil) {
		t.Errorf("Err() = %v with %d wanted problems", r.Err(), len(wants))
	}
}

func TestHealthyAccountPasses(t *testing.T) {
	for _, mode := range []Mode{ForPlan, ForProvision, ForDeploy, ForDestroy} {
		t.Run(string(mode), func(t *testing.T) {
			r := run(t, healthy(), devEnv(), mode, "198.51.100.7")
			requireOnly(t, r, nil)
			if r.BucketRegion != "eu-central-1" || !strings.Contains(r.String(), "preflight: all") {
				t.Errorf("report:\n%s", r)
			}
		})
	}
	// An existing environment: its own addresses and nodes are not counted twice.
	a := healthy()
	a.cluster, a.entries = true, []string{"arn:aws:iam::123456789012:role/orders-github-deploy", "arn:aws:iam::123456789012:role/team/orders-operator"}
	a.addresses = []address{{"203.0.113.1", "orders", "dev"}, {"203.0.113.2", "orders", "dev"}, {"203.0.113.3", "orders", "dev"}, {"203.0.113.4", "other", "x"}, {"203.0.113.5", "other", "y"}}
	a.instances = []instance{{typ: "t3.medium", cluster: "orders-dev", vcpus: 2, spot: true}, {typ: "t3.medium", cluster: "orders-dev", vcpus: 2, spot: true}}
	requireOnly(t, run(t, a, devEnv(), ForDeploy, "198.51.100.7"), nil)
}

// Blocker 1: the Kubernetes API unreachable from where the deploy runs.
func TestEgressOutsideTheAllowedRanges(t *testing.T) {
	env := devEnv()
	env.PublicCIDRs = []string{"203.0.113.0/24"}
	requireOnly(t, run(t, healthy(), env, ForDeploy, "198.51.100.7"), map[string]string{
		"api-egress": "egress address 198.51.100.7 is outside cluster_endpoint_public_access_cidrs [203.0.113.0/24]",
	})
	// Plan and provision do not reach the API: no such line.
	requireOnly(t, run(t, healthy(), env, ForProvision, "198.51.100.7"), nil)

	// Private endpoint: inside the VPC means leaving through one of its NAT gateways.
	env = devEnv()
	env.PublicEndpoint = false
	a := healthy()
	a.nat = []string{"203.0.113.9"}
	requireOnly(t, run(t, a, env, ForDeploy, "203.0.113.9"), nil)
	requireOnly(t, run(t, a, env, ForDeploy, "198.51.100.7"), map[string]string{
		"api-egress": "the API endpoint is private and the caller is not inside the VPC",
	})

	// An echo endpoint that does not answer with an address is a failed check, not a pass.
	requireOnly(t, run(t, healthy(), devEnv(), ForDeploy, "<html>"), map[string]string{
		"api-egress": "cannot learn the caller's egress address",
	})
}

// Blocker 2: a caller that no access entry names.
func TestCallerWithoutAccessEntry(t *testing.T) {
	a := healthy()
	a.caller = "arn:aws:iam::123456789012:user/admin"
	requireOnly(t, run(t, a, devEnv(), ForDeploy, "198.51.100.7"), map[string]string{
		"access-entry": "arn:aws:iam::123456789012:user/admin is not among the principals that get an access entry",
	})
	// The bootstrapper stored by the bootstrap gets one.
	a.caller = "arn:aws:iam::123456789012:user/bootstrapper"
	requireOnly(t, run(t, a, devEnv(), ForDeploy, "198.51.100.7"), nil)

	// An existing cluster without an entry for the caller's role.
	a = healthy()
	a.cluster, a.entries = true, []string{"arn:aws:iam::123456789012:role/orders-github-deploy"}
	requireOnly(t, run(t, a, devEnv(), ForDestroy, "198.51.100.7"), map[string]string{
		"access-entry": "role orders-operator has no access entry on cluster orders-dev",
	})

	a = healthy()
	a.caller = "arn:aws:iam::123456789012:root"
	requireOnly(t, run(t, a, devEnv(), ForDeploy, "198.51.100.7"), map[string]string{
		"access-entry": "root user cannot be given an access entry",
	})
}

// Blocker 3: the Elastic IP quota (and the vCPU quota of the nodes).
func TestQuotas(t *testing.T) {
	// prod alone: 3 NAT gateways + 3 for the NLB = 6 > the default 5; 3 groups × 2 nodes × 2 vCPUs = 12 on-demand > 5.
	a := healthy()
	a.vcpuQuota = map[string]float64{}
	requireOnly(t, run(t, a, prodEnv(), ForProvision, "198.51.100.7"), map[string]string{
		"elastic-ips": "prod needs 6 Elastic IPs (3 NAT gateway(s) + 3 for the load balancer), 6 of them still to allocate; 0 of the quota of 5",
		"vcpus":       "prod may run 12 on-demand vCPUs (3 node group(s) × 2 nodes × 2 vCPUs), 0 are in use by other instances, the quota is 5",
	})
	// prod next to an existing dev (3 addresses): 9 > an applied quota of 8.
	a = healthy()
	a.eipQuota = 8
	a.addresses = []address{{"203.0.113.1", "orders", "dev"}, {"203.0.113.2", "orders", "dev"}, {"203.0.113.3", "orders", "dev"}}
	requireOnly(t, run(t, a, prodEnv(), ForDeploy, "198.51.100.7"), map[string]string{
		"elastic-ips": `request "EC2-VPC Elastic IPs" (L-0263D0A3) of at least 9 in eu-central-1`,
	})
	// Spot vCPUs used by other instances count against dev's spot quota; on-demand ones do not.
	a = healthy()
	a.instances = []instance{{typ: "m5.2xlarge", cluster: "other", vcpus: 8, spot: true}, {typ: "c5.xlarge", vcpus: 4, spot: true}, {typ: "m5.4xlarge", vcpus: 16}, {typ: "inf1.xlarge", vcpus: 4, spot: true}}
	requireOnly(t, run(t, a, devEnv(), ForDeploy, "198.51.100.7"), map[string]string{
		"vcpus": "dev may run 6 spot vCPUs (1 node group(s) × 3 nodes × 2 vCPUs), 12 are in use by other instances, the quota is 16",
	})
}

// Blocker 4 (the region agrees everywhere): the state bucket in another region,
// and the repository's own files.
func TestRegionDisagrees(t *testing.T) {
	a := healthy()
	a.bucketRegion = "us-east-1"
	requireOnly(t, run(t, a, devEnv(), ForPlan, "198.51.100.7"), map[string]string{
		"region": "state bucket orders-tfstate-123456789012-eu-central-1 is in us-east-1, environments/dev/terraform.tfvars says eu-central-1",
	})

	root := repoCopy(t)
	write(t, root, "environments/dev/backend.hcl", "key = \"platform/dev/terraform.tfstate\"\nregion = \"eu-west-1\"\nuse_lockfile = true\n")
	env, err := Load(root, "dev", "orders-tfstate-123456789012-eu-central-1", "platform/dev/terraform.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	requireOnly(t, run(t, healthy(), env, ForPlan, "198.51.100.7"), map[string]string{
		"region": "environments/dev/backend.hcl:2: region is written here and in terraform.tfvars",
	})

	// Another environment in another region (a disaster-recovery copy) is not dev's problem.
	root = repoCopy(t)
	prod, err := os.ReadFile(filepath.Join(root, "environments/prod/terraform.tfvars"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, root, "environments/prod/terraform.tfvars", strings.Replace(string(prod), `region = "eu-central-1"`, `region = "eu-west-1"`, 1))
	if env, err = Load(root, "dev", "b", "platform/dev/terraform.tfstate"); err != nil || len(env.RepositoryProblems) > 0 {
		t.Errorf("dev reports prod's region: %v %v", env.RepositoryProblems, err)
	}
	if env, err = Load(root, "prod", "b", "platform/prod/terraform.tfstate"); err != nil || len(env.RepositoryProblems) != 1 ||
		!strings.Contains(env.RepositoryProblems[0].Message, `region "eu-west-1" differs from the bootstrap's "eu-central-1"`) {
		t.Errorf("prod's own region against the bootstrap's: %v %v", env.RepositoryProblems, err)
	}
}

func TestStateBucketAndBootstrap(t *testing.T) {
	a := healthy()
	a.bucketRegion = ""
	requireOnly(t, run(t, a, devEnv(), ForPlan, ""), map[string]string{
		"state-bucket": "state bucket orders-tfstate-123456789012-eu-central-1 does not exist",
	})
	a = healthy()
	a.bucketForbidden = true
	requireOnly(t, run(t, a, devEnv(), ForPlan, ""), map[string]string{
		"state-bucket": "the caller may not use state bucket",
	})
	a = healthy()
	a.adminParameter = nil
	requireOnly(t, run(t, a, devEnv(), ForPlan, ""), map[string]string{
		"bootstrap": "SSM parameter /orders/cluster-admin-principal-arns, which terraform/platform reads, does not exist",
	})
	a = healthy()
	a.caller = ""
	r := run(t, a, devEnv(), ForDeploy, "")
	requireOnly(t, r, map[string]string{"identity": "AWS rejected the credentials"})
	if len(r.Lines) != 1 {
		t.Errorf("without an identity nothing else is checked; got:\n%s", r)
	}
}

func TestHostedZone(t *testing.T) {
	env := devEnv()
	env.DomainName, env.ZoneName = "orders.example.org", "example.org"
	requireOnly(t, run(t, healthy(), env, ForDeploy, "198.51.100.7"), map[string]string{
		"hosted-zone": "no public Route 53 hosted zone example.org. in this account for domain_name orders.example.org",
	})
	a := healthy()
	a.zones = []zone{{name: "example.org.", private: true}}
	requireOnly(t, run(t, a, env, ForDeploy, "198.51.100.7"), map[string]string{"hosted-zone": "no public Route 53 hosted zone"})
	a.zones = append(a.zones, zone{name: "example.org."})
	requireOnly(t, run(t, a, env, ForDeploy, "198.51.100.7"), nil)
}

// Blocker 6's destroy: what would stop terraform destroy half-way is said first.
func TestDestroySettings(t *testing.T) {
	a := healthy()
	a.cluster, a.entries = true, []string{"arn:aws:iam::123456789012:role/orders-operator"}
	r := run(t, a, prodEnv(), ForDestroy, "198.51.100.7")
	got := failed(r)["destroy"]
	for _, want := range []string{"cluster_deletion_protection = true", "ecr_force_delete = false", "backup_bucket_force_destroy = false"} {
		if !slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no destroy line for %s:\n%s", want, r)
		}
	}
	if len(got) != 3 || len(r.Problems()) != 3 {
		t.Errorf("want exactly the three destroy lines:\n%s", r)
	}
	// One line per problem, each with its fix, in the error too.
	lines := strings.Split(r.Err().Error(), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "3 precondition(s) failed, nothing was created") || !strings.Contains(lines[1], "; fix: flip it in environments/prod/terraform.tfvars") {
		t.Errorf("Err():\n%s", r.Err())
	}
}

// The repository's own environments load as their tfvars say.
func TestLoadRepository(t *testing.T) {
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dev, err := Load(root, "dev", "b", "platform/dev/terraform.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	prod, err := Load(root, "prod", "b", "platform/prod/terraform.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	if dev.NATGateways()+dev.AZCount != 3 || prod.NATGateways()+prod.AZCount != 6 || prod.NodeGroups != 3 || !dev.Spot || prod.Spot {
		t.Errorf("dev %+v\nprod %+v", dev, prod)
	}
	if dev.ClusterName() != "orders-dev" || !slices.Equal(dev.AccessRoles, []string{"orders-cluster-admin", "orders-github-deploy-dev", "orders-operator"}) || dev.AdminParameter != "/orders/cluster-admin-principal-arns" {
		t.Errorf("dev %+v", dev)
	}
	if len(dev.RepositoryProblems)+len(prod.RepositoryProblems) > 0 {
		t.Errorf("the repository disagrees with itself: %v %v", dev.RepositoryProblems, prod.RepositoryProblems)
	}
	if !prod.DeletionProtection || prod.ECRForceDelete || !dev.PublicEndpoint || !slices.Equal(dev.PublicCIDRs, []string{"0.0.0.0/0"}) {
		t.Errorf("prod %+v", prod)
	}
}

// repoCopy copies what Load reads (environments/, terraform/, the workflows) to a temporary root.
func repoCopy(t *testing.T) string {
	t.Helper()
	src, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for _, dir := range []string{"environments", "terraform", ".github/workflows"} {
		if err := os.CopyFS(filepath.Join(dst, dir), os.DirFS(filepath.Join(src, dir))); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func write(t *testing.T, root, rel, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, rel), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
