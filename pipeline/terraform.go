package pipeline

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

// Project is the Terraform variable `project` (terraform/bootstrap and platform default).
const Project = "orders"

// platformDir is the Terraform root module of every environment.
const platformDir = "terraform/platform"

var accountRe = regexp.MustCompile(`^[0-9]{12}$`)

// StateBucket is the name terraform/bootstrap gives the state bucket:
// <project>-tfstate-<account id>-<region>. The region is the bucket's
// (backend.hcl), given explicitly with --state-bucket when it was changed.
func StateBucket(account, region string) (string, error) {
	if !accountRe.MatchString(account) {
		return "", fmt.Errorf("state bucket: %q is not an AWS account id", account)
	}
	if region == "" {
		return "", fmt.Errorf("state bucket: no region")
	}
	return fmt.Sprintf("%s-tfstate-%s-%s", Project, account, region), nil
}

// Terraform builds the Terraform command lines for one environment. Every
// command runs in the repository root with -chdir=terraform/platform.
type Terraform struct {
	Env    *environments.Environment
	Bucket string
	// BucketRegion is the state bucket's region (the preflight learns it);
	// empty means the environment's.
	BucketRegion string
}

func (t Terraform) chdir(args ...string) []string {
	return append([]string{"terraform", "-chdir=" + platformDir}, args...)
}

// rel makes a repository path relative to terraform/platform.
func rel(p string) string { return "../../" + p }

// Init initialises the S3 backend with the environment's own state key. The
// region is given here: it is written once, in terraform.tfvars, not in
// backend.hcl.
func (t Terraform) Init() ([]string, error) {
	if !t.Env.AWS {
		return nil, fmt.Errorf("environment %q has no Terraform", t.Env.Name)
	}
	if t.Bucket == "" {
		return nil, fmt.Errorf("terraform init for %s: no state bucket", t.Env.Name)
	}
	region := t.BucketRegion
	if region == "" {
		region = t.Env.Region
	}
	return t.chdir("init", "-input=false", "-no-color",
		"-backend-config="+rel(t.Env.BackendFile()),
		"-backend-config=bucket="+t.Bucket, "-backend-config=region="+region), nil
}

// PlanFile is where Plan writes the plan Apply then applies.
const PlanFile = "platform.tfplan"

// Plan writes a plan; with -detailed-exitcode, exit code 2 means changes (drift).
func (t Terraform) Plan() []string {
	return t.chdir("plan", "-input=false", "-no-color", "-lock-timeout=5m", "-detailed-exitcode",
		"-var-file="+rel(t.Env.TFVarsFile()), "-out="+PlanFile)
}

// Apply applies the plan written by Plan: what was shown is what changes.
func (t Terraform) Apply() []string {
	return t.chdir("apply", "-input=false", "-no-color", "-lock-timeout=5m", "-auto-approve", PlanFile)
}

// Destroy destroys the environment's platform.
func (t Terraform) Destroy() []string {
	return t.chdir("destroy", "-input=false", "-no-color", "-lock-timeout=5m", "-auto-approve",
		"-var-file="+rel(t.Env.TFVarsFile()))
}

// Output prints the outputs as JSON (tfoutputs.Parse reads it).
func (t Terraform) Output() []string { return t.chdir("output", "-json", "-no-color") }

// PlanResult is the meaning of `terraform plan -detailed-exitcode`'s exit code.
type PlanResult int

// The plan results.
const (
	PlanNoChanges PlanResult = iota
	PlanChanges
)

// ParsePlanExit interprets the exit code of Plan: 0 nothing to do, 2 changes,
// anything else a failed plan.
func ParsePlanExit(code int) (PlanResult, error) {
	switch code {
	case 0:
		return PlanNoChanges, nil
	case 2:
		return PlanChanges, nil
	default:
		return 0, fmt.Errorf("terraform plan failed (exit code %d)", code)
	}
}

// ParseOutputs reads `terraform output -json` and checks that it belongs to the
// environment: every output the pipeline reads must be there (one line naming
// the missing ones), before anything is pushed or deployed.
func ParseOutputs(env *environments.Environment, data []byte) (*tfoutputs.Outputs, error) {
	out, err := tfoutputs.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("environment %s: %s", env.Name, oneLine(err))
	}
	if out.Environment != env.Name {
		return nil, fmt.Errorf("environment %s: the Terraform state holds environment %q (wrong state key in %s?)", env.Name, out.Environment, env.BackendFile())
	}
	if out.Region != env.Region {
		return nil, fmt.Errorf("environment %s: the Terraform state is in region %q, %s says %q", env.Name, out.Region, env.TFVarsFile(), env.Region)
	}
	return out, nil
}

// oneLine joins a multi-line error (errors.Join) into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
