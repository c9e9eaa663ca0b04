// Command deployer installs, upgrades and rolls back the platform's Helm releases
// (internal/deploy): the cluster add-ons of the environment, then cluster, edge,
// mongodb, backup, orders, monitoring (those that exist in the environment), and
// runs on-demand MongoDB backups and restores in the cluster.
//
//	deployer plan      --env=dev [inputs]                   the releases, their order, what is skipped
//	deployer apply     --env=dev [inputs] [cluster access]  render everything, then install/upgrade ("deploy" is the same)
//	deployer diff      --env=dev [inputs] [cluster access]  unified diff: live release vs rendered
//	deployer uninstall --env=dev [inputs] [cluster access]  remove the releases in reverse order
//	deployer tunnel    --env=dev [cluster access] [--listen=127.0.0.1:27017]  MongoDB through the Kubernetes API
//	deployer backup    --env=dev [cluster access]               back up now: a Job from the backup CronJob, waited for
//	deployer restore   --env=dev --from=<key|s3://…> --replace [cluster access]  restore over the live database
//
// Tenants: --tenant=<name> with plan, apply, diff or uninstall acts on that tenant of
// the environment only (release tenant-<name> of charts/tenant and release orders in
// namespace tenant-<name>, its MongoDB user and database; see cmd/deployer/tenant.go).
//
// Images: --image service1=<ref>, where ref is a full reference (<repository>:<tag>
// or <repository>@sha256:…), a bare digest or a bare tag; --tag sets the tag of all
// services. --image backup=<ref> is the optional image of cmd/backup: without it the
// backup release is skipped (an installed schedule keeps its revision).
//
// Cluster access: --kubeconfig/--context (or $KUBECONFIG, ~/.kube/config), or EKS with
// AWS credentials only: --eks-cluster and --region, or --terraform-outputs (the JSON of
// `terraform output -json` for terraform/platform, which also supplies the ECR
// repositories, subnets and Elastic IPs). A --kubeconfig or --context flag wins.
//
// MongoDB passwords are never flags: ORDERS_MONGODB_ROOT_PASSWORD and
// ORDERS_MONGODB_APP_PASSWORD, or --credentials-file (YAML/JSON: rootPassword,
// appPassword); with --terraform-outputs and neither of those, they are read from
// the Secrets Manager secrets the outputs name. local generates them on first
// install and keeps them in the cluster.
//
// backup and restore wait up to --timeout (default 30m) and report the Job's
// diagnosis (conditions, pods, events, the end of its log) when it fails. restore
// refuses without --replace: it drops the live collections first.
//
// Exit status: 0 success, 1 a release or a backup/restore Job failed (a release is
// rolled back or uninstalled; the report names the objects and why), 2 bad usage or
// inputs (nothing was changed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"k8s.io/client-go/rest"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/deploy"
	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// multi is a repeatable flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	env, root                     string
	kubeconfig, context           string
	eksCluster, region, tfOutputs string
	tag                           string
	images, values, skip          multi
	skipAddons                    bool
	timeout, rollbackTimeout      time.Duration
	maxHistory                    int
	credentialsFile               string
	listen                        string
	from                          string
	replace                       bool
	confirm                       string
	tenant                        string
	kubeconfigSet, contextSet     bool
	eksClusterSet                 bool
}

