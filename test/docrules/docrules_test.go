package docrules

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/charts"
)

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Disaster recovery", "disaster-recovery"},
		{"1. Bootstrap, once per account (administrator, local state first)", "1-bootstrap-once-per-account-administrator-local-state-first"},
		{"`OrdersHighErrorRate`", "ordershigherrorrate"},
		{"Per environment: `terraform/platform`", "per-environment-terraformplatform"},
		{"RPO and RTO", "rpo-and-rto"},
		{"See [the docs](x.md) now", "see-the-docs-now"},
		{"OrdersServiceDown", "ordersservicedown"},
		{"Logs (JSON, stdout)", "logs-json-stdout"},
		{"  Env_vars & more  ", "env_vars--more"},
	} {
		if got := Slug(tc.heading); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
}

func TestAnchorsNumberRepeatsAndSkipCode(t *testing.T) {
	md := []byte("# A\n## A\n```\n# not a heading\n```\n<a name=\"custom\"></a>\n### `MongoDBDown`\n")
	got := Anchors([]byte(md))
	for _, want := range []string{"a", "a-1", "custom", "mongodbdown"} {
		if !got[want] {
			t.Errorf("anchor %q missing from %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a line in a code block was read as a heading")
	}
}

// TestCheckLinksFindsBrokenOnes builds a small tree with good and broken links.
func TestCheckLinksFindsBrokenOnes(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("code/main.go", "package main\n")
	write("docs/ops.md", "# Ops\n## Service down\n")
	write("docs/index.md", strings.Join([]string{
		"[ok file](../code/main.go) [ok folder](../code) [ok anchor](ops.md#service-down)",
		"[web](https://example.com/x) [self](#index)",
		"# Index",
		"[gone](../code/old.go)",
		"[bad anchor](ops.md#service-up)",
		"[bad self](#nowhere)",
		"`[in code](nothing.md)`",
		"[out](../../etc/passwd)",
		"[ref]: ../missing.md",
	}, "\n"))
	broken, err := CheckLinks(root, []string{"docs/index.md", "docs/ops.md"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"docs/index.md:4: ../code/old.go: no such file or folder code/old.go",
		"docs/index.md:5: ops.md#service-up: no heading for #service-up in docs/ops.md",
		"docs/index.md:6: #nowhere: no heading for #nowhere in this file",
		"docs/index.md:8: ../../etc/passwd: points outside the repository",
		"docs/index.md:9: ../missing.md: no such file or folder missing.md",
	}
	if !slices.Equal(broken, want) {
		t.Errorf("broken links:\n%s\nwant:\n%s", strings.Join(broken, "\n"), strings.Join(want, "\n"))
	}
}

// TestRepositoryLinks: every relative link of the repository's Markdown resolves.
func TestRepositoryLinks(t *testing.T) {
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := MarkdownFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"README.md", "docs/security.md", "docs/disaster-recovery.md"} {
		if !slices.Contains(files, must) {
			t.Errorf("%s not found among the Markdown files", must)
		}
	}
	broken, err := CheckLinks(root, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Error(b)
	}
}
