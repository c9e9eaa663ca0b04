################################################################################
# Roles that people assume to reach the EKS clusters. The platform grants them
# access entries by name: cluster-admin and operator get
# AmazonEKSClusterAdminPolicy, the developer role AmazonEKSViewPolicy (read-only,
# no Secrets; the platform lets it read the MongoDB application user's secret and
# nothing else). Who may assume them is decided in IAM (or IAM Identity Center
# permission sets) of this account: the trust policy delegates to the account,
# and only principals whose own policy allows sts:AssumeRole on the role can use
# it.
################################################################################

data "aws_iam_policy_document" "account_trust" {
  statement {
    sid     = "SameAccountPrincipalsWithPermission"
    effect  = "Allow"
    actions = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_iam_role" "cluster_admin" {
  name                 = "${var.project}-cluster-admin"
  description          = "People who administer the ${var.project} EKS clusters (Kubernetes cluster-admin)."
  assume_role_policy   = data.aws_iam_policy_document.account_trust.json
  max_session_duration = var.human_role_max_session_seconds
}

# The role people assume to run `dagger call … deploy|provision|destroy` from a
# workstation: what the deploy role of every environment may do (their policies,
# with the same guardrails), reached through IAM instead of GitHub OIDC. Sessions
# as long as the GitHub roles': a first deploy takes about 40 minutes (AWS caps a
# session reached by chaining from another role at one hour).
resource "aws_iam_role" "operator" {
  name                 = "${var.project}-operator"
  description          = "People who run deploy, provision and destroy of the ${var.project} environments from a workstation."
  assume_role_policy   = data.aws_iam_policy_document.account_trust.json
  max_session_duration = var.deploy_role_max_session_seconds
}

resource "aws_iam_role_policy_attachment" "operator" {
  for_each = toset(var.deploy_environments)

  role       = aws_iam_role.operator.name
  policy_arn = aws_iam_policy.github["deploy-${each.key}"].arn
}

resource "aws_iam_role_policy" "operator_guardrails" {
  name   = "bootstrap-guardrails"
  role   = aws_iam_role.operator.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.guardrails })
}

resource "aws_iam_role" "developer" {
  name                 = "${var.project}-developer"
  description          = "Development team: read-only view of the ${var.project} EKS clusters."
  assume_role_policy   = data.aws_iam_policy_document.account_trust.json
  max_session_duration = var.human_role_max_session_seconds
}

# Reaching the cluster API needs eks:DescribeCluster to build a kubeconfig;
# Kubernetes permissions themselves come from the access entries.
locals {
  describe_clusters = {
    Version = "2012-10-17"
    Statement = [{
      Sid      = "DescribeProjectClusters"
      Effect   = "Allow"
      Action   = ["eks:DescribeCluster", "eks:ListClusters"]
      Resource = ["arn:${local.partition}:eks:${var.region}:${local.account_id}:cluster/${var.project}-*"]
    }]
  }
}

resource "aws_iam_role_policy" "cluster_admin_describe" {
  name   = "describe-clusters"
  role   = aws_iam_role.cluster_admin.id
  policy = jsonencode(local.describe_clusters)
}

resource "aws_iam_role_policy" "developer_describe" {
  name   = "describe-clusters"
  role   = aws_iam_role.developer.id
  policy = jsonencode(local.describe_clusters)
}

################################################################################
# Cluster admins of every environment, besides the roles above: the person who
# ran the first bootstrap apply (so whoever set the account up can use the
# clusters at once, without assuming a role) and cluster_admin_principal_arns.
# The platform reads this parameter (its variable admin_principals_parameter)
# and gives each ARN a cluster-admin access entry. An access entry takes an IAM
# user or role ARN, a role's path included, never an STS session ARN: an
# assumed-role caller is recorded as its role (aws_iam_session_context), the
# root user not at all (it assumes the operator role instead).
################################################################################

data "aws_iam_session_context" "caller" {
  arn = data.aws_caller_identity.current.arn
}

# The first applier, kept: a later apply by someone else does not replace them.
resource "terraform_data" "bootstrapper" {
  input = data.aws_iam_session_context.caller.issuer_arn

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  bootstrapper = terraform_data.bootstrapper.output
  cluster_admin_principal_arns = distinct(concat(
    var.cluster_admin_principal_arns,
    endswith(local.bootstrapper, ":root") ? [] : [local.bootstrapper],
  ))
}

resource "aws_ssm_parameter" "cluster_admin_principals" {
  name        = "/${var.project}/cluster-admin-principal-arns"
  description = "IAM principals the ${var.project} platform gives cluster-admin access entries (JSON list), written by terraform/bootstrap."
  type        = "String"
  value       = jsonencode(local.cluster_admin_principal_arns)
}
