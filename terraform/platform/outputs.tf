################################################################################
# Outputs read by the pipeline. The list of names it reads lives in
# internal/tfoutputs (Go); a test fails when one of them is missing here.
# Nothing secret is output: passwords stay in Secrets Manager.
################################################################################

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "region" {
  description = "AWS region of the environment."
  value       = var.region
}

output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded CA certificate of the Kubernetes API."
  value       = module.eks.cluster_certificate_authority_data
}

output "vpc_id" {
  description = "VPC id (the AWS Load Balancer Controller needs it because IMDS is one hop only)."
  value       = module.vpc.vpc_id
}

output "vpc_cidr" {
  description = "IPv4 CIDR of the VPC (network policies, security groups)."
  value       = module.vpc.vpc_cidr_block
}

output "public_subnet_ids" {
  description = "Public subnet ids, one per AZ, in the same order as nlb_eip_allocation_ids (annotation aws-load-balancer-subnets)."
  value       = module.vpc.public_subnets
}

output "private_subnet_ids" {
  description = "Private subnet ids of the nodes, one per AZ."
  value       = module.vpc.private_subnets
}

output "nlb_eip_allocation_ids" {
  description = "Elastic IP allocation ids for the internet-facing NLB, one per public subnet, same order (annotation aws-load-balancer-eip-allocations)."
  value       = aws_eip.nlb[*].allocation_id
}

output "nlb_public_ips" {
  description = "The public IPv4 addresses of the NLB: the system's static entry points."
  value       = aws_eip.nlb[*].public_ip
}

output "ecr_registry" {
  description = "Registry host of the private repositories (for the ECR login)."
  value       = split("/", values(module.ecr)[0].repository_url)[0]
}

output "ecr_repository_urls" {
  description = "Repository URL by short name (service1, service2, mirror/mongodb, …)."
  value       = { for name, repo in module.ecr : name => repo.repository_url }
}

output "aws_lb_controller_role_arn" {
  description = "Pod Identity role of the AWS Load Balancer Controller (kube-system/aws-load-balancer-controller)."
  value       = module.aws_lb_controller_pod_identity.iam_role_arn
}

output "ebs_csi_role_arn" {
  description = "Pod Identity role of the EBS CSI driver controller."
  value       = module.ebs_csi_pod_identity.iam_role_arn
}

output "backup_role_arn" {
  description = "Pod Identity role of the MongoDB backup job (write-only to the backup bucket)."
  value       = module.backup_pod_identity.iam_role_arn
}

output "restore_role_arn" {
  description = "Pod Identity role of the MongoDB restore job (read-only on the backup bucket)."
  value       = module.restore_pod_identity.iam_role_arn
}

output "backup_bucket" {
  description = "S3 bucket for MongoDB backups."
  value       = aws_s3_bucket.backups.id
}

output "mongodb_root_secret_arn" {
  description = "Secrets Manager secret with the MongoDB root credentials (JSON: username, password, database)."
  value       = aws_secretsmanager_secret.mongodb["root"].arn
}

output "mongodb_app_secret_arn" {
  description = "Secrets Manager secret with the application user's credentials (JSON: username, password, database)."
  value       = aws_secretsmanager_secret.mongodb["app"].arn
}

output "mongodb_namespace" {
  description = "Namespace the backup and restore roles are bound to."
  value       = var.mongodb_namespace
}

output "domain_name" {
  description = "Public host name of the environment; \"\" when it has none (then the edge serves plain HTTP on the NLB's name)."
  value       = var.domain_name
}

output "edge_certificate_arn" {
  description = "ACM certificate of domain_name for the NLB's TLS listener (edge chart value tls.certificateArn), only once issued; \"\" without a domain."
  value       = local.tls_enabled ? aws_acm_certificate_validation.edge[0].certificate_arn : ""
}

output "route53_zone_id" {
  description = "Public hosted zone that holds domain_name (external-dns writes its records there); \"\" without a domain."
  value       = local.tls_enabled ? data.aws_route53_zone.edge[0].zone_id : ""
}
