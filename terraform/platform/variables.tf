################################################################################
# Identity of the environment
################################################################################

variable "region" {
  description = "AWS region of the environment, e.g. eu-central-1. Set in environments/<env>/terraform.tfvars, never in code."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-central-1."
  }
}

variable "environment" {
  description = "Environment name; must equal the folder name under environments/. Part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lower-case letters or digits, starting with a letter."
  }
}

variable "project" {
  description = "Short project name; resources are named <project>-<environment>-…"
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.project))
    error_message = "project must be 3-20 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource (cost centre, owner)."
  type        = map(string)
  default     = {}
}

################################################################################
# Network
################################################################################

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC. Private subnets get /20 blocks (pods take VPC addresses), public subnets /24."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "az_count" {
  description = "Number of availability zones used for subnets, nodes and Elastic IPs (2 or 3)."
  type        = number
  default     = 2

  validation {
    condition     = contains([2, 3], var.az_count)
    error_message = "az_count must be 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "true: one NAT gateway for all AZs (cheaper, but an AZ outage cuts egress of the others). false: one NAT gateway per AZ."
  type        = bool
}

variable "enable_vpc_flow_logs" {
  description = "Send VPC flow logs (rejected and accepted traffic) to CloudWatch Logs, for forensics. Costs ingestion per GB."
  type        = bool
  default     = false
}

################################################################################
# EKS
################################################################################

variable "kubernetes_version" {
  description = "Kubernetes minor version of the EKS control plane and nodes, e.g. 1.35. Keep it in EKS standard support: extended support costs six times as much per cluster hour."
  type        = string

  validation {
    condition     = can(regex("^1\\.(3[3-9]|[4-9][0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version such as 1.35 (1.33 or newer)."
  }
}

variable "cluster_endpoint_public_access" {
  description = "Serve the Kubernetes API on a public endpoint as well as the private one. true (default): laptops and GitHub-hosted runners reach it, and every request still needs an IAM identity with an EKS access entry (docs/security.md). false: only callers inside the VPC (a self-hosted runner there) reach the API; the preflight checks that the caller's egress address is one of the VPC's NAT gateways."
  type        = bool
  default     = true
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Source CIDRs allowed to reach the public Kubernetes API endpoint. Default 0.0.0.0/0: GitHub-hosted runners have no fixed egress range, and IAM authentication (access entries, 15-minute STS tokens) guards the API. Narrow it to office/VPN and fixed runner egress ranges to harden an environment; the preflight then refuses a caller whose egress address is outside them. At most 40 (the EKS limit)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.cluster_endpoint_public_access_cidrs) > 0 && length(var.cluster_endpoint_public_access_cidrs) <= 40 && alltrue([for c in var.cluster_endpoint_public_access_cidrs : can(cidrhost(c, 0))])
    error_message = "cluster_endpoint_public_access_cidrs must list 1 to 40 IPv4 CIDRs such as 198.51.100.0/24 (0.0.0.0/0 for any address)."
  }
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group. With SPOT capacity list several of the same size so that spot can pick the available one."
  type        = list(string)

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "node_instance_types must list EC2 instance types such as t3.medium."
  }
}

variable "node_capacity_type" {
  description = "ON_DEMAND or SPOT. Spot is about 60-70% cheaper and may be reclaimed with two minutes' notice: fine for dev, not for prod."
  type        = string

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.node_capacity_type)
    error_message = "node_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "node_group_per_az" {
  description = "One managed node group per AZ instead of one across them. The node_*_size variables then apply to each group. Recommended wherever pods are pinned to a zone (zonal EBS volumes, DoNotSchedule zone spread), so the cluster autoscaler adds a node in the zone that needs it."
  type        = bool
  default     = false
}

variable "node_min_size" {
  description = "Minimum number of worker nodes per node group (see node_group_per_az): the cluster autoscaler never scales below it."
  type        = number

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_desired_size" {
  description = "Initial number of worker nodes per node group. Only used when the node group is created: afterwards the cluster autoscaler owns the desired size (the EKS module ignores its drift)."
  type        = number

  validation {
    condition     = var.node_desired_size >= var.node_min_size && var.node_desired_size <= var.node_max_size
    error_message = "node_desired_size must lie between node_min_size and node_max_size."
  }
}

