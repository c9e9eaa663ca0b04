// Package environments loads and validates the deployment environments: one
// folder per environment under environments/ (local, dev, prod, …). Adding an
// environment is adding a folder. An environment that has terraform.tfvars and
// backend.hcl runs on AWS (its Terraform state lives under its own key); one
// without them (local) has no Terraform.
//
// Everything here reads an fs.FS rooted at the repository, so it works the same
// on a checkout and on a directory exported from a Dagger session.
package environments

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Dir is the folder holding one sub-folder per environment.
const Dir = "environments"

// Environment is one folder of environments/.
type Environment struct {
	Name string
	// AWS is true when the environment has Terraform inputs (terraform.tfvars and
	// backend.hcl): it is provisioned and deployed on EKS.
	AWS bool
	// Region is the AWS region (terraform.tfvars `region`); empty without AWS.
	Region string
	// StateKey is the Terraform state object key (backend.hcl `key`); empty without AWS.
	StateKey string
}

// TFVarsFile and BackendFile are the environment's Terraform inputs, relative to the repository.
func (e *Environment) TFVarsFile() string  { return path.Join(Dir, e.Name, "terraform.tfvars") }
func (e *Environment) BackendFile() string { return path.Join(Dir, e.Name, "backend.hcl") }

// ValuesDir holds the environment's Helm values, one file per release.
func (e *Environment) ValuesDir() string { return path.Join(Dir, e.Name, "values") }

var validName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

// Names lists the environments: the folders under environments/, sorted.
func Names(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, Dir)
	if err != nil {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && validName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// UnknownError is the one-line error for an environment that has no folder.
type UnknownError struct {
	Env   string
	Known []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown environment %q (known: %s; an environment is a folder under %s/)", e.Env, strings.Join(e.Known, ", "), Dir)
}

// Load reads and validates one environment. An unknown name is a one-line error
// listing the known ones.
func Load(fsys fs.FS, name string) (*Environment, error) {
	if name == "" {
		names, _ := Names(fsys)
		return nil, fmt.Errorf("no environment given: pass --env (one of: %s)", strings.Join(names, ", "))
	}
	names, err := Names(fsys)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(names, name) {
		return nil, &UnknownError{Env: name, Known: names}
	}
	env := &Environment{Name: name}
	if _, err := fs.Stat(fsys, env.ValuesDir()); err != nil {
		return nil, fmt.Errorf("environment %q has no Helm values: %s is missing", name, env.ValuesDir())
	}
	_, tfErr := fs.Stat(fsys, env.TFVarsFile())
	_, beErr := fs.Stat(fsys, env.BackendFile())
	switch {
	case tfErr != nil && beErr != nil:
		return env, nil // no Terraform: local
	case tfErr != nil:
		return nil, fmt.Errorf("environment %q has %s but no %s", name, env.BackendFile(), env.TFVarsFile())
	case beErr != nil:
		return nil, fmt.Errorf("environment %q has %s but no %s", name, env.TFVarsFile(), env.BackendFile())
	}
	env.AWS = true

	tfvars, err := stringAttrs(fsys, env.TFVarsFile())
	if err != nil {
		return nil, err
	}
	backend, err := stringAttrs(fsys, env.BackendFile())
	if err != nil {
		return nil, err
	}
	env.Region = tfvars["region"]
	env.StateKey = backend["key"]
	var errs []error
	if env.Region == "" {
		errs = append(errs, fmt.Errorf("%s: region is not set", env.TFVarsFile()))
	}
	if env.StateKey == "" {
		errs = append(errs, fmt.Errorf("%s: key is not set", env.BackendFile()))
	} else if !strings.Contains(env.StateKey, "/"+name+"/") {
		errs = append(errs, fmt.Errorf("%s: state key %q does not name the environment %q (each environment has its own state)", env.BackendFile(), env.StateKey, name))
	}
	if tfEnv, ok := tfvars["environment"]; ok && tfEnv != name {
		errs = append(errs, fmt.Errorf("%s: environment = %q, but the folder is %q", env.TFVarsFile(), tfEnv, name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return env, nil
}

// stringAttrs returns the top-level string attributes of an HCL file.
func stringAttrs(fsys fs.FS, file string) (map[string]string, error) {
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse %s: %s", file, diags.Error())
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse %s: %s", file, diags.Error())
	}
	out := map[string]string{}
	for name, a := range attrs {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			continue
		}
		out[name] = v.AsString()
	}
	return out, nil
}
