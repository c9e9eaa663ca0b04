# Account-wide settings for the bootstrap (applied once per AWS account).
region            = "eu-central-1"
github_repository = "orders-platform/orders"

# The environments GitHub Actions deploys: each has a GitHub environment of the
# same name (Settings → Environments), whose jobs alone assume its deploy role
# orders-github-deploy-<env>. The morning plan runs in the GitHub environment
# "drift" (main only, no reviewers: variable drift_environment), never waiting for
# prod's reviewers. The workflows use no other (test/terraformrules).
deploy_environments = ["dev", "prod"]
