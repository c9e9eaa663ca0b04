package terraformrules

import (
	"testing"

	"github.com/orders-platform/orders/internal/tfvars"
)

func TestCheckLogGroups(t *testing.T) {
	dir := writeFixture(t, map[string]string{"logs.tf": `resource "aws_cloudwatch_log_group" "ok" {
  name              = "/aws/ok"
  retention_in_days = 7
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_cloudwatch_log_group" "forever" {
  name       = "/aws/forever"
  kms_key_id = aws_kms_key.logs.arn
}

resource "aws_cloudwatch_log_group" "service_key" {
  name              = "/aws/service-key"
  retention_in_days = 7
}

module "eks_ok" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  cloudwatch_log_group_retention_in_days = 7
  cloudwatch_log_group_kms_key_id        = aws_kms_key.logs.arn
}

module "eks_no_key" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  cloudwatch_log_group_retention_in_days = 7
}

module "eks_no_log_group" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  create_cloudwatch_log_group = false
}

module "vpc_no_flow_logs" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"
}

module "vpc_flow_logs_off" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"

  enable_flow_log = false
}

module "vpc_flow_logs_unencrypted" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"

  enable_flow_log                                 = var.flow_logs
  flow_log_cloudwatch_log_group_retention_in_days = 30
}

module "other" {
  source  = "terraform-aws-modules/ecr/aws"
  version = "3.2.0"
}
`})
	m, _, err := tfvars.LoadModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, CheckLogGroups(m), []want{
		{"logs.tf", 7, "aws_cloudwatch_log_group.forever has no retention_in_days"},
		{"logs.tf", 12, "aws_cloudwatch_log_group.service_key has no kms_key_id"},
		{"logs.tf", 25, `module "eks_no_key" (terraform-aws-modules/eks/aws) creates a log group but does not set cloudwatch_log_group_kms_key_id`},
		{"logs.tf", 51, `module "vpc_flow_logs_unencrypted" (terraform-aws-modules/vpc/aws) creates a log group but does not set flow_log_cloudwatch_log_group_kms_key_id`},
	})
}

// TestRepoLogGroupsHaveRetentionAndKey: no log group of the platform keeps logs
// forever or goes without the environment's logs key.
func TestRepoLogGroupsHaveRetentionAndKey(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{tfvars.BootstrapDir, tfvars.PlatformDir} {
		t.Run(dir, func(t *testing.T) {
			requireNoFindings(t, root, CheckLogGroups(loadRepoModule(t, root, dir)))
		})
	}
}
