package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/preflight"
)

// PreflightModes are the functions that run the preflight before anything else
// (before terraform init): a missing precondition is then one line with its fix
// after seconds, not a failure after a 15-20 minute apply.
var PreflightModes = map[string]preflight.Mode{
	"plan":      preflight.ForPlan,
	"provision": preflight.ForProvision,
	"deploy":    preflight.ForDeploy,
	"destroy":   preflight.ForDestroy,
}

// preflightFiles are what the preflight reads of the repository: the
// environments' inputs, the Terraform defaults and the bootstrap's region, and
// the workflows (the region written once).
var preflightFiles = []string{environments.Dir, "terraform", ".github/workflows"}

// preflight runs the checks of mode for the environment and returns the report;
// its error lists every failed precondition.
func (p *Pipeline) preflight(ctx context.Context, env *environments.Environment, bucket string, mode preflight.Mode, echoURL string) (*preflight.Report, error) {
	tmp, err := os.MkdirTemp("", "orders-preflight-")
	if err != nil {
		return nil, fmt.Errorf("preflight: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, dir := range preflightFiles {
		if _, err := p.src.Directory(dir).Export(ctx, filepath.Join(tmp, dir)); err != nil {
			return nil, fmt.Errorf("preflight: export %s/: %w", dir, err)
		}
	}
	e, err := preflight.Load(tmp, env.Name, bucket, env.StateKey)
	if err != nil {
		return nil, fmt.Errorf("preflight --env=%s: %w", env.Name, err)
	}
	cfg, err := p.aws.config(ctx, env.Region)
	if err != nil {
		return nil, err
	}
	p.progress("preflight for %s --env=%s", mode, env.Name)
	r := preflight.Run(ctx, preflight.NewClients(cfg, echoURL), e, mode)
	fmt.Fprint(p.log, r)
	return r, r.Err()
}

// Preflight checks, in seconds and without creating anything, every
// precondition of a deploy of the environment and prints one line per check;
// it fails when any precondition does not hold, each with its fix.
func (p *Pipeline) Preflight(ctx context.Context, env, bucket, echoURL string) (string, error) {
	e, err := p.environment(ctx, env)
	if err != nil {
		return "", err
	}
	if !e.AWS {
		return "", fmt.Errorf("preflight --env=%s: environment %q has no Terraform; it runs on the local cluster: use `dagger call up`", env, env)
	}
	if err := p.aws.require("preflight"); err != nil {
		return "", err
	}
	if bucket, err = p.stateBucket(ctx, e, bucket); err != nil {
		return "", err
	}
	r, err := p.preflight(ctx, e, bucket, preflight.ForDeploy, echoURL)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}
