package terraformrules

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/orders-platform/orders/internal/tfvars"
)

// ModulePath is the Go module of this repository; FindRoot looks for it.
const ModulePath = "github.com/orders-platform/orders"

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
	envs, err := tfvars.Environments(root)
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
