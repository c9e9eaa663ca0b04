# Partial S3 backend configuration of the dev platform state. One state object
# per environment; S3 native locking (a .tflock object next to it, no DynamoDB).
# The bucket name is the bootstrap output state_bucket and the region is the
# environment's (terraform.tfvars: written once, there), both given at init time:
#   terraform -chdir=terraform/platform init -backend-config=../../environments/dev/backend.hcl \
#     -backend-config=bucket=<state_bucket> -backend-config=region=<region>
# Objects are encrypted by the bucket's default KMS key.
key          = "platform/dev/terraform.tfstate"
use_lockfile = true
