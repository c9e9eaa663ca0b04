package pipeline

import (
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
