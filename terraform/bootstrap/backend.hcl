# Partial backend configuration for the bootstrap's own state, used after the
# first apply (see README.md). The bucket name and its region come from the
# bootstrap outputs and are passed on the command line:
# -backend-config=bucket=<state_bucket> -backend-config=region=<region>
# (the region is written once, in terraform.tfvars).
key          = "bootstrap/terraform.tfstate"
use_lockfile = true
