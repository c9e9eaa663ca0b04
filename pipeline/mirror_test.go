package pipeline

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/orders-platform/orders/internal/charts"
)

// The mirror copies each image for the nodes' platforms only, and stops on an image
// not published for one of them (pulling it would fail; before, every image was
// pulled for linux/amd64 and linux/arm64, and bitnamilegacy/mongodb has no arm64).
func TestMirrorPlanPlatforms(t *testing.T) {
	out := devOutputs(t)
	out.ECRRepositoryURLs["mirror/mongodb"] = registry + "/orders-dev/mirror/mongodb"
	for _, tc := range []struct {
		name      string
		published []string
		want      []dagger.Platform
		wantErr   string
	}{
		{"amd64 only, like bitnamilegacy/mongodb", []string{"linux/amd64"}, []dagger.Platform{"linux/amd64"}, ""},
		{"multi-arch: only what the nodes run", []string{"linux/amd64", "linux/arm64"}, []dagger.Platform{"linux/amd64"}, ""},
		{"not for the nodes' platform", []string{"linux/arm64"}, nil, "the nodes run linux/amd64, but it is published (as verified) only for linux/arm64"},
		{"platforms unknown", nil, nil, "the nodes run linux/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := MirrorPlan([]ThirdPartyImage{{Source: "docker.io/bitnamilegacy/mongodb:8.0.13-debian-12-r0", ECRRepository: "mirror/mongodb", Platforms: tc.published}}, out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plan[0].Platforms, tc.want) {
				t.Errorf("platforms %v, want %v", plan[0].Platforms, tc.want)
			}
		})
	}
}

// Every add-on image is mirrored, for a platform the nodes run, into a mirror
// repository, keeping a tag.
func TestAddonImagesMirror(t *testing.T) {
	seen := map[string]bool{}
	for _, img := range AddonImages() {
		if !strings.HasPrefix(img.ECRRepository, "mirror/") || seen[img.ECRRepository] {
			t.Errorf("%s: repository %s is not a mirror repository of its own", img.Source, img.ECRRepository)
		}
		seen[img.ECRRepository] = true
		if _, err := charts.MirrorPlatforms(img.Source, img.Platforms); err != nil {
			t.Error(err)
		}
		if _, err := charts.SourceTag(img.Source); err != nil {
			t.Error(err)
		}
	}
	if len(seen) < len(charts.AddonMirrors) {
		t.Errorf("%d add-on images for %d add-ons", len(seen), len(charts.AddonMirrors))
	}
}

// A Trivy report of a third-party image (the JSON of `trivy image --format
// json`, reduced to what the gate reads).
const mongoReport = `{"Results":[
 {"Target":"bitnamilegacy/mongodb (debian 12.11)","Vulnerabilities":[
  {"VulnerabilityID":"CVE-2025-0001","PkgName":"libssl3","InstalledVersion":"3.0.15-1","FixedVersion":"3.0.16-1","Severity":"CRITICAL"},
  {"VulnerabilityID":"CVE-2025-0002","PkgName":"zlib1g","InstalledVersion":"1.2.13","FixedVersion":"","Severity":"LOW"}]},
 {"Target":"opt/bitnami/mongodb/bin/mongod","Vulnerabilities":[
  {"VulnerabilityID":"GHSA-abcd-efgh-ijkl","PkgName":"golang.org/x/net","InstalledVersion":"0.30.0","FixedVersion":"0.33.0","Severity":"HIGH"}]}]}`

