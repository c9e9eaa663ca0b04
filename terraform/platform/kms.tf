################################################################################
# One customer-managed key per environment for data at rest that this
# configuration owns: database backups, database credentials, ECR images.
# (Kubernetes Secrets have their own key, created by the EKS module.)
# Default key policy: IAM policies in this account decide who may use it, so
# each role below gets exactly the kms actions it needs. ECR encrypts and
# decrypts through its own grant; pulling images needs no kms permission.
################################################################################

resource "aws_kms_key" "data" {
  description             = "${local.name}: backups, database credentials, container images"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.name}-data"
  target_key_id = aws_kms_key.data.key_id
}
