package environments

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
)

func repoFS(t *testing.T) fstest.MapFS {
	t.Helper()
	return fstest.MapFS{
		"environments/local/values/orders.yaml": {Data: []byte("{}")},
		"environments/dev/values/orders.yaml":   {Data: []byte("{}")},
		"environments/dev/terraform.tfvars":     {Data: []byte("environment = \"dev\"\nregion = \"eu-central-1\"\naz_count = 2\n")},
		"environments/dev/backend.hcl":          {Data: []byte("key = \"platform/dev/terraform.tfstate\"\nregion = \"eu-central-1\"\nuse_lockfile = true\n")},
		"environments/README.md":                {Data: []byte("not an environment")},
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		mutate  func(fstest.MapFS)
		want    Environment
		wantErr string
	}{
		{name: "aws environment", env: "dev", want: Environment{Name: "dev", AWS: true, Region: "eu-central-1", StateKey: "platform/dev/terraform.tfstate"}},
		{name: "local has no terraform", env: "local", want: Environment{Name: "local"}},
		{name: "unknown lists known", env: "staging", wantErr: `unknown environment "staging" (known: dev, local;`},
		{name: "empty name", env: "", wantErr: "no environment given: pass --env (one of: dev, local)"},
		{name: "a file is not an environment", env: "README.md", wantErr: "unknown environment"},
		{name: "missing backend", env: "dev", mutate: func(m fstest.MapFS) { delete(m, "environments/dev/backend.hcl") }, wantErr: "has environments/dev/terraform.tfvars but no environments/dev/backend.hcl"},
		{name: "missing tfvars", env: "dev", mutate: func(m fstest.MapFS) { delete(m, "environments/dev/terraform.tfvars") }, wantErr: "no environments/dev/terraform.tfvars"},
		{name: "no values", env: "local", mutate: func(m fstest.MapFS) {
			delete(m, "environments/local/values/orders.yaml")
			m["environments/local/notes.txt"] = &fstest.MapFile{Data: []byte("x")}
		}, wantErr: "has no Helm values"},
		{name: "state key of another env", env: "dev", mutate: func(m fstest.MapFS) {
			m["environments/dev/backend.hcl"] = &fstest.MapFile{Data: []byte("key = \"platform/prod/terraform.tfstate\"\n")}
		}, wantErr: `does not name the environment "dev"`},
		{name: "region missing", env: "dev", mutate: func(m fstest.MapFS) {
			m["environments/dev/terraform.tfvars"] = &fstest.MapFile{Data: []byte("environment = \"dev\"\n")}
		}, wantErr: "region is not set"},
		{name: "tfvars names another env", env: "dev", mutate: func(m fstest.MapFS) {
			m["environments/dev/terraform.tfvars"] = &fstest.MapFile{Data: []byte("environment = \"prod\"\nregion = \"eu-central-1\"\n")}
		}, wantErr: `environment = "prod", but the folder is "dev"`},
		{name: "bad hcl", env: "dev", mutate: func(m fstest.MapFS) {
			m["environments/dev/backend.hcl"] = &fstest.MapFile{Data: []byte("key = \n")}
		}, wantErr: "parse environments/dev/backend.hcl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := repoFS(t)
			if tt.mutate != nil {
				tt.mutate(fsys)
			}
			got, err := Load(fsys, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load(%q) error = %v, want it to contain %q", tt.env, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") && !strings.Contains(tt.name, "hcl") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q): %v", tt.env, err)
			}
			if *got != tt.want {
				t.Errorf("Load(%q) = %+v, want %+v", tt.env, *got, tt.want)
			}
		})
	}
}

// The repository's own environments load, and each AWS one has its own state key.
func TestRepositoryEnvironments(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	fsys := os.DirFS(root)
	names, err := Names(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dev", "local", "prod"} {
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+want+",") {
			t.Errorf("environment %q missing from %v", want, names)
		}
	}
	keys := map[string]string{}
	for _, n := range names {
		env, err := Load(fsys, n)
		if err != nil {
			t.Errorf("Load(%q): %v", n, err)
			continue
		}
		if n == "local" && env.AWS {
			t.Errorf("local must not have Terraform")
		}
		if env.AWS {
			if other, dup := keys[env.StateKey]; dup {
				t.Errorf("%s and %s share the state key %s", n, other, env.StateKey)
			}
			keys[env.StateKey] = n
		}
	}
}
