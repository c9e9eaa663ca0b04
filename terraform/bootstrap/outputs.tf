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

output "github_role_arns" {
  description = "The GitHub Actions roles by key (publish, preview, drift, deploy-<env>)."
  value       = { for key, role in aws_iam_role.github : key => role.arn }
}

output "github_variables" {
  description = "GitHub repository variables to set (Settings → Secrets and variables → Actions → Variables; ARNs are not secrets): each workflow's role-to-assume names one of them."
  value       = { for key, role in local.github_roles : role.variable => aws_iam_role.github[key].arn }
}

output "deploy_role_names" {
  description = "Names of the deploy roles by environment (platform variable deploy_role_name of each environment)."
  value       = { for env in var.deploy_environments : env => aws_iam_role.github["deploy-${env}"].name }
}

output "preview_role_name" {
  description = "Name of the preview role (platform variable preview_role_name of the preview environment)."
  value       = aws_iam_role.github["preview"].name
}

output "publish_role_name" {
  description = "Name of the publish role (platform variable publish_role_name of the publish environment)."
  value       = aws_iam_role.github["publish"].name
}

output "workload_boundary_arns" {
  description = "Permissions boundary of the roles each environment's platform creates (the platform derives it from project and environment)."
  value       = { for env, policy in aws_iam_policy.workload_boundary : env => policy.arn }
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