variable "node_max_size" {
  description = "Maximum number of worker nodes per node group: the cluster autoscaler never scales above it (the cost ceiling of the environment is this times the number of groups)."
  type        = number

  validation {
    condition     = var.node_max_size <= 20
    error_message = "node_max_size above 20 is not small tier; raise this limit deliberately."
  }

  validation {
    condition     = var.node_max_size >= var.node_min_size
    error_message = "node_max_size must be at least node_min_size."
  }
}

variable "node_disk_size_gb" {
  description = "Size of each node's encrypted gp3 root volume, in GiB (images and logs)."
  type        = number
  default     = 30

  validation {
    condition     = var.node_disk_size_gb >= 20 && var.node_disk_size_gb <= 200
    error_message = "node_disk_size_gb must be between 20 and 200."
  }
}

variable "cluster_log_retention_days" {
  description = "Days the EKS control-plane logs (api, audit, authenticator) are kept in CloudWatch Logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cluster_log_retention_days)
    error_message = "cluster_log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …)."
  }
}

variable "cluster_deletion_protection" {
  description = "Refuse to delete the EKS cluster until this is switched off (prod: true)."
  type        = bool
  default     = false
}

variable "cluster_support_type" {
  description = "What happens when kubernetes_version leaves EKS standard support: STANDARD upgrades the control plane automatically (no extra cost), EXTENDED keeps the version for up to 12 more months at 0.60 USD/h instead of 0.10."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXTENDED"], var.cluster_support_type)
    error_message = "cluster_support_type must be STANDARD or EXTENDED."
  }
}

variable "addon_versions" {
  description = "Pinned versions of EKS add-ons by name (e.g. { coredns = \"v1.12.4-eksbuild.1\" }). An add-on not listed gets the newest version for the Kubernetes version when it is created."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.addon_versions) : contains(["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver", "amazon-cloudwatch-observability"], k)])
    error_message = "addon_versions keys must be among vpc-cni, coredns, kube-proxy, eks-pod-identity-agent, aws-ebs-csi-driver, amazon-cloudwatch-observability."
  }
}

variable "cluster_admin_role_name" {
  description = "Name of the IAM role (created by terraform/bootstrap) granted Kubernetes cluster-admin through an EKS access entry."
  type        = string
  default     = "orders-cluster-admin"
}

variable "developer_role_name" {
  description = "Name of the IAM role (created by terraform/bootstrap) granted read-only Kubernetes access (AmazonEKSViewPolicy: no Secrets)."
  type        = string
  default     = "orders-developer"
}

variable "developer_kubernetes_groups" {
  description = "Kubernetes groups of the developer role's access entry. Helm charts bind namespaced rights to them (e.g. pods/portforward in the MongoDB namespace, for the authenticated tunnel)."
  type        = list(string)
  default     = ["orders:developers"]

  validation {
    condition     = alltrue([for g in var.developer_kubernetes_groups : !startswith(g, "system:")])
    error_message = "developer_kubernetes_groups must not use the reserved system: prefix."
  }
}

variable "deploy_role_name" {
  description = "Name of this environment's GitHub Actions deploy role (created by terraform/bootstrap: orders-github-deploy-<env>, trusted only by jobs in the GitHub environment <env>); it runs Helm, so it is cluster-admin of this cluster."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.deploy_role_name))
    error_message = "deploy_role_name must be an IAM role name."
  }
}

variable "preview_role_name" {
  description = "Name of the GitHub Actions preview role (terraform/bootstrap: orders-github-preview) when this environment holds the pull requests' previews, else empty. Its access entry reaches the tenant namespaces (preview_namespaces) and, to create each tenant's MongoDB user, the MongoDB namespace; nothing else."
  type        = string
  default     = ""

  validation {
    condition     = var.preview_role_name == "" || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.preview_role_name))
    error_message = "preview_role_name must be empty or an IAM role name."
  }
}

