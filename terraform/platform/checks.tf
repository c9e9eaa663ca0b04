# Warnings (not errors) on plan and apply for settings that are valid but
# almost certainly not what the operator meant.

check "api_endpoint_cidrs_are_real" {
  assert {
    condition = !anytrue([
      for c in var.cluster_endpoint_public_access_cidrs :
      contains(["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"], c)
    ])
    error_message = "cluster_endpoint_public_access_cidrs still holds a documentation range (RFC 5737): nobody can reach the Kubernetes API. Put the operators' and CI runners' egress CIDRs in environments/${var.environment}/terraform.tfvars."
  }
}

# One node per AZ: with a node group per AZ, each group's minimum (node_min_size is per
# group); with one group across the AZs, its minimum must reach az_count.
check "prod_is_highly_available" {
  assert {
    condition     = var.environment != "prod" || (!var.single_nat_gateway && var.node_capacity_type == "ON_DEMAND" && (var.node_group_per_az ? var.node_min_size >= 1 : var.node_min_size >= var.az_count))
    error_message = "prod should have one NAT gateway per AZ and at least one on-demand node per AZ (node_group_per_az = true, or node_min_size >= az_count)."
  }
}
