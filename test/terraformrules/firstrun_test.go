package terraformrules

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/orders-platform/orders/internal/tfvars"
)

// The first-run rules, on fixtures that break each one and on the repository.

const fixturePlatformVars = `variable "cluster_endpoint_public_access" {
  type    = bool
  default = true
}
variable "cluster_endpoint_public_access_cidrs" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}
`

const fixtureDeploy = `name: deploy
on:
  push:
jobs:
  dev:
    runs-on: ubuntu-24.04
    environment:
      name: dev
    steps:
      - uses: dagger/dagger-for-github@27b130bf0f79a7f6fbbbe0fbca6760dc9bb40a77 # v8.4.1
        with:
          args: >-
            --aws-access-key-id=env://AWS_ACCESS_KEY_ID
            --commit=${{ github.sha }}
            deploy --env=dev export --path=x
  prod:
    runs-on: [self-hosted, vpc]
    environment: prod
    steps:
      - uses: dagger/dagger-for-github@27b130bf0f79a7f6fbbbe0fbca6760dc9bb40a77 # v8.4.1
        with:
          args: deploy --env=prod
`

const fixtureDrift = `name: drift
on:
  schedule:
    - cron: "17 5 * * *"
jobs:
  plan:
    runs-on: ubuntu-24.04
    strategy:
      matrix:
        env: [dev, prod]
    environment: ${{ matrix.env }}
    steps:
      - uses: dagger/dagger-for-github@27b130bf0f79a7f6fbbbe0fbca6760dc9bb40a77 # v8.4.1
        with:
          args: plan --env=${{ matrix.env }} --fail-on-drift
`

func firstRunFixture(t *testing.T, files map[string]string) string {
	t.Helper()
	base := map[string]string{
		"go.mod":                                "module " + ModulePath + "\n",
		"terraform/platform/variables.tf":       fixturePlatformVars,
		"terraform/bootstrap/terraform.tfvars":  "region = \"eu-central-1\"\ndeploy_environments = [\"dev\", \"prod\"]\ndrift_environment = \"drift\"\n",
		"environments/dev/terraform.tfvars":     "region = \"eu-central-1\"\n",
		"environments/prod/terraform.tfvars":    "region = \"eu-central-1\"\ncluster_endpoint_public_access_cidrs = [\"198.18.0.0/16\"]\n",
		".github/workflows/deploy.yml":          fixtureDeploy,
		".github/workflows/drift.yml":           fixtureDrift,
		"environments/local/values/orders.yaml": "{}\n",
	}
	for k, v := range files {
		base[k] = v
	}
	return writeFixture(t, base)
}

