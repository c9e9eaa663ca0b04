package terraformrules

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"sigs.k8s.io/yaml"

	"github.com/orders-platform/orders/internal/tfvars"
)

// The checks below are the first-run rules: what must hold for the repository as
// shipped to go from an empty AWS account to a working deployment without an edit
// (docs/deployment.md). Each one names the file and line to change.

// WorkflowJob is one job of a workflow, as far as the first-run rules read it.
type WorkflowJob struct {
	File, Name string
	// RunsOn is the runner label; GitHub-hosted runners (ubuntu-*, windows-*,
	// macos-*) have no fixed egress range.
	RunsOn string
	// Environments are the GitHub deployment environments the job binds to
	// (a matrix expression expanded), Envs the --env values of its dagger calls.
	Environments, Envs []string
	// Functions are the Dagger functions the job calls (deploy, plan, …).
	Functions []string
	// Scheduled is true when the workflow runs on a schedule.
	Scheduled bool
	// Triggers are the events of the workflow (on:), PushBranches the branches
	// of its push trigger (none: every branch).
	Triggers, PushBranches []string
	// IDToken is true when the job may request an OIDC token (id-token: write).
	IDToken bool
	// RoleVariables are the repository variables its role-to-assume names
	// (${{ vars.NAME }}), one per configure-aws-credentials step.
	RoleVariables []string
}

var roleVariable = regexp.MustCompile(`^\$\{\{\s*vars\.([A-Za-z0-9_]+)\s*\}\}$`)

// GitHubHosted reports whether the job runs on a GitHub-hosted runner.
func (j WorkflowJob) GitHubHosted() bool {
	for _, p := range []string{"ubuntu-", "windows-", "macos-"} {
		if strings.HasPrefix(j.RunsOn, p) {
			return true
		}
	}
	return false
}

// ClusterFunctions are the Dagger functions that reach an environment's
// Kubernetes API (plan, provision and publish do not).
var ClusterFunctions = []string{"deploy", "diff", "destroy", "remove-tenant", "db-tunnel", "backup", "restore"}

var (
	envFlag    = regexp.MustCompile(`--env=(\$\{\{[^}]*\}\}|[^\s]+)`)
	matrixExpr = regexp.MustCompile(`^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$`)
	expression = regexp.MustCompile(`\$\{\{[^}]*\}\}`)
)

// WorkflowJobs reads every job of the workflows under root.
func WorkflowJobs(root string) ([]WorkflowJob, error) {
	files, err := filepath.Glob(filepath.Join(root, tfvars.WorkflowsDir, "*.yml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no workflows under %s: %v", tfvars.WorkflowsDir, err)
	}
	sort.Strings(files)
	var out []WorkflowJob
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var wf struct {
			// YAML 1.1 reads a bare `on` key as true.
			On   map[string]any `json:"on"`
			True map[string]any `json:"true"`
			Jobs map[string]struct {
				RunsOn      any `json:"runs-on"`
				Environment any `json:"environment"`
				Strategy    struct {
					Matrix map[string]any `json:"matrix"`
				} `json:"strategy"`
				Permissions any `json:"permissions"`
				Steps       []struct {
					Uses string         `json:"uses"`
					With map[string]any `json:"with"`
				} `json:"steps"`
			} `json:"jobs"`
		}
		if err := yaml.Unmarshal(src, &wf); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		on := wf.On
		if on == nil {
			on = wf.True
		}
		_, scheduled := on["schedule"]
		var triggers, pushBranches []string
		for ev, spec := range on {
			triggers = append(triggers, ev)
			if m, ok := spec.(map[string]any); ok && ev == "push" {
				if bs, ok := m["branches"].([]any); ok {
					for _, b := range bs {
						pushBranches = append(pushBranches, fmt.Sprint(b))
					}
				}
			}
		}
		sort.Strings(triggers)
		names := slices.Sorted(maps.Keys(wf.Jobs))
		for _, n := range names {
			j := wf.Jobs[n]
			expand := func(v string) []string {
				m := matrixExpr.FindStringSubmatch(strings.TrimSpace(v))
				if m == nil {
					return []string{v}
				}
				var vals []string
				if list, ok := j.Strategy.Matrix[m[1]].([]any); ok {
					for _, x := range list {
						vals = append(vals, fmt.Sprint(x))
					}
				}
				return vals
			}
			job := WorkflowJob{File: filepath.Base(f), Name: n, RunsOn: fmt.Sprint(j.RunsOn), Scheduled: scheduled, Triggers: triggers, PushBranches: pushBranches}
			if perms, ok := j.Permissions.(map[string]any); ok && perms["id-token"] == "write" {
				job.IDToken = true
			}
			switch e := j.Environment.(type) {
			case string:
				job.Environments = expand(e)
			case map[string]any:
				job.Environments = expand(fmt.Sprint(e["name"]))
			}
			for _, st := range j.Steps {
				if role, ok := st.With["role-to-assume"].(string); ok {
					m := roleVariable.FindStringSubmatch(strings.TrimSpace(role))
					if m == nil {
						return nil, fmt.Errorf("%s: job %s: role-to-assume %q is not ${{ vars.<NAME> }}", f, n, role)
					}
					job.RoleVariables = append(job.RoleVariables, m[1])
				}
				args, ok := st.With["args"].(string)
				if !ok {
					continue
				}
				// An expression's spaces (--commit=${{ github.sha }}) are not token breaks.
				for _, tok := range strings.Fields(expression.ReplaceAllString(args, "x")) {
					if !strings.HasPrefix(tok, "-") {
						job.Functions = append(job.Functions, tok)
						break
					}
				}
				for _, m := range envFlag.FindAllStringSubmatch(args, -1) {
					job.Envs = append(job.Envs, expand(m[1])...)
				}
			}
			out = append(out, job)
		}
	}
	return out, nil
}

