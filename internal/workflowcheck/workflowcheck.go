// Package workflowcheck lints the GitHub Actions workflows: actionlint (as a
// library), every `uses:` pinned to a full commit SHA (with its version in a comment), and
// explicit least-privilege `permissions` in every workflow.
package workflowcheck

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	var wf struct {
		Permissions any `json:"permissions"`
		Jobs        map[string]struct {
			Permissions any `json:"permissions"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(src, &wf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if wf.Permissions == nil {
		out = append(out, Finding{File: file, Line: 1, Message: "the workflow sets no top-level permissions (default token permissions are too wide)"})
	}
	check := func(where string, p any) {
		switch v := p.(type) {
		case string:
			if v == "write-all" {
				out = append(out, Finding{File: file, Line: 1, Message: where + " grants write-all"})
			}
		case map[string]any:
			for scope, level := range v {
				if level == "write" && scope != "id-token" {
					out = append(out, Finding{File: file, Line: 1, Message: fmt.Sprintf("%s grants %s: write (only id-token may be written)", where, scope)})
				}
			}
		}
	}
	check("permissions", wf.Permissions)
	if m, ok := wf.Permissions.(map[string]any); ok && m["id-token"] == "write" {
		out = append(out, Finding{File: file, Line: 1, Message: "id-token: write belongs on the jobs that assume the AWS role, not the whole workflow"})
	}
	for name, j := range wf.Jobs {
		check("job "+name+" permissions", j.Permissions)
	}
	return out, nil
}
