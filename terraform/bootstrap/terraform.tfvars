# Account-wide settings for the bootstrap (applied once per AWS account).
region            = "eu-central-1"
github_repository = "orders-platform/orders"

# The GitHub deployment environments (Settings → Environments) whose jobs may
# assume the deploy role: one per folder under environments/ that deploys to AWS,
# and "drift" (main only, no reviewers) for the scheduled plan, so that it never
# waits for prod's reviewers. The workflows use no other (internal/tfcheck).
github_environments = ["dev", "prod", "drift"]
