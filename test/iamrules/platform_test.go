package iamrules

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/orders-platform/orders/internal/tenant"
	"github.com/orders-platform/orders/internal/tfvars"
)

// moduleResources are the resource types the modules terraform/platform calls
// create with its inputs, read in the modules' sources at the pinned versions:
// terraform-aws-modules/terraform-aws-eks main.tf, node_groups.tf and
// modules/eks-managed-node-group/main.tf @ v21.19.0 (its KMS key through
// terraform-aws-kms); terraform-aws-vpc *.tf @ v6.6.0 (flow logs, NAT, the
// default security group, network ACL and route table it manages);
// terraform-aws-ecr main.tf @ v3.2.0; terraform-aws-eks-pod-identity main.tf and
// the attach_* files @ v2.8.1.
var moduleResources = map[string][]string{
	"eks": {"aws_cloudwatch_log_group", "aws_ec2_tag", "aws_eks_access_entry", "aws_eks_access_policy_association", "aws_eks_addon", "aws_eks_cluster",
		"aws_eks_node_group", "aws_iam_policy", "aws_iam_role", "aws_iam_role_policy_attachment", "aws_kms_alias", "aws_kms_key", "aws_launch_template",
		"aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule", "time_sleep"},
	"vpc": {"aws_cloudwatch_log_group", "aws_default_network_acl", "aws_default_route_table", "aws_default_security_group", "aws_eip", "aws_flow_log",
		"aws_iam_policy", "aws_iam_role", "aws_iam_role_policy_attachment", "aws_internet_gateway", "aws_nat_gateway", "aws_route", "aws_route_table",
		"aws_route_table_association", "aws_subnet", "aws_vpc"},
	"ecr":              {"aws_ecr_lifecycle_policy", "aws_ecr_repository", "aws_ecr_repository_policy"},
	"eks-pod-identity": {"aws_eks_pod_identity_association", "aws_iam_policy", "aws_iam_role", "aws_iam_role_policy_attachment"},
}

