module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"

  name = local.name
  cidr = var.vpc_cidr
  azs  = local.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_dns_hostnames = true
  enable_dns_support   = true

  # Egress for the private subnets. Dev: one NAT gateway (about 35 USD/month
  # each). Prod: one per AZ so that losing an AZ does not cut the others off.
  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway

  # Nothing in the public subnets gets a public address by accident: the NLB
  # takes the Elastic IPs below, NAT gateways their own.
  map_public_ip_on_launch = false

  # The default security group of the VPC is emptied (no rules) so nothing can
  # use it by mistake.
  manage_default_security_group = true

  # The AWS Load Balancer Controller discovers subnets by these tags:
  # internet-facing load balancers in public subnets, internal ones in private.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }

  enable_flow_log                                 = var.enable_vpc_flow_logs
  create_flow_log_cloudwatch_log_group            = var.enable_vpc_flow_logs
  create_flow_log_cloudwatch_iam_role             = var.enable_vpc_flow_logs
  flow_log_max_aggregation_interval               = 600
  flow_log_cloudwatch_log_group_retention_in_days = var.cluster_log_retention_days
  flow_log_cloudwatch_log_group_kms_key_id        = aws_kms_key.logs.arn
  # Named under the environment's prefix, with its boundary: the deploy role
  # may create roles and policies only there (terraform/bootstrap).
  vpc_flow_log_iam_role_name        = "${local.name}-vpc-flow-log"
  vpc_flow_log_iam_policy_name      = "${local.name}-vpc-flow-log"
  vpc_flow_log_permissions_boundary = local.workload_boundary_arn

  tags = local.tags
}

################################################################################
# Static public addresses: one Elastic IP per public subnet. The AWS Load
# Balancer Controller attaches them to the internet-facing NLB in front of the
# Envoy gateway (annotation service.beta.kubernetes.io/aws-load-balancer-eip-allocations,
# in the same order as the public subnets), so the NLB's network interfaces keep
# the same addresses across redeployments.
################################################################################

resource "aws_eip" "nlb" {
  count = var.az_count

  domain = "vpc"

  tags = {
    Name = "${local.name}-nlb-${local.azs[count.index]}"
    Use  = "gateway-nlb"
  }
}