const usage = `usage: deployer plan|apply|diff|uninstall|tunnel|backup|restore --env=<environment> [flags]
  deployer restore --env=<environment> --from=<key or s3:// URL> --replace [cluster access]
run "deployer <command> -h" for the flags`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd := args[0]
	if cmd == "deploy" {
		cmd = "apply"
	}
	if cmd != "plan" && cmd != "apply" && cmd != "diff" && cmd != "uninstall" && cmd != "tunnel" && cmd != "backup" && cmd != "restore" {
		fmt.Fprintf(stderr, "deployer: unknown command %q\n%s\n", cmd, usage)
		return 2
	}
	var o options
	fs := flag.NewFlagSet("deployer "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.env, "env", "", "environment: a folder of environments/ (required)")
	fs.StringVar(&o.root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&o.context, "context", "", "kubeconfig context (default: the current context)")
	fs.StringVar(&o.eksCluster, "eks-cluster", "", "EKS cluster name: reach it with AWS credentials, no kubeconfig")
	fs.StringVar(&o.region, "region", "", "AWS region of the EKS cluster")
	fs.StringVar(&o.tfOutputs, "terraform-outputs", "", "file with `terraform output -json` of terraform/platform")
	fs.StringVar(&o.tag, "tag", "", "image tag (the git commit) of every service")
	fs.Var(&o.images, "image", "image of one service: <service>=<repository>@sha256:<digest>, <repository>:<tag>, sha256:<digest> or <tag> (repeatable; wins over --tag)")
	fs.Var(&o.values, "values", "extra values file for a release: <release>=<file.yaml> (repeatable, merged last)")
	fs.Var(&o.skip, "skip", "release not to deploy (repeatable), e.g. mongodb")
	fs.BoolVar(&o.skipAddons, "skip-addons", false, "skip the cluster add-ons (the cluster has them)")
	fs.DurationVar(&o.timeout, "timeout", 0, "readiness timeout of every release (default: per release); backup/restore: how long to wait for the Job (default 30m)")
	fs.DurationVar(&o.rollbackTimeout, "rollback-timeout", deploy.DefaultRollbackTimeout, "timeout of a rollback or of the uninstall of a failed first install")
	fs.IntVar(&o.maxHistory, "max-history", deploy.DefaultMaxHistory, "revisions kept per release")
	fs.StringVar(&o.credentialsFile, "credentials-file", "", "YAML/JSON file with rootPassword and appPassword (default: "+deploy.EnvRootPassword+", "+deploy.EnvAppPassword+")")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:27017", "tunnel: local address MongoDB is forwarded to")
	fs.StringVar(&o.from, "from", "", "restore: the backup, an s3://<bucket>/<key> URL, a key in the environment's backup bucket, or a file name under its prefix")
	fs.BoolVar(&o.replace, "replace", false, "restore: drop the live database's collections and write the backup's (required: a restore is destructive)")
	fs.StringVar(&o.confirm, "confirm", "", "uninstall --tenant: the tenant's name again (required: its database is dropped)")
	fs.StringVar(&o.tenant, "tenant", "", "plan/apply/diff/uninstall one tenant of the environment only: namespace tenant-<name>, routes /<name>/service1 and /<name>/service2, its own MongoDB user and database (docs/tenants.md)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "deployer: unexpected arguments %q\n", fs.Args())
		return 2
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "kubeconfig":
			o.kubeconfigSet = true
		case "context":
			o.contextSet = true
		case "eks-cluster":
			o.eksClusterSet = true
		}
	})
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "deployer %s: %v\n", cmd, err)
		return code
	}

	if o.env == "" {
		return fail(2, errors.New("--env is required"))
	}
	root := o.root
	if root == "" {
		r, err := charts.RepoRoot()
		if err != nil {
			return fail(2, fmt.Errorf("%w (run inside the repository or pass --root)", err))
		}
		root = r
	}
	in, outputs, err := inputs(o)
	if err != nil {
		return fail(2, err)
	}
	if (o.from != "" || o.replace) && cmd != "restore" {
		return fail(2, errors.New("--from and --replace are flags of restore only"))
	}
	if o.confirm != "" && (cmd != "uninstall" || o.tenant == "") {
		return fail(2, errors.New("--confirm is a flag of uninstall --tenant only"))
	}
	if o.tenant != "" {
		return runTenant(ctx, cmd, root, in, o, outputs, getenv, stdout, fail)
	}
	if cmd == "backup" || cmd == "restore" {
		return backupOrRestore(ctx, cmd, root, o, outputs, stdout, fail)
	}
	if cmd == "tunnel" {
		cfg, err := access(ctx, o, outputs)
		if err != nil {
			return fail(2, err)
		}
		if err := deploy.Tunnel(ctx, cfg, deploy.MongoNamespace, o.listen, stdout, stderr); err != nil {
			return fail(1, err)
		}
		return 0
	}
	plan, err := deploy.BuildPlan(root, in)
	if err != nil {
		return fail(2, err)
	}
	if done, err := showPlan(cmd, plan, stdout); err != nil {
		return fail(2, err)
	} else if done {
		return 0
	}
	creds, cfg, err := credentialsAndAccess(ctx, o, getenv, outputs, cmd != "uninstall")
	if err != nil {
		return fail(2, err)
	}
	d := &deploy.Deployer{Config: cfg, Out: stdout, MaxHistory: o.maxHistory, RollbackTimeout: o.rollbackTimeout}
	switch cmd {
	case "uninstall":
		if _, err := d.Uninstall(ctx, plan); err != nil {
			return fail(1, err)
		}
		fmt.Fprintf(stdout, "uninstalled the releases of environment %s\n", o.env)
		return 0
	case "diff":
		diffs, err := d.Diff(ctx, plan, creds)
		if err != nil {
			return fail(exitCode(err), err)
		}
		for _, rd := range diffs {
			switch {
			case rd.Skip != "":
				fmt.Fprintf(stdout, "# %s: skipped (%s)\n", rd.Name, rd.Skip)
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
		begin := time.Now()
		results, err := d.Deploy(ctx, plan, creds)
		if err != nil {
			return fail(exitCode(err), err)
		}
		for _, r := range results {
			if r.Action == "skipped" {
				continue
			}
			fmt.Fprintf(stdout, "%s: %s revision %d in %s\n", r.Name, r.Action, r.Revision, r.Duration.Round(time.Millisecond))
		}
		fmt.Fprintf(stdout, "deployed environment %s in %s\n", o.env, time.Since(begin).Round(time.Millisecond))
		return 0
	}
}

// exitCode: 1 when a release was attempted and failed, 2 when nothing was changed.
func exitCode(err error) int {
	var re *deploy.ReleaseError
	if errors.As(err, &re) {
		return 1
	}
	return 2
}

// inputs turns the flags into deploy.Inputs.
func inputs(o options) (deploy.Inputs, *tfoutputs.Outputs, error) {
	in := deploy.Inputs{Env: o.env, SkipAddons: o.skipAddons, Skip: o.skip, Timeout: o.timeout, Images: map[string]deploy.Image{}}
	if o.tag != "" {
		for _, svc := range deploy.Services {
			in.Images[svc] = deploy.Image{Tag: o.tag}
		}
	}
	for _, spec := range o.images {
		svc, ref, ok := strings.Cut(spec, "=")
		if !ok || svc == "" || ref == "" {
			return in, nil, fmt.Errorf("--image %q: want <service>=<image reference>", spec)
		}
		img, err := deploy.ParseImage(ref)
		if err != nil {
			return in, nil, fmt.Errorf("--image %s: %w", spec, err)
		}
		in.Images[svc] = img
	}
	for _, spec := range o.values {
		rel, file, ok := strings.Cut(spec, "=")
		if !ok || rel == "" || file == "" {
			return in, nil, fmt.Errorf("--values %q: want <release>=<file.yaml>", spec)
		}
		vals, err := charts.ReadValues(file)
		if err != nil {
			return in, nil, fmt.Errorf("--values %s: %w", spec, err)
		}
		if in.ExtraValues == nil {
			in.ExtraValues = map[string]map[string]any{}
		}
		in.ExtraValues[rel] = charts.MergeValues(in.ExtraValues[rel], vals)
	}
	if o.tfOutputs != "" {
		b, err := os.ReadFile(o.tfOutputs)
		if err != nil {
			return in, nil, fmt.Errorf("--terraform-outputs: %w", err)
		}
		out, err := tfoutputs.Parse(b)
		if err != nil {
			return in, nil, fmt.Errorf("--terraform-outputs %s: %w", o.tfOutputs, err)
		}
		if out.Environment != o.env {
			return in, nil, fmt.Errorf("--terraform-outputs %s are for environment %q, not %q", o.tfOutputs, out.Environment, o.env)
		}
		in.Outputs = out
	}
	return in, in.Outputs, nil
}

// access picks the cluster: a kubeconfig when --kubeconfig or --context is given,
// else EKS when a cluster name is known, else the default kubeconfig.
func access(ctx context.Context, o options, outputs *tfoutputs.Outputs) (*rest.Config, error) {
	if !o.kubeconfigSet && !o.contextSet && (o.eksClusterSet || outputs != nil) {
		cluster, region := o.eksCluster, o.region
		if outputs != nil {
			if cluster == "" {
				cluster = outputs.ClusterName
			}
			if region == "" {
				region = outputs.Region
			}
		}
		return deploy.EKSConfig(ctx, cluster, region)
	}
	return deploy.KubeconfigConfig(o.kubeconfig, o.context)
}

// backupOrRestore runs an on-demand backup or restore in the environment's cluster.
func backupOrRestore(ctx context.Context, cmd, root string, o options, outputs *tfoutputs.Outputs, stdout io.Writer, fail func(int, error) int) int {
	if _, err := environments.Load(os.DirFS(root), o.env); err != nil {
		return fail(2, err)
	}
	var rel charts.Release
	for _, r := range charts.Releases {
		if r.Name == "backup" {
			rel = r
		}
	}
	if _, err := os.Stat(charts.ValuesFile(root, o.env, rel.Name)); err != nil {
		return fail(2, fmt.Errorf("environment %s has no backup release (%s is missing)", o.env, charts.ValuesFile(root, o.env, rel.Name)))
	}
	if cmd == "restore" && !o.replace {
		return fail(2, deploy.ErrRestoreNeedsReplace)
	}
	cfg, err := access(ctx, o, outputs)
	if err != nil {
		return fail(2, err)
	}
	d := &deploy.Deployer{Config: cfg, Out: stdout}
	var res *deploy.JobResult
	if cmd == "backup" {
		res, err = d.Backup(ctx, deploy.BackupOptions{Namespace: rel.Namespace, Timeout: o.timeout})
	} else {
		res, err = d.Restore(ctx, deploy.RestoreOptions{Namespace: rel.Namespace, Timeout: o.timeout, From: o.from, Replace: o.replace})
	}
	var je *deploy.JobError
	switch {
	case errors.As(err, &je):
		return fail(1, err)
	case err != nil:
		return fail(2, err)
	}
	if res.Log != "" {
		fmt.Fprintf(stdout, "log of job/%s:\n%s\n", res.Job, res.Log)
	}
	if cmd == "backup" {
		where := "written to " + res.Location
		if !res.File {
			where = fmt.Sprintf("written under %s (the newest file there: go run ./cmd/backup list --from %s)", res.Location, res.Location)
		}
		fmt.Fprintf(stdout, "backup of environment %s: Job %s/%s complete in %s, %s\n", o.env, res.Namespace, res.Job, res.Duration.Round(time.Millisecond), where)
	} else {
		fmt.Fprintf(stdout, "restore of environment %s from %s: Job %s/%s complete in %s\n", o.env, res.Location, res.Namespace, res.Job, res.Duration.Round(time.Millisecond))
	}
	return 0
}

// credentials are the MongoDB passwords from --credentials-file or the environment;
// without them, in an AWS environment and when the command needs them, the ones
// Terraform generated, straight from Secrets Manager.
func credentials(ctx context.Context, o options, getenv func(string) string, outputs *tfoutputs.Outputs, needed bool) (deploy.Credentials, error) {
	creds, err := deploy.LoadCredentials(o.credentialsFile, getenv)
	if err != nil || creds != (deploy.Credentials{}) || outputs == nil || !needed {
		return creds, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(outputs.Region))
	if err != nil {
		return deploy.Credentials{}, fmt.Errorf("AWS credentials for Secrets Manager: %w", err)
	}
	return deploy.CredentialsFromSecretsManager(ctx, secretsmanager.NewFromConfig(awsCfg), outputs)
}

// shownPlan is an environment's or a tenant's plan.
type shownPlan interface {
	String() string
	CheckApply() error
}

// showPlan prints the plan; done: the command was plan and nothing more is to do.
// apply refuses a plan that can be shown but not applied (prod without digests).
func showPlan(cmd string, p shownPlan, stdout io.Writer) (done bool, err error) {
	fmt.Fprint(stdout, p.String())
	switch cmd {
	case "plan":
		return true, nil
	case "apply":
		return false, p.CheckApply()
	}
	return false, nil
}

// credentialsAndAccess are the MongoDB passwords (see credentials) and the cluster's
// connection, both needed by every command that changes or reads the cluster.
func credentialsAndAccess(ctx context.Context, o options, getenv func(string) string, outputs *tfoutputs.Outputs, passwordsNeeded bool) (deploy.Credentials, *rest.Config, error) {
	creds, err := credentials(ctx, o, getenv, outputs, passwordsNeeded)
	if err != nil {
		return deploy.Credentials{}, nil, err
	}
	cfg, err := access(ctx, o, outputs)
	return creds, cfg, err
}
