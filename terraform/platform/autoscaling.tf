################################################################################
# Node capacity that follows demand: the Kubernetes cluster autoscaler
# (charts/addons.yaml, release cluster-autoscaler in kube-system) resizes the
# managed node group between var.node_min_size and var.node_max_size.
#
# Why the cluster autoscaler and not Karpenter: the managed node group already
# holds the bounds per environment (tfvars), EKS tags its Auto Scaling group
# for auto-discovery, and the autoscaler only moves the desired size; node
# image updates stay with EKS. Karpenter would add its own controller and
# CRDs (NodePools, EC2NodeClasses), an SQS queue and EventBridge rules for
# interruption handling, and an instance profile and access entry for the
# nodes it launches: more moving parts than two or three nodes of one type
# need. Karpenter is the upgrade path once instance diversity matters
# (mixed sizes and architectures, spot across many types, bin packing).
################################################################################

# Pod Identity role of kube-system/cluster-autoscaler. It may read the
# Auto Scaling and EC2 inventory (these calls take no resource scope) and may
# change only Auto Scaling groups tagged
# k8s.io/cluster-autoscaler/<this cluster>, which EKS puts on the managed node
# groups' groups of this cluster and no other.
module "cluster_autoscaler_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name            = "${local.name}-cluster-autoscaler"
  use_name_prefix = false

  permissions_boundary_arn = local.workload_boundary_arn

  attach_custom_policy      = true
  custom_policy_description = "Cluster autoscaler of ${local.name}: resize only this cluster's node groups"
  policy_statements = [
    {
      sid = "ReadInventory"
      actions = [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
      ]
      resources = ["*"]
    },
    {
      sid       = "DescribeThisClustersNodeGroups"
      actions   = ["eks:DescribeNodegroup"]
      resources = ["arn:${local.partition}:eks:${var.region}:${local.account_id}:nodegroup/${local.name}/*/*"]
    },
    {
      sid = "ResizeThisClustersNodeGroups"
      actions = [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
      ]
      resources = ["*"]
      condition = [{
        test     = "StringEquals"
        variable = "autoscaling:ResourceTag/k8s.io/cluster-autoscaler/${local.name}"
        values   = ["owned"]
      }]
    },
  ]

  associations = {
    cluster_autoscaler = {
      cluster_name    = module.eks.cluster_name
      namespace       = "kube-system"
      service_account = "cluster-autoscaler"
    }
  }

  tags = local.tags
}
