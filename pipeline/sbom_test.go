package pipeline

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orders-platform/orders/test/toolcache"
)

func TestSBOMFileName(t *testing.T) {
	tests := []struct {
		image, tag, want, wantErr string
	}{
		{image: "service1", tag: commit, want: "service1-" + commit + ".cdx.json"},
		{image: "backup", tag: commit, want: "backup-" + commit + ".cdx.json"},
		{image: "service2", tag: "local", want: "service2-local.cdx.json"},
		{image: "service3", tag: commit, wantErr: `sbom: unknown image "service3"`},
		{image: "backup", tag: "", wantErr: `sbom backup: "" is not an image tag`},
		{image: "backup", tag: "../x", wantErr: "is not an image tag"},
		{image: "backup", tag: "a/b", wantErr: "is not an image tag"},
	}
	for _, tt := range tests {
		got, err := SBOMFileName(tt.image, tt.tag)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SBOMFileName(%q, %q) error = %v, want %q", tt.image, tt.tag, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SBOMFileName(%q, %q) = %q, %v; want %q", tt.image, tt.tag, got, err, tt.want)
		}
	}
}

func TestParseSBOM(t *testing.T) {
	good := `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"name":"/image.tar","type":"container"}},
		"components":[{"name":"tzdata","type":"library"},{"name":"github.com/aws/aws-sdk-go-v2","type":"library"}]}`
	tests := []struct {
		name, data, wantErr string
	}{
		{name: "trivy's CycloneDX", data: good},
		{name: "empty file", data: "", wantErr: "sbom f.cdx.json: not JSON"},
		{name: "a Trivy JSON report is not an SBOM", data: `{"SchemaVersion":2,"Results":[]}`, wantErr: `bomFormat is "", want CycloneDX`},
		{name: "SPDX", data: `{"spdxVersion":"SPDX-2.3","bomFormat":"SPDX"}`, wantErr: `bomFormat is "SPDX"`},
		{name: "unknown spec", data: strings.Replace(good, `"1.6"`, `"2.0"`, 1), wantErr: `specVersion "2.0"`},
		{name: "nothing described", data: `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"x"}]}`, wantErr: "metadata.component"},
		{name: "no components", data: `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"name":"i"}},"components":[]}`, wantErr: "no components"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSBOM("f.cdx.json", []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != "sbom/f.cdx.json (CycloneDX 1.6, 2 components)" {
				t.Errorf("summary = %q", got)
			}
		})
	}
}

// SBOMArgs run by the real Trivy on an OCI image tarball (the format Dagger's
// AsTarball writes) unpacked by UnpackImage give a CycloneDX SBOM that ParseSBOM accepts and that lists
// the image's OS and Node packages. No vulnerability database is needed.
func TestSBOMArgsWithTrivy(t *testing.T) {
	trivy := toolcache.Path(t, "trivy", "v0.74.0", "trivy")
	dir := t.TempDir()
	tarball := filepath.Join(dir, "image.tar")
	writeOCIImage(t, tarball, map[string]string{
		"etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
		"var/lib/dpkg/status": "Package: tzdata\nStatus: install ok installed\nPriority: required\nSection: localization\nArchitecture: all\n" +
			"Version: 2025b-0+deb12u1\nDescription: time zone and daylight-saving time data\n\n",
		"app/node_modules/left-pad/package.json": `{"name":"left-pad","version":"1.3.0","license":"WTFPL"}`,
	})
	// The same commands unpack it as in the pipeline's Trivy container.
	layout := filepath.Join(dir, "image")
	for _, c := range UnpackImage(tarball, layout) {
		if msg, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, msg)
		}
	}
	out := filepath.Join(dir, "service1-"+commit+SBOMSuffix)
	args := SBOMArgs(layout, out)
	if args[0] != "trivy" {
		t.Fatalf("args = %v", args)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, trivy, append(args[1:], "--cache-dir", filepath.Join(dir, "cache"))...)
	cmd.Env = append(os.Environ(), "TRIVY_DISABLE_VEX_NOTICE=1", "TRIVY_SKIP_VERSION_CHECK=true")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("trivy %v: %v\n%s", args[1:], err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSBOM(filepath.Base(out), data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	for _, want := range []string{`"name": "tzdata"`, `"name": "left-pad"`, `"version": "1.3.0"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("SBOM lacks %s", want)
		}
	}
	if s.Components < 2 || !strings.HasPrefix(s.SpecVersion, "1.") {
		t.Errorf("summary = %+v", s)
	}
	t.Logf("%s", s)
}

// writeOCIImage writes a one-layer linux/amd64 image as an OCI layout tarball.
func writeOCIImage(t *testing.T, path string, files map[string]string) {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{}
	add := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs[d] = b
		return d, len(b)
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	layerDigest, layerSize := add(layer.Bytes())
	configDigest, configSize := add(mustJSON(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
		"config": map[string]any{},
	}))
	manifestDigest, manifestSize := add(mustJSON(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configSize},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layerSize}},
	}))
	index := mustJSON(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestSize,
			"platform": map[string]string{"architecture": "amd64", "os": "linux"}}},
	})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := tar.NewWriter(f)
	write := func(name string, b []byte) {
		if err := out.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := out.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	write("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	write("index.json", index)
	for d, b := range blobs {
		write("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), b)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
