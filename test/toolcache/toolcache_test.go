package toolcache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTB records how Path ended the test without ending the real one.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = true
	f.msg = format
	_ = args
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = format
	_ = args
}

func TestDirDefaultsUnderHome(t *testing.T) {
	t.Setenv(EnvDir, "")
	t.Setenv("HOME", "/home/someone")
	d, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if want := "/home/someone/.cache/orders-platform/tools"; d != want {
		t.Fatalf("Dir() = %q, want %q", d, want)
	}
}

func TestPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool-v1.2.3", "tool")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExe := filepath.Join(dir, "plain-v1", "plain")
	if err := os.MkdirAll(filepath.Dir(notExe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notExe, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, tool, version, bin, require string
		wantPath                          string
		wantSkip, wantFail                bool
	}{
		{name: "present", tool: "tool", version: "v1.2.3", bin: "tool", wantPath: exe},
		{name: "present when required", tool: "tool", version: "v1.2.3", bin: "tool", require: "1", wantPath: exe},
		{name: "other version missing skips", tool: "tool", version: "v9", bin: "tool", wantSkip: true},
		{name: "missing fails when required", tool: "tool", version: "v9", bin: "tool", require: "1", wantFail: true},
		{name: "not executable skips", tool: "plain", version: "v1", bin: "plain", wantSkip: true},
		{name: "directory is not a tool", tool: "tool", version: "v1.2.3", bin: ".", require: "1", wantFail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvDir, dir)
			t.Setenv(EnvRequire, tc.require)
			f := &fakeTB{TB: t}
			got := Path(f, tc.tool, tc.version, tc.bin)
			if f.skipped != tc.wantSkip || f.failed != tc.wantFail {
				t.Fatalf("skipped=%v failed=%v, want skipped=%v failed=%v", f.skipped, f.failed, tc.wantSkip, tc.wantFail)
			}
			if got != tc.wantPath {
				t.Fatalf("Path = %q, want %q", got, tc.wantPath)
			}
			if (tc.wantSkip || tc.wantFail) && !strings.Contains(f.msg, "make tools") {
				t.Fatalf("message %q does not tell the reader to run make tools", f.msg)
			}
		})
	}
}
