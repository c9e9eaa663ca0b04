package chartrules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orders-platform/orders/internal/tfvars"
)

// snapshotTargetTags are the tags the DLM snapshot policy selects volumes by: the
// environment's ebs_snapshot_target_tags (its terraform.tfvars, else the default).
func snapshotTargetTags(t *testing.T, root, env string) map[string]string {
	t.Helper()
	v, found, err := tfvars.EnvironmentValue(root, env, "ebs_snapshot_target_tags")
	if err != nil || !found || !v.CanIterateElements() {
		t.Fatalf("no ebs_snapshot_target_tags map for %s in its terraform.tfvars or terraform/platform/variables.tf: %v", env, err)
	}
	out := map[string]string{}
	for k, val := range v.AsValueMap() {
		out[k] = val.AsString()
	}
	return out
}

// TestClusterStorageClass: every AWS environment whose MongoDB claims a
// StorageClass gets it from the cluster release (EKS has none named gp3: the
// claim would stay Pending), with the EBS CSI driver's parameters, encrypted,
// zonal binding, expansion, and the tag the daily snapshot policy selects.
func TestClusterStorageClass(t *testing.T) {
	root, cs := cases(t)
	envs, err := Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, env := range envs {
		if _, err := os.Stat(filepath.Join(root, "environments", env, "terraform.tfvars")); err != nil {
			continue // not on AWS
		}
		mongo, err := ReadValues(ValuesFile(root, env, "mongodb"))
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := unstructured.NestedString(mongo, "persistence", "storageClass")
		if want == "" {
			continue
		}
		t.Run(env, func(t *testing.T) {
			var c *renderCase
			for i := range cs {
				if cs[i].env == env && cs[i].release.Name == "cluster" {
					c = &cs[i]
				}
			}
			if c == nil {
				t.Fatalf("MongoDB of %s claims StorageClass %q but the environment has no cluster release (environments/%s/values/cluster.yaml)", env, want, env)
			}
			if c.release.Namespace != "kube-system" || !c.release.OnlyWithValues {
				t.Errorf("cluster release %+v, want kube-system and OnlyWithValues", c.release)
			}
			sc := firstOf(render(t, *c).Objects, "StorageClass")
			if sc == nil {
				t.Fatal("no StorageClass rendered")
			}
			if def, _, _ := unstructured.NestedString(mongo, "global", "defaultStorageClass"); def != "" && def != sc.GetName() {
				t.Errorf("mongodb global.defaultStorageClass %q, StorageClass %q", def, sc.GetName())
			}
			params, _, _ := unstructured.NestedStringMap(sc.Object, "parameters")
			str := func(path ...string) string {
				v, _, _ := unstructured.NestedFieldNoCopy(sc.Object, path...)
				return strings.TrimSpace(strings.Trim(toString(v), "\""))
			}
			for _, tc := range []struct{ what, got, want string }{
				{"name", sc.GetName(), want},
				{"provisioner", str("provisioner"), "ebs.csi.aws.com"},
				{"type", params["type"], "gp3"},
				{"encrypted", params["encrypted"], "true"},
				{"volumeBindingMode", str("volumeBindingMode"), "WaitForFirstConsumer"},
				{"allowVolumeExpansion", str("allowVolumeExpansion"), "true"},
			} {
				if tc.got != tc.want {
					t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
				}
			}
			if env == "prod" && str("reclaimPolicy") != "Retain" {
				t.Errorf("prod reclaimPolicy %q: a deleted claim or namespace must leave the volume", str("reclaimPolicy"))
			}
			tags := map[string]bool{}
			for k, v := range params {
				if strings.HasPrefix(k, "tagSpecification_") {
					tags[v] = true
				}
			}
			for k, v := range snapshotTargetTags(t, root, env) {
				if !tags[k+"="+v] {
					t.Errorf("volumes are not tagged %s=%s, which the DLM snapshot policy selects (tags: %v)", k, v, params)
				}
			}
			checked++
		})
	}
	if checked < 2 {
		t.Errorf("checked the StorageClass of %d AWS environments, want dev and prod", checked)
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}

// The cluster chart's schema and templates refuse what the EBS CSI driver or the
// API would only reject at install time (or never).
func TestClusterChartRejectsBadValues(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "charts", "cluster")
	for _, tc := range []struct {
		name string
		sc   map[string]any
		want string
	}{
		{"reclaim policy", map[string]any{"reclaimPolicy": "Recycle"}, "reclaimPolicy"},
		{"KMS key not an ARN", map[string]any{"kmsKeyId": "alias/ebs"}, "kmsKeyId"},
		{"KMS key without encryption", map[string]any{"encrypted": false, "kmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/0a"}, "storageClass.kmsKeyId is set but storageClass.encrypted is false"},
		{"tag without a value", map[string]any{"volumeTags": []any{"orders-platform/snapshot"}}, "volumeTags"},
		{"unknown key", map[string]any{"iops": "3000"}, "iops"},
		{"volume type", map[string]any{"type": "gp4"}, "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(dir, "cluster", "kube-system", map[string]any{"storageClass": tc.sc})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
	r, err := Render(dir, "cluster", "kube-system", map[string]any{"storageClass": map[string]any{"kmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/0a", "default": true}})
	if err != nil {
		t.Fatal(err)
	}
	sc := firstOf(r.Objects, "StorageClass")
	if p, _, _ := unstructured.NestedString(sc.Object, "parameters", "kmsKeyId"); p != "arn:aws:kms:eu-central-1:123456789012:key/0a" {
		t.Errorf("kmsKeyId parameter %q", p)
	}
	if sc.GetAnnotations()["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("default: annotations %v", sc.GetAnnotations())
	}
}
