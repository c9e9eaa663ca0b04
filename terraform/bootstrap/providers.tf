provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project   = var.project
      Component = "bootstrap"
      ManagedBy = "terraform"
      Source    = var.github_repository
    })
  }
}
