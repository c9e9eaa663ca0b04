package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/orders-platform/orders/internal/deploy"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

// runTenant runs plan, apply, diff or uninstall for one tenant (--tenant):
//
//	deployer apply     --env=dev --tenant=acme [inputs] [cluster access]  add or update tenant acme
//	deployer uninstall --env=dev --tenant=acme --confirm=acme [cluster access]  remove it: releases, MongoDB user and database, namespace
//
// The environment's MongoDB release must be deployed. MongoDB's root password comes
// from the same places as for the environment (Secrets Manager through
// --terraform-outputs, ORDERS_MONGODB_*_PASSWORD, --credentials-file), or, for
// environments off AWS, from the cluster's mongodb/mongodb-auth Secret.
func runTenant(ctx context.Context, cmd, root string, in deploy.Inputs, o options, outputs *tfoutputs.Outputs, getenv func(string) string, stdout io.Writer, fail func(int, error) int) int {
	switch cmd {
	case "plan", "apply", "diff", "uninstall":
	default:
		return fail(2, fmt.Errorf("--tenant applies to plan, apply, diff and uninstall, not %s", cmd))
	}
	if o.skipAddons {
		return fail(2, errors.New("--skip-addons does not apply with --tenant (a tenant installs no add-ons)"))
	}
	if cmd == "uninstall" && o.confirm != o.tenant {
		return fail(2, fmt.Errorf("uninstall --tenant=%s refused: it drops the tenant's database and user and deletes namespace tenant-%s, with no backup of them; repeat the tenant's name with --confirm=%s", o.tenant, o.tenant, o.tenant))
	}
	tp, err := deploy.BuildTenantPlan(root, in, o.tenant)
	if err != nil {
		return fail(2, err)
	}
	if done, err := showPlan(cmd, tp, stdout); err != nil {
		return fail(2, err)
	} else if done {
		return 0
	}
	// The root password creates and drops the tenant's user.
	creds, cfg, err := credentialsAndAccess(ctx, o, getenv, outputs, cmd != "diff")
	if err != nil {
		return fail(2, err)
	}
	ts := &deploy.Tenants{Deployer: &deploy.Deployer{Config: cfg, Out: stdout, MaxHistory: o.maxHistory, RollbackTimeout: o.rollbackTimeout}}
	begin := time.Now()
	switch cmd {
	case "uninstall":
		if _, err := ts.Uninstall(ctx, tp, creds); err != nil {
			return fail(1, err)
		}
		fmt.Fprintf(stdout, "removed tenant %s of environment %s in %s\n", o.tenant, o.env, time.Since(begin).Round(time.Millisecond))
		return 0
	case "diff":
		diffs, err := ts.Diff(ctx, tp, creds)
		if err != nil {
			return fail(exitCode(err), err)
		}
		for _, rd := range diffs {
			switch {
			case rd.Unified == "":
				fmt.Fprintf(stdout, "# %s: no changes (revision %d)\n", rd.Name, rd.Revision)
			default:
				if !rd.Installed {
					fmt.Fprintf(stdout, "# %s: not installed yet\n", rd.Name)
				}
				fmt.Fprint(stdout, rd.Unified)
			}
		}
		return 0
	default:
		results, err := ts.Deploy(ctx, tp, creds)
		if err != nil {
			return fail(exitCode(err), err)
		}
		for _, r := range results {
			fmt.Fprintf(stdout, "%s: %s revision %d in %s\n", r.Name, r.Action, r.Revision, r.Duration.Round(time.Millisecond))
		}
		fmt.Fprintf(stdout, "deployed tenant %s of environment %s in %s: routes %s/service1 and %s/service2\n",
			o.tenant, o.env, time.Since(begin).Round(time.Millisecond), tp.Tenant.PathPrefix(), tp.Tenant.PathPrefix())
		return 0
	}
}
