# Accepted Trivy findings, with the reasons:
#  AWS-0040, AWS-0041: the public API endpoint is on and, by default, open to
#    every source address (var.cluster_endpoint_public_access_cidrs). GitHub-
#    hosted runners have no fixed egress range and operators work from
#    anywhere; what guards the API is authentication: access entries only
#    (authentication_mode API), for named IAM principals, with STS-presigned
#    tokens valid 15 minutes, every request in the audit log. An environment is
#    hardened by narrowing the CIDRs or turning the public endpoint off
#    (docs/security.md); the preflight checks the caller against either.
#    Nodes use the private endpoint.
#  AWS-0104: the module's node security group allows all egress. Nodes have no
#    public address; egress leaves through the NAT gateways and is needed for
#    ECR, STS, EKS, EC2, ELB and S3 APIs (no VPC interface endpoints at small
#    tier, see docs/resources.md). Pod egress is narrowed by NetworkPolicies.
#trivy:ignore:AWS-0040
#trivy:ignore:AWS-0041
#trivy:ignore:AWS-0104
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = local.name
  kubernetes_version = var.kubernetes_version

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  endpoint_private_access      = true
  endpoint_public_access       = var.cluster_endpoint_public_access
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs

  deletion_protection = var.cluster_deletion_protection

  upgrade_policy = {
    support_type = var.cluster_support_type
  }

  # Control-plane logs, chosen rather than left to the module default (which
  # happens to be the same three): who did what (audit), API server errors
  # (api), and IAM → Kubernetes mapping (authenticator). Not scheduler and
  # controllerManager: high volume, rarely read, and the autoscaler's and
  # scheduler's decisions show up as events. The module creates the log group
  # before the cluster, with the retention below and the logs key (logging.tf).
  enabled_log_types                      = ["api", "audit", "authenticator"]
  create_cloudwatch_log_group            = true
  cloudwatch_log_group_retention_in_days = var.cluster_log_retention_days
  cloudwatch_log_group_kms_key_id        = aws_kms_key.logs.arn

  # Envelope encryption of Kubernetes Secrets with a KMS key the module creates
  # (rotation on). Administrators of the key: the admin, deploy and operator roles.
  create_kms_key                  = true
  enable_kms_key_rotation         = true
  kms_key_deletion_window_in_days = var.kms_deletion_window_days
  kms_key_administrators          = [data.aws_iam_role.cluster_admin.arn, data.aws_iam_role.deploy.arn, data.aws_iam_role.operator.arn]
  encryption_config = {
    resources = ["secrets"]
  }

  # The cluster role (and every role below) carries the environment's boundary.
  iam_role_permissions_boundary = local.workload_boundary_arn

  # Pod Identity replaces IRSA; no IAM OIDC provider for the cluster.
  enable_irsa = false

  # Access only through EKS access entries (no aws-auth ConfigMap). The identity
  # that runs terraform gets no implicit admin: it differs between runs (the deploy
  # role in CI, the operator role on a laptop), and the module's creator entry would
  # follow it. Every principal that needs the cluster is named below instead.
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = false

  # The people terraform/bootstrap names (local.admin_principal_arns), then the roles.
  # An access entry takes an IAM user or role ARN, a role's path included, never an
  # STS session ARN (docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html).
  access_entries = merge({ for arn in local.admin_principal_arns : "admin-${arn}" => {
    principal_arn       = arn
    policy_associations = local.cluster_admin_policy
    } }, {
    cluster_admin = {
      principal_arn       = data.aws_iam_role.cluster_admin.arn
      policy_associations = local.cluster_admin_policy
    }
    deploy = {
      principal_arn       = data.aws_iam_role.deploy.arn
      policy_associations = local.cluster_admin_policy
    }
    operator = {
      principal_arn       = data.aws_iam_role.operator.arn
      policy_associations = local.cluster_admin_policy
    }
    }, { for role in data.aws_iam_role.preview : "preview" => {
      # The pull requests' previews: everything inside the tenant namespaces
      # (namespace-scoped: nothing cluster-wide, no other namespace), and in the
      # MongoDB namespace what creating a tenant's user takes (the release's
      # history, a port-forward to the primary). The groups carry the one
      # cluster-scoped verb it needs, creating a namespace (bound by the deployer).
      # Wildcard namespace scopes: docs.aws.amazon.com/eks/latest/userguide/access-policies.html.
      principal_arn     = role.arn
      kubernetes_groups = var.preview_kubernetes_groups
      policy_associations = {
        tenants = {
          policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "namespace", namespaces = var.preview_namespaces }
        }
        mongodb = {
          policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
          access_scope = { type = "namespace", namespaces = [var.mongodb_namespace] }
        }
      }
    } }, {
    developer = {
      principal_arn = data.aws_iam_role.developer.arn
      # Read-only everywhere; the charts bind extra, namespaced rights (such as
      # port-forward to MongoDB) to this Kubernetes group.
      kubernetes_groups = var.developer_kubernetes_groups
      policy_associations = {
        view = {
          policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
  })

  # Add-ons pinned in var.addon_versions use that version; the others get the
  # newest version for the cluster's Kubernetes version when they are created.
  addons = {
    # Networking and the Pod Identity agent must run before nodes join.
    vpc-cni = {
      before_compute = true
      # Enforce Kubernetes NetworkPolicies (tenant isolation, MongoDB reachable
      # only from the services); off by default in the add-on.
      # Prefix delegation: pod addresses come in /28 prefixes, so a node's pod limit
      # is no longer its ENI addresses (t3.medium: 17 pods, 110 with prefixes). Managed
      # node groups created after it apply the higher limit themselves; existing
      # nodes keep theirs until replaced. Sized by TestPodCapacity (docs/resources.md).
      configuration_values = jsonencode({
        enableNetworkPolicy = "true"
        env = {
          ENABLE_PREFIX_DELEGATION = "true"
        }
      })
      most_recent   = !contains(keys(var.addon_versions), "vpc-cni")
      addon_version = lookup(var.addon_versions, "vpc-cni", null)
    }
    eks-pod-identity-agent = {
      before_compute = true
      most_recent    = !contains(keys(var.addon_versions), "eks-pod-identity-agent")
      addon_version  = lookup(var.addon_versions, "eks-pod-identity-agent", null)
    }
    kube-proxy = {
      most_recent   = !contains(keys(var.addon_versions), "kube-proxy")
      addon_version = lookup(var.addon_versions, "kube-proxy", null)
    }
    coredns = {
      most_recent   = !contains(keys(var.addon_versions), "coredns")
      addon_version = lookup(var.addon_versions, "coredns", null)
    }
    aws-ebs-csi-driver = {
      most_recent   = !contains(keys(var.addon_versions), "aws-ebs-csi-driver")
      addon_version = lookup(var.addon_versions, "aws-ebs-csi-driver", null)
      pod_identity_association = [{
        role_arn        = module.ebs_csi_pod_identity.iam_role_arn
        service_account = "ebs-csi-controller-sa"
      }]
    }
    # Container and node logs to CloudWatch (Fluent Bit) plus Container Insights
    # metrics (CloudWatch agent), into the log groups of logging.tf. The agent
    # configuration is given explicitly without application_signals: that turns
    # off Application Signals, whose operator would otherwise inject an
    # auto-instrumentation agent (pulled from a public registry) into the
    # services' pods.
    amazon-cloudwatch-observability = {
      most_recent   = !contains(keys(var.addon_versions), "amazon-cloudwatch-observability")
      addon_version = lookup(var.addon_versions, "amazon-cloudwatch-observability", null)
      configuration_values = jsonencode({
        agent = {
          config = {
            logs = {
              metrics_collected = {
                kubernetes = {
                  enhanced_container_insights = true
                }
              }
            }
          }
        }
        containerLogs = {
          enabled = true
        }
      })
      pod_identity_association = [{
        role_arn        = module.cloudwatch_observability_pod_identity.iam_role_arn
        service_account = "cloudwatch-agent"
      }]
    }
  }

  eks_managed_node_groups = {
    for group, subnets in local.node_groups : group => {
      name = "${local.name}-${group}"

      iam_role_permissions_boundary = local.workload_boundary_arn

      # Amazon Linux 2023 (nodeadm); x86_64 because the listed types are.
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.node_instance_types
      capacity_type  = var.node_capacity_type

      # Private subnets: every AZ's, or one AZ's (node_group_per_az).
      subnet_ids = subnets

      # Node capacity follows demand: the cluster autoscaler (charts/addons.yaml,
      # role in autoscaling.tf) moves the desired size between these bounds.
      # desired_size only applies when the group is created; the module
      # ignores later drift of it, so an apply never undoes a scale-up.
      min_size     = var.node_min_size
      max_size     = var.node_max_size
      desired_size = var.node_desired_size

      update_config = {
        max_unavailable = 1
      }

      # IMDSv2 only, one hop: pods cannot borrow the node's instance role
      # through the metadata service (they get their own via Pod Identity).
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }

      block_device_mappings = {
        root = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = var.node_disk_size_gb
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }

      labels = {
        "orders-platform/node-group" = group
      }
    }
  }

  tags = local.tags
}

locals {
  # Kubernetes cluster-admin, the policy of every admin access entry.
  cluster_admin_policy = {
    admin = {
      policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
      access_scope = { type = "cluster" }
    }
  }

  # One node group across the environment's AZs, or one per AZ. Per AZ, the cluster
  # autoscaler knows which zone a new node lands in: a pod pinned to its zone (a
  # MongoDB member by its EBS volume, a replica by the DoNotSchedule zone spread) gets a
  # node there instead of one in another zone it cannot use; balance-similar-node-groups
  # keeps the groups even. The keys are known at plan time (range, not subnet ids).
  node_groups = var.node_group_per_az ? {
    for i in range(var.az_count) : "zone-${i + 1}" => [module.vpc.private_subnets[i]]
  } : { default = module.vpc.private_subnets }
}
