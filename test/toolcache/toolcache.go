// Package toolcache finds heavy test tools (Trivy, kube-apiserver, kine, …) that
// `make tools` builds once into a cache directory outside the repository, keyed
// by version:
//
//	$ORDERS_TOOLS_DIR/<name>-<version>/<bin>
//
// ORDERS_TOOLS_DIR defaults to $HOME/.cache/orders-platform/tools.
//
// A test that needs such a tool calls Path. When the tool is missing the test is
// skipped with a hint to run `make tools`, unless ORDERS_REQUIRE_TOOLS=1 is set
// (CI), in which case the test fails instead: a CI run must never pass by
// silently skipping its heavy checks.
package toolcache

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Environment variables read by this package.
const (
	// EnvDir overrides the cache directory.
	EnvDir = "ORDERS_TOOLS_DIR"
	// EnvRequire, when "1", turns a missing tool into a test failure.
	EnvRequire = "ORDERS_REQUIRE_TOOLS"
)

// Dir returns the tools cache directory: $ORDERS_TOOLS_DIR, or
// $HOME/.cache/orders-platform/tools when that is unset or empty.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("tools cache: %s is unset and the home directory is unknown: %w", EnvDir, err)
	}
	return filepath.Join(home, ".cache", "orders-platform", "tools"), nil
}

// Lookup returns the path of bin for tool name at version,
// <Dir()>/<name>-<version>/<bin>, and an error when it is not an executable file.
func Lookup(name, version, bin string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name+"-"+version, bin)
	fi, err := os.Stat(p)
	if err != nil {
		return p, fmt.Errorf("%s %s not found at %s: %w", name, version, p, err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return p, fmt.Errorf("%s %s at %s is not an executable file", name, version, p)
	}
	return p, nil
}

// Required reports whether ORDERS_REQUIRE_TOOLS=1 is set.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Path returns the absolute path of the cached tool, or ends the test: with
// t.Skip ("run make tools") normally, with t.Fatal when ORDERS_REQUIRE_TOOLS=1.
func Path(t testing.TB, name, version, bin string) string {
	t.Helper()
	p, err := Lookup(name, version, bin)
	if err == nil {
		return p
	}
	if Required() {
		t.Fatalf("%v (%s=1: run make tools)", err, EnvRequire)
		return ""
	}
	t.Skipf("%v: run make tools (set %s=1 to fail instead of skipping)", err, EnvRequire)
	return ""
}
