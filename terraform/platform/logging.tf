################################################################################
# Logs in CloudWatch: the control plane (EKS module, eks.tf), VPC flow logs
# (vpc.tf) and the containers and nodes (the amazon-cloudwatch-observability
# add-on, eks.tf). Every log group is created here or by a module with a
# retention and this key, before anything writes to it: a group that an agent
# creates on its own is unencrypted and keeps logs forever.
#
# Why the add-on and not a self-managed Fluent Bit chart: it is an EKS add-on
# (AWS builds, patches and tests it per Kubernetes version; `terraform apply`
# updates it, no extra Helm release or image mirror to keep), it takes its
# permissions through Pod Identity, and it ships Fluent Bit with the
# Container Insights log layout (/aws/containerinsights/<cluster>/…). The
# price: enhanced Container Insights metrics are billed per observation
# (docs/resources.md); Application Signals is switched off (eks.tf).
################################################################################

locals {
  # Log groups the add-on writes to (Fluent Bit: application, dataplane, host;
  # the CloudWatch agent: performance, the Container Insights metrics as EMF).
  # Named after local.name (= the cluster name) rather than a module output so
  # that they exist before the add-on starts.
  container_log_groups = toset(["application", "dataplane", "host", "performance"])

  # Log groups that may use the logs key (the encryption context CloudWatch
  # Logs sends is the log group's ARN).
  logs_key_log_group_arns = [
    "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/eks/${local.name}/*",
    "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/containerinsights/${local.name}/*",
    "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/vpc-flow-log/*",
  ]
}

# CloudWatch Logs can only use a customer-managed key that its key policy names
# (IAM policies are not enough), so logs get a key of their own; the data key
# (kms.tf) stays limited to the roles in this configuration.
data "aws_iam_policy_document" "logs_key" {
  # Key administration and use stay with IAM policies of this account (the
  # default key policy statement).
  statement {
    sid       = "AccountIAMPolicies"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsForThisEnvironment"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = local.logs_key_log_group_arns
    }
  }
}

resource "aws_kms_key" "logs" {
  description             = "${local.name}: CloudWatch Logs (control plane, containers, nodes, VPC flow logs)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.logs_key.json
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${local.name}-logs"
  target_key_id = aws_kms_key.logs.key_id
}

resource "aws_cloudwatch_log_group" "container" {
  for_each = local.container_log_groups

  name              = "/aws/containerinsights/${local.name}/${each.key}"
  retention_in_days = var.container_log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

# The add-on's CloudWatch agent and Fluent Bit run as amazon-cloudwatch/cloudwatch-agent.
# CloudWatchAgentServerPolicy is the policy AWS documents for the add-on; the
# X-Ray policy of the module's preset is left out because Application Signals
# (traces) is off.
module "cloudwatch_observability_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name            = "${local.name}-cloudwatch-observability"
  use_name_prefix = false

  permissions_boundary_arn = local.workload_boundary_arn

  additional_policy_arns = {
    CloudWatchAgentServerPolicy = "arn:${local.partition}:iam::aws:policy/CloudWatchAgentServerPolicy"
  }

  tags = local.tags

  # The add-on (which takes this role) must find its log groups, with retention
  # and encryption, when it starts.
  depends_on = [aws_cloudwatch_log_group.container]
}
