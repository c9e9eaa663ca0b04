// Package charts loads and renders this repository's Helm charts with the Helm SDK:
// the releases whose charts live here, the environments and their values files
// (environments/<env>/values/<release>.yaml), and a client-side render equivalent to
// `helm install --dry-run` without a cluster. test/chartrules (policies) and
// internal/deploy (the deployer) share it.
package charts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// KubeVersion is the Kubernetes version charts are rendered and linted for: the
// version of the API server the tests run (test/kubeapi).
var KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}

// APIVersions are the CRD group versions the target clusters serve.
var APIVersions = chartutil.VersionSet{
	"gateway.networking.k8s.io/v1",
	"gateway.envoyproxy.io/v1alpha1",
	"monitoring.coreos.com/v1",
}

// Release describes one Helm release of the platform: its chart (a directory of this
// repository) and the base name of its values file in environments/<env>/values/.
type Release struct {
	Name      string // release name, e.g. "orders"
	Chart     string // chart directory relative to the repository root
	Namespace string // namespace the release is installed in
	// OnlyWithValues: the release exists only in environments that have its values
	// file (e.g. backup: AWS environments only); every other release needs one everywhere.
	OnlyWithValues bool
}

// Releases are the releases whose charts live in this repository. MongoDB uses the
// pinned Bitnami chart (charts/mongodb/upstream.yaml) and is checked separately.
var Releases = []Release{
	{Name: "edge", Chart: "charts/edge", Namespace: "edge"},
	{Name: "orders", Chart: "charts/orders", Namespace: "orders"},
	// Scheduled MongoDB backups to S3 (needs the bucket and Pod Identity: dev, prod).
	{Name: "backup", Chart: "charts/backup", Namespace: "mongodb", OnlyWithValues: true},
	// The developers' database tunnel: port-forward to the MongoDB pods only (dev, prod).
	{Name: "db-access", Chart: "charts/db-access", Namespace: "mongodb", OnlyWithValues: true},
	// Cluster-scoped objects of an AWS environment (the gp3 StorageClass): dev, prod.
	{Name: "cluster", Chart: "charts/cluster", Namespace: "kube-system", OnlyWithValues: true},
	// The platform's alerts, Envoy PodMonitor and Grafana dashboard; needs the Prometheus
	// Operator CRDs of kube-prometheus-stack (dev, prod; local has none).
	{Name: "monitoring", Chart: "charts/monitoring", Namespace: "monitoring", OnlyWithValues: true},
}

// RepoRoot finds the repository root (the directory holding go.mod with the root module) from the working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/orders-platform/orders\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of github.com/orders-platform/orders) not found")
		}
		dir = parent
	}
}

// ValuesFile is the path of a release's values for an environment.
func ValuesFile(root, env, release string) string {
	return filepath.Join(root, "environments", env, "values", release+".yaml")
}

// ReadValues reads YAML values files and merges them left to right (later files win,
// maps merge deeply, lists are replaced), like `helm -f a.yaml -f b.yaml`.
func ReadValues(files ...string) (map[string]any, error) {
	out := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = MergeValues(out, m)
	}
	return out, nil
}

// MergeValues deep-merges src into a copy of dst.
func MergeValues(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = MergeValues(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// Rendered is the output of rendering a release.
type Rendered struct {
	// Objects are the release's objects in Helm's install order.
	Objects []*unstructured.Unstructured
	// Hooks are the hook objects (e.g. the helm test pod), in install order.
	Hooks []*unstructured.Unstructured
	Notes string
}

// All returns the objects followed by the hooks.
func (r *Rendered) All() []*unstructured.Unstructured {
	return append(append([]*unstructured.Unstructured{}, r.Objects...), r.Hooks...)
}

// Render renders a chart with the Helm SDK as `helm install --dry-run` would
// without a cluster: values are validated against values.schema.json first.
func Render(chartDir, releaseName, namespace string, values map[string]any) (*Rendered, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	cfg := &action.Configuration{Log: func(string, ...any) {}}
	inst := action.NewInstall(cfg)
	inst.DryRun = true
	inst.ClientOnly = true
	inst.Replace = true
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	inst.KubeVersion = KubeVersion
	inst.APIVersions = APIVersions
	rel, err := inst.Run(ch, values)
	if err != nil {
		return nil, err
	}
	out := &Rendered{Notes: rel.Info.Notes}
	if out.Objects, err = decodeSorted(rel.Manifest); err != nil {
		return nil, err
	}
	var hooks strings.Builder
	for _, h := range rel.Hooks {
		hooks.WriteString("---\n")
		hooks.WriteString(h.Manifest)
		hooks.WriteString("\n")
	}
	if out.Hooks, err = decodeSorted(hooks.String()); err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeManifest decodes a multi-document YAML manifest (e.g. a Helm release's) into
// objects in Helm's install order.
func DecodeManifest(manifest string) ([]*unstructured.Unstructured, error) {
	return decodeSorted(manifest)
}

func decodeSorted(manifest string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte("{}")) {
			continue
		}
		u := &unstructured.Unstructured{}
		// Unstructured JSON keeps integers as int64, as the API machinery does.
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
	order := map[string]int{}
	for i, k := range releaseutil.InstallOrder {
		order[k] = i
	}
	rank := func(kind string) int {
		if r, ok := order[kind]; ok {
			return r
		}
		return len(order) // unknown kinds (custom resources) last, like Helm
	}
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i].GetKind()) < rank(objs[j].GetKind()) })
	return objs, nil
}
