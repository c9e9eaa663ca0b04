package tfvars

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvironmentValue: the environment's tfvars win, else the variable's default;
// neither is "not found"; a non-literal value is an error naming the file.
func TestEnvironmentValue(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("terraform/platform/variables.tf", `
variable "groups" {
  type    = list(string)
  default = ["a:devs"]
}
variable "tags" {
  type    = map(string)
  default = { snapshot = "daily" }
}
variable "name" {
  type = string
}
`)
	write("environments/prod/terraform.tfvars", "groups = [\"p:devs\", \"p:ops\"]\nname = var.other\n")
	write("environments/dev/terraform.tfvars", "")

	for _, tc := range []struct {
		env, name, want string
		found           bool
	}{
		{"prod", "groups", `["p:devs","p:ops"]`, true},
		{"dev", "groups", `["a:devs"]`, true},
		{"dev", "tags", `{"snapshot":"daily"}`, true},
		{"dev", "name", "", false},
	} {
		v, found, err := EnvironmentValue(root, tc.env, tc.name)
		if err != nil || found != tc.found {
			t.Errorf("%s %s: found %v, err %v; want found %v", tc.env, tc.name, found, err, tc.found)
			continue
		}
		if !found {
			continue
		}
		var parts []string
		if v.Type().IsTupleType() || v.Type().IsListType() {
			for _, e := range v.AsValueSlice() {
				parts = append(parts, `"`+e.AsString()+`"`)
			}
			if got := "[" + strings.Join(parts, ",") + "]"; got != tc.want {
				t.Errorf("%s %s = %s, want %s", tc.env, tc.name, got, tc.want)
			}
		} else {
			for k, e := range v.AsValueMap() {
				parts = append(parts, `"`+k+`":"`+e.AsString()+`"`)
			}
			if got := "{" + strings.Join(parts, ",") + "}"; got != tc.want {
				t.Errorf("%s %s = %s, want %s", tc.env, tc.name, got, tc.want)
			}
		}
	}
	if _, _, err := EnvironmentValue(root, "prod", "name"); err == nil || !strings.Contains(err.Error(), "terraform.tfvars: name is not a literal value") {
		t.Errorf("non-literal tfvars value: err = %v", err)
	}
}

// A syntax error is a finding with its file and line, not an error.
func TestSyntaxErrorIsAFinding(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("resource \"x\" \"y\" {\n  a = \n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, fs, err := LoadModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 || filepath.Base(fs[0].File) != "main.tf" || fs[0].Line == 0 {
		t.Fatalf("want a syntax finding in main.tf, got %v", fs)
	}
}
