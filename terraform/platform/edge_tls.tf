################################################################################
# TLS and the public name, only when var.domain_name is set (otherwise none of
# this exists and the system answers plain HTTP on the NLB's own name).
#
# Why ACM on the NLB's TLS listener (and not cert-manager with the key in a
# Kubernetes Secret): the private key never enters the cluster (nothing to
# leak from etcd, a backup or a compromised pod), ACM renews by itself as
# long as the validation record below stays in place, the certificate costs
# nothing, and Envoy keeps serving plain HTTP behind the NLB, so the edge chart
# changes only by Service annotations. The NLB decrypts inside the VPC; the
# hop from NLB to Envoy is VPC-internal.
################################################################################

locals {
  tls_enabled = var.domain_name != ""
}

# The existing public hosted zone (not managed here: it usually outlives any
# environment and may hold other records).
data "aws_route53_zone" "edge" {
  count = local.tls_enabled ? 1 : 0

  name         = var.route53_zone_name
  private_zone = false
}

resource "aws_acm_certificate" "edge" {
  count = local.tls_enabled ? 1 : 0

  # RSA 2048 (the default key algorithm): every client can negotiate it.
  domain_name       = var.domain_name
  validation_method = "DNS"

  # A replacement (new domain) is issued before the old one is released, so
  # the NLB's listener is never left without a certificate.
  lifecycle {
    create_before_destroy = true
  }
}

# The DNS validation record. It stays: ACM checks it again for every renewal.
resource "aws_route53_record" "edge_validation" {
  for_each = local.tls_enabled ? {
    for o in aws_acm_certificate.edge[0].domain_validation_options : o.domain_name => {
      name   = o.resource_record_name
      type   = o.resource_record_type
      record = o.resource_record_value
    }
  } : {}

  zone_id         = data.aws_route53_zone.edge[0].zone_id
  name            = each.value.name
  type            = each.value.type
  ttl             = 300
  records         = [each.value.record]
  allow_overwrite = true
}

# Waits until ACM has issued the certificate: the ARN output is only handed to
# the edge chart once the NLB can use it.
resource "aws_acm_certificate_validation" "edge" {
  count = local.tls_enabled ? 1 : 0

  certificate_arn         = aws_acm_certificate.edge[0].arn
  validation_record_fqdns = [for r in aws_route53_record.edge_validation : r.fqdn]
}

# ACM renews about 60 days before expiry. Fewer than
# var.certificate_expiry_alarm_days left means renewal is stuck (the validation
# record was removed, or the name no longer resolves to the NLB).
resource "aws_cloudwatch_metric_alarm" "edge_certificate_expiry" {
  count = local.tls_enabled ? 1 : 0

  alarm_name        = "${local.name}-edge-certificate-expiry"
  alarm_description = "The TLS certificate of ${var.domain_name} expires in fewer than ${var.certificate_expiry_alarm_days} days and ACM has not renewed it: check its validation record in ${var.route53_zone_name}."

  namespace   = "AWS/CertificateManager"
  metric_name = "DaysToExpiry"
  dimensions = {
    CertificateArn = aws_acm_certificate.edge[0].arn
  }
  statistic           = "Minimum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.certificate_expiry_alarm_days
  # ACM publishes the metric once a day; no data is no news.
  treat_missing_data = "notBreaching"

  alarm_actions = var.alarm_sns_topic_arns
  ok_actions    = var.alarm_sns_topic_arns
}

# external-dns (charts/addons.yaml, kube-system/external-dns) points
# var.domain_name at the NLB. It may change records in this one zone only; the
# list calls take no resource scope. Its TXT registry records ownership, so it
# never touches records it did not create.
module "external_dns_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  create = local.tls_enabled

  name            = "${local.name}-external-dns"
  use_name_prefix = false

  permissions_boundary_arn = local.workload_boundary_arn

  attach_external_dns_policy    = true
  external_dns_policy_name      = "${local.name}-external-dns"
  external_dns_hosted_zone_arns = local.tls_enabled ? [data.aws_route53_zone.edge[0].arn] : []

  associations = {
    external_dns = {
      cluster_name    = module.eks.cluster_name
      namespace       = "kube-system"
      service_account = "external-dns"
    }
  }

  tags = local.tags
}
