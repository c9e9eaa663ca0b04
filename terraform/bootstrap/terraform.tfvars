# Account-wide settings for the bootstrap (applied once per AWS account).
region            = "eu-central-1"
github_repository = "orders-platform/orders"

# Must match the GitHub deployment environments (Settings → Environments) that
# carry protection rules, and the folders under environments/ that deploy to AWS.
github_environments = ["dev", "prod"]