// creates is, per resource type, a call Terraform makes to create it, on a
// resource named as terraform/platform names it for environment ENV
// (docs.aws.amazon.com/service-authorization/latest/reference/: action names,
// resource ARN formats, and "*" for actions without a resource type).
var creates = map[string][]probe{
	"aws_vpc":                               {{action: "ec2:CreateVpc", resource: "*"}, {action: "ec2:ModifyVpcAttribute", resource: "*"}},
	"aws_subnet":                            {{action: "ec2:CreateSubnet", resource: "*"}, {action: "ec2:ModifySubnetAttribute", resource: "*"}},
	"aws_route_table":                       {{action: "ec2:CreateRouteTable", resource: "*"}},
	"aws_route":                             {{action: "ec2:CreateRoute", resource: "*"}},
	"aws_route_table_association":           {{action: "ec2:AssociateRouteTable", resource: "*"}},
	"aws_internet_gateway":                  {{action: "ec2:CreateInternetGateway", resource: "*"}, {action: "ec2:AttachInternetGateway", resource: "*"}},
	"aws_nat_gateway":                       {{action: "ec2:CreateNatGateway", resource: "*"}},
	"aws_eip":                               {{action: "ec2:AllocateAddress", resource: "*"}, {action: "ec2:ReleaseAddress", resource: "*"}},
	"aws_default_security_group":            {{action: "ec2:RevokeSecurityGroupIngress", resource: "*"}, {action: "ec2:RevokeSecurityGroupEgress", resource: "*"}},
	"aws_default_network_acl":               {{action: "ec2:ReplaceNetworkAclEntry", resource: "*"}, {action: "ec2:CreateNetworkAclEntry", resource: "*"}},
	"aws_default_route_table":               {{action: "ec2:CreateRoute", resource: "*"}},
	"aws_flow_log":                          {{action: "ec2:CreateFlowLogs", resource: "*"}},
	"aws_security_group":                    {{action: "ec2:CreateSecurityGroup", resource: "*"}, {action: "ec2:DeleteSecurityGroup", resource: "*"}},
	"aws_security_group_rule":               {{action: "ec2:AuthorizeSecurityGroupIngress", resource: "*"}},
	"aws_vpc_security_group_egress_rule":    {{action: "ec2:AuthorizeSecurityGroupEgress", resource: "*"}},
	"aws_vpc_security_group_ingress_rule":   {{action: "ec2:AuthorizeSecurityGroupIngress", resource: "*"}},
	"aws_ec2_tag":                           {{action: "ec2:CreateTags", resource: "*"}},
	"aws_launch_template":                   {{action: "ec2:CreateLaunchTemplate", resource: "*"}, {action: "ec2:CreateLaunchTemplateVersion", resource: "*"}},
	"aws_eks_cluster":                       {{action: "eks:CreateCluster", resource: cluster + "orders-ENV"}, {action: "iam:PassRole", resource: iamRole + "orders-ENV-cluster-20260101"}},
	"aws_eks_node_group":                    {{action: "eks:CreateNodegroup", resource: "arn:aws:eks:" + region + ":" + acct + ":nodegroup/orders-ENV/orders-ENV-default/abc"}, {action: "ec2:RunInstances", resource: "*"}},
	"aws_eks_addon":                         {{action: "eks:CreateAddon", resource: "arn:aws:eks:" + region + ":" + acct + ":addon/orders-ENV/coredns/abc"}},
	"aws_eks_access_entry":                  {{action: "eks:CreateAccessEntry", resource: "arn:aws:eks:" + region + ":" + acct + ":access-entry/orders-ENV/role/" + acct + "/orders-operator/abc"}},
	"aws_eks_access_policy_association":     {{action: "eks:AssociateAccessPolicy", resource: "arn:aws:eks:" + region + ":" + acct + ":access-entry/orders-ENV/role/" + acct + "/orders-operator/abc"}},
	"aws_eks_pod_identity_association":      {{action: "eks:CreatePodIdentityAssociation", resource: cluster + "orders-ENV"}, {action: "iam:PassRole", resource: iamRole + "orders-ENV-ebs-csi"}},
	"aws_iam_role":                          {{action: "iam:CreateRole", resource: iamRole + "orders-ENV-ebs-csi", context: map[string][]string{"iam:PermissionsBoundary": {"arn:aws:iam::" + acct + ":policy/orders-ENV-workload-boundary"}}}, {action: "iam:TagRole", resource: iamRole + "orders-ENV-ebs-csi"}},
	"aws_iam_policy":                        {{action: "iam:CreatePolicy", resource: "arn:aws:iam::" + acct + ":policy/orders-ENV-ebs-csi"}},
	"aws_iam_role_policy_attachment":        {{action: "iam:AttachRolePolicy", resource: iamRole + "orders-ENV-ebs-csi"}},
	"aws_kms_key":                           {{action: "kms:CreateKey", resource: "*", context: map[string][]string{"aws:RequestTag/Environment": {"ENV"}}}, {action: "kms:EnableKeyRotation", resource: key, context: tagged("ENV")}},
	"aws_kms_alias":                         {{action: "kms:CreateAlias", resource: "arn:aws:kms:" + region + ":" + acct + ":alias/orders-ENV-data"}, {action: "kms:CreateAlias", resource: key, context: tagged("ENV")}},
	"aws_kms_grant":                         {{action: "kms:CreateGrant", resource: key, context: tagged("ENV")}},
	"aws_cloudwatch_log_group":              {{action: "logs:CreateLogGroup", resource: "arn:aws:logs:" + region + ":" + acct + ":log-group:/aws/eks/orders-ENV/cluster"}, {action: "logs:PutRetentionPolicy", resource: "arn:aws:logs:" + region + ":" + acct + ":log-group:/aws/containerinsights/orders-ENV/application"}},
	"aws_cloudwatch_metric_alarm":           {{action: "cloudwatch:PutMetricAlarm", resource: "arn:aws:cloudwatch:" + region + ":" + acct + ":alarm:orders-ENV-edge-certificate-expiry"}},
	"aws_dlm_lifecycle_policy":              {{action: "dlm:CreateLifecyclePolicy", resource: "*"}, {action: "iam:PassRole", resource: iamRole + "orders-ENV-dlm-snapshots"}},
	"aws_acm_certificate":                   {{action: "acm:RequestCertificate", resource: "*"}},
	"aws_acm_certificate_validation":        {{action: "acm:DescribeCertificate", resource: "arn:aws:acm:" + region + ":" + acct + ":certificate/abc"}},
	"aws_route53_record":                    {{action: "route53:ChangeResourceRecordSets", resource: "arn:aws:route53:::hostedzone/Z123"}},
	"aws_s3_bucket":                         {{action: "s3:CreateBucket", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}, {action: "s3:PutBucketTagging", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}},
	"aws_s3_bucket_lifecycle_configuration": {{action: "s3:PutLifecycleConfiguration", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}},
	"aws_s3_bucket_ownership_controls":      {{action: "s3:PutBucketOwnershipControls", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}},
	"aws_s3_bucket_policy":                  {{action: "s3:PutBucketPolicy", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}},
	"aws_s3_bucket_public_access_block":     {{action: "s3:PutBucketPublicAccessBlock", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}},
	"aws_s3_bucket_server_side_encryption_configuration": {{action: "s3:PutEncryptionConfiguration", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}},
	"aws_s3_bucket_versioning":                           {{action: "s3:PutBucketVersioning", resource: "arn:aws:s3:::orders-ENV-mongodb-backups-" + acct + "-" + region}},
	"aws_secretsmanager_secret":                          {{action: "secretsmanager:CreateSecret", resource: secret + "orders-ENV/mongodb/root-AbCdEf"}},
	"aws_secretsmanager_secret_policy":                   {{action: "secretsmanager:PutResourcePolicy", resource: secret + "orders-ENV/mongodb/app-AbCdEf"}},
	"aws_secretsmanager_secret_version":                  {{action: "secretsmanager:PutSecretValue", resource: secret + "orders-ENV/mongodb/app-AbCdEf"}, {action: "secretsmanager:GetSecretValue", resource: secret + "orders-ENV/mongodb/app-AbCdEf"}},
	"aws_ecr_repository":                                 {{action: "ecr:CreateRepository", resource: repoArn + "orders-ENV/mirror/mongodb"}, {action: "kms:CreateGrant", resource: key, context: tagged("ENV")}},
	"aws_ecr_lifecycle_policy":                           {{action: "ecr:PutLifecyclePolicy", resource: repoArn + "orders-ENV/service1"}},
	"aws_ecr_repository_policy":                          {{action: "ecr:SetRepositoryPolicy", resource: repoArn + "orders-ENV/service1"}},
	"time_sleep":                                         {},
}

