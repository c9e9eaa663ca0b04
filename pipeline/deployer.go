package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"github.com/orders-platform/orders/internal/tenant"
)

// The deployer (cmd/deployer) is run by the pipeline inside a container built
// from this repository. This file is the whole of what the pipeline assumes
// about its command line:
//
//	deployer apply     -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>] -image <service>=<ref>… [-image backup=<ref>] [-tenant <name>] [-timeout <d>]
//	deployer diff      -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>] -image <service>=<ref>…
//	deployer uninstall -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>] [-tenant <name>]
//	deployer tunnel    -env <env> -root <repo>  -terraform-outputs <file> -listen <addr>
//	deployer backup    -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>]
//	deployer restore   -env <env> -root <repo> [-terraform-outputs <file>] [-kubeconfig <file>] -from <backup> -replace
//
// AWS environments reach EKS with the AWS credentials in the environment
// (AWS_ACCESS_KEY_ID, …) and the cluster named in the Terraform outputs, and
// the deployer reads the MongoDB passwords from the Secrets Manager secrets
// the outputs name (they never pass through the pipeline); the local
// environment uses -kubeconfig. apply installs or upgrades the releases in
// order, rolls back what fails and exits non-zero saying what was rolled back;
// without -image backup=… it leaves the backup release out; with -tenant it
// deploys only that tenant's releases onto the existing environment.
// uninstall -tenant removes one tenant and nothing else. backup runs a backup
// now (a Job from the backup CronJob, waited for) and prints where it went;
// restore (-from: an s3:// URL, a key in the environment's backup bucket or a
// file name under its prefix) drops the live collections and writes the
// backup's, so it refuses without -replace. diff changes nothing. tunnel forwards MongoDB
// through the Kubernetes API. Exit code 0 is success.

// DeployerAction is a deployer subcommand.
type DeployerAction string

// The deployer's subcommands the pipeline runs.
const (
	DeployerApply     DeployerAction = "apply"
	DeployerDiff      DeployerAction = "diff"
	DeployerUninstall DeployerAction = "uninstall"
	DeployerTunnel    DeployerAction = "tunnel"
	DeployerBackup    DeployerAction = "backup"
	DeployerRestore   DeployerAction = "restore"
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
	// Tenant limits apply and uninstall to one tenant (empty: the environment).
	Tenant string
	// From is the backup restore reads; Replace confirms that it overwrites the
	// live database (restore refuses without it).
	From    string
	Replace bool
	// Confirm repeats Tenant for uninstall --tenant, which drops its database.
	Confirm string
}

// CheckTenant validates a --tenant value before anything runs, by the
// deployer's own rules (internal/tenant: a 2 to 20 character DNS label, not a
// reserved name).
func CheckTenant(name string) error {
	if _, err := tenant.Parse(name); err != nil {
		return fmt.Errorf("--tenant=%q: %w", name, err)
	}
	return nil
}

// CheckBackupSource validates restore's --from: one backup, by key or s3:// URL.
func CheckBackupSource(from string) error {
	switch {
	case from == "":
		return fmt.Errorf("restore: --from is required: s3://<bucket>/<key>, a key in the environment's backup bucket, or a file name under its prefix (dagger call backup prints it; docs/disaster-recovery.md lists them)")
	case strings.HasPrefix(from, "-"), strings.ContainsFunc(from, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return fmt.Errorf("restore: --from=%q is not a backup key (no leading '-', spaces or control characters)", from)
	}
	return nil
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
	if r.Tenant != "" {
		if r.Action != DeployerApply && r.Action != DeployerUninstall {
			return nil, fmt.Errorf("deployer %s --env=%s: --tenant applies to apply and uninstall only", r.Action, r.Env)
		}
		if err := CheckTenant(r.Tenant); err != nil {
			return nil, err
		}
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
		names := make([]string, 0, len(r.Images))
		for name := range r.Images {
			if err := CheckImage(name); err != nil {
				return nil, fmt.Errorf("deployer %s --env=%s: %w", r.Action, r.Env, err)
			}
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			args = append(args, "-image", name+"="+r.Images[name])
		}
		if r.Tenant != "" {
			args = append(args, "-tenant", r.Tenant)
		}
		if r.Action == DeployerApply && r.Timeout != "" {
			args = append(args, "-timeout", r.Timeout)
		}
	case DeployerUninstall:
		if r.Tenant != "" {
			if err := ConfirmRemoveTenant(r.Tenant, r.Confirm); err != nil {
				return nil, err
			}
			args = append(args, "-tenant", r.Tenant, "-confirm", r.Confirm)
		}
	case DeployerBackup:
	case DeployerRestore:
		if err := CheckBackupSource(r.From); err != nil {
			return nil, err
		}
		if !r.Replace {
			return nil, fmt.Errorf("restore --env=%s: --replace is required: a restore drops the live database's collections and writes the backup's (orders since the backup are lost)", r.Env)
		}
		args = append(args, "-from", r.From, "-replace")
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
