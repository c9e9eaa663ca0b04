package terraformrules

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orders-platform/orders/internal/tfvars"
	"github.com/orders-platform/orders/test/toolcache"
)

// A report as trivy config --format json prints it (trimmed): one failure in
// a resource of this repo, one inside a registry module (reported with the
// module call), one passed check that must be ignored.
const sampleTrivyReport = `{
  "SchemaVersion": 2,
  "Results": [
    {
      "Target": "platform/backup.tf",
      "Class": "config",
      "Type": "terraform",
      "Misconfigurations": [
        {
          "ID": "AWS-0132",
          "Title": "S3 encryption should use Customer Managed Keys",
          "Message": "Bucket does not encrypt data with a customer managed key.",
          "Resolution": "Enable encryption using customer managed keys",
          "Severity": "HIGH",
          "Status": "FAIL",
          "CauseMetadata": {"Resource": "aws_s3_bucket.backups", "StartLine": 9, "EndLine": 12}
        },
        {
          "ID": "AWS-0088",
          "Title": "Unencrypted S3 bucket.",
          "Severity": "HIGH",
          "Status": "PASS",
          "CauseMetadata": {"Resource": "aws_s3_bucket.backups", "StartLine": 9}
        }
      ]
    },
    {
      "Target": "git::https://example.com/terraform-aws-eks?ref=v21.19.0/main.tf",
      "Class": "config",
      "Type": "terraform",
      "Misconfigurations": [
        {
          "ID": "AWS-0040",
          "Title": "EKS Clusters should have the public access disabled",
          "Severity": "CRITICAL",
          "Status": "FAIL",
          "CauseMetadata": {
            "Resource": "module.eks.aws_eks_cluster.this[0]",
            "StartLine": 30,
            "Occurrences": [
              {"Resource": "module.eks", "Filename": "platform/eks.tf", "Location": {"StartLine": 8, "EndLine": 160}}
            ]
          }
        }
      ]
    }
  ]
}`

func TestParseTrivyReport(t *testing.T) {
	fs, err := ParseTrivyReport([]byte(sampleTrivyReport), "terraform")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("want 2 failed checks, got %d: %v", len(fs), fs)
	}
	byID := map[string]tfvars.Finding{}
	for _, f := range fs {
		byID[strings.Fields(f.Msg)[0]] = f
	}
	own := byID["AWS-0132"]
	if own.File != filepath.Join("terraform", "platform/backup.tf") || own.Line != 9 || !strings.Contains(own.Msg, "aws_s3_bucket.backups") {
		t.Errorf("own resource finding = %s", own)
	}
	mod := byID["AWS-0040"]
	if !strings.Contains(mod.Msg, "via module.eks at terraform/platform/eks.tf:8") || !strings.Contains(mod.Msg, "CRITICAL") {
		t.Errorf("module finding does not point at the module call: %s", mod)
	}
	if _, err := ParseTrivyReport([]byte("not json"), "x"); err == nil {
		t.Error("a broken report must be an error, not zero findings")
	}
}

func trivyPath(t *testing.T) string {
	t.Helper()
	return toolcache.Path(t, "trivy", TrivyVersion, "trivy")
}

func runTrivy(t *testing.T, trivy, dir, scanners string, tfvars ...string) []tfvars.Finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	fs, err := RunTrivy(ctx, trivy, dir, TrivyOptions{CacheDir: t.TempDir(), Offline: true, Scanners: scanners, TfVars: tfvars})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trivy config %s: %d HIGH/CRITICAL findings in %s", dir, len(fs), time.Since(start).Round(time.Millisecond))
	return fs
}

// TestTrivyTerraform: no HIGH or CRITICAL misconfiguration in terraform/ that
// is not accepted in the code (#trivy:ignore:<ID> with the reason next to it).
// Offline only this repository's resources are scanned; registry modules are
// scanned too where they are downloaded (the pipeline, after terraform init).
// The bootstrap is scanned with its tfvars, the platform once per environment
// with that environment's tfvars, so that conditional resources are evaluated
// as they will be deployed.
func TestTrivyTerraform(t *testing.T) {
	trivy := trivyPath(t)
	root := repoRoot(t)
	t.Run("bootstrap", func(t *testing.T) {
		dir := filepath.Join(root, tfvars.BootstrapDir)
		requireNoFindings(t, root, runTrivy(t, trivy, dir, "terraform", filepath.Join(dir, "terraform.tfvars")))
	})
	envs, err := tfvars.Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range envs {
		t.Run("platform/"+e.Name, func(t *testing.T) {
			requireNoFindings(t, root, runTrivy(t, trivy, filepath.Join(root, tfvars.PlatformDir), "terraform", e.Tfvars))
		})
	}
}

// TestTrivyCharts scans the Helm charts (rendered with their default values)
// when charts/ holds any.
func TestTrivyCharts(t *testing.T) {
	root := repoRoot(t)
	charts, _ := filepath.Glob(filepath.Join(root, "charts", "*", "Chart.yaml"))
	if len(charts) == 0 {
		t.Skip("no Helm charts under charts/")
	}
	trivy := trivyPath(t)
	requireNoFindings(t, root, runTrivy(t, trivy, filepath.Join(root, "charts"), ""))
}

// TestTrivyCatchesInsecureConfig proves the scan can fail: a public,
// unencrypted bucket must be reported with file, line and check ID, and an
// inline ignore must silence exactly the check it names.
func TestTrivyCatchesInsecureConfig(t *testing.T) {
	trivy := trivyPath(t)
	dir := writeFixture(t, map[string]string{
		"main.tf": `resource "aws_s3_bucket" "open" {
  bucket = "example-open"
}

resource "aws_s3_bucket_public_access_block" "open" {
  bucket                  = aws_s3_bucket.open.id
  block_public_acls       = false
  block_public_policy     = false
  ignore_public_acls      = false
  restrict_public_buckets = false
}

#trivy:ignore:AWS-0104 (accepted in this fixture: the ignore comment must work)
resource "aws_security_group_rule" "egress" {
  type              = "egress"
  security_group_id = "sg-123"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  cidr_blocks       = ["0.0.0.0/0"]
}
`,
	})
	fs := runTrivy(t, trivy, dir, "terraform")
	ids := map[string]tfvars.Finding{}
	for _, f := range fs {
		ids[strings.Fields(f.Msg)[0]] = f
	}
	for _, id := range []string{"AWS-0086", "AWS-0087", "AWS-0091", "AWS-0093"} {
		f, ok := ids[id]
		if !ok {
			t.Errorf("trivy did not report %s; findings: %v", id, fs)
			continue
		}
		if filepath.Base(f.File) != "main.tf" || f.Line < 5 || f.Line > 11 {
			t.Errorf("%s reported at %s:%d, want main.tf:5-11", id, f.File, f.Line)
		}
	}
	if f, ok := ids["AWS-0104"]; ok {
		t.Errorf("inline #trivy:ignore:AWS-0104 did not silence the check: %s", f)
	}
	if len(fs) == 0 {
		t.Fatal("no findings at all: the scanner is not checking anything")
	}
}