variable "preview_namespaces" {
  description = "Namespaces the preview role administers (EKS access policy scope; a trailing * is a wildcard): the tenants' tenant-<name>."
  type        = list(string)
  default     = ["tenant-*"]

  validation {
    condition     = length(var.preview_namespaces) > 0 && alltrue([for n in var.preview_namespaces : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?-?\\*?$", n)) && !startswith(n, "kube-")])
    error_message = "preview_namespaces must be namespace names, optionally ending in *, and none in kube-*."
  }
}

variable "preview_kubernetes_groups" {
  description = "Kubernetes groups of the preview role's access entry: the deployer binds the creation of namespaces (a cluster-scoped verb no namespaced access policy grants) to them."
  type        = list(string)
  default     = ["orders:tenant-deployers"]

  validation {
    condition     = alltrue([for g in var.preview_kubernetes_groups : !startswith(g, "system:")])
    error_message = "preview_kubernetes_groups must not use the reserved system: prefix."
  }
}

variable "publish_role_name" {
  description = "Name of the GitHub Actions publish role (terraform/bootstrap: orders-github-publish) when this environment's ECR repositories receive the images built on main, else empty. It may push to the built images' repositories."
  type        = string
  default     = ""

  validation {
    condition     = var.publish_role_name == "" || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.publish_role_name))
    error_message = "publish_role_name must be empty or an IAM role name."
  }
}

variable "operator_role_name" {
  description = "Name of the IAM role (created by terraform/bootstrap) that people assume to run deploy, provision and destroy from a workstation; cluster-admin like the deploy role."
  type        = string
  default     = "orders-operator"
}

variable "cluster_admin_principal_arns" {
  description = "More IAM users or roles (ARNs, a role's path included) given Kubernetes cluster-admin through access entries, on top of those terraform/bootstrap stores in the SSM parameter admin_principals_parameter (the person who bootstrapped the account). Not STS session ARNs."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.cluster_admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/.+$", a))])
    error_message = "cluster_admin_principal_arns must list IAM user or role ARNs (arn:aws:iam::<account>:role/<name>), not assumed-role session ARNs."
  }
}

variable "admin_principals_parameter" {
  description = "SSM parameter (a JSON list of IAM ARNs) written by terraform/bootstrap: the principals given cluster-admin access entries in every environment. Empty: none are read."
  type        = string
  default     = "/orders/cluster-admin-principal-arns"

  validation {
    condition     = var.admin_principals_parameter == "" || can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.admin_principals_parameter))
    error_message = "admin_principals_parameter must be empty or an SSM parameter path such as /orders/cluster-admin-principal-arns."
  }
}

variable "developer_reads_app_password" {
  description = "Let the developer role read the MongoDB application user's secret (and only that one: not root's, not a tenant's), so the development team can log in through the tunnel. false: nobody but the deploy and operator roles reads it."
  type        = bool
  default     = true
}

################################################################################
# Container images
################################################################################

