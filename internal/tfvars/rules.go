package tfvars

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// RegionName matches AWS region names. A region is an input: written in
// terraform.tfvars, never in code, a backend.hcl or a workflow.
var RegionName = regexp.MustCompile(`\b(us|eu|ap|sa|ca|me|af|il|mx|cn)-(gov-|iso-|isob-)?(north|south|east|west|central|northeast|southeast|northwest|southwest)-[0-9]\b`)

// CheckBackendConfig checks an environment's partial S3 backend configuration:
// a state key of its own, S3 native locking, no DynamoDB lock table, and no
// region: that is written once, in terraform.tfvars, and given to init with
// -backend-config=region=… (two copies drift apart).
func CheckBackendConfig(path, env string) []Finding {
	f, fs, err := ParseFile(path)
	if err != nil {
		return []Finding{{File: path, Line: 1, Check: "backend", Msg: fmt.Sprintf("environment %q needs a backend.hcl: %v", env, err)}}
	}
	if f == nil {
		return fs
	}
	var out []Finding
	attrs := f.Body.Attributes
	if k, ok := attrs["key"]; !ok {
		out = append(out, Finding{File: path, Line: 1, Check: "backend", Msg: "no state key"})
	} else if v, _ := LiteralString(k.Expr); !strings.Contains("/"+v, "/"+env+"/") {
		out = append(out, Finding{File: path, Line: k.SrcRange.Start.Line, Check: "backend",
			Msg: fmt.Sprintf("state key %q does not contain the environment folder /%s/ (environments would share state)", v, env)})
	}
	if l, ok := attrs["use_lockfile"]; !ok {
		out = append(out, Finding{File: path, Line: 1, Check: "backend", Msg: "use_lockfile = true is missing (S3 native state locking)"})
	} else if v, ok := LiteralBool(l.Expr); !ok || !v {
		out = append(out, Finding{File: path, Line: l.SrcRange.Start.Line, Check: "backend", Msg: "use_lockfile must be true"})
	}
	if r, ok := attrs["region"]; ok {
		out = append(out, Finding{File: path, Line: r.SrcRange.Start.Line, Check: "backend",
			Msg: "region is written here and in terraform.tfvars: keep it in terraform.tfvars only (init takes -backend-config=region=<region>)"})
	}
	if d, ok := attrs["dynamodb_table"]; ok {
		out = append(out, Finding{File: path, Line: d.SrcRange.Start.Line, Check: "backend", Msg: "dynamodb_table is deprecated; locking uses use_lockfile"})
	}
	return out
}

// CheckRegionOnce: the region is written in the environments' terraform.tfvars
// and the bootstrap's, all alike (the default state bucket orders-tfstate-<account>-<region>
// is the bootstrap's), and nowhere else a deploy reads: not in a backend.hcl
// (CheckBackendConfig) and not in a workflow.
func CheckRegionOnce(root string) ([]Finding, error) {
	var out []Finding
	regionOf := func(path string) (string, int, error) {
		f, fs, err := ParseFile(path)
		if err != nil || f == nil {
			return "", 0, fmt.Errorf("%s: %v %v", path, err, fs)
		}
		a, ok := f.Body.Attributes["region"]
		if !ok {
			return "", 1, nil
		}
		s, _ := LiteralString(a.Expr)
		return s, a.SrcRange.Start.Line, nil
	}
	bootstrap := filepath.Join(root, BootstrapDir, "terraform.tfvars")
	want, _, err := regionOf(bootstrap)
	if err != nil {
		return nil, err
	}
	envs, err := Environments(root)
	if err != nil {
		return nil, err
	}
	for _, e := range envs {
		got, line, err := regionOf(e.Tfvars)
		if err != nil {
			return nil, err
		}
		if got != want {
			out = append(out, Finding{File: e.Tfvars, Line: line, Check: "region",
				Msg: fmt.Sprintf("region %q differs from the bootstrap's %q (%s): the state bucket is the bootstrap's, in its region", got, want, bootstrap)})
		}
	}
	files, err := filepath.Glob(filepath.Join(root, WorkflowsDir, "*.yml"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if m := RegionName.FindString(line); m != "" && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				out = append(out, Finding{File: f, Line: i + 1, Check: "region",
					Msg: fmt.Sprintf("region %q written in a workflow: read it from environments/<env>/terraform.tfvars", m)})
			}
		}
	}
	return out, nil
}
