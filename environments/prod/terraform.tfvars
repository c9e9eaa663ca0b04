# Terraform inputs of the prod environment (terraform/platform): still small
# instances, but highly available (3 AZs, NAT per AZ, on-demand nodes in every
# AZ) and protected against accidental deletion.
environment = "prod"
# The region of the environment: the one place it is written (backend.hcl, the
# workflows and the pipeline read it from here).
region = "eu-central-1"

# Network: 3 AZs, one NAT gateway per AZ, flow logs on.
vpc_cidr             = "10.20.0.0/16"
az_count             = 3
single_nat_gateway   = false
enable_vpc_flow_logs = true

# The GitHub role that deploys this environment (terraform/bootstrap output
# deploy_role_names): trusted only by jobs in the GitHub environment prod.
deploy_role_name = "orders-github-deploy-prod"

# EKS
# EKS standard support of 1.35 ends 27 Mar 2027 (1.34: 2 Dec 2026); after that
# extended support costs 0.60 USD/h instead of 0.10. Upgrade one minor at a time.
kubernetes_version = "1.35"
# Past standard support prod is never upgraded unannounced; extended support
# (0.60 USD/h) is the safety net, the plan is to upgrade before that date.
cluster_support_type = "EXTENDED"
# The Kubernetes API: public endpoint with IAM authentication, as in dev, so the
# deploy workflow's GitHub-hosted runner reaches it. To harden prod, list the
# office/VPN and fixed runner egress CIDRs here, or set the public endpoint off and
# deploy from a runner inside the VPC (docs/security.md); the preflight refuses a
# caller outside what is set, in seconds.
cluster_endpoint_public_access       = true
cluster_endpoint_public_access_cidrs = ["0.0.0.0/0"]
cluster_deletion_protection          = true
cluster_log_retention_days           = 90

# One on-demand node per AZ; the cluster autoscaler may grow to two per AZ.
node_instance_types = ["t3.medium"]
node_capacity_type  = "ON_DEMAND"
node_disk_size_gb   = 30

# One node group per AZ (sizes per group): 3 to 6 nodes in all, and a MongoDB member
# whose node is lost gets a new node in its own zone, where its volume is.
node_group_per_az = true
node_min_size     = 1
node_desired_size = 1
node_max_size     = 2

# Container and node logs (CloudWatch, KMS-encrypted).
container_log_retention_days = 30

# Public name and TLS: empty = plain HTTP on the NLB's name. To serve HTTPS, set
# the host name and the existing public hosted zone that holds it, e.g.
#   domain_name       = "orders.example.com"
#   route53_zone_name = "example.com"
domain_name       = ""
route53_zone_name = ""

# Images and data: kept.
ecr_keep_images                     = 50
ecr_force_delete                    = false
backup_retention_days               = 35
backup_infrequent_access_after_days = 0
backup_bucket_force_destroy         = false
secret_recovery_window_days         = 30
kms_deletion_window_days            = 30

# Container images: the services, the backup job, and the data path's third-party
# images, mirrored so that those never come from a public registry at run time.
ecr_repositories = [
  "service1",
  "service2",
  "backup",
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
]

# Daily EBS snapshots of the MongoDB volumes, kept this many days.
ebs_snapshot_retention_days = 7