// CheckAPIReachable: a job that reaches an environment's Kubernetes API from a
// GitHub-hosted runner (no fixed egress range) needs that environment's public
// endpoint open to every address; IAM authentication guards it (docs/security.md).
// An environment narrowed to fixed ranges must be deployed from a runner with a
// fixed egress address. No environment may list a documentation range (RFC 5737):
// nobody is there.
func CheckAPIReachable(root string) ([]tfvars.Finding, error) {
	jobs, err := WorkflowJobs(root)
	if err != nil {
		return nil, err
	}
	envs, err := tfvars.Environments(root)
	if err != nil {
		return nil, err
	}
	var out []tfvars.Finding
	open := map[string]bool{}
	for _, e := range envs {
		public, cidrs, line, err := endpointAccess(root, e)
		if err != nil {
			return nil, err
		}
		open[e.Name] = public && slices.Contains(cidrs, "0.0.0.0/0")
		for _, c := range cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				out = append(out, tfvars.Finding{File: e.Tfvars, Line: line, Check: "api-access", Msg: fmt.Sprintf("%q is not a CIDR", c)})
				continue
			}
			for _, doc := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"} {
				if d := netip.MustParsePrefix(doc); d.Overlaps(p) && p.Bits() >= d.Bits() {
					out = append(out, tfvars.Finding{File: e.Tfvars, Line: line, Check: "api-access",
						Msg: fmt.Sprintf("cluster_endpoint_public_access_cidrs holds %s, a documentation range (RFC 5737): nobody can reach the Kubernetes API from there", c)})
				}
			}
		}
	}
	for _, j := range jobs {
		if !j.GitHubHosted() || !slices.ContainsFunc(j.Functions, func(f string) bool { return slices.Contains(ClusterFunctions, f) }) {
			continue
		}
		for _, env := range j.Envs {
			if ok, known := open[env]; known && !ok {
				out = append(out, tfvars.Finding{File: filepath.Join(root, tfvars.WorkflowsDir, j.File), Line: 1, Check: "api-access",
					Msg: fmt.Sprintf("job %s reaches the Kubernetes API of %s from a GitHub-hosted runner (%s, no fixed egress address), but environments/%s/terraform.tfvars does not open the public endpoint to 0.0.0.0/0: open it, or run the job on a runner with a fixed egress address inside the allowed ranges", j.Name, env, j.RunsOn, env)})
			}
		}
	}
	return out, nil
}

