package chartrules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Runtime bases of the images the pipeline builds, as GoogleContainerTools/distroless
// supports them (SUPPORT_POLICY.md and README.md at commit cd080764, 2026-08-21):
// Debian 12 node images stopped being built on 2026-02-27 (commit 5cd38c1e "Remove
// nodejs debian12 builds"), Debian 12 static, base and cc reach end of life in
// September 2026; the Debian 13 line is supported until a year after Debian 14
// (static) or three months after it (node), and nodejs24-debian13 and static-debian13
// are published for amd64 and arm64 (both platforms the pipeline builds).
var distrolessRetired = map[string]string{
	"gcr.io/distroless/nodejs24-debian12": "no longer built since 2026-02-27",
	"gcr.io/distroless/nodejs22-debian12": "no longer built since 2026-02-27",
	"gcr.io/distroless/static-debian12":   "end of life September 2026",
	"gcr.io/distroless/base-debian12":     "end of life September 2026",
	"gcr.io/distroless/cc-debian12":       "end of life September 2026",
}

var distrolessSupported = []string{"gcr.io/distroless/nodejs24-debian13", "gcr.io/distroless/static-debian13"}

// runtimeBase is the image of a Dockerfile's last stage, with its ARG default
// substituted, without tag or digest.
func runtimeBase(t *testing.T, dockerfile string) string {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(froms) == 0 {
		t.Fatalf("%s: no FROM", dockerfile)
	}
	image := froms[len(froms)-1][1]
	if m := regexp.MustCompile(`^\$\{(\w+)\}$`).FindStringSubmatch(image); m != nil {
		def := regexp.MustCompile(`(?m)^ARG\s+` + m[1] + `=(\S+)`).FindStringSubmatch(string(b))
		if def == nil {
			t.Fatalf("%s: ARG %s has no default", dockerfile, m[1])
		}
		image = def[1]
	}
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name
}

// TestRuntimeBasesAreSupported: every image the pipeline builds runs on a distroless
// base that is still built and patched, so the scan gate does not collect the CVEs
// of a retired one.
func TestRuntimeBasesAreSupported(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, df := range []string{"services/service1/Dockerfile", "services/service2/Dockerfile", "cmd/backup/Dockerfile"} {
		base := runtimeBase(t, filepath.Join(root, df))
		if why, retired := distrolessRetired[base]; retired {
			t.Errorf("%s runs on %s: %s", df, base, why)
			continue
		}
		supported := false
		for _, s := range distrolessSupported {
			supported = supported || s == base
		}
		if !supported {
			t.Errorf("%s runs on %s, not a base whose support this test knows (%v)", df, base, distrolessSupported)
		}
	}
}
