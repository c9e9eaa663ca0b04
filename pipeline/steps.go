package pipeline

import (
	"fmt"

	"github.com/orders-platform/orders/internal/environments"
)

// Step is one stage of a pipeline run.
type Step string

// The steps, in the order they can run.
const (
	StepProvision Step = "provision" // terraform apply of terraform/platform for the environment
	StepPlan      Step = "plan"      // terraform plan, nothing changes
	StepMirror    Step = "mirror"    // copy the pinned third-party images into ECR
	StepScan      Step = "scan"      // Trivy image scan: HIGH/CRITICAL stop the run unless accepted, before anything is pushed
	StepPublish   Step = "publish"   // push the images (both services, backup) for both platforms to ECR by commit tag, unless that tag is there
	StepSBOM      Step = "sbom"      // a CycloneDX SBOM of each image deployed, from Trivy
	StepVerify    Step = "verify"    // the attestations of every digest about to be installed (deploy.yml's, verified with Sigstore)
	StepBuild     Step = "build"     // build both services for the local cluster
	StepCluster   Step = "cluster"   // start k3s as a Dagger service and import the images
	StepRelease   Step = "release"   // the deployer installs or upgrades the Helm releases (rolls back on failure)
	StepDiff      Step = "diff"      // the deployer prints what each release would change
	StepSmoke     Step = "smoke"     // the contract checker through the load balancer / gateway
	StepUninstall Step = "uninstall" // the deployer uninstalls the releases
	StepDestroy   Step = "destroy"   // terraform destroy
)

// Mode is what a run is for.
type Mode string

// The modes, one per Dagger function that runs several steps.
const (
	ModeDeploy  Mode = "deploy"
	ModeDiff    Mode = "diff"
	ModeUp      Mode = "up"
	ModeDestroy Mode = "destroy"
)

// StepOptions switch optional steps off.
type StepOptions struct {
	// SkipProvision deploys onto the infrastructure as it is (no terraform apply).
	SkipProvision bool
	// SkipSmoke leaves out the smoke test after the releases.
	SkipSmoke bool
	// SkipScan leaves out the image vulnerability gate (never in CI: see the workflows).
	SkipScan bool
	// Tenant deploys one tenant onto the existing environment: no Terraform
	// apply and no mirroring (the environment's own deploy does both).
	Tenant string
}

// PlannedStep is a step with the reason it is skipped, if it is.
type PlannedStep struct {
	Step Step
	// Skipped is empty when the step runs, else why it does not.
	Skipped string
}

// Runs reports whether the step runs.
func (p PlannedStep) Runs() bool { return p.Skipped == "" }

func (p PlannedStep) String() string {
	if p.Runs() {
		return string(p.Step)
	}
	return fmt.Sprintf("%s (skipped: %s)", p.Step, p.Skipped)
}

// Plan is the ordered list of steps a mode runs for an environment. It is an
// error to run a mode the environment does not support (deploy/diff/destroy
// need an AWS environment; up runs only the local one), before anything changes.
func Plan(env *environments.Environment, mode Mode, opts StepOptions) ([]PlannedStep, error) {
	if env == nil {
		return nil, fmt.Errorf("%s: no environment", mode)
	}
	step := func(s Step, skipped string) PlannedStep { return PlannedStep{Step: s, Skipped: skipped} }
	when := func(cond bool, reason string) string {
		if cond {
			return reason
		}
		return ""
	}
	if opts.Tenant != "" && mode != ModeDeploy {
		return nil, fmt.Errorf("%s: --tenant applies to deploy only", mode)
	}
	switch mode {
	case ModeDeploy, ModeDiff, ModeDestroy:
		if !env.AWS {
			return nil, fmt.Errorf("%s --env=%s: environment %q has no Terraform (environments/%s/terraform.tfvars); it runs on the local cluster: use `dagger call up`", mode, env.Name, env.Name, env.Name)
		}
	case ModeUp:
		if env.AWS {
			return nil, fmt.Errorf("up runs the local cluster; environment %q is an AWS environment: use `dagger call deploy --env=%s`", env.Name, env.Name)
		}
	default:
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	switch mode {
	case ModeDeploy:
		environmentOnly := ""
		if opts.Tenant != "" {
			if err := CheckTenant(opts.Tenant); err != nil {
				return nil, err
			}
			environmentOnly = fmt.Sprintf("tenant deploy: the environment must exist (dagger call deploy --env=%s does this)", env.Name)
		}
		provisionSkipped := environmentOnly
		if provisionSkipped == "" {
			provisionSkipped = when(opts.SkipProvision, "--skip-provision")
		}
		return []PlannedStep{
			step(StepProvision, provisionSkipped),
			step(StepMirror, environmentOnly),
			step(StepScan, when(opts.SkipScan, "--skip-scan")),
			step(StepPublish, ""),
			step(StepSBOM, ""),
			step(StepVerify, ""),
			step(StepRelease, ""),
			step(StepSmoke, when(opts.SkipSmoke, "--skip-smoke")),
		}, nil
	case ModeDiff:
		return []PlannedStep{
			step(StepPlan, ""),
			step(StepPublish, "diff compares against images of the current commit, without pushing"),
			step(StepDiff, ""),
		}, nil
	case ModeUp:
		return []PlannedStep{
			step(StepBuild, ""),
			step(StepScan, "local images are scanned by deploy, before they are pushed"),
			step(StepCluster, ""),
			step(StepRelease, ""),
			step(StepSmoke, when(opts.SkipSmoke, "--skip-smoke")),
		}, nil
	default: // ModeDestroy
		return []PlannedStep{
			step(StepUninstall, ""),
			step(StepDestroy, ""),
		}, nil
	}
}

// ConfirmDestroy refuses unless confirm repeats the environment's name.
func ConfirmDestroy(env, confirm string) error {
	if confirm != env {
		return fmt.Errorf("destroy --env=%s refused: it deletes the cluster, the database and its backups bucket; repeat the environment name with --confirm=%s", env, env)
	}
	return nil
}

// ConfirmRemoveTenant refuses to remove a tenant unless confirm repeats its name:
// its database and user are dropped, and no scheduled backup holds them.
func ConfirmRemoveTenant(tenant, confirm string) error {
	if confirm != tenant {
		return fmt.Errorf("remove-tenant --tenant=%s refused: it drops the tenant's database and user with no backup of them; repeat the tenant's name with --confirm=%s", tenant, tenant)
	}
	return nil
}
