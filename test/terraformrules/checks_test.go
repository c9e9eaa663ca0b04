package terraformrules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/tfvars"
)

// Each check is fed a deliberately broken configuration and must report the
// file and line of the problem.

func writeFixture(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type want struct {
	file string // base name
	line int
	msg  string // substring
}

// expect asserts that got holds exactly the wanted findings (by file, line and
// a message substring), and reports the rest.
func expect(t *testing.T, got []tfvars.Finding, wants []want) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range wants {
		found := false
		for i, f := range got {
			if !used[i] && filepath.Base(f.File) == w.file && f.Line == w.line && strings.Contains(f.Msg, w.msg) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing finding %s:%d: %q", w.file, w.line, w.msg)
		}
	}
	for i, f := range got {
		if !used[i] {
			t.Errorf("unexpected finding %s", f)
		}
	}
}

const goodVersions = `terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.52.0"
    }
  }
}
`

func TestCheckPinned(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		wants []want
	}{
		{
			name: "pinned",
			files: map[string]string{
				"versions.tf": goodVersions,
				"main.tf": `module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"
}

module "local" {
  source = "./modules/x"
}

module "git" {
  source = "git::https://example.com/x.git?ref=v1.2.3"
}

resource "aws_s3_bucket" "b" {}
`,
			},
		},
		{
			name: "module version range",
			files: map[string]string{
				"versions.tf": goodVersions,
				"main.tf": `module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"
}
`,
			},
			wants: []want{{"main.tf", 3, `version "~> 21.0" is not one exact version`}},
		},
		{
			name: "module without version",
			files: map[string]string{
				"versions.tf": goodVersions,
				"main.tf": `
module "ecr" {
  source = "terraform-aws-modules/ecr/aws"
}
`,
			},
			wants: []want{{"main.tf", 2, `module "ecr" (terraform-aws-modules/ecr/aws) has no version`}},
		},
		{
			name: "git module on a branch",
			files: map[string]string{
				"versions.tf": goodVersions,
				"main.tf":     "module \"x\" {\n  source = \"git::https://example.com/x.git?ref=main\"\n}\n",
			},
			wants: []want{{"main.tf", 2, "is not pinned to a tag or commit"}},
		},
		{
			name: "provider range, provider without version, implicit provider",
			files: map[string]string{
				"versions.tf": `terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0"
    }
    random = {
      source = "hashicorp/random"
    }
  }
}
`,
				"main.tf": `resource "aws_s3_bucket" "b" {}

ephemeral "random_password" "p" {
  length = 20
}

resource "tls_private_key" "k" {}
`,
			},
			wants: []want{
				{"versions.tf", 5, `provider "aws" version ">= 6.0" is not one exact version`},
				{"versions.tf", 9, `provider "random" has no version`},
				{"main.tf", 7, `uses provider "tls", which is not in required_providers`},
			},
		},
		{
			name: "no required_version",
			files: map[string]string{
				"versions.tf": "terraform {\n  required_providers {}\n}\n",
			},
			wants: []want{{"versions.tf", 1, "no required_version"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, fs, err := tfvars.LoadModule(writeFixture(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) > 0 {
				t.Fatalf("fixture does not parse: %v", fs)
			}
			expect(t, CheckPinned(m), tc.wants)
		})
	}
}

func TestCheckVariables(t *testing.T) {
	dir := writeFixture(t, map[string]string{"variables.tf": `variable "ok" {
  description = "Fine."
  type        = string
}

variable "untyped" {
  description = "No type."
}

variable "undescribed" {
  type = number
}

variable "empty_description" {
  type        = bool
  description = ""
}
`})
	m, _, err := tfvars.LoadModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, CheckVariables(m), []want{
		{"variables.tf", 6, `variable "untyped" has no type`},
		{"variables.tf", 10, `variable "undescribed" has no description`},
		{"variables.tf", 14, `variable "empty_description" has no description`},
	})
}

