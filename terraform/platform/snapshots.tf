################################################################################
# Daily EBS snapshots of the volumes that hold data (MongoDB's, tagged by the
# gp3 StorageClass): a crash-consistent copy of the whole volume, restorable
# in minutes as a new volume in any AZ. They complement the logical MongoDB
# dumps in S3 (backup.tf), which survive the loss of the account's EBS data
# and restore into any MongoDB. Snapshots are incremental: only changed
# blocks are stored. Volumes stay encrypted with the account's EBS key
# (aws/ebs), which the DLM service role may use; a customer-managed key on the
# StorageClass would need a key grant for this role.
################################################################################

data "aws_iam_policy_document" "dlm_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["dlm.amazonaws.com"]
    }

    # Only DLM acting for this account.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "dlm" {
  name               = "${local.name}-dlm-snapshots"
  description        = "Data Lifecycle Manager: daily EBS snapshots of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.dlm_assume.json
  # The environment's boundary, as on every role here (main.tf).
  permissions_boundary = local.workload_boundary_arn

  tags = local.tags
}

# The AWS managed policy for EBS snapshot policies (create, tag and delete
# snapshots; describe volumes and instances).
resource "aws_iam_role_policy_attachment" "dlm" {
  role       = aws_iam_role.dlm.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"
}

resource "aws_dlm_lifecycle_policy" "daily_snapshots" {
  # DLM allows only letters, digits, spaces, _ and - here.
  description        = "${local.name} daily EBS snapshots"
  execution_role_arn = aws_iam_role.dlm.arn
  state              = "ENABLED"

  policy_details {
    policy_type    = "EBS_SNAPSHOT_MANAGEMENT"
    resource_types = ["VOLUME"]
    target_tags    = var.ebs_snapshot_target_tags

    schedule {
      name = "daily keep ${var.ebs_snapshot_retention_days}"

      create_rule {
        interval      = 24
        interval_unit = "HOURS"
        times         = [var.ebs_snapshot_time]
      }

      retain_rule {
        count = var.ebs_snapshot_retention_days
      }

      # The volume's tags (the PVC name and namespace the EBS CSI driver sets)
      # let an operator find the right snapshot for a claim.
      copy_tags = true

      tags_to_add = {
        SnapshotCreator = "dlm"
        Environment     = var.environment
      }
    }
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy_attachment.dlm]
}
