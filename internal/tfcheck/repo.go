package tfcheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// ModulePath is the Go module of this repository; FindRoot looks for it.
const ModulePath = "github.com/orders-platform/orders"

// Layout of the repository, relative to its root.
const (
	BootstrapDir    = "terraform/bootstrap"
	PlatformDir     = "terraform/platform"
	EnvironmentsDir = "environments"
)

// FindRoot walks up from dir to the directory whose go.mod declares ModulePath.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+ModulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of " + ModulePath + ") not found")
		}
		dir = parent
	}
}

// Environment is one folder under environments/ that deploys to AWS: it has a
// terraform.tfvars for terraform/platform and a backend.hcl for its state.
// Folders without terraform.tfvars (local) are not Terraform environments.
type Environment struct {
	Name    string
	Dir     string
	Tfvars  string
	Backend string
}

// Environments lists the Terraform environments of the repository at root.
func Environments(root string) ([]Environment, error) {
	entries, err := os.ReadDir(filepath.Join(root, EnvironmentsDir))
	if err != nil {
		return nil, err
	}
	var out []Environment
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, EnvironmentsDir, e.Name())
		tfvars := filepath.Join(dir, "terraform.tfvars")
		if _, err := os.Stat(tfvars); err != nil {
			continue
		}
		out = append(out, Environment{Name: e.Name(), Dir: dir, Tfvars: tfvars, Backend: filepath.Join(dir, "backend.hcl")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// TerraformFiles lists every Terraform-language file the checks cover: *.tf,
// *.tfvars and *.hcl under terraform/, and the environments' terraform.tfvars
// and backend.hcl. Working directories (.terraform) are skipped.
func TerraformFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(filepath.Join(root, "terraform"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		switch filepath.Ext(p) {
		case ".tf", ".tfvars", ".hcl":
			if d.Name() != ".terraform.lock.hcl" {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	envs, err := Environments(root)
	if err != nil {
		return nil, err
	}
	for _, e := range envs {
		out = append(out, e.Tfvars)
		if _, err := os.Stat(e.Backend); err == nil {
			out = append(out, e.Backend)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no Terraform files under %s", root)
	}
	return out, nil
}