func TestCheckTfvars(t *testing.T) {
	dir := writeFixture(t, map[string]string{
		"mod/variables.tf": `variable "environment" {
  description = "Env."
  type        = string
}

variable "region" {
  description = "Region."
  type        = string
}

variable "az_count" {
  description = "AZs."
  type        = number
  default     = 2
}
`,
		"envs/dev/terraform.tfvars":     "environment = \"dev\"\nregion      = \"eu-central-1\"\naz_count    = 3\n",
		"envs/broken/terraform.tfvars":  "environment = \"dev\"\n\nnode_count = 3\n",
		"envs/renamed/terraform.tfvars": "environment = \"renamed\"\nregion      = \"eu-central-1\"\n",
	})
	m, _, err := tfvars.LoadModule(filepath.Join(dir, "mod"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("complete", func(t *testing.T) {
		expect(t, CheckTfvars(m, filepath.Join(dir, "envs/dev/terraform.tfvars"), "dev"), nil)
	})
	t.Run("undeclared, missing, wrong environment", func(t *testing.T) {
		expect(t, CheckTfvars(m, filepath.Join(dir, "envs/broken/terraform.tfvars"), "broken"), []want{
			{"terraform.tfvars", 3, `sets "node_count", which`},
			{"terraform.tfvars", 1, `does not set required variable "region" (declared at`},
			{"terraform.tfvars", 1, `environment = "dev" must equal the folder name "broken"`},
		})
	})
	t.Run("new environment is just a folder", func(t *testing.T) {
		expect(t, CheckTfvars(m, filepath.Join(dir, "envs/renamed/terraform.tfvars"), "renamed"), nil)
	})
}

func TestCheckOutputs(t *testing.T) {
	dir := writeFixture(t, map[string]string{"outputs.tf": `output "cluster_name" {
  value = "x"
}
`})
	m, _, err := tfvars.LoadModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, CheckOutputs(m, []string{"cluster_name", "backup_bucket"}), []want{
		{"outputs.tf", 1, `output "backup_bucket", read by the pipeline`},
	})
}

func TestCheckBackendConfig(t *testing.T) {
	dir := writeFixture(t, map[string]string{
		"good.hcl":   "key          = \"platform/dev/terraform.tfstate\"\nuse_lockfile = true\n",
		"region.hcl": "key          = \"platform/dev/terraform.tfstate\"\nregion       = \"eu-central-1\"\nuse_lockfile = true\n",
		"shared.hcl": "key = \"platform/terraform.tfstate\"\nuse_lockfile = false\ndynamodb_table = \"locks\"\n",
		"nolock.hcl": "key = \"platform/dev/terraform.tfstate\"\n",
	})
	expect(t, tfvars.CheckBackendConfig(filepath.Join(dir, "good.hcl"), "dev"), nil)
	expect(t, tfvars.CheckBackendConfig(filepath.Join(dir, "region.hcl"), "dev"), []want{
		{"region.hcl", 2, "keep it in terraform.tfvars only"},
	})
	expect(t, tfvars.CheckBackendConfig(filepath.Join(dir, "shared.hcl"), "dev"), []want{
		{"shared.hcl", 1, "does not contain the environment folder /dev/"},
		{"shared.hcl", 2, "use_lockfile must be true"},
		{"shared.hcl", 3, "dynamodb_table is deprecated"},
	})
	expect(t, tfvars.CheckBackendConfig(filepath.Join(dir, "nolock.hcl"), "dev"), []want{
		{"nolock.hcl", 1, "use_lockfile = true is missing"},
	})
	expect(t, tfvars.CheckBackendConfig(filepath.Join(dir, "absent.hcl"), "dev"), []want{
		{"absent.hcl", 1, `environment "dev" needs a backend.hcl`},
	})
}

func TestCheckLiterals(t *testing.T) {
	// Built from pieces so that this source file itself holds no such literal.
	acct := strings.Repeat("1234", 3)
	key := "AKIA" + strings.Repeat("ABCD", 4)
	dir := writeFixture(t, map[string]string{
		"main.tf": `provider "aws" {
  region = "eu-central-1"
}

variable "region" {
  description = "Region, e.g. eu-west-1."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]+-[0-9]$", var.region))
    error_message = "Must look like us-east-1."
  }
}

# Comments may name eu-central-1.
resource "aws_iam_role" "r" {
  assume_role_policy = jsonencode({
    Principal = { AWS = "arn:aws:iam::` + acct + `:root" }
  })
}

resource "aws_db_instance" "db" {
  password = "hunter2hunter2"
  username = "admin"
}

variable "db_password" {
  description = "Never a default."
  type        = string
  default     = "changeme"
}

locals {
  arn = "arn:aws:sqs:${var.region}:x"
  ep  = <<-EOT
    https://sts.
    ap-southeast-2.amazonaws.com
  EOT
}
`,
		"terraform.tfvars": "region = \"eu-central-1\"\naccess_key = \"" + key + "\"\n",
		"clean.tf":         "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"orders-${var.region}\"\n}\n",
	})
	files := []string{filepath.Join(dir, "main.tf"), filepath.Join(dir, "terraform.tfvars"), filepath.Join(dir, "clean.tf")}
	expect(t, CheckLiterals(files), []want{
		{"main.tf", 2, `AWS region "eu-central-1" written in code`},
		{"main.tf", 8, `AWS region "eu-west-1" written in code`},
		{"main.tf", 19, "looks like an AWS account id"},
		{"main.tf", 24, `"password" is set to a literal string`},
		{"main.tf", 31, `"db_password" is set to a literal string`},
		{"main.tf", 38, `AWS region "ap-southeast-2" written in code`},
		{"terraform.tfvars", 2, "AWS access key id written in code"},
		{"terraform.tfvars", 2, `"access_key" is set to a literal string`},
	})
}

func TestCheckFormatGo(t *testing.T) {
	dir := writeFixture(t, map[string]string{
		"good.tf": "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  tags   = {}\n}\n",
		"bad.tf":  "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  tags = {}\n}\n",
	})
	expect(t, CheckFormatGo([]string{filepath.Join(dir, "good.tf"), filepath.Join(dir, "bad.tf")}), []want{
		{"bad.tf", 3, "not formatted"},
	})
}

func TestCheckFormatTerraform(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not on PATH; the hclwrite fallback is tested by TestCheckFormatGo")
	}
	dir := writeFixture(t, map[string]string{
		"good/main.tf":         "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
		"bad/main.tf":          "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n\nresource \"aws_s3_bucket\" \"c\" {\n  bucket = \"y\"\n  tags = {}\n}\n",
		"bad/terraform.tfvars": "a = 1\nbb = 2\n",
	})
	fs, err := CheckFormatTerraform(tf, filepath.Join(dir, "good"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, nil)
	fs, err = CheckFormatTerraform(tf, filepath.Join(dir, "bad"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, fs, []want{
		{"main.tf", 7, "not formatted"},
		{"terraform.tfvars", 1, "not formatted"},
	})
}
