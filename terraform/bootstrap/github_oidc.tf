################################################################################
# GitHub Actions → AWS without stored keys: the workflow's OIDC token is
# exchanged for short-lived credentials of the deploy role. The trust policy
# accepts only jobs of this repository that run in one of its (protected)
# deployment environments.
################################################################################

locals {
  github_oidc_host = "token.actions.githubusercontent.com"

  github_subjects = [for env in var.github_environments : "repo:${var.github_repository}:environment:${env}"]
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # No thumbprint_list: AWS validates this issuer against its own trusted CA
  # store, and the provider no longer requires one.
}

data "aws_iam_policy_document" "deploy_trust" {
  statement {
    sid     = "GitHubActionsProtectedEnvironments"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Exact match, no wildcards: only jobs bound to a listed environment.
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:sub"
      values   = local.github_subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.project}-github-deploy"
  description          = "Assumed by GitHub Actions (${var.github_repository}, environments ${join(", ", var.github_environments)}) to run terraform, push images and deploy."
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust.json
  max_session_duration = var.deploy_role_max_session_seconds
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each = toset(var.deploy_role_policy_arns)

  role       = aws_iam_role.deploy.name
  policy_arn = each.value
}

# The deploy role may change everything the platform owns, but not the things
# that decide who may deploy and where state lives. Changing those needs a person
# with the cluster-admin role or account administrators, through this bootstrap.
data "aws_iam_policy_document" "deploy_guardrails" {
  statement {
    sid    = "ProtectDeployIdentity"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
    ]
    resources = [
      aws_iam_role.deploy.arn,
      aws_iam_role.operator.arn,
      aws_iam_role.cluster_admin.arn,
      aws_iam_role.developer.arn,
    ]
  }

  statement {
    sid    = "ProtectOIDCProvider"
    effect = "Deny"
    actions = [
      "iam:AddClientIDToOpenIDConnectProvider",
      "iam:DeleteOpenIDConnectProvider",
      "iam:RemoveClientIDFromOpenIDConnectProvider",
      "iam:UpdateOpenIDConnectProviderThumbprint",
    ]
    resources = [aws_iam_openid_connect_provider.github.arn]
  }

  statement {
    sid       = "ProtectClusterAdminList"
    effect    = "Deny"
    actions   = ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:LabelParameterVersion"]
    resources = [aws_ssm_parameter.cluster_admin_principals.arn]
  }

  statement {
    sid    = "ProtectStateBucket"
    effect = "Deny"
    actions = [
      "s3:DeleteBucket",
      "s3:DeleteBucketPolicy",
      "s3:PutBucketPolicy",
      "s3:PutBucketVersioning",
      "s3:PutEncryptionConfiguration",
      "s3:PutLifecycleConfiguration",
      "s3:PutBucketPublicAccessBlock",
    ]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid    = "ProtectStateKey"
    effect = "Deny"
    actions = [
      "kms:DisableKey",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
    ]
    resources = [aws_kms_key.state.arn]
  }
}

resource "aws_iam_role_policy" "deploy_guardrails" {
  name   = "bootstrap-guardrails"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy_guardrails.json
}