func TestWorkflowJobs(t *testing.T) {
	jobs, err := WorkflowJobs(firstRunFixture(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]WorkflowJob{}
	for _, j := range jobs {
		got[j.File+"/"+j.Name] = j
	}
	dev := got["deploy.yml/dev"]
	if !dev.GitHubHosted() || !slices.Equal(dev.Environments, []string{"dev"}) || !slices.Equal(dev.Envs, []string{"dev"}) || !slices.Equal(dev.Functions, []string{"deploy"}) {
		t.Errorf("deploy.yml/dev read as %+v", dev)
	}
	if prod := got["deploy.yml/prod"]; prod.GitHubHosted() || !slices.Equal(prod.Environments, []string{"prod"}) {
		t.Errorf("deploy.yml/prod read as %+v", prod)
	}
	plan := got["drift.yml/plan"]
	if !plan.Scheduled || !slices.Equal(plan.Environments, []string{"dev", "prod"}) || !slices.Equal(plan.Envs, []string{"dev", "prod"}) || !slices.Equal(plan.Functions, []string{"plan"}) {
		t.Errorf("drift.yml/plan read as %+v", plan)
	}
}

func TestCheckAPIReachable(t *testing.T) {
	// prod is narrowed, and deployed from a self-hosted runner: fine.
	fs, err := CheckAPIReachable(firstRunFixture(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, nil)

	// The shipped default of old: a documentation range, deployed from a GitHub-hosted runner.
	fs, err = CheckAPIReachable(firstRunFixture(t, map[string]string{
		"environments/dev/terraform.tfvars": "region = \"eu-central-1\"\n\ncluster_endpoint_public_access_cidrs = [\"203.0.113.0/24\"]\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, []want{
		{"terraform.tfvars", 3, "203.0.113.0/24, a documentation range"},
		{"deploy.yml", 1, "job dev reaches the Kubernetes API of dev from a GitHub-hosted runner"},
	})

	// A private-only endpoint cannot be reached from a GitHub-hosted runner either.
	fs, err = CheckAPIReachable(firstRunFixture(t, map[string]string{
		"environments/dev/terraform.tfvars": "region = \"eu-central-1\"\ncluster_endpoint_public_access = false\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, []want{{"deploy.yml", 1, "does not open the public endpoint"}})
}

func TestCheckWorkflowEnvironments(t *testing.T) {
	// The drift plan of old: bound to prod (reviewers); then bound to an
	// environment no role trusts.
	fs, err := CheckWorkflowEnvironments(firstRunFixture(t, nil), []string{"prod"})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, []want{{"drift.yml", 1, `scheduled job plan runs in "prod", which has required reviewers`}})

	fs, err = CheckWorkflowEnvironments(firstRunFixture(t, map[string]string{
		".github/workflows/drift.yml": strings.ReplaceAll(fixtureDrift, "environment: ${{ matrix.env }}", "environment: nightly"),
	}), []string{"prod"})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, []want{{"drift.yml", 1, `GitHub environment "nightly", which no role trusts`}})
}

func TestCheckRegionOnce(t *testing.T) {
	fs, err := tfvars.CheckRegionOnce(firstRunFixture(t, map[string]string{
		"environments/prod/terraform.tfvars": "\nregion = \"eu-west-1\"\n",
		".github/workflows/deploy.yml":       fixtureDeploy + "# a comment may name eu-central-1\n        env:\n          AWS_REGION: eu-central-1\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, []want{
		{"terraform.tfvars", 2, `region "eu-west-1" differs from the bootstrap's "eu-central-1"`},
		{"deploy.yml", 25, `region "eu-central-1" written in a workflow`},
	})
}

// The repository as shipped: every first-run rule holds.
func TestRepoFirstRunRules(t *testing.T) {
	root := repoRoot(t)
	for name, check := range map[string]func(string) ([]tfvars.Finding, error){
		"api reachable": CheckAPIReachable,
		"region once":   tfvars.CheckRegionOnce,
		// prod has required reviewers (docs/deployment.md, "GitHub settings").
		"environments": func(r string) ([]tfvars.Finding, error) { return CheckWorkflowEnvironments(r, []string{"prod"}) },
	} {
		t.Run(name, func(t *testing.T) {
			fs, err := check(root)
			if err != nil {
				t.Fatal(err)
			}
			requireNoFindings(t, root, fs)
		})
	}
}

// Who can use a new cluster: the bootstrap's operator role (named in
// docs/deployment.md for a deploy from a laptop) and the admins it stores get
// cluster-admin access entries; the names the platform looks up are the ones the
// bootstrap creates; the creator gets no implicit entry (it changes between runs).
func TestRepoClusterAccessForPeople(t *testing.T) {
	root := repoRoot(t)
	platform := loadRepoModule(t, root, tfvars.PlatformDir)
	refs, err := References(platform, "module", []string{"eks"}, "access_entries")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"local.admin_principal_arns", "data.aws_iam_role.operator.arn", "data.aws_iam_role.deploy.arn", "data.aws_iam_role.cluster_admin.arn", "data.aws_iam_role.developer.arn"} {
		if !slices.Contains(refs, want) {
			t.Errorf("module eks access_entries does not use %s (it uses %v)", want, refs)
		}
	}
	refs, err = References(platform, "locals", nil, "admin_principal_arns")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"var.cluster_admin_principal_arns", "data.aws_ssm_parameter.admin_principals"} {
		if !slices.ContainsFunc(refs, func(r string) bool { return strings.HasPrefix(r, want) }) {
			t.Errorf("local.admin_principal_arns does not read %s (it reads %v)", want, refs)
		}
	}

	// Bootstrap names = platform defaults (project "orders").
	bootstrap := loadRepoModule(t, root, tfvars.BootstrapDir)
	for _, c := range []struct{ variable, resourceType, resource, attr, want string }{
		{"operator_role_name", "aws_iam_role", "operator", "name", "orders-operator"},
		{"developer_role_name", "aws_iam_role", "developer", "name", "orders-developer"},
		{"admin_principals_parameter", "aws_ssm_parameter", "cluster_admin_principals", "name", "/orders/cluster-admin-principal-arns"},
	} {
		v, found, err := tfvars.EnvironmentValue(root, "dev", c.variable)
		if err != nil || !found || v.Type() != cty.String || v.AsString() != c.want {
			t.Errorf("platform variable %s = %v (found %v, %v), want %q", c.variable, v, found, err, c.want)
		}
		if got := bootstrapName(t, bootstrap, c.resourceType, c.resource, c.attr); got != c.want {
			t.Errorf("bootstrap %s.%s is named %q, the platform looks up %q", c.resourceType, c.resource, got, c.want)
		}
	}
}

// bootstrapName renders a resource's name attribute with project = "orders".
func bootstrapName(t *testing.T, m *tfvars.Module, typ, name, attr string) string {
	t.Helper()
	for _, b := range m.Blocks("resource") {
		if !slices.Equal(b.Block.Labels, []string{typ, name}) {
			continue
		}
		a, ok := b.Block.Body.Attributes[attr]
		if !ok {
			t.Fatalf("resource %s.%s has no %s", typ, name, attr)
		}
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"project": cty.StringVal("orders")})}}
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("resource %s.%s %s: %v", typ, name, attr, diags)
		}
		return v.AsString()
	}
	t.Fatalf("no resource %s.%s in %s", typ, name, m.Dir)
	return ""
}

