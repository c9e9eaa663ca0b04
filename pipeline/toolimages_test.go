package pipeline

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orders-platform/orders/test/alertrules"
	"github.com/orders-platform/orders/test/kubeapi"
	"github.com/orders-platform/orders/test/terraformrules"
)

// In containers the test tools come from upstream images; those binaries must
// land exactly where the Go tests look them up (test/toolcache:
// <dir>/<tool>-<version>/<bin>) at the versions the tests and test/tools pin,
// or `make tools` would build them again (or the tests fail).
func TestToolImagesAreWhereTheTestsLook(t *testing.T) {
	pinned := func(script, variable string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("..", "test", "tools", script))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^` + variable + `="?(?:\$\{` + variable + `:-)?(v[0-9.]+)`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("test/tools/%s pins no %s", script, variable)
		}
		return string(m[1])
	}
	// What the tests ask test/toolcache for: tool, version, binary.
	want := map[string][3]string{
		"kube-apiserver":          {"kube", kubeapi.KubeVersion, pinned("install-kube.sh", "KUBE_VERSION")},
		"kube-controller-manager": {"kube", kubeapi.KubeVersion, pinned("install-kube.sh", "KUBE_VERSION")},
		"kube-scheduler":          {"kube", kubeapi.KubeVersion, pinned("install-kube.sh", "KUBE_VERSION")},
		"kine":                    {"kine", kubeapi.KineVersion, pinned("install-kube.sh", "KINE_VERSION")},
		"kwok":                    {"kwok", kubeapi.KwokVersion, pinned("install-kwok.sh", "KWOK_VERSION")},
		"trivy":                   {"trivy", terraformrules.TrivyVersion, pinned("install-trivy.sh", "TRIVY_VERSION")},
		"promtool":                {"promtool", alertrules.PrometheusVersion, pinned("install-promtool.sh", "PROMETHEUS_VERSION")},
	}
	seen := map[string]bool{}
	for _, ti := range TestToolImages {
		bin := filepath.Base(ti.Binary)
		w, ok := want[bin]
		if !ok {
			t.Errorf("%s: no test uses %s", ti.Image, bin)
			continue
		}
		seen[bin] = true
		if got := ToolCachePath("/cache", ti); got != "/cache/"+w[0]+"-"+w[1]+"/"+bin {
			t.Errorf("%s lands at %s, the tests look at /cache/%s-%s/%s", ti.Image, got, w[0], w[1], bin)
		}
		if w[2] != w[1] {
			t.Errorf("%s: test/tools pins %s, the tests %s", bin, w[2], w[1])
		}
		if tag := ti.Image[strings.LastIndex(ti.Image, ":")+1:]; strings.TrimPrefix(tag, "v") != strings.TrimPrefix(ti.Version, "v") {
			t.Errorf("%s: tag %s is not version %s", ti.Image, tag, ti.Version)
		}
	}
	for bin := range want {
		if !seen[bin] {
			t.Errorf("%s has no upstream image: a cold `dagger call test` builds it from source", bin)
		}
	}
}
