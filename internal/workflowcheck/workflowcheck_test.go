package workflowcheck

import (
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
