################################################################################
# IAM roles for workloads, through EKS Pod Identity: each role is bound to one
# Kubernetes service account in one namespace of this cluster.
################################################################################

# AWS Load Balancer Controller: creates the NLB for the Envoy gateway and
# attaches the Elastic IPs. Policy maintained by the module (the controller's
# published policy).
module "aws_lb_controller_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name            = "${local.name}-aws-lb-controller"
  use_name_prefix = false

  permissions_boundary_arn = local.workload_boundary_arn

  attach_aws_lb_controller_policy = true
  # Named under the environment's prefix (the module's default, AmazonEKS_…, is
  # one name per account and outside what the deploy role may create).
  aws_lb_controller_policy_name = "${local.name}-aws-lb-controller"

  associations = {
    controller = {
      cluster_name    = module.eks.cluster_name
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
    }
  }

  tags = local.tags
}

# EBS CSI driver: creates and attaches the gp3 volumes of MongoDB. Bound to the
# add-on's controller service account by the EKS module (addons in eks.tf).
module "ebs_csi_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name            = "${local.name}-ebs-csi"
  use_name_prefix = false

  permissions_boundary_arn = local.workload_boundary_arn

  attach_aws_ebs_csi_policy = true
  aws_ebs_csi_policy_name   = "${local.name}-ebs-csi"

  tags = local.tags
}

# Backup job: writes dumps into the backup bucket and nothing else. It cannot
# read, list or delete backups, so a compromised job cannot exfiltrate or wipe
# them (versioning keeps overwritten objects).
module "backup_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name            = "${local.name}-mongodb-backup"
  use_name_prefix = false

  permissions_boundary_arn = local.workload_boundary_arn

  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "WriteBackups"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
      resources = ["${aws_s3_bucket.backups.arn}/*"]
    },
    {
      sid       = "EncryptWithEnvironmentKey"
      actions   = ["kms:GenerateDataKey", "kms:Encrypt"]
      resources = [aws_kms_key.data.arn]
    },
  ]

  associations = {
    backup = {
      cluster_name    = module.eks.cluster_name
      namespace       = var.mongodb_namespace
      service_account = var.backup_service_account
    }
  }

  tags = local.tags
}

# Restore job (and the restore test): reads backups, writes nothing.
module "restore_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name            = "${local.name}-mongodb-restore"
  use_name_prefix = false

  permissions_boundary_arn = local.workload_boundary_arn

  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ListBackups"
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.backups.arn]
    },
    {
      sid       = "ReadBackups"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = ["${aws_s3_bucket.backups.arn}/*"]
    },
    {
      sid       = "DecryptWithEnvironmentKey"
      actions   = ["kms:Decrypt"]
      resources = [aws_kms_key.data.arn]
    },
  ]

  associations = {
    restore = {
      cluster_name    = module.eks.cluster_name
      namespace       = var.mongodb_namespace
      service_account = var.restore_service_account
    }
  }

  tags = local.tags
}