// Third-party images pass the gate of our own: HIGH and CRITICAL findings
// refuse the image, naming it and each finding, unless accepted by id; LOW
// findings do not count; a report that cannot be read refuses too. Where the
// environment does not enforce (the preview one, dev), the same findings are a
// warning naming each, and the image is copied; an unreadable report still
// refuses.
func TestMirrorGate(t *testing.T) {
	const src = "docker.io/bitnamilegacy/mongodb:8.0.13-debian-12-r0"
	for _, tc := range []struct {
		name     string
		report   string
		accepted []string
		want     []string // "" passes
		not      []string
		warn     bool // dev: want the same text as a warning, not a refusal
	}{
		{name: "nothing accepted", report: mongoReport,
			want: []string{"mirror refused, nothing pushed", src + " has 2 HIGH/CRITICAL vulnerabilities", "CRITICAL CVE-2025-0001 libssl3", "HIGH GHSA-abcd-efgh-ijkl golang.org/x/net", "--accept-vulnerabilities"},
			not:  []string{"CVE-2025-0002"}},
		{name: "dev: nothing accepted is a warning", report: mongoReport, warn: true,
			want: []string{"mirrored although refused in an enforcing environment", src + " has 2 HIGH/CRITICAL vulnerabilities", "CRITICAL CVE-2025-0001 libssl3", "--accept-vulnerabilities"},
			not:  []string{"CVE-2025-0002", "nothing pushed"}},
		{name: "one accepted", report: mongoReport, accepted: []string{"CVE-2025-0001"},
			want: []string{src + " has 1 HIGH/CRITICAL vulnerabilities: HIGH GHSA-abcd-efgh-ijkl"}, not: []string{"CVE-2025-0001"}},
		{name: "both accepted", report: mongoReport, accepted: []string{"CVE-2025-0001", "GHSA-abcd-efgh-ijkl"}},
		{name: "clean image, an id accepted for another image", report: `{"Results":[{"Target":"x","Vulnerabilities":null}]}`, accepted: []string{"CVE-2025-0001"}},
		{name: "not a report", report: "stub-1", want: []string{"mirror " + src + ": trivy report"}},
		{name: "dev: not a report still refuses", report: "stub-1", warn: true, want: []string{"mirror " + src + ": trivy report"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warning, err := MirrorGate(src, []byte(tc.report), tc.accepted, !tc.warn)
			if len(tc.want) == 0 || (tc.warn && err == nil) {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !tc.warn && warning != "" {
					t.Fatalf("passed with a warning: %s", warning)
				}
				if tc.warn {
					err = errors.New(warning)
				} else {
					return
				}
			}
			if err == nil {
				t.Fatalf("passed, want a refusal with %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nlacks %q", err, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("%v\nnames %q", err, n)
				}
			}
		})
	}
}

// The mirror scans every image before it pushes any: on the engine stub,
// whose answers are no Trivy report, the first image's scan runs Trivy on
// that image and refuses it, and nothing is published.
func TestMirrorScansBeforeItPushes(t *testing.T) {
	p, stub := openOnStub(t)
	plan := []Mirror{
		{Source: "docker.io/bitnamilegacy/mongodb:8.0.13-debian-12-r0", Target: registry + "/orders-dev/mirror/mongodb:8.0.13-debian-12-r0", Platforms: []dagger.Platform{"linux/amd64"}},
		{Source: "docker.io/envoyproxy/envoy:distroless-v1.36.2", Target: registry + "/orders-dev/mirror/envoy:distroless-v1.36.2", Platforms: []dagger.Platform{"linux/amd64"}},
	}
	password := p.dag.SetSecret("ecr-password-dev", "not-a-real-password")
	err := p.mirrorImages(context.Background(), plan, RegistryAuth{Registry: registry, Username: "AWS"}, password, nil, true)
	if err == nil || !strings.Contains(err.Error(), "mirror "+plan[0].Source+": trivy report") {
		t.Fatalf("got %v, want the first image refused on its Trivy report", err)
	}
	// The scan's query, and every query its ids descend from: the image it unpacks.
	var scan []string
	for _, q := range stub.queries {
		if strings.Contains(q, `"trivy"`) && strings.Contains(q, `"--scanners"`) {
			scan = append(scan, q)
			for _, id := range stubIDRe.FindAllString(q, -1) {
				scan = append(scan, stub.lineage(id)...)
			}
		}
	}
	lineage := strings.Join(scan, "\n")
	if !strings.Contains(lineage, `"vuln"`) || !strings.Contains(lineage, `address:"`+plan[0].Source+`"`) || strings.Contains(lineage, plan[1].Source) {
		t.Errorf("the scan does not run Trivy's vulnerability scanner on %s alone:\n%s", plan[0].Source, lineage)
	}
	for _, q := range stub.queries {
		if strings.Contains(q, "publish") {
			t.Errorf("published before every image passed the gate:\n%s", q)
		}
	}
}