// Every resource type terraform/platform declares, itself or through the
// modules it calls, has the calls that create it listed above, and each deploy
// role may make them for its environment (and not for the other one). A new
// resource of another kind fails here until the deploy policy is widened for it
// (docs/security.md, "Widening a role").
func TestDeployPoliciesCoverThePlatform(t *testing.T) {
	root := repoRoot(t)
	m, fs, err := tfvars.LoadModule(filepath.Join(root, tfvars.PlatformDir))
	if err != nil || len(fs) > 0 {
		t.Fatal(err, fs)
	}
	types := map[string][]string{}
	for _, b := range m.Blocks("resource") {
		types[b.Block.Labels[0]] = append(types[b.Block.Labels[0]], "terraform/platform "+strings.Join(b.Block.Labels, "."))
	}
	for _, b := range m.Blocks("module") {
		src, _ := b.Block.Body.Attributes["source"].Expr.Value(nil)
		kind := strings.TrimPrefix(strings.TrimSuffix(src.AsString(), "/aws"), "terraform-aws-modules/")
		list, ok := moduleResources[kind]
		if !ok {
			t.Errorf("module %s (%s): its resource types are not listed in moduleResources", b.Block.Labels[0], src.AsString())
		}
		for _, typ := range list {
			types[typ] = append(types[typ], "module "+b.Block.Labels[0])
		}
	}
	_, roles := bootstrap(t)
	for _, env := range []string{"dev", "prod"} {
		other := map[string]string{"dev": "prod", "prod": "dev"}[env]
		r, ok := roles["orders-github-deploy-"+env]
		if !ok {
			t.Fatalf("terraform/bootstrap creates no role orders-github-deploy-%s (roles: %v)", env, sortedKeys(roles))
		}
		for _, typ := range sortedKeys(types) {
			calls, ok := creates[typ]
			if !ok {
				t.Errorf("%s (%s): no call known to create it; list it in creates and widen the deploy policy", typ, strings.Join(types[typ], ", "))
				continue
			}
			for _, c := range calls {
				for _, target := range []string{env, other} {
					req := Request{Action: c.action, Resource: strings.ReplaceAll(c.resource, "ENV", target), Context: map[string][]string{}}
					for k, v := range c.context {
						req.Context[k] = []string{strings.ReplaceAll(v[0], "ENV", target)}
					}
					d, err := Evaluate(req, r.Policies, nil)
					if err != nil {
						t.Fatal(err)
					}
					// Calls whose resource names no environment (EC2's "*", the
					// create calls of DLM and ACM, a hosted zone, a certificate id)
					// cannot be told apart by environment.
					want := target == env || !strings.Contains(c.resource, "ENV") && !strings.Contains(fmt.Sprint(c.context), "ENV")
					if d.Allowed != want {
						t.Errorf("%s for %s: %s by %s: allowed=%v, want %v (%s)", typ, env, req, r.Name, d.Allowed, want, d.Reason)
					}
				}
			}
		}
	}
}

