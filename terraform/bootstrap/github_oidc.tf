################################################################################
# GitHub Actions → AWS without stored keys: a job's OIDC token is exchanged for
# short-lived credentials of one role. There is one role per kind of job, each
# trusted by exactly the subjects of the jobs of that kind, and each allowed what
# that kind needs (github_policies.tf):
#
#   publish       builds on main: push the images to the publish environment's ECR
#   preview       pull requests: one tenant on the preview environment's cluster
#   deploy-<env>  the GitHub environment <env>: terraform/platform and the releases of <env>
#   drift         the GitHub environment of the morning plan: read-only
#
# The subject (sub) claim GitHub puts in the token
# (docs.github.com/en/actions/reference/security/oidc, "Example subject claims"):
# a job that names an environment presents repo:<owner>/<repo>:environment:<name>,
# whatever the event; a job without one presents repo:<owner>/<repo>:pull_request
# on a pull_request event and repo:<owner>/<repo>:ref:refs/heads/<branch>
# otherwise. test/iamrules evaluates every trust policy below against the
# claims of every job of .github/workflows (TestGitHubRolesTrustExactlyTheirJobs).
#
# The policies are written as HCL objects and jsonencode()d rather than as
# aws_iam_policy_document data sources, so that the offline tests can evaluate
# them as they are: nothing between the code and the JSON AWS receives.
################################################################################

locals {
  github_oidc_host = "token.actions.githubusercontent.com"
  github_subject   = "repo:${var.github_repository}"

  # role key => the subjects it trusts, the GitHub repository variable that holds
  # its ARN (the workflows' role-to-assume), and what it is for.
  github_roles = merge({
    publish = {
      subjects    = ["${local.github_subject}:ref:refs/heads/${var.release_branch}"]
      variable    = "AWS_PUBLISH_ROLE_ARN"
      description = "GitHub Actions jobs on ${var.release_branch} without an environment: push the images, once per commit, to ${var.project}-${var.publish_environment}'s ECR."
    }
    preview = {
      subjects    = ["${local.github_subject}:pull_request"]
      variable    = "AWS_PREVIEW_ROLE_ARN"
      description = "GitHub Actions pull-request jobs: deploy and remove one tenant (namespaces tenant-*) on ${var.project}-${var.preview_environment}'s cluster."
    }
    drift = {
      subjects    = ["${local.github_subject}:environment:${var.drift_environment}"]
      variable    = "AWS_DRIFT_ROLE_ARN"
      description = "GitHub Actions jobs in environment ${var.drift_environment}: terraform plan of every environment, read-only."
    }
    }, { for env in var.deploy_environments : "deploy-${env}" => {
      subjects    = ["${local.github_subject}:environment:${env}"]
      variable    = "AWS_DEPLOY_${upper(replace(env, "-", "_"))}_ROLE_ARN"
      description = "GitHub Actions jobs in environment ${env}: terraform/platform, images and releases of ${var.project}-${env}."
  } })

  # Exact matches (StringEquals), no wildcards: a subject names one branch, one
  # environment or the pull_request event of this one repository.
  github_trust = { for key, role in local.github_roles : key => {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActions"
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.github.arn }
      Action    = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
      Condition = {
        StringEquals = {
          "${local.github_oidc_host}:aud" = ["sts.amazonaws.com"]
          "${local.github_oidc_host}:sub" = role.subjects
        }
      }
    }]
  } }
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # No thumbprint_list: AWS validates this issuer against its own trusted CA
  # store, and the provider no longer requires one.
}

resource "aws_iam_role" "github" {
  for_each = local.github_roles

  name                 = "${var.project}-github-${each.key}"
  description          = each.value.description
  assume_role_policy   = jsonencode(local.github_trust[each.key])
  max_session_duration = var.deploy_role_max_session_seconds
}

resource "aws_iam_policy" "github" {
  for_each = local.github_roles

  name        = "${var.project}-github-${each.key}"
  description = "What the ${each.key} jobs need, and nothing else (terraform/bootstrap/github_policies.tf)."
  policy      = jsonencode({ Version = "2012-10-17", Statement = local.github_policies[each.key] })
}

resource "aws_iam_role_policy_attachment" "github" {
  for_each = local.github_roles

  role       = aws_iam_role.github[each.key].name
  policy_arn = aws_iam_policy.github[each.key].arn
}

# What an account owner adds when a role needs more (docs/security.md, "Widening a
# role"): managed policies by role key. AdministratorAccess and the like are refused.
resource "aws_iam_role_policy_attachment" "github_extra" {
  for_each = { for pair in flatten([for key, arns in var.github_role_extra_policy_arns : [for arn in arns : { key = key, arn = arn }]]) : "${pair.key} ${pair.arn}" => pair }

  role       = aws_iam_role.github[each.value.key].name
  policy_arn = each.value.arn
}

# The guardrails: what no GitHub role, nor the operator role, may do even if a
# policy attached later allowed it. An explicit deny wins over every allow.
resource "aws_iam_role_policy" "github_guardrails" {
  for_each = local.github_roles

  name   = "bootstrap-guardrails"
  role   = aws_iam_role.github[each.key].id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.guardrails })
}
