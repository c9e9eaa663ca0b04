################################################################################
# Private ECR repositories, after terraform-aws-ecr's "complete" example:
# immutable tags (an image tag, the git commit, always means the same bytes),
# scan on push, KMS encryption, a lifecycle policy that bounds what is kept.
# Names are <project>-<environment>/<name> because repositories are per account
# and region and several environments may share an account.
################################################################################

locals {
  ecr_lifecycle_policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after ${var.ecr_untagged_expiry_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.ecr_untagged_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the last ${var.ecr_keep_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

module "ecr" {
  source  = "terraform-aws-modules/ecr/aws"
  version = "3.2.0"

  for_each = toset(var.ecr_repositories)

  repository_name = "${local.name}/${each.value}"
  repository_type = "private"

  repository_image_tag_mutability = "IMMUTABLE"
  repository_image_scan_on_push   = true
  repository_encryption_type      = "KMS"
  repository_kms_key              = aws_kms_key.data.arn
  repository_force_delete         = var.ecr_force_delete

  # Repository policy: the deploy and operator roles push, and where this
  # environment receives them the publish and preview roles (their own policies
  # narrow them to the built images); the nodes pull. Nobody else, and never
  # anyone outside the account.
  repository_read_write_access_arns = concat([data.aws_iam_role.deploy.arn, data.aws_iam_role.operator.arn], data.aws_iam_role.publish[*].arn, data.aws_iam_role.preview[*].arn)
  repository_read_access_arns       = [for group in module.eks.eks_managed_node_groups : group.iam_role_arn]

  create_lifecycle_policy     = true
  repository_lifecycle_policy = local.ecr_lifecycle_policy

  tags = local.tags
}
