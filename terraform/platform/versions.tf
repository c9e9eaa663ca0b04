terraform {
  # 1.11: write-only arguments (database passwords never enter state) and
  # native S3 state locking (use_lockfile).
  required_version = ">= 1.11.0, < 2.0.0"

  # Partial configuration: environments/<env>/backend.hcl sets the key (one state
  # per environment) and region; the bucket comes from the bootstrap output:
  #   terraform init -backend-config=../../environments/dev/backend.hcl -backend-config=bucket=<state_bucket>
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.52.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.7.2"
    }
    # Required by the EKS module; pinned here so every run resolves the same build.
    tls = {
      source  = "hashicorp/tls"
      version = "4.1.0"
    }
    time = {
      source  = "hashicorp/time"
      version = "0.13.1"
    }
  }
}
