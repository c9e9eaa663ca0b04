variable "region" {
  description = "AWS region that holds the Terraform state bucket and the account-wide IAM setup, e.g. eu-central-1. Set in terraform.tfvars, never in code."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-central-1."
  }
}

variable "project" {
  description = "Short project name used as the prefix of every resource name (bucket, roles, keys)."
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.project))
    error_message = "project must be 3-20 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the deploy role through OIDC."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "github_environments" {
  description = "GitHub deployment environments (protected in the repository settings) whose jobs may assume the deploy role. Jobs outside these environments (pull requests, other branches) are refused."
  type        = list(string)

  validation {
    condition     = length(var.github_environments) > 0 && alltrue([for e in var.github_environments : can(regex("^[a-z][a-z0-9-]{0,30}$", e))])
    error_message = "github_environments must list at least one environment name of lower-case letters, digits and hyphens."
  }
}

variable "deploy_role_policy_arns" {
  description = "Managed policies attached to the GitHub deploy role. The platform creates IAM roles, KMS keys, VPCs and EKS clusters, so the role is administrator-equivalent; the trust policy and GitHub environment protection are what guard it. An explicit deny protects the bootstrap resources from it."
  type        = list(string)
  default     = ["arn:aws:iam::aws:policy/AdministratorAccess"]

  validation {
    condition     = alltrue([for a in var.deploy_role_policy_arns : can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/", a))])
    error_message = "deploy_role_policy_arns must be IAM policy ARNs."
  }
}

variable "deploy_role_max_session_seconds" {
  description = "Maximum session length of the deploy and operator roles, in seconds. A full deploy (terraform, images, helm) must fit."
  type        = number
  default     = 7200

  validation {
    condition     = var.deploy_role_max_session_seconds >= 3600 && var.deploy_role_max_session_seconds <= 43200
    error_message = "deploy_role_max_session_seconds must be between 3600 and 43200."
  }
}

variable "cluster_admin_principal_arns" {
  description = "IAM users or roles (ARNs; a role's path included) given Kubernetes cluster-admin in every environment, besides whoever runs the first apply (added by itself). Not STS session ARNs."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.cluster_admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/.+$", a))])
    error_message = "cluster_admin_principal_arns must list IAM user or role ARNs (arn:aws:iam::<account>:role/<name>), not assumed-role session ARNs."
  }
}

variable "human_role_max_session_seconds" {
  description = "Maximum session length, in seconds, of the cluster-admin and developer roles that people assume."
  type        = number
  default     = 3600

  validation {
    condition     = var.human_role_max_session_seconds >= 3600 && var.human_role_max_session_seconds <= 43200
    error_message = "human_role_max_session_seconds must be between 3600 and 43200."
  }
}

variable "state_noncurrent_version_days" {
  description = "Days a superseded Terraform state version is kept before it expires (the undo window for a bad apply)."
  type        = number
  default     = 90

  validation {
    condition     = var.state_noncurrent_version_days >= 7
    error_message = "state_noncurrent_version_days must be at least 7."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period, in days, before the state encryption key is deleted after it is scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource (cost centre, owner)."
  type        = map(string)
  default     = {}
}
