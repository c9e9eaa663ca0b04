# Terraform inputs of the dev environment (terraform/platform). "Small tier":
# the cheapest layout that still runs the whole system across two AZs.
environment = "dev"
# The region of the environment: the one place it is written (backend.hcl, the
# workflows and the pipeline read it from here).
region = "eu-central-1"

# Network: 2 AZs, one shared NAT gateway.
vpc_cidr             = "10.10.0.0/16"
az_count             = 2
single_nat_gateway   = true
enable_vpc_flow_logs = false

# The GitHub roles of this environment (terraform/bootstrap outputs
# deploy_role_names, publish_role_name, preview_role_name): dev receives the
# images built on main and holds the pull requests' previews.
deploy_role_name  = "orders-github-deploy-dev"
publish_role_name = "orders-github-publish"
preview_role_name = "orders-github-preview"

# EKS
# EKS standard support of 1.35 ends 27 Mar 2027 (1.34: 2 Dec 2026); after that
# extended support costs 0.60 USD/h instead of 0.10. Upgrade one minor at a time.
kubernetes_version = "1.35"
# Past standard support the control plane is upgraded for us: no extended-support fee.
cluster_support_type = "STANDARD"
# The Kubernetes API: public endpoint, every source address, IAM authentication
# (access entries only). Laptops and GitHub-hosted runners (no fixed egress range)
# reach it without editing anything. docs/security.md: why, and how to narrow it.
cluster_endpoint_public_access       = true
cluster_endpoint_public_access_cidrs = ["0.0.0.0/0"]
cluster_deletion_protection          = false
cluster_log_retention_days           = 7

# Two small spot nodes; several interchangeable types so spot finds capacity.
# The cluster autoscaler moves between min and max (max: the cost ceiling).
node_instance_types = ["t3.medium", "t3a.medium"]
node_capacity_type  = "SPOT"
node_min_size       = 1
node_desired_size   = 2
node_max_size       = 3
node_disk_size_gb   = 30

# Container and node logs (CloudWatch, KMS-encrypted).
container_log_retention_days = 7

# Public name and TLS: empty = plain HTTP on the NLB's name. To serve HTTPS, set
# the host name and the existing public hosted zone that holds it, e.g.
#   domain_name       = "orders-dev.example.com"
#   route53_zone_name = "example.com"
domain_name       = ""
route53_zone_name = ""

# Images and data: easy to tear down.
ecr_keep_images             = 20
ecr_force_delete            = true
backup_retention_days       = 7
backup_bucket_force_destroy = true
secret_recovery_window_days = 0
kms_deletion_window_days    = 7

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
ebs_snapshot_retention_days = 3
