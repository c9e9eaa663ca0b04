# Partial backend configuration for the bootstrap's own state, used after the
# first apply (see README.md). The bucket name comes from the bootstrap output
# and is passed on the command line: -backend-config=bucket=<state_bucket>.
key          = "bootstrap/terraform.tfstate"
region       = "eu-central-1"
use_lockfile = true