// The developer role reads the application user's secret, and that one only.
func TestRepoDeveloperReadsTheAppPasswordOnly(t *testing.T) {
	root := repoRoot(t)
	platform := loadRepoModule(t, root, tfvars.PlatformDir)
	for _, c := range []struct {
		typ    string
		labels []string
		attr   string
	}{
		{"resource", []string{"aws_secretsmanager_secret_policy", "app"}, "secret_arn"},
		{"resource", []string{"aws_kms_grant", "developer_app_secret"}, "grantee_principal"},
	} {
		refs, err := References(platform, c.typ, c.labels, c.attr)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) == 0 {
			t.Errorf("%v %s refers to nothing", c.labels, c.attr)
		}
	}
	refs, _ := References(platform, "resource", []string{"aws_secretsmanager_secret_policy", "app"}, "secret_arn")
	if !slices.Equal(refs, []string{`aws_secretsmanager_secret.mongodb["app"].arn`}) {
		t.Errorf("the developer's secret policy is on %v, want only the app secret", refs)
	}
	refs, _ = References(platform, "resource", []string{"aws_kms_grant", "developer_app_secret"}, "grantee_principal")
	if !slices.Equal(refs, []string{"data.aws_iam_role.developer.arn"}) {
		t.Errorf("the KMS grant goes to %v, want the developer role", refs)
	}
	// The grant decrypts only what is bound to the app secret.
	constrained := false
	for _, b := range platform.Blocks("resource") {
		if slices.Equal(b.Block.Labels, []string{"aws_kms_grant", "developer_app_secret"}) {
			for _, c := range b.Block.Body.Blocks {
				if a, ok := c.Body.Attributes["encryption_context_subset"]; ok {
					constrained = true
					src := string(b.File.Src[a.SrcRange.Start.Byte:a.SrcRange.End.Byte])
					if !strings.Contains(src, `SecretARN = aws_secretsmanager_secret.mongodb["app"].arn`) {
						t.Errorf("the grant's constraint is %s, want SecretARN = the app secret", src)
					}
				}
			}
		}
	}
	if !constrained {
		t.Error("the developer's KMS grant has no encryption_context_subset: it would decrypt every secret of the data key")
	}
}
