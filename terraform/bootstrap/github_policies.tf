################################################################################
# What each GitHub role may do: actions named, resources named by the patterns
# terraform/platform gives them (<project>-<env>…). Written from the resources
# the platform declares (its own and its modules'); test/iamrules fails when
# the platform declares a resource of a service no deploy statement names
# (TestDeployPoliciesCoverThePlatform), and evaluates what each role is refused
# (TestGitHubRolesRefuse). To widen a role, see docs/security.md.
#
# Escalation through IAM is closed by a permissions boundary: a deploy role may
# create or change roles only under its environment's prefix and only with its
# environment's boundary (<project>-<env>-workload-boundary), which this
# bootstrap owns and which grants no IAM, no Secrets Manager and no other
# environment's data. A role made by a deploy role can therefore never do more
# than that boundary allows, whatever policy is attached to it.
################################################################################

locals {
  arn        = "arn:${local.partition}"
  state_arn  = aws_s3_bucket.state.arn
  state_key  = aws_kms_key.state.arn
  eks_params = "${local.arn}:ssm:${var.region}::parameter/aws/service/eks/*"

  # What a plan reads (refresh of every resource the platform declares, the
  # data sources) and what the preflight asks: Describe/Get/List only, never a
  # secret's value, an object's content or a key's use.
  read_statement = {
    Sid    = "ReadForPlanAndPreflight"
    Effect = "Allow"
    Action = [
      "acm:DescribeCertificate", "acm:GetCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
      "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeTags",
      "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
      "dlm:GetLifecyclePolicies", "dlm:GetLifecyclePolicy", "dlm:ListTagsForResource",
      "ec2:Describe*", "ec2:GetLaunchTemplateData",
      "ecr:DescribeImageScanFindings", "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListImages", "ecr:ListTagsForResource",
      "eks:DescribeAccessEntry", "eks:DescribeAddon", "eks:DescribeAddonConfiguration", "eks:DescribeAddonVersions", "eks:DescribeCluster", "eks:DescribeClusterVersions", "eks:DescribeNodegroup", "eks:DescribePodIdentityAssociation", "eks:DescribeUpdate",
      "eks:ListAccessEntries", "eks:ListAccessPolicies", "eks:ListAddons", "eks:ListAssociatedAccessPolicies", "eks:ListClusters", "eks:ListNodegroups", "eks:ListPodIdentityAssociations", "eks:ListTagsForResource", "eks:ListUpdates",
      "iam:GetOpenIDConnectProvider", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListPolicyTags", "iam:ListPolicyVersions", "iam:ListRolePolicies", "iam:ListRoleTags",
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListResourceTags",
      "logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
      "route53:GetChange", "route53:GetHostedZone", "route53:ListHostedZones", "route53:ListHostedZonesByName", "route53:ListResourceRecordSets", "route53:ListTagsForResource",
      "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation", "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment", "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
      "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecrets",
      "servicequotas:GetAWSDefaultServiceQuota", "servicequotas:GetServiceQuota",
      "sts:GetCallerIdentity",
    ]
    Resource = ["*"]
  }

  # The cluster-admin list the platform reads, and the public EKS AMI parameters.
  parameters_statement = {
    Sid      = "ReadPlatformParameters"
    Effect   = "Allow"
    Action   = ["ssm:GetParameter", "ssm:GetParameters"]
    Resource = [aws_ssm_parameter.cluster_admin_principals.arn, local.eks_params]
  }

  # Terraform state of one environment (state and lock file) or of all of them,
  # encrypted with the bootstrap's key.
  state_statements = { for scope in concat(var.deploy_environments, ["*"]) : scope => [
    {
      Sid      = "ListStateBucket"
      Effect   = "Allow"
      Action   = ["s3:ListBucket"]
      Resource = [local.state_arn]
    },
    {
      Sid      = scope == "*" ? "StateOfEveryEnvironment" : "StateOfTheEnvironment"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      Resource = ["${local.state_arn}/platform/${scope}/*"]
    },
    {
      Sid      = "StateKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
      Resource = [local.state_key]
    },
  ] }

  # Read one environment's state (terraform output): its outputs hold no secret.
  state_read_statements = { for env in var.deploy_environments : env => [
    {
      Sid      = "ListStateBucket"
      Effect   = "Allow"
      Action   = ["s3:ListBucket"]
      Resource = [local.state_arn]
    },
    {
      Sid      = "ReadStateOfTheEnvironment"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["${local.state_arn}/platform/${env}/terraform.tfstate"]
    },
    {
      Sid      = "DecryptState"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = [local.state_key]
    },
  ] }

  # Pushing to and pulling from ECR repositories (the image lifecycle, not the
  # repositories themselves).
  ecr_push_actions = [
    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImageScanFindings", "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
  ]
  ecr_pull_actions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:DescribeImageScanFindings", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]
  ecr_login = {
    Sid      = "ECRLogin"
    Effect   = "Allow"
    Action   = ["ecr:GetAuthorizationToken"]
    Resource = ["*"]
  }
  ecr_repository = "${local.arn}:ecr:${var.region}:${local.account_id}:repository"

  # The images this repository builds (pipeline.Images): publish pushes them, the
  # preview pushes the services of its pull request.
  built_images = ["service1", "service2", "backup"]

  # deploy-<env>: terraform/platform for <env> (each resource it and its modules
  # declare), the mirrors, the images and the releases.
  deploy_statements = { for env in var.deploy_environments : env => concat(
    [local.read_statement, local.parameters_statement, local.ecr_login],
    local.state_statements[env],
    [
      {
        Sid    = "EKSClusterOfTheEnvironment"
        Effect = "Allow"
        Action = [
          "eks:AssociateAccessPolicy", "eks:CreateAccessEntry", "eks:CreateAddon", "eks:CreateCluster", "eks:CreateNodegroup", "eks:CreatePodIdentityAssociation",
          "eks:DeleteAccessEntry", "eks:DeleteAddon", "eks:DeleteCluster", "eks:DeleteNodegroup", "eks:DeletePodIdentityAssociation", "eks:DisassociateAccessPolicy",
          "eks:TagResource", "eks:UntagResource", "eks:UpdateAccessEntry", "eks:UpdateAddon", "eks:UpdateClusterConfig", "eks:UpdateClusterVersion",
          "eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion", "eks:UpdatePodIdentityAssociation",
        ]
        Resource = [
          "${local.arn}:eks:${var.region}:${local.account_id}:cluster/${var.project}-${env}",
          "${local.arn}:eks:${var.region}:${local.account_id}:nodegroup/${var.project}-${env}/*",
          "${local.arn}:eks:${var.region}:${local.account_id}:addon/${var.project}-${env}/*",
          "${local.arn}:eks:${var.region}:${local.account_id}:access-entry/${var.project}-${env}/*",
          "${local.arn}:eks:${var.region}:${local.account_id}:podidentityassociation/${var.project}-${env}/*",
          "${local.arn}:eks::aws:cluster-access-policy/*",
        ]
      },
      {
        # A role is created only with the environment's boundary; without it
        # CreateRole is refused.
        Sid       = "CreateRolesWithTheBoundary"
        Effect    = "Allow"
        Action    = ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]
        Resource  = ["${local.arn}:iam::${local.account_id}:role/${var.project}-${env}-*"]
        Condition = { StringEquals = { "iam:PermissionsBoundary" = [aws_iam_policy.workload_boundary[env].arn] } }
      },
      {
        Sid    = "RolesOfTheEnvironment"
        Effect = "Allow"
        Action = [
          "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PassRole", "iam:PutRolePolicy",
          "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
        ]
        Resource = ["${local.arn}:iam::${local.account_id}:role/${var.project}-${env}-*"]
      },
      {
        Sid    = "PoliciesOfTheEnvironment"
        Effect = "Allow"
        Action = [
          "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
        ]
        Resource = ["${local.arn}:iam::${local.account_id}:policy/${var.project}-${env}-*"]
      },
      {
        Sid       = "ServiceLinkedRolesOfEKSAndELB"
        Effect    = "Allow"
        Action    = ["iam:CreateServiceLinkedRole"]
        Resource  = ["${local.arn}:iam::${local.account_id}:role/aws-service-role/*"]
        Condition = { StringEquals = { "iam:AWSServiceName" = ["eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "spot.amazonaws.com"] } }
      },
      {
        Sid       = "CreateKeysTaggedForTheEnvironment"
        Effect    = "Allow"
        Action    = ["kms:CreateKey", "kms:TagResource"]
        Resource  = ["*"]
        Condition = { StringEquals = { "aws:RequestTag/Environment" = [env] } }
      },
      {
        Sid    = "KeysOfTheEnvironment"
        Effect = "Allow"
        Action = [
          "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias", "kms:DisableKeyRotation", "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
        ]
        Resource  = ["${local.arn}:kms:${var.region}:${local.account_id}:key/*"]
        Condition = { StringEquals = { "aws:ResourceTag/Environment" = [env] } }
      },
      {
        Sid      = "AliasesOfTheEnvironment"
        Effect   = "Allow"
        Action   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
        Resource = ["${local.arn}:kms:${var.region}:${local.account_id}:alias/${var.project}-${env}-*", "${local.arn}:kms:${var.region}:${local.account_id}:alias/eks/${var.project}-${env}"]
      },
      {
        # EC2 has no per-environment names: the network kinds the VPC, EKS and EIP
        # resources use, by name, account-wide (docs/security.md: one account per
        # environment isolates them).
        Sid    = "NetworkAndNodes"
        Effect = "Allow"
        Action = [
          "ec2:*Address*", "ec2:*FlowLogs", "ec2:*InternetGateway*", "ec2:*LaunchTemplate*", "ec2:*NatGateway*", "ec2:*NetworkAcl*", "ec2:*Route*",
          "ec2:*SecurityGroup*", "ec2:*Subnet*", "ec2:*Vpc", "ec2:*VpcAttribute", "ec2:CreateTags", "ec2:DeleteTags", "ec2:RunInstances",
        ]
        Resource = ["*"]
      },
      {
        Sid    = "RepositoriesOfTheEnvironment"
        Effect = "Allow"
        Action = concat(local.ecr_push_actions, [
          "ecr:CreateRepository", "ecr:DeleteLifecyclePolicy", "ecr:DeleteRepository", "ecr:DeleteRepositoryPolicy", "ecr:PutImageScanningConfiguration",
          "ecr:PutImageTagMutability", "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource",
        ])
        Resource = ["${local.ecr_repository}/${var.project}-${env}/*"]
      },
      {
        Sid    = "BackupBucketOfTheEnvironment"
        Effect = "Allow"
        Action = [
          "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucket", "s3:ListBucketVersions",
          "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
          "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
        ]
        Resource = ["${local.arn}:s3:::${var.project}-${env}-mongodb-backups-*"]
      },
      {
        Sid    = "SecretsOfTheEnvironment"
        Effect = "Allow"
        Action = [
          "secretsmanager:CreateSecret", "secretsmanager:DeleteResourcePolicy", "secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds",
          "secretsmanager:PutResourcePolicy", "secretsmanager:PutSecretValue", "secretsmanager:RestoreSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource",
          "secretsmanager:UpdateSecret", "secretsmanager:UpdateSecretVersionStage",
        ]
        Resource = ["${local.arn}:secretsmanager:${var.region}:${local.account_id}:secret:${var.project}-${env}/*"]
      },
      {
        # The VPC module names flow-log groups by VPC id: that prefix is shared.
        Sid    = "LogGroupsOfTheEnvironment"
        Effect = "Allow"
        Action = [
          "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey", "logs:PutRetentionPolicy",
          "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
        ]
        Resource = [
          "${local.arn}:logs:${var.region}:${local.account_id}:log-group:/aws/eks/${var.project}-${env}/*",
          "${local.arn}:logs:${var.region}:${local.account_id}:log-group:/aws/containerinsights/${var.project}-${env}/*",
          "${local.arn}:logs:${var.region}:${local.account_id}:log-group:/aws/vpc-flow-log/*",
        ]
      },
      {
        Sid      = "AlarmsOfTheEnvironment"
        Effect   = "Allow"
        Action   = ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"]
        Resource = ["${local.arn}:cloudwatch:${var.region}:${local.account_id}:alarm:${var.project}-${env}-*"]
      },
      {
        # Create actions of DLM and ACM name no resource: they take "*".
        Sid      = "CreateSnapshotPolicyAndCertificate"
        Effect   = "Allow"
        Action   = ["acm:RequestCertificate", "dlm:CreateLifecyclePolicy"]
        Resource = ["*"]
      },
      {
        Sid      = "SnapshotPolicies"
        Effect   = "Allow"
        Action   = ["dlm:DeleteLifecyclePolicy", "dlm:TagResource", "dlm:UntagResource", "dlm:UpdateLifecyclePolicy"]
        Resource = ["${local.arn}:dlm:${var.region}:${local.account_id}:policy/*"]
      },
      {
        Sid      = "EdgeCertificate"
        Effect   = "Allow"
        Action   = ["acm:AddTagsToCertificate", "acm:DeleteCertificate", "acm:RemoveTagsFromCertificate"]
        Resource = ["${local.arn}:acm:${var.region}:${local.account_id}:certificate/*"]
      },
      {
        Sid      = "EdgeCertificateValidationRecords"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets"]
        Resource = ["${local.arn}:route53:::hostedzone/*"]
      },
    ],
    # prod promotes what dev tested: it reads the publish environment's images.
    env == var.publish_environment ? [] : [{
      Sid      = "PromoteFromThePublishEnvironment"
      Effect   = "Allow"
      Action   = local.ecr_pull_actions
      Resource = [for image in local.built_images : "${local.ecr_repository}/${var.project}-${var.publish_environment}/${image}"]
    }],
  ) }

  github_policies = merge({
    # The repository URLs come from the publish environment's outputs (state read).
    # Pushing an attestation next to an image (deploy.yml's actions/attest, through
    # @sigstore/oci 0.7.2 packages/oci/src/registry.ts: HEAD manifest, blob uploads,
    # PUT manifest, GET referrers or the sha256-<hex> tag) needs these same push
    # actions on the same repositories, nothing more.
    publish = concat(local.state_read_statements[var.publish_environment], [
      local.ecr_login,
      {
        Sid      = "PushTheBuiltImages"
        Effect   = "Allow"
        Action   = local.ecr_push_actions
        Resource = [for image in local.built_images : "${local.ecr_repository}/${var.project}-${var.publish_environment}/${image}"]
      },
      {
        Sid      = "WhoAmI"
        Effect   = "Allow"
        Action   = ["sts:GetCallerIdentity"]
        Resource = ["*"]
      },
    ])

    # The preview reaches the cluster through its access entry (terraform/platform:
    # Kubernetes rights in namespaces tenant-* only) and MongoDB as root, to
    # create and drop the tenant's user: the environment's MongoDB secrets (the
    # deployer reads root's and the application user's) and nothing else.
    preview = concat(local.state_read_statements[var.preview_environment], [
      local.ecr_login,
      {
        Sid      = "PushThePullRequestsServices"
        Effect   = "Allow"
        Action   = local.ecr_push_actions
        Resource = ["${local.ecr_repository}/${var.project}-${var.preview_environment}/service1", "${local.ecr_repository}/${var.project}-${var.preview_environment}/service2"]
      },
      {
        Sid      = "ReachTheCluster"
        Effect   = "Allow"
        Action   = ["eks:DescribeCluster", "eks:ListAccessEntries", "eks:DescribeAccessEntry"]
        Resource = ["${local.arn}:eks:${var.region}:${local.account_id}:cluster/${var.project}-${var.preview_environment}", "${local.arn}:eks:${var.region}:${local.account_id}:access-entry/${var.project}-${var.preview_environment}/*"]
      },
      {
        Sid      = "MongoDBPasswords"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = ["${local.arn}:secretsmanager:${var.region}:${local.account_id}:secret:${var.project}-${var.preview_environment}/mongodb/*"]
      },
      {
        # Secrets Manager decrypts with the caller's rights, bound to the secret.
        Sid      = "DecryptTheMongoDBPasswordsOnly"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = ["${local.arn}:kms:${var.region}:${local.account_id}:key/*"]
        Condition = {
          StringEquals = { "kms:ViaService" = ["secretsmanager.${var.region}.amazonaws.com"] }
          StringLike   = { "kms:EncryptionContext:SecretARN" = ["${local.arn}:secretsmanager:${var.region}:${local.account_id}:secret:${var.project}-${var.preview_environment}/mongodb/*"] }
        }
      },
      {
        # What the preflight of a deploy reads.
        Sid    = "Preflight"
        Effect = "Allow"
        Action = [
          "ec2:DescribeAddresses", "ec2:DescribeInstanceTypes", "ec2:DescribeInstances", "ec2:DescribeNatGateways", "route53:ListHostedZonesByName",
          "servicequotas:GetAWSDefaultServiceQuota", "servicequotas:GetServiceQuota", "sts:GetCallerIdentity",
        ]
        Resource = ["*"]
      },
      {
        Sid      = "ClusterAdminList"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = [aws_ssm_parameter.cluster_admin_principals.arn]
      },
    ])

    # A plan reads every resource and writes only the lock file. Refreshing a
    # secret version reads its value (the provider's read is GetSecretValue even for
    # write-only values: internal/service/secretsmanager/secret_version.go of
    # hashicorp/terraform-provider-aws), so drift may read the MongoDB secrets,
    # never write them (docs/security.md, "The drift role").
    drift = [
      local.read_statement,
      local.parameters_statement,
      {
        Sid      = "ListStateBucket"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [local.state_arn]
      },
      {
        Sid      = "ReadEveryEnvironmentsState"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${local.state_arn}/platform/*/terraform.tfstate"]
      },
      {
        Sid      = "TakeAndReleaseTheLock"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = ["${local.state_arn}/platform/*/terraform.tfstate.tflock"]
      },
      {
        Sid      = "StateKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [local.state_key]
      },
      {
        Sid      = "RefreshTheSecretVersions"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = ["${local.arn}:secretsmanager:${var.region}:${local.account_id}:secret:${var.project}-*/mongodb/*"]
      },
      {
        Sid       = "DecryptTheSecretVersions"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = ["${local.arn}:kms:${var.region}:${local.account_id}:key/*"]
        Condition = { StringEquals = { "kms:ViaService" = ["secretsmanager.${var.region}.amazonaws.com"] } }
      },
    ]
  }, { for env in var.deploy_environments : "deploy-${env}" => local.deploy_statements[env] })

  # Explicit denies on every GitHub role and the operator role: who may deploy,
  # where state lives and the boundaries stay the bootstrap's.
  guardrails = [
    {
      Sid    = "ProtectDeployIdentities"
      Effect = "Deny"
      Action = [
        "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
      ]
      Resource = concat([for role in aws_iam_role.github : role.arn], [aws_iam_role.operator.arn, aws_iam_role.cluster_admin.arn, aws_iam_role.developer.arn])
    },
    {
      # A role's boundary is never removed, whatever role it is.
      Sid      = "KeepBoundaries"
      Effect   = "Deny"
      Action   = ["iam:DeleteRolePermissionsBoundary"]
      Resource = ["*"]
    },
    {
      Sid    = "ProtectPoliciesAndBoundaries"
      Effect = "Deny"
      Action = ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"]
      Resource = concat(
        [for policy in aws_iam_policy.github : policy.arn],
        [for policy in aws_iam_policy.workload_boundary : policy.arn],
      )
    },
    {
      Sid      = "ProtectOIDCProvider"
      Effect   = "Deny"
      Action   = ["iam:AddClientIDToOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint"]
      Resource = [aws_iam_openid_connect_provider.github.arn]
    },
    {
      Sid      = "ProtectClusterAdminList"
      Effect   = "Deny"
      Action   = ["ssm:DeleteParameter", "ssm:LabelParameterVersion", "ssm:PutParameter"]
      Resource = [aws_ssm_parameter.cluster_admin_principals.arn]
    },
    {
      Sid    = "ProtectStateBucket"
      Effect = "Deny"
      Action = [
        "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
      ]
      Resource = [aws_s3_bucket.state.arn]
    },
    {
      Sid      = "ProtectStateKey"
      Effect   = "Deny"
      Action   = ["kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"]
      Resource = [aws_kms_key.state.arn]
    },
  ]

  # The most a role made by deploy-<env> can ever do: what the platform's
  # workload roles need (EKS cluster and nodes, VPC CNI, EBS CSI, load balancer
  # controller, cluster autoscaler, external-dns, CloudWatch agent, snapshots,
  # backup and restore), in <env> where a name says so. No IAM but
  # service-linked roles, no STS, no Secrets Manager, no other environment's
  # bucket or key.
  workload_boundaries = { for env in var.deploy_environments : env => [
    {
      Sid    = "WorkloadServices"
      Effect = "Allow"
      Action = [
        "acm:DescribeCertificate", "acm:ListCertificates",
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags", "autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup",
        "cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:PutMetricData",
        "cognito-idp:DescribeUserPoolClient",
        "ec2:*",
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer",
        "eks-auth:AssumeRoleForPodIdentity", "eks:DescribeCluster", "eks:DescribeNodegroup",
        "elasticloadbalancing:*",
        "iam:GetServerCertificate", "iam:ListServerCertificates",
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:PutRetentionPolicy",
        "route53:ChangeResourceRecordSets", "route53:ListHostedZones", "route53:ListResourceRecordSets", "route53:ListTagsForResources",
        "shield:CreateProtection", "shield:DeleteProtection", "shield:DescribeProtection", "shield:GetSubscriptionState",
        "ssm:GetParameter",
        "tag:GetResources", "tag:TagResources",
        "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL", "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource",
        "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACL", "wafv2:GetWebACLForResource",
        "xray:PutTelemetryRecords", "xray:PutTraceSegments",
      ]
      Resource = ["*"]
    },
    {
      Sid       = "ServiceLinkedRoles"
      Effect    = "Allow"
      Action    = ["iam:CreateServiceLinkedRole"]
      Resource  = ["*"]
      Condition = { StringEquals = { "iam:AWSServiceName" = ["autoscaling.amazonaws.com", "ec2scheduled.amazonaws.com", "elasticloadbalancing.amazonaws.com", "spot.amazonaws.com", "eks.amazonaws.com"] } }
    },
    {
      Sid      = "BackupsOfTheEnvironment"
      Effect   = "Allow"
      Action   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListMultipartUploadParts", "s3:PutObject"]
      Resource = ["${local.arn}:s3:::${var.project}-${env}-mongodb-backups-*"]
    },
    {
      Sid       = "KeysOfTheEnvironment"
      Effect    = "Allow"
      Action    = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
      Resource  = ["*"]
      Condition = { StringEquals = { "aws:ResourceTag/Environment" = [env] } }
    },
    {
      # EBS volumes under the account's default aws/ebs key (the StorageClass
      # names no key): only through EC2.
      Sid       = "VolumeKeysThroughEC2"
      Effect    = "Allow"
      Action    = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
      Resource  = ["*"]
      Condition = { StringEquals = { "kms:ViaService" = ["ec2.${var.region}.amazonaws.com"] } }
    },
  ] }
}

resource "aws_iam_policy" "workload_boundary" {
  for_each = toset(var.deploy_environments)

  name        = "${var.project}-${each.key}-workload-boundary"
  description = "Permissions boundary of every role terraform/platform creates in ${var.project}-${each.key}: the most such a role can do."
  policy      = jsonencode({ Version = "2012-10-17", Statement = local.workload_boundaries[each.key] })
}