variable "ecr_repositories" {
  description = "Private ECR repositories, created as <project>-<environment>/<name>. The services plus the data path's third-party images (MongoDB, Envoy), mirrored so that those never come from a public registry at run time (the cluster add-ons still pull from theirs)."
  type        = list(string)
  default = [
    "service1",
    "service2",
    "mirror/mongodb",
    "mirror/mongodb-exporter",
    "mirror/os-shell",
    "mirror/envoy",
    "mirror/envoy-gateway",
    "mirror/envoy-ratelimit",
    "mirror/aws-load-balancer-controller",
    "mirror/metrics-server",
    "mirror/prometheus-operator",
    "mirror/prometheus-config-reloader",
    "mirror/kube-webhook-certgen",
    "mirror/prometheus",
    "mirror/alertmanager",
    "mirror/kube-state-metrics",
    "mirror/node-exporter",
    "mirror/grafana",
    "mirror/k8s-sidecar",
    "mirror/cluster-autoscaler",
    "mirror/external-dns",
    "backup",
  ]

  validation {
    condition     = length(var.ecr_repositories) == length(distinct(var.ecr_repositories)) && alltrue([for r in var.ecr_repositories : can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$", r))])
    error_message = "ecr_repositories must be distinct, lower-case repository names (a-z, 0-9, . _ - and / separators)."
  }

  validation {
    condition     = alltrue([for r in ["service1", "service2", "backup"] : contains(var.ecr_repositories, r)])
    error_message = "ecr_repositories must contain service1, service2 and backup (the pipeline pushes to them)."
  }
}

variable "ecr_keep_images" {
  description = "Tagged images kept per repository; older ones expire (rollback depth versus storage cost)."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_images >= 5 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be between 5 and 1000."
  }
}

variable "ecr_untagged_expiry_days" {
  description = "Days after which untagged images (superseded manifests, failed pushes) expire."
  type        = number
  default     = 7

  validation {
    condition     = var.ecr_untagged_expiry_days >= 1
    error_message = "ecr_untagged_expiry_days must be at least 1."
  }
}

variable "ecr_force_delete" {
  description = "Allow terraform destroy to delete repositories that still contain images (dev: true, prod: false)."
  type        = bool
  default     = false
}

################################################################################
# MongoDB: backups and credentials
################################################################################

variable "mongodb_namespace" {
  description = "Kubernetes namespace of MongoDB and its backup and restore jobs (Pod Identity associations are bound to it)."
  type        = string
  default     = "mongodb"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.mongodb_namespace))
    error_message = "mongodb_namespace must be a valid Kubernetes namespace name."
  }
}

variable "backup_service_account" {
  description = "Kubernetes service account of the scheduled backup job; it may only write to the backup bucket."
  type        = string
  default     = "mongodb-backup"
}

variable "restore_service_account" {
  description = "Kubernetes service account of the restore job; it may only read from the backup bucket."
  type        = string
  default     = "mongodb-restore"
}

variable "backup_retention_days" {
  description = "Days a backup object is kept before it expires."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 7
    error_message = "backup_retention_days must be at least 7."
  }
}

variable "backup_infrequent_access_after_days" {
  description = "Days after which backups move to S3 Standard-IA (cheaper storage, per-GB retrieval fee). 0 disables the transition; otherwise at least 30 (S3 minimum)."
  type        = number
  default     = 0

  validation {
    condition     = var.backup_infrequent_access_after_days == 0 || (var.backup_infrequent_access_after_days >= 30 && var.backup_infrequent_access_after_days < var.backup_retention_days)
    error_message = "backup_infrequent_access_after_days must be 0 (off), or at least 30 and less than backup_retention_days."
  }
}

variable "backup_bucket_force_destroy" {
  description = "Let terraform destroy empty the backup bucket (dev: true, prod: false)."
  type        = bool
  default     = false
}

variable "mongodb_app_username" {
  description = "MongoDB user the services connect as; it is limited to the application database."
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{2,31}$", var.mongodb_app_username)) && var.mongodb_app_username != "root"
    error_message = "mongodb_app_username must be 3-32 lower-case letters, digits or underscores and must not be root."
  }
}

variable "mongodb_app_database" {
  description = "MongoDB database of the application user."
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,63}$", var.mongodb_app_database))
    error_message = "mongodb_app_database must be 1-63 characters of letters, digits, _ and -."
  }
}

variable "mongodb_password_version" {
  description = "Generation of the MongoDB passwords. Passwords are written once and never stored in state; increase this number to generate and store new ones, then set them in MongoDB (changeUserPassword) before the next deploy: the image sets passwords only on an empty volume (docs/disaster-recovery.md, Leaked credentials)."
  type        = number
  default     = 1

  validation {
    condition     = var.mongodb_password_version >= 1 && floor(var.mongodb_password_version) == var.mongodb_password_version
    error_message = "mongodb_password_version must be a positive whole number."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted Secrets Manager secret can be restored (0 deletes at once: dev only)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period, in days, before a KMS key of this environment is deleted after it is scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

################################################################################
# Logs (CloudWatch)
################################################################################

variable "container_log_retention_days" {
  description = "Days the container, node and Container Insights logs (/aws/containerinsights/<cluster>/…) are kept in CloudWatch Logs."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.container_log_retention_days)
    error_message = "container_log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …)."
  }
}

