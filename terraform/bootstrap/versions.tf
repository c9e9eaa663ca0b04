terraform {
  # 1.11: native S3 state locking (use_lockfile) is GA and write-only arguments exist.
  required_version = ">= 1.11.0, < 2.0.0"

  # Partial configuration: the bucket does not exist before the first apply.
  # First apply runs with local state, then the state moves into the bucket it
  # created (see README.md in this folder).
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.52.0"
    }
  }
}
