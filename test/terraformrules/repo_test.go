package terraformrules

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/tfoutputs"
	"github.com/orders-platform/orders/internal/tfvars"
)

// These tests run the checks on the repository's own configuration and fail
// with file:line for every problem.

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadRepoModule(t *testing.T, root, dir string) *tfvars.Module {
	t.Helper()
	m, fs, err := tfvars.LoadModule(filepath.Join(root, dir))
	if err != nil {
		t.Fatal(err)
	}
	requireNoFindings(t, root, fs)
	return m
}

func requireNoFindings(t *testing.T, root string, fs []tfvars.Finding) {
	t.Helper()
	for _, f := range tfvars.Relative(root, fs) {
		t.Error(f.String())
	}
}

func TestRepoModulesAndProvidersPinned(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{tfvars.BootstrapDir, tfvars.PlatformDir} {
		t.Run(dir, func(t *testing.T) {
			requireNoFindings(t, root, CheckPinned(loadRepoModule(t, root, dir)))
		})
	}
}

func TestRepoVariablesTypedAndDescribed(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{tfvars.BootstrapDir, tfvars.PlatformDir} {
		t.Run(dir, func(t *testing.T) {
			requireNoFindings(t, root, CheckVariables(loadRepoModule(t, root, dir)))
		})
	}
}

func TestRepoEnvironmentsMatchPlatformVariables(t *testing.T) {
	root := repoRoot(t)
	platform := loadRepoModule(t, root, tfvars.PlatformDir)
	envs, err := tfvars.Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range envs {
		names[e.Name] = true
		t.Run(e.Name, func(t *testing.T) {
			requireNoFindings(t, root, CheckTfvars(platform, e.Tfvars, e.Name))
			requireNoFindings(t, root, tfvars.CheckBackendConfig(e.Backend, e.Name))
		})
	}
	for _, want := range []string{"dev", "prod"} {
		if !names[want] {
			t.Errorf("environments/%s/terraform.tfvars is missing", want)
		}
	}
}

func TestRepoBootstrapTfvars(t *testing.T) {
	root := repoRoot(t)
	bootstrap := loadRepoModule(t, root, tfvars.BootstrapDir)
	requireNoFindings(t, root, CheckTfvars(bootstrap, filepath.Join(root, tfvars.BootstrapDir, "terraform.tfvars"), ""))
	requireNoFindings(t, root, tfvars.CheckBackendConfig(filepath.Join(root, tfvars.BootstrapDir, "backend.hcl"), "bootstrap"))
}

func TestRepoPipelineOutputsExist(t *testing.T) {
	root := repoRoot(t)
	requireNoFindings(t, root, CheckOutputs(loadRepoModule(t, root, tfvars.PlatformDir), tfoutputs.Names()))
}

func TestRepoNoCredentialsAccountIDsOrRegionsInCode(t *testing.T) {
	root := repoRoot(t)
	files, err := TerraformFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	requireNoFindings(t, root, CheckLiterals(files))
}

// TestRepoFormatted: formatting exactly as terraform fmt leaves it. With
// terraform on PATH the real formatter decides; otherwise hclwrite.Format.
func TestRepoFormatted(t *testing.T) {
	root := repoRoot(t)
	if tf, err := exec.LookPath("terraform"); err == nil {
		t.Logf("using %s fmt", tf)
		fs, err := CheckFormatTerraform(tf, filepath.Join(root, "terraform"), filepath.Join(root, tfvars.EnvironmentsDir))
		if err != nil {
			t.Fatal(err)
		}
		requireNoFindings(t, root, fs)
		return
	}
	t.Log("terraform not on PATH: checking with hclwrite.Format")
	files, err := TerraformFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	var fmtFiles []string
	for _, f := range files {
		if strings.HasSuffix(f, ".tf") || strings.HasSuffix(f, ".tfvars") {
			fmtFiles = append(fmtFiles, f)
		}
	}
	requireNoFindings(t, root, CheckFormatGo(fmtFiles))
}

// The Go formatter agrees with the files too, so the fallback is not a
// weaker gate where terraform is missing.
func TestRepoFormattedGo(t *testing.T) {
	root := repoRoot(t)
	files, err := TerraformFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	requireNoFindings(t, root, CheckFormatGo(files))
}
