################################################################################
# Roles that people assume to reach the EKS clusters. The platform grants them
# access entries by name: cluster-admin gets AmazonEKSClusterAdminPolicy, the
# developer role AmazonEKSViewPolicy (read-only, no Secrets). Who may assume
# them is decided in IAM (or IAM Identity Center permission sets) of this
# account: the trust policy delegates to the account, and only principals whose
# own policy allows sts:AssumeRole on the role can use it.
################################################################################

data "aws_iam_policy_document" "account_trust" {
  statement {
    sid     = "SameAccountPrincipalsWithPermission"
    effect  = "Allow"
    actions = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_iam_role" "cluster_admin" {
  name                 = "${var.project}-cluster-admin"
  description          = "People who administer the ${var.project} EKS clusters (Kubernetes cluster-admin)."
  assume_role_policy   = data.aws_iam_policy_document.account_trust.json
  max_session_duration = var.human_role_max_session_seconds
}

resource "aws_iam_role" "developer" {
  name                 = "${var.project}-developer"
  description          = "Development team: read-only view of the ${var.project} EKS clusters."
  assume_role_policy   = data.aws_iam_policy_document.account_trust.json
  max_session_duration = var.human_role_max_session_seconds
}

# Reaching the cluster API needs eks:DescribeCluster to build a kubeconfig;
# Kubernetes permissions themselves come from the access entries.
data "aws_iam_policy_document" "describe_clusters" {
  statement {
    sid       = "DescribeProjectClusters"
    effect    = "Allow"
    actions   = ["eks:DescribeCluster", "eks:ListClusters"]
    resources = ["arn:${local.partition}:eks:${var.region}:${local.account_id}:cluster/${var.project}-*"]
  }
}

resource "aws_iam_role_policy" "cluster_admin_describe" {
  name   = "describe-clusters"
  role   = aws_iam_role.cluster_admin.id
  policy = data.aws_iam_policy_document.describe_clusters.json
}

resource "aws_iam_role_policy" "developer_describe" {
  name   = "describe-clusters"
  role   = aws_iam_role.developer.id
  policy = data.aws_iam_policy_document.describe_clusters.json
}
