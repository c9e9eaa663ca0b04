package chartrules

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/deploy"
	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
	"github.com/orders-platform/orders/internal/tfvars"
)

// testRegistry is the ECR registry of the stand-in Terraform outputs.
const testRegistry = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"

// envOutputs are stand-in Terraform outputs of an AWS environment, shaped by what
// its inputs ask for: one public subnet and Elastic IP per AZ (az_count) and one ECR
// repository per entry of ecr_repositories, as terraform/platform/ecr.tf creates
// them (<project>-<environment>/<name>). A mirror missing from the environment's
// list is then missing here too.
func envOutputs(t *testing.T, root, env string) *tfoutputs.Outputs {
	t.Helper()
	azs := tfNumber(t, root, env, "az_count")
	o := &tfoutputs.Outputs{
		Environment: env, Region: "eu-central-1", ClusterName: "orders-" + env, VPCID: "vpc-0123",
		ECRRegistry: testRegistry, ECRRepositoryURLs: map[string]string{},
		BackupBucket: "orders-" + env + "-mongodb-backups-123456789012-eu-central-1",
	}
	for _, r := range environmentStrings(t, root, env, "ecr_repositories") {
		o.ECRRepositoryURLs[r] = testRegistry + "/orders-" + env + "/" + r
	}
	for i := 0; i < azs; i++ {
		o.PublicSubnetIDs = append(o.PublicSubnetIDs, fmt.Sprintf("subnet-0a1b2c3d4e5f6070%d", i))
		o.NLBEIPAllocationIDs = append(o.NLBEIPAllocationIDs, fmt.Sprintf("eipalloc-0f1e2d3c4b5a6978%d", i))
	}
	return o
}

// tfNumber is a whole-number Terraform input of env (tfvars, else the default).
func tfNumber(t *testing.T, root, env, name string) int {
	t.Helper()
	v, found, err := tfvars.EnvironmentValue(root, env, name)
	if err != nil || !found {
		t.Fatalf("%s: %s: %v (found %t)", env, name, err, found)
	}
	f, _ := v.AsBigFloat().Int64()
	return int(f)
}

// envPlan is the deployer's plan of env with stand-in images (by digest, as prod
// requires) and, on AWS, stand-in Terraform outputs: every release and add-on with
// the values the deployer would install.
func envPlan(t *testing.T, root, env string) (*deploy.Plan, *environments.Environment) {
	t.Helper()
	e, err := environments.Load(os.DirFS(root), env)
	if err != nil {
		t.Fatal(err)
	}
	in := deploy.Inputs{Env: env, Images: map[string]deploy.Image{
		"service1": {Digest: "sha256:" + strings.Repeat("a1", 32)},
		"service2": {Digest: "sha256:" + strings.Repeat("b2", 32)},
	}}
	if e.AWS {
		in.Outputs = envOutputs(t, root, env)
		in.Images[deploy.BackupImage] = deploy.Image{Digest: "sha256:" + strings.Repeat("c3", 32)}
	}
	p, err := deploy.BuildPlan(root, in)
	if err != nil {
		t.Fatalf("plan of %s: %v", env, err)
	}
	return p, e
}

// repoEnvironments is the repository root and its environments.
func repoEnvironments(t *testing.T) (string, []string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	envs, err := Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, envs
}

// awsEnvironments are the environments deployed on EKS.
func awsEnvironments(t *testing.T, root string) []string {
	t.Helper()
	_, envs := repoEnvironments(t)
	var out []string
	for _, env := range envs {
		e, err := environments.Load(os.DirFS(root), env)
		if err != nil {
			t.Fatal(err)
		}
		if e.AWS {
			out = append(out, env)
		}
	}
	if len(out) < 2 {
		t.Fatalf("AWS environments %v, want at least dev and prod", out)
	}
	return out
}
