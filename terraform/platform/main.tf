data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  # Only zones that are on by default: opt-in Local/Wavelength zones cannot host
  # these subnets.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

# Roles created once per account by terraform/bootstrap, looked up by name so
# that no account id is written anywhere.
data "aws_iam_role" "cluster_admin" {
  name = var.cluster_admin_role_name
}

data "aws_iam_role" "developer" {
  name = var.developer_role_name
}

data "aws_iam_role" "deploy" {
  name = var.deploy_role_name
}

data "aws_iam_role" "operator" {
  name = var.operator_role_name
}

data "aws_iam_role" "preview" {
  count = var.preview_role_name == "" ? 0 : 1

  name = var.preview_role_name
}

data "aws_iam_role" "publish" {
  count = var.publish_role_name == "" ? 0 : 1

  name = var.publish_role_name
}

# The people terraform/bootstrap made cluster admins (the one who bootstrapped the
# account, and its cluster_admin_principal_arns): one list for every environment.
data "aws_ssm_parameter" "admin_principals" {
  count = var.admin_principals_parameter == "" ? 0 : 1

  name = var.admin_principals_parameter
}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  # /16 → private /20s at the start (4096 addresses each: every pod takes a VPC
  # address with the VPC CNI), public /24s from 10.x.48.0 on (load balancers and
  # NAT gateways only).
  private_subnets = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets  = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 8, 48 + i)]

  # Cluster-admin access entries for people, besides the roles above. A principal
  # may hold one access entry only, so the roles that have their own are left out.
  admin_principal_arns = setsubtract(
    toset(concat(var.cluster_admin_principal_arns, var.admin_principals_parameter == "" ? [] : jsondecode(nonsensitive(data.aws_ssm_parameter.admin_principals[0].value)))),
    concat([data.aws_iam_role.cluster_admin.arn, data.aws_iam_role.deploy.arn, data.aws_iam_role.operator.arn, data.aws_iam_role.developer.arn], data.aws_iam_role.preview[*].arn),
  )

  # Every role this configuration creates carries the environment's boundary,
  # owned by terraform/bootstrap: the deploy role may create roles only with it,
  # and it caps what such a role can do (terraform/bootstrap/github_policies.tf).
  workload_boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${var.project}-${var.environment}-workload-boundary"

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}
