// Package chartrules renders this repository's Helm charts with the Helm SDK for an
// environment (environments/<env>/values/<release>.yaml) and checks the rendered
// objects against the platform's policies (see policy.go). The tests in this package
// also create every rendered object on a real API server (test/kubeapi).
package chartrules

import (
	"os"

	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/environments"
)

// The rendering pieces live in internal/charts; these names keep chartrules's API.
var (
	// KubeVersion is the Kubernetes version charts are rendered and linted for.
	KubeVersion = charts.KubeVersion
	// APIVersions are the CRD group versions the target clusters serve.
	APIVersions = charts.APIVersions
	// Releases are the releases whose charts live in this repository.
	Releases = charts.Releases
)

// Release describes one Helm release of the platform (see charts.Release).
type Release = charts.Release

// Rendered is the output of rendering a release (see charts.Rendered).
type Rendered = charts.Rendered

// RepoRoot finds the repository root (see charts.RepoRoot).
func RepoRoot() (string, error) { return charts.RepoRoot() }

// Environments lists the environments (internal/environments: one folder each).
func Environments(root string) ([]string, error) { return environments.Names(os.DirFS(root)) }

// ValuesFile is the path of a release's values for an environment.
func ValuesFile(root, env, release string) string { return charts.ValuesFile(root, env, release) }

// ReadValues reads and merges YAML values files (see charts.ReadValues).
func ReadValues(files ...string) (map[string]any, error) { return charts.ReadValues(files...) }

// MergeValues deep-merges src into a copy of dst.
func MergeValues(dst, src map[string]any) map[string]any { return charts.MergeValues(dst, src) }

// Render renders a chart client-side (see charts.Render).
func Render(chartDir, releaseName, namespace string, values map[string]any) (*Rendered, error) {
	return charts.Render(chartDir, releaseName, namespace, values)
}

// Lint runs Helm's linter (chart metadata, templates, values schema) for the given
// values and returns the messages at warning severity or above.
func Lint(chartDir, namespace string, values map[string]any) []support.Message {
	l := lint.AllWithKubeVersion(chartDir, values, namespace, KubeVersion)
	var out []support.Message
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			out = append(out, m)
		}
	}
	return out
}
