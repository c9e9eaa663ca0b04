package pipeline

import (
	"fmt"
	"sort"
	"strings"
)

// The deployer (cmd/deployer) is run by the pipeline inside a container built
// from this repository. This file is the whole of what the pipeline assumes
// about its command line:
//
//	deployer apply     -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>] -image <service>=<ref>… [-timeout <d>]
//	deployer diff      -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>] -image <service>=<ref>…
//	deployer uninstall -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>]
//	deployer tunnel    -env <env> -root <repo>  -terraform-outputs <file> -listen <addr>
//
// AWS environments reach EKS with the AWS credentials in the environment
// (AWS_ACCESS_KEY_ID, …) and the cluster named in the Terraform outputs, and
// the deployer reads the MongoDB passwords from the Secrets Manager secrets
// the outputs name (they never pass through the pipeline); the local
// environment uses -kubeconfig. apply installs or upgrades the releases in
// order, rolls back what fails and exits non-zero saying what was rolled back.
// diff changes nothing. tunnel forwards MongoDB through the Kubernetes API.
// Exit code 0 is success.

// DeployerAction is a deployer subcommand.
type DeployerAction string

// The deployer's subcommands the pipeline runs.
const (
	DeployerApply     DeployerAction = "apply"
	DeployerDiff      DeployerAction = "diff"
	DeployerUninstall DeployerAction = "uninstall"
	DeployerTunnel    DeployerAction = "tunnel"
)

// DeployerRequest is one run of the deployer.
type DeployerRequest struct {
	Action DeployerAction
	Env    string
	// Root is the repository inside the container (charts/, environments/).
	Root string
	// OutputsFile is `terraform output -json` of the environment (AWS only).
	OutputsFile string
	// Kubeconfig is the local cluster's kubeconfig (local only).
	Kubeconfig string
	// Images maps each service to the image reference to run (by digest on AWS).
	Images map[string]string
	// Timeout is each release's readiness timeout (Go duration); a rollback
	// has its own (the deployer's -rollback-timeout).
	Timeout string
	// Listen is the tunnel's listen address.
	Listen string
}

// Args is the deployer's command line, or an error naming what is missing.
func (r DeployerRequest) Args() ([]string, error) {
	if r.Env == "" || r.Root == "" {
		return nil, fmt.Errorf("deployer %s: environment and repository root are required", r.Action)
	}
	if (r.OutputsFile == "") == (r.Kubeconfig == "") {
		return nil, fmt.Errorf("deployer %s --env=%s: exactly one of the Terraform outputs (AWS) or a kubeconfig (local) is required", r.Action, r.Env)
	}
	args := []string{"deployer", string(r.Action), "-env", r.Env, "-root", r.Root}
	if r.OutputsFile != "" {
		args = append(args, "-terraform-outputs", r.OutputsFile)
	} else {
		args = append(args, "-kubeconfig", r.Kubeconfig)
	}
	switch r.Action {
	case DeployerApply, DeployerDiff:
		var missing []string
		for _, s := range Services {
			if r.Images[s] == "" {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("deployer %s --env=%s: no image for %s", r.Action, r.Env, strings.Join(missing, ", "))
		}
		services := make([]string, 0, len(r.Images))
		for s := range r.Images {
			services = append(services, s)
		}
		sort.Strings(services)
		for _, s := range services {
			args = append(args, "-image", s+"="+r.Images[s])
		}
		if r.Action == DeployerApply && r.Timeout != "" {
			args = append(args, "-timeout", r.Timeout)
		}
	case DeployerUninstall:
	case DeployerTunnel:
		if r.OutputsFile == "" || r.Listen == "" {
			return nil, fmt.Errorf("deployer tunnel --env=%s: needs the Terraform outputs and a listen address", r.Env)
		}
		args = append(args, "-listen", r.Listen)
	default:
		return nil, fmt.Errorf("unknown deployer action %q", r.Action)
	}
	return args, nil
}
