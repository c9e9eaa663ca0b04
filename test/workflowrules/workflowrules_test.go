package workflowrules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepositoryWorkflows(t *testing.T) {
	files, err := Files("../../.github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	findings, err := Lint(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Error(f)
	}
}

// The checks find what they are for: a broken workflow fails every one of them.
func TestBrokenWorkflowFails(t *testing.T) {
	joined := lintedFindings(t, "testdata/broken")
	for _, want := range []string{
		"actionlint [expression]",                                                        // unknown context in an expression
		"actionlint [runner-label]",                                                      // unknown runner
		"uses actions/checkout@v5 is not pinned",                                         // a moving tag
		"uses actions/setup-go@main is not pinned",                                       // a branch
		"uses actions/setup-node@v6.0.0 is not pinned",                                   // an exact tag can still be moved
		"uses actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830: say which version", // a bare SHA
		"sets no top-level permissions",                                                  // default token permissions
		"job build permissions grants contents: write",                                   // more than needed
		"job sign permissions grants attestations: write",                                // without actions/attest
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("no finding %q in:\n%s", want, joined)
		}
	}
}

// The pull-request policy finds each way a preview workflow can go wrong.
func TestBrokenPreviewWorkflowsFail(t *testing.T) {
	joined := lintedFindings(t, "testdata/preview-broken")
	for _, want := range []string{
		"no-guard.yml:1: job deploy assumes a cloud role on pull_request without the fork guard",
		"no-guard.yml:1: job deploy deploys a preview tenant also when the pull request closes",
		"no-guard.yml:1: job deploy deploys a preview tenant, but on.pull_request.types [opened synchronize] lacks closed",
		"no-guard.yml:1: job deploy deploys a preview tenant and no job removes it",
		"target.yml:1: on: pull_request_target runs with the base repository's secrets",
		"target.yml:1: job comment permissions grants pull-requests: write",
		"remove-anytime.yml:1: job remove removes the preview tenant but does not run only when the pull request closes",
		"remove-anytime.yml:1: job deploy deploys a preview tenant also when the pull request closes",
		"attest-pr.yml:1: job sign permissions grants attestations: write",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("no finding %q in:\n%s", want, joined)
		}
	}
	// A comment permission on a pull_request-only job is not a finding by itself.
	if strings.Contains(joined, "no-guard.yml:1: job deploy permissions grants pull-requests") {
		t.Errorf("pull-requests: write refused on a pull_request job:\n%s", joined)
	}
}

// lintedFindings lints the workflows of dir and returns the findings, one per line.
func lintedFindings(t *testing.T, dir string) string {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := Lint(files)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, f := range findings {
		all = append(all, f.String())
	}
	return strings.Join(all, "\n")
}

func TestRepositoryReleases(t *testing.T) {
	files, err := Files("../../.github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	findings, err := Releases(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Error(f)
	}
}

// The deploy workflow of old (each job builds its own images) and a
// per-service workflow that pushes the same tag both fail.
func TestReleasesCatchRebuildsAndRaces(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deploy := write("deploy.yml", `on: push
jobs:
  build:
    steps:
      - with:
          args: --commit=${{ github.sha }} publish --env=dev
  dev:
    needs: build
    steps:
      - with:
          args: --commit=${{ github.sha }} deploy --env=dev --release=${{ needs.build.outputs.release }}
  prod:
    needs: dev
    steps:
      - with:
          args: --commit=${{ github.sha }} deploy --env=prod
  preview:
    steps:
      - with:
          args: deploy --env=dev --tenant=pr-1
`)
	svc := write("service1.yml", `on: push
jobs:
  publish:
    steps:
      - with:
          args: --commit=${{ github.sha }} publish --env=dev --service=service1
`)
	findings, err := Releases([]string{deploy, svc})
	if err != nil {
		t.Fatal(err)
	}
	var joined []string
	for _, f := range findings {
		joined = append(joined, f.String())
	}
	all := strings.Join(joined, "\n")
	for _, want := range []string{
		"job publish publishes images, and so does deploy.yml/build",
		"job prod deploys an environment without the release of the publishing job",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no finding %q in:\n%s", want, all)
		}
	}
	if len(findings) != 2 {
		t.Errorf("want 2 findings (dev and the tenant deploy are right), got:\n%s", all)
	}
}
