output "state_bucket" {
  description = "S3 bucket holding Terraform state; pass it to `terraform init -backend-config=bucket=...` for the platform."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_arn" {
  description = "KMS key that encrypts the state bucket."
  value       = aws_kms_key.state.arn
}

output "github_oidc_provider_arn" {
  description = "IAM OIDC provider for GitHub Actions."
  value       = aws_iam_openid_connect_provider.github.arn
}

output "deploy_role_arn" {
  description = "Role GitHub Actions assumes (aws-actions/configure-aws-credentials role-to-assume); store it as a repository variable, it is not a secret."
  value       = aws_iam_role.deploy.arn
}

output "deploy_role_name" {
  description = "Name of the deploy role; the platform grants it cluster-admin access by this name."
  value       = aws_iam_role.deploy.name
}

output "region" {
  description = "Region of the state bucket (pass it to `terraform init -backend-config=region=...`)."
  value       = var.region
}

output "operator_role_arn" {
  description = "Role people assume to run deploy, provision and destroy from a workstation (docs/deployment.md, step 3)."
  value       = aws_iam_role.operator.arn
}

output "operator_role_name" {
  description = "Name of the operator role (platform variable operator_role_name)."
  value       = aws_iam_role.operator.name
}

output "cluster_admin_principal_arns" {
  description = "IAM principals every environment gives cluster-admin access entries (the first applier and cluster_admin_principal_arns), stored in the SSM parameter cluster_admin_principals_parameter."
  value       = local.cluster_admin_principal_arns
}

output "cluster_admin_principals_parameter" {
  description = "SSM parameter the platform reads the cluster admins from (platform variable admin_principals_parameter)."
  value       = aws_ssm_parameter.cluster_admin_principals.name
}

output "cluster_admin_role_arn" {
  description = "Role people assume to administer the clusters."
  value       = aws_iam_role.cluster_admin.arn
}

output "cluster_admin_role_name" {
  description = "Name of the cluster-admin role (platform variable cluster_admin_role_name)."
  value       = aws_iam_role.cluster_admin.name
}

output "developer_role_arn" {
  description = "Role the development team assumes for read-only cluster access."
  value       = aws_iam_role.developer.arn
}

output "developer_role_name" {
  description = "Name of the developer role (platform variable developer_role_name)."
  value       = aws_iam_role.developer.name
}
