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
  description = "GitHub repository (owner/name) whose workflows may assume the GitHub roles through OIDC."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "deploy_environments" {
  description = "Environments (folders under environments/ with a terraform.tfvars) that GitHub Actions deploys. Each gets a role orders-github-deploy-<env>, trusted only by jobs in the GitHub environment of the same name, and a permissions boundary for the roles its platform creates."
  type        = list(string)

  validation {
    condition     = length(var.deploy_environments) > 0 && length(var.deploy_environments) == length(distinct(var.deploy_environments)) && alltrue([for e in var.deploy_environments : can(regex("^[a-z][a-z0-9-]{0,30}$", e))])
    error_message = "deploy_environments must list at least one distinct environment name of lower-case letters, digits and hyphens."
  }
}

variable "release_branch" {
  description = "The branch whose pushes publish images (the publish role trusts jobs on it that name no GitHub environment)."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", var.release_branch))
    error_message = "release_branch must be a branch name."
  }
}

variable "publish_environment" {
  description = "The environment whose ECR repositories receive every image once (the publish role pushes there; the other environments' deploy roles promote from there by digest)."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(var.deploy_environments, var.publish_environment)
    error_message = "publish_environment must be one of deploy_environments."
  }
}

variable "preview_environment" {
  description = "The environment whose cluster holds the pull requests' previews (tenants pr-<number>); the preview role reaches its tenant namespaces only."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(var.deploy_environments, var.preview_environment)
    error_message = "preview_environment must be one of deploy_environments."
  }
}

variable "drift_environment" {
  description = "The GitHub environment of the scheduled plan (drift.yml): main only, no reviewers. The drift role trusts jobs in it."
  type        = string
  default     = "drift"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.drift_environment))
    error_message = "drift_environment must be an environment name of lower-case letters, digits and hyphens."
  }
}

variable "github_role_extra_policy_arns" {
  description = "More managed policies for a GitHub role, by role key (publish, preview, drift, deploy-<env>): how an account owner widens a role (docs/security.md). Administrator-like policies are refused."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for arns in values(var.github_role_extra_policy_arns) : alltrue([for a in arns : can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/", a)) && !can(regex("/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$", a))])])
    error_message = "github_role_extra_policy_arns must be IAM policy ARNs, and not AdministratorAccess, PowerUserAccess or IAMFullAccess."
  }

  validation {
    condition     = alltrue([for key in keys(var.github_role_extra_policy_arns) : contains(concat(["publish", "preview", "drift"], [for e in var.deploy_environments : "deploy-${e}"]), key)])
    error_message = "github_role_extra_policy_arns keys must be publish, preview, drift or deploy-<env> of deploy_environments."
  }
}

variable "deploy_role_max_session_seconds" {
  description = "Maximum session length of the GitHub roles and the operator role, in seconds. A full deploy (terraform, images, helm) must fit."
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
