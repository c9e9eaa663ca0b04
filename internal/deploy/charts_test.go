package deploy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
)

// TestHelmChartsPullsPinnedVersions serves a chart repository over HTTP (the edge
// chart packaged at two versions) and loads it the way the deployer loads remote
// add-ons: the pinned version, nothing else; an unknown version is an error naming
// the chart.
func TestHelmChartsPullsPinnedVersions(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	index := repo.NewIndexFile()
	for _, v := range []string{"1.0.0", "1.1.0"} {
		ch, err := loader.Load(filepath.Join(root, "charts", "edge"))
		if err != nil {
			t.Fatal(err)
		}
		ch.Metadata.Version = v
		file, err := chartutil.Save(ch, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := index.MustAdd(ch.Metadata, filepath.Base(file), "", "sha256:unused"); err != nil {
			t.Fatal(err)
		}
	}
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	// The archives' URLs in the index are relative to the repository URL.
	for _, tc := range []struct {
		version, wantErr string
	}{
		{"1.0.0", ""},
		{"1.1.0", ""},
		{"2.0.0", "pull chart " + srv.URL + " edge@2.0.0"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			ch, err := HelmCharts{}.Load(context.Background(), Step{Name: "edge", Kind: KindAddon, Chart: ChartRef{Repository: srv.URL, Name: "edge", Version: tc.version}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Metadata.Name != "edge" || ch.Metadata.Version != tc.version {
				t.Errorf("loaded %s %s, want edge %s", ch.Metadata.Name, ch.Metadata.Version, tc.version)
			}
		})
	}
}
