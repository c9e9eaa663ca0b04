package iamrules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/tfvars"
	"github.com/orders-platform/orders/test/terraformrules"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// bootstrap is the repository's terraform/bootstrap with its roles by name.
func bootstrap(t *testing.T) (*Config, map[string]*Role) {
	t.Helper()
	c, err := Bootstrap(repoRoot(t), testKnown())
	if err != nil {
		t.Fatal(err)
	}
	roles, err := c.Roles()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Role{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	return c, byName
}

// githubVariables maps the repository variables a workflow's role-to-assume
// names to the role they hold (the bootstrap's output github_variables).
func githubVariables(t *testing.T, c *Config) map[string]string {
	t.Helper()
	outs, err := c.Instances("output", "github_variables")
	if err != nil {
		t.Fatal(err)
	}
	v, err := outs[0].Attr("value")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, arn := range v.AsValueMap() {
		out[k] = arn.AsString()[strings.LastIndex(arn.AsString(), "/")+1:]
	}
	return out
}

func repository(t *testing.T) string {
	t.Helper()
	repo, err := tfvars.BootstrapStrings(repoRoot(t), "github_repository")
	if err != nil {
		t.Fatal(err)
	}
	return repo[0]
}

const provider = "arn:aws:iam::" + testAccount + ":oidc-provider/" + OIDCHost

// Every job that assumes a role is trusted by exactly that role, as it is meant
// to run (on main, in its environment, on its pull request); every other GitHub
// role refuses each subject the job's token can carry; a workflow_dispatch of a
// job without an environment from another branch is refused by its role too.
func TestGitHubRolesTrustExactlyTheirJobs(t *testing.T) {
	c, roles := bootstrap(t)
	vars := githubVariables(t, c)
	jobs, err := terraformrules.WorkflowJobs(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	repo := repository(t)
	var github []*Role
	for _, r := range roles {
		if r.Trust != nil {
			github = append(github, r)
		}
	}
	if len(github) < 5 {
		t.Fatalf("want the publish, preview, drift and deploy roles, got %d roles with an OIDC trust", len(github))
	}
	assumers := 0
	for _, j := range jobs {
		if len(j.RoleVariables) == 0 {
			continue
		}
		assumers++
		if !j.IDToken {
			t.Errorf("%s/%s assumes a role but cannot request a token (permissions: id-token: write)", j.File, j.Name)
		}
		for _, v := range j.RoleVariables {
			own, ok := vars[v]
			if !ok {
				t.Errorf("%s/%s: role-to-assume ${{ vars.%s }} is none of the bootstrap's github_variables %v", j.File, j.Name, v, sortedKeys(vars))
				continue
			}
			for _, claim := range Claims(j, repo, "main") {
				for _, r := range github {
					d, err := Evaluate(TrustRequest(provider, claim.Subject), []Policy{*r.Trust}, nil)
					if err != nil {
						t.Fatal(err)
					}
					want := r.Name == own && claim.Release
					t.Logf("%-28s %-36s %-26s %-8v %s", j.File+"/"+j.Name, claim.Subject[len("repo:"+repo+":"):], r.Name, verdict(d.Allowed), claim.How)
					if d.Allowed != want {
						t.Errorf("%s/%s (%s, %s) assuming %s: allowed=%v, want %v (%s)", j.File, j.Name, claim.Subject, claim.How, r.Name, d.Allowed, want, d.Reason)
					}
				}
			}
		}
	}
	if assumers < 6 {
		t.Errorf("only %d jobs assume a role; the workflows were not read", assumers)
	}
}

func verdict(ok bool) string {
	if ok {
		return "ALLOWED"
	}
	return "refused"
}

// The questions the issue asks, named: a pull request's job is refused by every
// deploy role, prod's role refuses dev's job, and the drift and publish roles
// are not reached from a pull request either.
func TestTrustRefusals(t *testing.T) {
	_, roles := bootstrap(t)
	repo := repository(t)
	for _, c := range []struct {
		subject, role string
		allowed       bool
	}{
		{"pull_request", "orders-github-deploy-dev", false},
		{"pull_request", "orders-github-deploy-prod", false},
		{"pull_request", "orders-github-drift", false},
		{"pull_request", "orders-github-publish", false},
		{"pull_request", "orders-github-preview", true},
		{"environment:dev", "orders-github-deploy-prod", false},
		{"environment:dev", "orders-github-deploy-dev", true},
		{"environment:prod", "orders-github-deploy-dev", false},
		{"environment:drift", "orders-github-deploy-prod", false},
		{"ref:refs/heads/main", "orders-github-deploy-dev", false},
		{"ref:refs/heads/feature", "orders-github-publish", false},
		// Another repository's job with the same environment name.
		{"environment:prod@other", "orders-github-deploy-prod", false},
	} {
		subject := "repo:" + repo + ":" + c.subject
		if s, ok := strings.CutSuffix(c.subject, "@other"); ok {
			subject = "repo:someone/else:" + s
		}
		r, ok := roles[c.role]
		if !ok || r.Trust == nil {
			t.Fatalf("terraform/bootstrap creates no role %s with an OIDC trust policy (roles: %v)", c.role, sortedKeys(roles))
		}
		d, err := Evaluate(TrustRequest(provider, subject), []Policy{*r.Trust}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != c.allowed {
			t.Errorf("%s assuming %s: allowed=%v, want %v (%s)", subject, c.role, d.Allowed, c.allowed, d.Reason)
		}
		// Another audience is refused whatever the subject.
		req := TrustRequest(provider, subject)
		req.Context[OIDCHost+":aud"] = []string{"https://github.com/" + repo}
		if d, _ := Evaluate(req, []Policy{*r.Trust}, nil); d.Allowed {
			t.Errorf("%s with another audience assumes %s", subject, c.role)
		}
	}
}

// No role the bootstrap creates is an administrator: no AdministratorAccess (or
// a policy like it) attached, no Allow of "*", "*:*" or a whole service
// ("iam:*"), no NotAction allow, and every policy it attaches is one whose
// document is evaluated here.
func TestNoRoleIsAdministrator(t *testing.T) {
	_, roles := bootstrap(t)
	for name, r := range roles {
		for _, m := range r.Managed {
			if strings.HasSuffix(m, "/AdministratorAccess") {
				t.Errorf("role %s attaches AdministratorAccess (%s)", name, m)
				continue
			}
			t.Errorf("role %s attaches %s, whose document is not evaluated here", name, m)
		}
		for _, p := range r.Policies {
			if f := adminFindings(p); len(f) > 0 {
				t.Errorf("role %s: %s", name, strings.Join(f, "; "))
			}
		}
	}
	// The check itself: AdministratorAccess's document and a service-wide allow fail it.
	admin, _ := ParsePolicy("AdministratorAccess", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	wide, _ := ParsePolicy("wide", `{"Statement":[{"Sid":"w","Effect":"Allow","Action":["iam:*"],"Resource":"*"},{"Sid":"n","Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)
	if len(adminFindings(admin)) != 1 || len(adminFindings(wide)) != 2 {
		t.Errorf("adminFindings misses: %v %v", adminFindings(admin), adminFindings(wide))
	}
}

func adminFindings(p Policy) []string {
	var out []string
	for _, s := range p.Statements {
		if s.Effect != "Allow" {
			continue
		}
		if len(s.NotAction) > 0 {
			out = append(out, fmt.Sprintf("%s/%s allows NotAction %v", p.Name, s.Sid, s.NotAction))
		}
		for _, a := range s.Action {
			if a == "*" || strings.HasSuffix(a, ":*") {
				out = append(out, fmt.Sprintf("%s/%s allows %q", p.Name, s.Sid, a))
			}
		}
	}
	return out
}

// probe is one API call a role should or should not be able to make.
type probe struct {
	action, resource string
	context          map[string][]string
	allowed          bool
}

const (
	acct    = testAccount
	region  = testRegion
	state   = "arn:aws:s3:::orders-tfstate-" + acct + "-" + region
	repoArn = "arn:aws:ecr:" + region + ":" + acct + ":repository/"
	secret  = "arn:aws:secretsmanager:" + region + ":" + acct + ":secret:"
	cluster = "arn:aws:eks:" + region + ":" + acct + ":cluster/"
	iamRole = "arn:aws:iam::" + acct + ":role/"
	key     = "arn:aws:kms:" + region + ":" + acct + ":key/1234"
)

func tagged(env string) map[string][]string {
	return map[string][]string{"aws:ResourceTag/Environment": {env}}
}

func boundary(env string) map[string][]string {
	return map[string][]string{"iam:PermissionsBoundary": {"arn:aws:iam::" + acct + ":policy/orders-" + env + "-workload-boundary"}}
}

// What each role may and may not do, evaluated on its policies as written; the
// test log is the table of what each is refused.
func TestGitHubRolesRefuse(t *testing.T) {
	_, roles := bootstrap(t)
	viaSecrets := func(secretARN string) map[string][]string {
		return map[string][]string{"kms:ViaService": {"secretsmanager." + region + ".amazonaws.com"}, "kms:EncryptionContext:SecretARN": {secretARN}}
	}
	deploy := func(env, other string) []probe {
		return []probe{
			{"s3:PutObject", state + "/platform/" + env + "/terraform.tfstate", nil, true},
			{"s3:GetObject", state + "/platform/" + other + "/terraform.tfstate", nil, false},
			{"eks:CreateCluster", cluster + "orders-" + env, nil, true},
			{"eks:DeleteCluster", cluster + "orders-" + other, nil, false},
			{"iam:CreateRole", iamRole + "orders-" + env + "-ebs-csi", boundary(env), true},
			{"iam:CreateRole", iamRole + "orders-" + env + "-ebs-csi", nil, false},
			{"iam:CreateRole", iamRole + "orders-" + env + "-ebs-csi", boundary(other), false},
			{"iam:CreateRole", iamRole + "orders-" + other + "-ebs-csi", boundary(other), false},
			{"iam:CreateRole", iamRole + "admin", boundary(env), false},
			{"iam:AttachRolePolicy", iamRole + "orders-github-deploy-" + env, nil, false},
			{"iam:DeleteRolePermissionsBoundary", iamRole + "orders-" + env + "-ebs-csi", nil, false},
			{"iam:CreateUser", "arn:aws:iam::" + acct + ":user/x", nil, false},
			{"iam:PutRolePolicy", iamRole + "orders-operator", nil, false},
			{"secretsmanager:GetSecretValue", secret + "orders-" + env + "/mongodb/root-AbCdEf", nil, true},
			{"secretsmanager:GetSecretValue", secret + "orders-" + other + "/mongodb/root-AbCdEf", nil, false},
			{"kms:Decrypt", key, tagged(env), true},
			{"kms:Decrypt", key, tagged(other), false},
			{"kms:Decrypt", "arn:aws:kms:" + region + ":" + acct + ":key/state", nil, true},
			{"kms:ScheduleKeyDeletion", "arn:aws:kms:" + region + ":" + acct + ":key/state", nil, false},
			{"ecr:PutImage", repoArn + "orders-" + env + "/service1", nil, true},
			{"ecr:PutImage", repoArn + "orders-" + other + "/service1", nil, false},
			{"s3:PutBucketPolicy", state, nil, false},
			{"s3:DeleteBucket", "arn:aws:s3:::orders-" + other + "-mongodb-backups-" + acct + "-" + region, nil, false},
			{"s3:GetObject", "arn:aws:s3:::orders-" + env + "-mongodb-backups-" + acct + "-" + region + "/dump", nil, false},
			{"ssm:PutParameter", "arn:aws:ssm:" + region + ":" + acct + ":parameter/orders/cluster-admin-principal-arns", nil, false},
			{"organizations:LeaveOrganization", "*", nil, false},
			{"ec2:CreateVpc", "*", nil, true},
		}
	}
	devRoot := secret + "orders-dev/mongodb/root-AbCdEf"
	cases := map[string][]probe{
		"orders-github-deploy-dev": deploy("dev", "prod"),
		"orders-github-deploy-prod": append(deploy("prod", "dev"),
			probe{"ecr:BatchGetImage", repoArn + "orders-dev/service1", nil, true}, // promotion
			probe{"ecr:PutImage", repoArn + "orders-dev/service1", nil, false},
		),
		"orders-github-publish": {
			{"ecr:PutImage", repoArn + "orders-dev/service1", nil, true},
			{"ecr:PutImage", repoArn + "orders-dev/backup", nil, true},
			{"ecr:PutImage", repoArn + "orders-prod/service1", nil, false},
			{"ecr:PutImage", repoArn + "orders-dev/mirror/mongodb", nil, false},
			{"ecr:DeleteRepository", repoArn + "orders-dev/service1", nil, false},
			{"s3:GetObject", state + "/platform/dev/terraform.tfstate", nil, true},
			{"s3:PutObject", state + "/platform/dev/terraform.tfstate", nil, false},
			{"eks:DescribeCluster", cluster + "orders-dev", nil, false},
			{"secretsmanager:GetSecretValue", devRoot, nil, false},
			{"iam:PassRole", iamRole + "orders-dev-ebs-csi", nil, false},
		},
		"orders-github-preview": {
			{"eks:DescribeCluster", cluster + "orders-dev", nil, true},
			{"eks:DescribeCluster", cluster + "orders-prod", nil, false},
			{"eks:UpdateClusterConfig", cluster + "orders-dev", nil, false},
			{"secretsmanager:GetSecretValue", devRoot, nil, true},
			{"secretsmanager:GetSecretValue", secret + "orders-prod/mongodb/root-AbCdEf", nil, false},
			{"secretsmanager:PutSecretValue", devRoot, nil, false},
			{"kms:Decrypt", key, viaSecrets(devRoot), true},
			{"kms:Decrypt", key, viaSecrets(secret + "orders-prod/mongodb/root-AbCdEf"), false},
			{"kms:Decrypt", key, tagged("dev"), false},
			{"s3:GetObject", state + "/platform/dev/terraform.tfstate", nil, true},
			{"s3:GetObject", state + "/platform/prod/terraform.tfstate", nil, false},
			{"s3:PutObject", state + "/platform/dev/terraform.tfstate", nil, false},
			{"ecr:PutImage", repoArn + "orders-dev/service1", nil, true},
			{"ecr:PutImage", repoArn + "orders-dev/backup", nil, false},
			{"ecr:PutImage", repoArn + "orders-prod/service1", nil, false},
			{"eks:CreateCluster", cluster + "orders-dev", nil, false},
			{"iam:CreateRole", iamRole + "orders-dev-x", boundary("dev"), false},
			{"ec2:RunInstances", "*", nil, false},
		},
		"orders-github-drift": {
			{"ec2:DescribeVpcs", "*", nil, true},
			{"s3:GetObject", state + "/platform/prod/terraform.tfstate", nil, true},
			{"s3:PutObject", state + "/platform/prod/terraform.tfstate", nil, false},
			{"s3:PutObject", state + "/platform/prod/terraform.tfstate.tflock", nil, true},
			{"secretsmanager:GetSecretValue", secret + "orders-prod/mongodb/root-AbCdEf", nil, true},
			{"secretsmanager:PutSecretValue", secret + "orders-prod/mongodb/root-AbCdEf", nil, false},
			{"kms:Decrypt", key, map[string][]string{"kms:ViaService": {"secretsmanager." + region + ".amazonaws.com"}}, true},
			{"kms:Decrypt", key, tagged("prod"), false},
			{"ec2:CreateVpc", "*", nil, false},
			{"eks:DeleteCluster", cluster + "orders-prod", nil, false},
			{"iam:CreateRole", iamRole + "orders-prod-x", boundary("prod"), false},
			{"ecr:PutImage", repoArn + "orders-prod/service1", nil, false},
		},
		"orders-operator": append(deploy("dev", "none"), deploy("prod", "none")[:1]...),
	}
	for name, probes := range cases {
		r, ok := roles[name]
		if !ok {
			t.Errorf("no role %s", name)
			continue
		}
		for _, p := range probes {
			d, err := Evaluate(Request{Action: p.action, Resource: p.resource, Context: p.context}, r.Policies, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-26s %-8s %s (%s)", name, verdict(d.Allowed), Request{Action: p.action, Resource: p.resource, Context: p.context}, d.Reason)
			if d.Allowed != p.allowed {
				t.Errorf("%s %s %s: allowed=%v, want %v (%s)", name, p.action, p.resource, d.Allowed, p.allowed, d.Reason)
			}
		}
	}
}

// A role a deploy role creates carries its environment's boundary: whatever
// policy the deploy role attaches to it, the boundary refuses IAM, Secrets
// Manager, the state and the other environment's data.
func TestWorkloadBoundaryCapsCreatedRoles(t *testing.T) {
	c, _ := bootstrap(t)
	policies, err := c.Policies()
	if err != nil {
		t.Fatal(err)
	}
	b, ok := policies["orders-dev-workload-boundary"]
	if !ok {
		t.Fatalf("no boundary orders-dev-workload-boundary among %v", sortedKeys(policies))
	}
	admin, _ := ParsePolicy("attached AdministratorAccess", `{"Statement":[{"Sid":"all","Effect":"Allow","Action":"*","Resource":"*"}]}`)
	for _, p := range []probe{
		{"ec2:CreateVolume", "*", nil, true},
		{"elasticloadbalancing:CreateLoadBalancer", "*", nil, true},
		{"s3:PutObject", "arn:aws:s3:::orders-dev-mongodb-backups-" + acct + "-" + region + "/dump", nil, true},
		{"s3:GetObject", "arn:aws:s3:::orders-prod-mongodb-backups-" + acct + "-" + region + "/dump", nil, false},
		{"s3:GetObject", state + "/platform/prod/terraform.tfstate", nil, false},
		{"kms:Decrypt", key, tagged("dev"), true},
		{"kms:Decrypt", key, tagged("prod"), false},
		{"iam:CreateRole", iamRole + "x", nil, false},
		{"iam:AttachRolePolicy", iamRole + "orders-dev-ebs-csi", nil, false},
		{"iam:PassRole", iamRole + "orders-dev-ebs-csi", nil, false},
		{"sts:AssumeRole", iamRole + "orders-github-deploy-prod", nil, false},
		{"secretsmanager:GetSecretValue", secret + "orders-dev/mongodb/root-AbCdEf", nil, false},
		{"eks:CreateCluster", cluster + "orders-prod", nil, false},
	} {
		d, err := Evaluate(Request{Action: p.action, Resource: p.resource, Context: p.context}, []Policy{admin}, &b)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("boundary %-8s %s %s", verdict(d.Allowed), p.action, p.resource)
		if d.Allowed != p.allowed {
			t.Errorf("a role with AdministratorAccess under orders-dev-workload-boundary: %s %s allowed=%v, want %v (%s)", p.action, p.resource, d.Allowed, p.allowed, d.Reason)
		}
	}
}

// The names the platform of each environment looks up are the roles the
// bootstrap creates for it: its deploy role, and in dev the publish and
// preview roles.
func TestPlatformNamesTheBootstrapRoles(t *testing.T) {
	root := repoRoot(t)
	_, roles := bootstrap(t)
	for env, want := range map[string]map[string]string{
		"dev":  {"deploy_role_name": "orders-github-deploy-dev", "publish_role_name": "orders-github-publish", "preview_role_name": "orders-github-preview"},
		"prod": {"deploy_role_name": "orders-github-deploy-prod", "publish_role_name": "", "preview_role_name": ""},
	} {
		for variable, name := range want {
			v, found, err := tfvars.EnvironmentValue(root, env, variable)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if found {
				got = v.AsString()
			}
			if got != name {
				t.Errorf("environments/%s: %s = %q, want %q", env, variable, got, name)
			}
			if _, ok := roles[name]; name != "" && !ok {
				t.Errorf("environments/%s: %s = %q, which terraform/bootstrap does not create", env, variable, name)
			}
		}
	}
	if !slices.Contains(sortedKeys(roles), "orders-operator") {
		t.Error("no operator role")
	}
}