################################################################################
# Public name and TLS
################################################################################

variable "domain_name" {
  description = "Public host name of the environment, e.g. orders.example.com. Empty: no TLS, the system answers plain HTTP on the NLB's own name. Set: an ACM certificate for it (validated in route53_zone_name), TLS on the NLB, HTTP redirected to HTTPS, and external-dns points the name at the NLB."
  type        = string
  default     = ""

  validation {
    condition     = var.domain_name == "" || (length(var.domain_name) <= 253 && can(regex("^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name)))
    error_message = "domain_name must be empty or a lower-case fully qualified host name such as orders.example.com (no trailing dot, no wildcard)."
  }

  validation {
    condition     = var.domain_name == "" || (var.route53_zone_name != "" && (var.domain_name == var.route53_zone_name || endswith(var.domain_name, ".${var.route53_zone_name}")))
    error_message = "domain_name must lie in route53_zone_name (set route53_zone_name to the public hosted zone that holds it)."
  }
}

variable "route53_zone_name" {
  description = "Name of the existing public Route 53 hosted zone that holds domain_name, e.g. example.com (no trailing dot). Only read when domain_name is set; the zone itself is not managed here."
  type        = string
  default     = ""

  validation {
    condition     = var.route53_zone_name == "" || (length(var.route53_zone_name) <= 253 && can(regex("^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.route53_zone_name)))
    error_message = "route53_zone_name must be empty or a lower-case zone name such as example.com (no trailing dot)."
  }
}

variable "certificate_expiry_alarm_days" {
  description = "The CloudWatch alarm on the edge certificate fires when it has fewer days left than this (ACM renews about 60 days before expiry, so firing means renewal is stuck)."
  type        = number
  default     = 30

  validation {
    condition     = var.certificate_expiry_alarm_days >= 7 && var.certificate_expiry_alarm_days <= 45
    error_message = "certificate_expiry_alarm_days must be between 7 and 45."
  }
}

variable "alarm_sns_topic_arns" {
  description = "SNS topics notified when an alarm of this environment changes state (e.g. the on-call topic). Empty: alarms are visible in the CloudWatch console only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_sns_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", a))])
    error_message = "alarm_sns_topic_arns must list SNS topic ARNs."
  }
}

################################################################################
# EBS snapshots
################################################################################

variable "ebs_snapshot_retention_days" {
  description = "Daily snapshots kept per EBS volume tagged orders-platform/snapshot=daily (the MongoDB volumes); the oldest is deleted when a new one is taken."
  type        = number

  validation {
    condition     = var.ebs_snapshot_retention_days >= 1 && var.ebs_snapshot_retention_days <= 1000 && floor(var.ebs_snapshot_retention_days) == var.ebs_snapshot_retention_days
    error_message = "ebs_snapshot_retention_days must be a whole number between 1 and 1000 (the DLM limit)."
  }
}

variable "ebs_snapshot_time" {
  description = "UTC time (HH:MM) the daily EBS snapshots start; DLM begins within the following hour. Keep it away from the MongoDB backup job's schedule."
  type        = string
  default     = "01:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.ebs_snapshot_time))
    error_message = "ebs_snapshot_time must be a UTC time such as 03:00."
  }
}

variable "ebs_snapshot_target_tags" {
  description = "Volume tags the daily snapshot policy selects (a volume with any of them is snapshotted). The gp3 StorageClass (charts/cluster) puts orders-platform/snapshot=daily on MongoDB's volumes. DLM refuses two policies with the same target tags in one account and region: if two environments share them, give one a different value here and in its StorageClass volumeTags."
  type        = map(string)
  default = {
    "orders-platform/snapshot" = "daily"
  }

  validation {
    condition     = length(var.ebs_snapshot_target_tags) > 0 && alltrue([for k, v in var.ebs_snapshot_target_tags : length(k) > 0 && length(k) <= 127 && length(v) <= 255])
    error_message = "ebs_snapshot_target_tags must hold at least one tag (key 1-127 characters, value up to 255)."
  }
}