// endpointAccess is what an environment sets for the public API endpoint.
func endpointAccess(root string, e tfvars.Environment) (public bool, cidrs []string, line int, err error) {
	v, found, err := tfvars.EnvironmentValue(root, e.Name, "cluster_endpoint_public_access")
	if err != nil {
		return false, nil, 0, err
	}
	public = !found || (v.Type() == cty.Bool && v.True())
	v, found, err = tfvars.EnvironmentValue(root, e.Name, "cluster_endpoint_public_access_cidrs")
	if err != nil || !found {
		return false, nil, 0, fmt.Errorf("%s: cluster_endpoint_public_access_cidrs: not set and no default (%v)", e.Name, err)
	}
	for _, c := range v.AsValueSlice() {
		cidrs = append(cidrs, c.AsString())
	}
	f, _, _ := tfvars.ParseFile(e.Tfvars)
	line = 1
	if f != nil {
		if a, ok := f.Body.Attributes["cluster_endpoint_public_access_cidrs"]; ok {
			line = a.SrcRange.Start.Line
		}
	}
	return public, cidrs, line, nil
}

// CheckWorkflowEnvironments: every GitHub environment a workflow binds to is one
// a bootstrap role trusts (deploy_environments or drift_environment of
// terraform/bootstrap: else the job gets no credentials), and no scheduled job
// binds to an environment with required reviewers (it would wait for an
// approval every run).
func CheckWorkflowEnvironments(root string, reviewed []string) ([]tfvars.Finding, error) {
	jobs, err := WorkflowJobs(root)
	if err != nil {
		return nil, err
	}
	bootstrapTfvars := filepath.Join(root, tfvars.BootstrapDir, "terraform.tfvars")
	trusted, err := tfvars.BootstrapStrings(root, "deploy_environments")
	if err != nil {
		return nil, err
	}
	drift, err := tfvars.BootstrapStrings(root, "drift_environment")
	if err != nil {
		return nil, err
	}
	trusted = append(trusted, drift...)
	var out []tfvars.Finding
	for _, j := range jobs {
		file := filepath.Join(root, tfvars.WorkflowsDir, j.File)
		for _, e := range j.Environments {
			if !slices.Contains(trusted, e) {
				out = append(out, tfvars.Finding{File: file, Line: 1, Check: "environments",
					Msg: fmt.Sprintf("job %s runs in GitHub environment %q, which no role trusts: add it to deploy_environments in %s", j.Name, e, bootstrapTfvars)})
			}
			if j.Scheduled && slices.Contains(reviewed, e) {
				out = append(out, tfvars.Finding{File: file, Line: 1, Check: "environments",
					Msg: fmt.Sprintf("scheduled job %s runs in %q, which has required reviewers: it would wait for an approval every run", j.Name, e)})
			}
		}
	}
	return out, nil
}

// References lists what an attribute of a block refers to, as
// "data.aws_iam_role.operator", "local.admin_principal_arns" or
// `aws_secretsmanager_secret.mongodb["app"]`: the block is the first of its type
// with those labels that sets the attribute.
func References(m *tfvars.Module, typ string, labels []string, attr string) ([]string, error) {
	for _, b := range m.Blocks(typ) {
		a, ok := b.Block.Body.Attributes[attr]
		if !slices.Equal(b.Block.Labels, labels) || !ok {
			continue
		}
		var out []string
		for _, tr := range a.Expr.Variables() {
			var sb strings.Builder
			for _, step := range tr {
				switch s := step.(type) {
				case hcl.TraverseRoot:
					sb.WriteString(s.Name)
				case hcl.TraverseAttr:
					sb.WriteString("." + s.Name)
				case hcl.TraverseIndex:
					if s.Key.Type() == cty.String {
						fmt.Fprintf(&sb, "[%q]", s.Key.AsString())
					} else {
						sb.WriteString("[…]")
					}
				}
			}
			out = append(out, sb.String())
		}
		return out, nil
	}
	return nil, fmt.Errorf("no %s %v with %s in %s", typ, labels, attr, m.Dir)
}
