// Package workflowrules lints the GitHub Actions workflows: actionlint (as a
// library), every `uses:` pinned to a full commit SHA (with its version in a comment), and
// explicit least-privilege `permissions` in every workflow, and for workflows that run on
// pull requests with cloud credentials (previews): no pull_request_target, a fork
// guard on every job that assumes a role, and removal of a preview when the pull
// request closes.
package workflowrules

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"
	"sigs.k8s.io/yaml"
)

// Finding is one problem in a workflow file.
type Finding struct {
	File, Message string
	Line          int
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Message) }

// Files are the workflow files of a directory (*.yml and *.yaml), sorted.
func Files(dir string) ([]string, error) {
	var files []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no workflow files in %s", dir)
	}
	return files, nil
}

// Lint runs every check over the files.
func Lint(files []string) ([]Finding, error) {
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		return nil, fmt.Errorf("actionlint: %w", err)
	}
	var out []Finding
	for _, f := range files {
		errs, err := linter.LintFile(f, nil)
		if err != nil {
			return nil, fmt.Errorf("actionlint %s: %w", f, err)
		}
		for _, e := range errs {
			out = append(out, Finding{File: f, Line: e.Line, Message: fmt.Sprintf("actionlint [%s] %s", e.Kind, e.Message)})
		}
		more, err := policy(f)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// pinned: a full commit SHA (a tag can be moved, a commit cannot) with the
// version it is in a comment for the reader; local actions; docker:// digests.
var (
	usesRe    = regexp.MustCompile(`^\s*(?:-\s*)?uses:\s*["']?([^"'\s#]+)["']?\s*(#.*)?$`)
	shaRe     = regexp.MustCompile(`^[^@]+@[0-9a-f]{40}$`)
	versionRe = regexp.MustCompile(`^#\s*v[0-9]+(\.[0-9]+){0,2}\b`)
	digestRe  = regexp.MustCompile(`^docker://[^@]+@sha256:[0-9a-f]{64}$`)
)

// policy checks pinning and permissions.
func policy(file string) ([]Finding, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for i, line := range strings.Split(string(src), "\n") {
		m := usesRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ref, comment := m[1], m[2]
		switch {
		case strings.HasPrefix(ref, "./") || digestRe.MatchString(ref):
		case !shaRe.MatchString(ref):
			out = append(out, Finding{File: file, Line: i + 1, Message: fmt.Sprintf("uses %s is not pinned to a full commit SHA", ref)})
		case !versionRe.MatchString(comment):
			out = append(out, Finding{File: file, Line: i + 1, Message: fmt.Sprintf("uses %s: say which version the commit is in a comment, e.g. # v1.2.3", ref)})
		}
	}
	var wf workflow
	if err := yaml.Unmarshal(src, &wf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if wf.Permissions == nil {
		out = append(out, Finding{File: file, Line: 1, Message: "the workflow sets no top-level permissions (default token permissions are too wide)"})
	}
	triggers := wf.triggers()
	check := func(where string, p any, job, attests bool) {
		switch v := p.(type) {
		case string:
			if v == "write-all" {
				out = append(out, Finding{File: file, Line: 1, Message: where + " grants write-all"})
			}
		case map[string]any:
			for scope, level := range v {
				// A pull request's own job may comment on it (a preview's URL); nothing else writes.
				prComment := scope == "pull-requests" && job && onlyPullRequest(triggers)
				// A job that signs with actions/attest stores the attestations in
				// GitHub (actions/attest action.yml, README @ v4.2.2); never on a pull
				// request's code.
				attestation := scope == "attestations" && attests
				if level == "write" && scope != "id-token" && !prComment && !attestation {
					out = append(out, Finding{File: file, Line: 1, Message: fmt.Sprintf("%s grants %s: write (only id-token may be written; pull-requests only by a job of a workflow run on pull_request alone; attestations only by a job that runs actions/attest, never on a pull request)", where, scope)})
				}
			}
		}
	}
	check("permissions", wf.Permissions, false, false)
	if m, ok := wf.Permissions.(map[string]any); ok && m["id-token"] == "write" {
		out = append(out, Finding{File: file, Line: 1, Message: "id-token: write belongs on the jobs that assume the AWS role, not the whole workflow"})
	}
	_, onPR := triggers["pull_request"]
	_, onPRTarget := triggers["pull_request_target"]
	for name, j := range wf.Jobs {
		attests := !onPR && !onPRTarget && slices.ContainsFunc(j.Steps, func(st step) bool { return strings.HasPrefix(st.Uses, "actions/attest@") })
		check("job "+name+" permissions", j.Permissions, true, attests)
	}
	for _, msg := range pullRequestPolicy(wf, triggers) {
		out = append(out, Finding{File: file, Line: 1, Message: msg})
	}
	return out, nil
}

type workflow struct {
	// On is the workflow's `on:`; YAML 1.1 reads a bare `on` key as true.
	On          any `json:"on"`
	True        any `json:"true"`
	Permissions any `json:"permissions"`
	Jobs        map[string]struct {
		If          string `json:"if"`
		Permissions any    `json:"permissions"`
		Steps       []step `json:"steps"`
	} `json:"jobs"`
}

type step struct {
	Uses string         `json:"uses"`
	Run  string         `json:"run"`
	With map[string]any `json:"with"`
}

// triggers maps each event of `on:` to its activity types (nil: all).
func (wf workflow) triggers() map[string][]string {
	on := wf.On
	if on == nil {
		on = wf.True
	}
	out := map[string][]string{}
	switch v := on.(type) {
	case string:
		out[v] = nil
	case []any:
		for _, e := range v {
			out[fmt.Sprint(e)] = nil
		}
	case map[string]any:
		for ev, cfg := range v {
			out[ev] = nil
			if m, ok := cfg.(map[string]any); ok {
				if types, ok := m["types"].([]any); ok {
					for _, t := range types {
						out[ev] = append(out[ev], fmt.Sprint(t))
					}
				}
			}
		}
	}
	return out
}

func onlyPullRequest(triggers map[string][]string) bool {
	_, ok := triggers["pull_request"]
	return ok && len(triggers) == 1
}

// Expressions the pull-request policy looks for in a job's `if:`.
const (
	forkGuard   = "github.event.pull_request.head.repo.full_name == github.repository"
	onClosed    = "github.event.action == 'closed'"
	notOnClosed = "github.event.action != 'closed'"
)

// pullRequestPolicy: pull_request_target runs a fork's code with the base
// repository's secrets, so it is refused; on pull_request, a job that assumes a
// cloud role must not run for forks (they get no credentials anyway, and must not
// try); a workflow that deploys a tenant per pull request (a preview) must remove
// it when the pull request closes, and must not deploy on close.
func pullRequestPolicy(wf workflow, triggers map[string][]string) []string {
	var out []string
	if _, ok := triggers["pull_request_target"]; ok {
		out = append(out, "on: pull_request_target runs with the base repository's secrets for fork code: use pull_request")
	}
	types, onPR := triggers["pull_request"]
	if !onPR {
		return out
	}
	deploys, removes := "", ""
	names := slices.Sorted(maps.Keys(wf.Jobs))
	for _, name := range names {
		j := wf.Jobs[name]
		if m, ok := j.Permissions.(map[string]any); ok && m["id-token"] == "write" && !strings.Contains(j.If, forkGuard) {
			out = append(out, fmt.Sprintf("job %s assumes a cloud role on pull_request without the fork guard: if: %s", name, forkGuard))
		}
		var text strings.Builder
		for _, st := range j.Steps {
			text.WriteString(st.Run + "\n")
			if a, ok := st.With["args"].(string); ok {
				text.WriteString(a + "\n")
			}
		}
		t := text.String()
		switch {
		case strings.Contains(t, "remove-tenant"):
			removes = name
			if !strings.Contains(j.If, onClosed) {
				out = append(out, fmt.Sprintf("job %s removes the preview tenant but does not run only when the pull request closes: if: … && %s", name, onClosed))
			}
		case strings.Contains(t, "--tenant") && strings.Contains(t, "deploy"):
			deploys = name
			if !strings.Contains(j.If, notOnClosed) {
				out = append(out, fmt.Sprintf("job %s deploys a preview tenant also when the pull request closes: if: … && %s", name, notOnClosed))
			}
		}
	}
	if deploys == "" {
		return out
	}
	if types != nil && !slices.Contains(types, "closed") {
		out = append(out, fmt.Sprintf("job %s deploys a preview tenant, but on.pull_request.types %v lacks closed: the preview would never be removed", deploys, types))
	}
	if removes == "" {
		out = append(out, fmt.Sprintf("job %s deploys a preview tenant and no job removes it (dagger call remove-tenant) when the pull request closes", deploys))
	}
	return out
}

// Release rules (build once, promote by digest): across all the workflows, one
// job publishes images (ECR tags are immutable: a second producer of the
// commit's tag races the first and one of them fails), and every job that
// deploys an environment deploys that job's release (--release from its
// outputs, the job in needs), so nothing is built twice and prod runs what dev
// ran. Tenant deploys (previews) build their pull request's images.
func Releases(files []string) ([]Finding, error) {
	type job struct {
		file, name string
		needs      []string
		args       []string
	}
	var jobs []job
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var wf struct {
			Jobs map[string]struct {
				Needs any `json:"needs"`
				Steps []struct {
					With map[string]any `json:"with"`
				} `json:"steps"`
			} `json:"jobs"`
		}
		if err := yaml.Unmarshal(src, &wf); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for name, j := range wf.Jobs {
			jb := job{file: f, name: name}
			switch n := j.Needs.(type) {
			case string:
				jb.needs = []string{n}
			case []any:
				for _, x := range n {
					jb.needs = append(jb.needs, fmt.Sprint(x))
				}
			}
			for _, st := range j.Steps {
				if a, ok := st.With["args"].(string); ok {
					jb.args = append(jb.args, a)
				}
			}
			jobs = append(jobs, jb)
		}
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].file+jobs[a].name < jobs[b].file+jobs[b].name })
	calls := func(j job, function string) []string {
		var out []string
		for _, a := range j.args {
			fields := strings.Fields(expressionRe.ReplaceAllString(a, "x"))
			for i, f := range fields {
				if !strings.HasPrefix(f, "-") {
					if f == function {
						out = append(out, strings.Join(fields[i:], " "), a)
					}
					break
				}
			}
		}
		return out
	}
	var out []Finding
	var publishers []job
	for _, j := range jobs {
		if len(calls(j, "publish")) > 0 {
			publishers = append(publishers, j)
		}
	}
	if len(publishers) > 1 {
		for _, p := range publishers[1:] {
			out = append(out, Finding{File: p.file, Line: 1, Message: fmt.Sprintf("job %s publishes images, and so does %s/%s: one producer per commit tag (immutable tags race)", p.name, filepath.Base(publishers[0].file), publishers[0].name)})
		}
	}
	for _, j := range jobs {
		c := calls(j, "deploy")
		for i := 0; i < len(c); i += 2 {
			if strings.Contains(c[i], "--tenant") {
				continue
			}
			ok := false
			for _, p := range publishers {
				want := "--release=${{ needs." + p.name + ".outputs.release }}"
				if p.file == j.file && slices.Contains(j.needs, p.name) && strings.Contains(c[i+1], want) {
					ok = true
				}
			}
			if !ok {
				out = append(out, Finding{File: j.file, Line: 1, Message: fmt.Sprintf("job %s deploys an environment without the release of the publishing job (needs it, and --release=${{ needs.<job>.outputs.release }}): it would build the images again", j.name)})
			}
		}
	}
	return out, nil
}

var expressionRe = regexp.MustCompile(`\$\{\{[^}]*\}\}`)