// Every IAM role terraform/platform creates, itself or through a module,
// carries the environment's permissions boundary: the deploy role may create
// none without it (TestGitHubRolesRefuse), so a role without it would fail the
// apply, and one with another boundary would escape the cap.
func TestPlatformRolesCarryTheBoundary(t *testing.T) {
	root := repoRoot(t)
	c, err := Platform(root, "dev", platformKnown())
	if err != nil {
		t.Fatal(err)
	}
	want := "arn:aws:iam::" + acct + ":policy/orders-dev-workload-boundary"
	check := func(what string, v cty.Value, err error) {
		t.Helper()
		if err != nil || !v.IsKnown() || v.IsNull() || v.AsString() != want {
			t.Errorf("%s: permissions boundary %#v (%v), want %s", what, v, err, want)
		}
	}
	for _, labels := range c.Blocks("resource", "aws_iam_role") {
		insts, err := c.Instances("resource", labels...)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range insts {
			v, err := i.Attr("permissions_boundary")
			check(strings.Join(labels, "."), v, err)
		}
	}
	roleModules := 0
	for _, b := range c.Module.Blocks("module") {
		src, _ := b.Block.Body.Attributes["source"].Expr.Value(nil)
		insts, err := c.Instances("module", b.Block.Labels...)
		if err != nil {
			t.Fatal(err)
		}
		i := insts[0]
		switch src.AsString() {
		case "terraform-aws-modules/eks-pod-identity/aws":
			roleModules++
			v, err := i.Attr("permissions_boundary_arn")
			check("module "+b.Block.Labels[0], v, err)
		case "terraform-aws-modules/vpc/aws":
			roleModules++
			v, err := i.Attr("vpc_flow_log_permissions_boundary")
			check("module vpc flow-log role", v, err)
			name, _ := i.String("vpc_flow_log_iam_role_name")
			if !strings.HasPrefix(name, "orders-dev-") {
				t.Errorf("module vpc: flow-log role %q is outside orders-dev-*", name)
			}
		case "terraform-aws-modules/eks/aws":
			roleModules++
			v, err := i.Attr("iam_role_permissions_boundary")
			check("module eks cluster role", v, err)
			groups, err := i.Attr("eks_managed_node_groups")
			if err != nil {
				t.Fatal(err)
			}
			for it := groups.ElementIterator(); it.Next(); {
				k, g := it.Element()
				if !g.Type().IsObjectType() || !g.Type().HasAttribute("iam_role_permissions_boundary") {
					t.Errorf("module eks node group %s sets no iam_role_permissions_boundary", k.AsString())
					continue
				}
				check("module eks node group "+k.AsString(), g.GetAttr("iam_role_permissions_boundary"), nil)
			}
		}
	}
	if roleModules < 8 {
		t.Errorf("found %d modules that create roles; expected the EKS, VPC and six Pod Identity modules", roleModules)
	}
}

// platformKnown are the values terraform/platform reads from the account: the
// bootstrap's, and an empty list of extra cluster admins.
func platformKnown() Known { return testKnown() }

// The preview role's access entry on dev's cluster is namespace-scoped only: it
// administers the tenants' namespaces (every name internal/tenant gives one
// matches the scope) and edits the MongoDB namespace, and reaches no other
// namespace and nothing cluster-wide through an access policy; prod has no
// preview entry at all.
func TestPreviewAccessEntryIsNamespaceScoped(t *testing.T) {
	root := repoRoot(t)
	entries := func(env string) map[string]cty.Value {
		c, err := Platform(root, env, platformKnown())
		if err != nil {
			t.Fatal(err)
		}
		insts, err := c.Instances("module", "eks")
		if err != nil {
			t.Fatal(err)
		}
		v, err := insts[0].Attr("access_entries")
		if err != nil {
			t.Fatal(err)
		}
		if !v.IsWhollyKnown() {
			t.Fatalf("%s: access_entries is not known: %#v", env, v)
		}
		return v.AsValueMap()
	}
	if _, ok := entries("prod")["preview"]; ok {
		t.Error("prod's cluster gives the preview role an access entry")
	}
	dev := entries("dev")
	e, ok := dev["preview"]
	if !ok {
		t.Fatalf("dev's cluster gives the preview role no access entry (entries: %v)", sortedKeys(dev))
	}
	if arn := e.GetAttr("principal_arn").AsString(); !strings.HasSuffix(arn, ":role/orders-github-preview") {
		t.Errorf("preview entry is for %s", arn)
	}
	scopes := map[string][]string{}
	for name, a := range e.GetAttr("policy_associations").AsValueMap() {
		scope := a.GetAttr("access_scope")
		if typ := scope.GetAttr("type").AsString(); typ != "namespace" {
			t.Errorf("preview association %s has scope %s, want namespace", name, typ)
			continue
		}
		policy := a.GetAttr("policy_arn").AsString()
		for _, n := range scope.GetAttr("namespaces").AsValueSlice() {
			scopes[policy[strings.LastIndex(policy, "/")+1:]] = append(scopes[policy[strings.LastIndex(policy, "/")+1:]], n.AsString())
		}
	}
	// EKS matches a namespace scope with a trailing wildcard
	// (docs.aws.amazon.com/eks/latest/userguide/access-policies.html).
	inScope := func(policy, ns string) bool {
		return slices.ContainsFunc(scopes[policy], func(p string) bool { return glob(p, ns, false) })
	}
	tn, err := tenant.Parse("pr-1234")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		policy, namespace string
		want              bool
	}{
		{"AmazonEKSClusterAdminPolicy", tn.Namespace(), true},
		{"AmazonEKSClusterAdminPolicy", "mongodb", false},
		{"AmazonEKSClusterAdminPolicy", "orders", false},
		{"AmazonEKSClusterAdminPolicy", "kube-system", false},
		{"AmazonEKSClusterAdminPolicy", "envoy-gateway-system", false},
		{"AmazonEKSEditPolicy", "mongodb", true},
		{"AmazonEKSEditPolicy", "orders", false},
	} {
		if got := inScope(c.policy, c.namespace); got != c.want {
			t.Errorf("preview %s in namespace %s: %v, want %v (scopes %v)", c.policy, c.namespace, got, c.want, scopes)
		}
	}
	// The group the deployer lets create namespaces (internal/deploy ensureTenantDeployers).
	if groups := e.GetAttr("kubernetes_groups"); groups.IsNull() || !slices.ContainsFunc(groups.AsValueSlice(), func(g cty.Value) bool { return g.AsString() == tenant.DeployersGroup }) {
		t.Errorf("the preview entry's groups %#v lack %s, which may create the tenants' namespaces", groups, tenant.DeployersGroup)
	}
}
