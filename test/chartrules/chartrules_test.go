package chartrules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// deployTimeValues are what the deployer adds to environments/<env>/values/<release>.yaml
// at deploy time: image coordinates from the build and AWS ids from the Terraform outputs.
// The tests supply realistic stand-ins.
func deployTimeValues(env, release string) map[string]any {
	switch release {
	case "orders":
		image := map[string]any{"tag": "3f2c9d1e4b7a"}
		if strings.HasPrefix(env, "prod") {
			image = map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32)}
		}
		image1, image2 := MergeValues(image, nil), MergeValues(image, nil)
		v := map[string]any{"services": map[string]any{
			"service1": map[string]any{"image": image1},
			"service2": map[string]any{"image": image2},
		}}
		if env != "local" {
			v["imageRegistry"] = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
			image1["repository"] = "orders-" + env + "/service1"
			image2["repository"] = "orders-" + env + "/service2"
		}
		return v
	case "edge":
		if env == "local" {
			return map[string]any{}
		}
		azs := 2
		if strings.HasPrefix(env, "prod") {
			azs = 3
		}
		var subnets, eips []any
		for i := 0; i < azs; i++ {
			subnets = append(subnets, fmt.Sprintf("subnet-0a1b2c3d4e5f6070%d", i))
			eips = append(eips, fmt.Sprintf("eipalloc-0f1e2d3c4b5a6978%d", i))
		}
		return map[string]any{"aws": map[string]any{"subnets": subnets, "eipAllocations": eips}}
	case "backup":
		image := map[string]any{"registry": "123456789012.dkr.ecr.eu-central-1.amazonaws.com", "repository": "orders-" + env + "/backup", "tag": "3f2c9d1e4b7a"}
		if strings.HasPrefix(env, "prod") {
			image = map[string]any{"registry": "123456789012.dkr.ecr.eu-central-1.amazonaws.com", "repository": "orders-" + env + "/backup", "digest": "sha256:" + strings.Repeat("cd", 32)}
		}
		return map[string]any{
			"image": image,
			"s3":    map[string]any{"bucket": "orders-" + env + "-mongodb-backups-123456789012-eu-central-1"},
			"aws":   map[string]any{"region": "eu-central-1"},
		}
	}
	return map[string]any{}
}

type renderCase struct {
	env     string
	release Release
	values  map[string]any
	dir     string
}

func cases(t *testing.T) (string, []renderCase) {
	t.Helper()
	root, envs := repoEnvironments(t)
	for _, want := range []string{"local", "dev", "prod"} {
		found := false
		for _, e := range envs {
			found = found || e == want
		}
		if !found {
			t.Errorf("environment %q has no environments/%s/values/", want, want)
		}
	}
	var out []renderCase
	for _, env := range envs {
		for _, rel := range Releases {
			if _, err := os.Stat(ValuesFile(root, env, rel.Name)); rel.OnlyWithValues && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			vals, err := ReadValues(ValuesFile(root, env, rel.Name))
			if err != nil {
				t.Fatalf("%s/%s: %v", env, rel.Name, err)
			}
			out = append(out, renderCase{env: env, release: rel, values: MergeValues(vals, deployTimeValues(env, rel.Name)), dir: filepath.Join(root, rel.Chart)})
		}
	}
	// A release that exists only where it has values must still be checked where it is meant to run.
	for _, want := range []string{"dev/backup", "prod/backup"} {
		found := false
		for _, c := range out {
			found = found || c.env+"/"+c.release.Name == want
		}
		if !found {
			t.Errorf("no render case %s: environments/%s.yaml is missing", want, strings.Replace(want, "/", "/values/", 1))
		}
	}
	return root, out
}

func render(t *testing.T, c renderCase) *Rendered {
	t.Helper()
	r, err := Render(c.dir, c.release.Name, c.release.Namespace, c.values)
	if err != nil {
		t.Fatalf("render %s for %s: %v", c.release.Chart, c.env, err)
	}
	return r
}

func TestLintAndRender(t *testing.T) {
	root, cs := cases(t)
	// The charts' own defaults must lint and render too (helm lint, helm template, Trivy).
	for _, rel := range Releases {
		t.Run("defaults/"+rel.Name, func(t *testing.T) {
			dir := filepath.Join(root, rel.Chart)
			for _, m := range Lint(dir, rel.Namespace, nil) {
				t.Errorf("helm lint: %s", m)
			}
			if _, err := Render(dir, rel.Name, rel.Namespace, nil); err != nil {
				t.Errorf("render with defaults: %v", err)
			}
		})
	}
	for _, c := range cs {
		t.Run(c.env+"/"+c.release.Name, func(t *testing.T) {
			for _, m := range Lint(c.dir, c.release.Namespace, c.values) {
				t.Errorf("helm lint: %s", m)
			}
			r := render(t, c)
			if len(r.Objects) == 0 {
				t.Fatal("rendered no objects")
			}
			if !strings.Contains(r.Notes, "Next steps") {
				t.Errorf("NOTES.txt does not tell what to do next:\n%s", r.Notes)
			}
			kinds := map[string]int{}
			for _, o := range r.All() {
				kinds[o.GetKind()]++
			}
			t.Logf("%d objects, %d hooks: %v", len(r.Objects), len(r.Hooks), kinds)
		})
	}
}

func TestPolicies(t *testing.T) {
	_, cs := cases(t)
	for _, c := range cs {
		t.Run(c.env+"/"+c.release.Name, func(t *testing.T) {
			r := render(t, c)
			var vs []Violation
			switch c.release.Name {
			case "edge":
				vs = CheckEdge(r.All(), EdgeRequirementsFor(c.env))
			default:
				var err error
				if vs, err = CheckWorkloads(r.All(), RequirementsFor(c.env)); err != nil {
					t.Fatal(err)
				}
			}
			for _, v := range vs {
				t.Error(v)
			}
		})
	}
}

// TestPoliciesCatchViolations proves the policy checks fail, naming object and field,
// on objects that break them.
func TestPoliciesCatchViolations(t *testing.T) {
	_, cs := cases(t)
	var prodOrders, prodEdge renderCase
	for _, c := range cs {
		if c.env == "prod" && c.release.Name == "orders" {
			prodOrders = c
		}
		if c.env == "prod" && c.release.Name == "edge" {
			prodEdge = c
		}
	}
	if prodOrders.dir == "" || prodEdge.dir == "" {
		t.Fatal("no prod environment")
	}

	mutations := []struct {
		name   string
		mutate func(objs []*unstructured.Unstructured) []*unstructured.Unstructured
		want   string
	}{
		{"writable root filesystem", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			c := firstOf(objs, "Deployment")
			containers, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "containers")
			_ = unstructured.SetNestedField(containers[0].(map[string]any), false, "securityContext", "readOnlyRootFilesystem")
			_ = unstructured.SetNestedSlice(c.Object, containers, "spec", "template", "spec", "containers")
			return objs
		}, "Deployment/orders-service1: spec.template.spec.containers[service1].securityContext.readOnlyRootFilesystem: must be true"},
		{"latest tag", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			c := firstOf(objs, "Deployment")
			containers, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "containers")
			containers[0].(map[string]any)["image"] = "example.invalid/orders/service1:latest"
			_ = unstructured.SetNestedSlice(c.Object, containers, "spec", "template", "spec", "containers")
			return objs
		}, `Deployment/orders-service1: spec.template.spec.containers[service1].image: "example.invalid/orders/service1:latest": tag "latest" is not a pinned version`},
		{"no readiness probe", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			c := firstOf(objs, "Deployment")
			containers, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "containers")
			delete(containers[0].(map[string]any), "readinessProbe")
			_ = unstructured.SetNestedSlice(c.Object, containers, "spec", "template", "spec", "containers")
			return objs
		}, "Deployment/orders-service1: spec.template.spec.containers[service1].readinessProbe: missing"},
		{"no PDB", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			return without(objs, "PodDisruptionBudget")
		}, "Deployment/orders-service2: spec.template.metadata.labels: no PodDisruptionBudget selects these pods"},
		{"one replica", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			h := firstOf(objs, "HorizontalPodAutoscaler")
			_ = unstructured.SetNestedField(h.Object, int64(1), "spec", "minReplicas")
			return objs
		}, "Deployment/orders-service1: HorizontalPodAutoscaler/orders-service1 spec.minReplicas: 1 replicas, the environment needs at least 2"},
		{"no network policies", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			return without(objs, "NetworkPolicy")
		}, "Deployment/orders-service1: metadata.labels: not isolated by NetworkPolicies for both ingress (false) and egress (false)"},
		{"no resources", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			c := firstOf(objs, "Deployment")
			containers, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "containers")
			delete(containers[0].(map[string]any), "resources")
			_ = unstructured.SetNestedSlice(c.Object, containers, "spec", "template", "spec", "containers")
			return objs
		}, "Deployment/orders-service1: spec.template.spec.containers[service1].resources.limits.memory: missing"},
		{"soft zone spread", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			c := firstOf(objs, "Deployment")
			tsc, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "topologySpreadConstraints")
			tsc[0].(map[string]any)["whenUnsatisfiable"] = "ScheduleAnyway"
			_ = unstructured.SetNestedSlice(c.Object, tsc, "spec", "template", "spec", "topologySpreadConstraints")
			return objs
		}, "Deployment/orders-service1: spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable: ScheduleAnyway, the environment needs DoNotSchedule"},
		{"token automount", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			sa := firstOf(objs, "ServiceAccount")
			sa.Object["automountServiceAccountToken"] = true
			return objs
		}, "automountServiceAccountToken: must be false"},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			objs := render(t, prodOrders).All()
			vs, err := CheckWorkloads(m.mutate(objs), RequirementsFor("prod"))
			if err != nil {
				t.Fatal(err)
			}
			if !containsViolation(vs, m.want) {
				t.Errorf("want a violation containing %q, got %v", m.want, vs)
			}
		})
	}

	// The backup CronJob's pods get the same rules as the services' pods.
	var prodBackup renderCase
	for _, c := range cs {
		if c.env == "prod" && c.release.Name == "backup" {
			prodBackup = c
		}
	}
	if prodBackup.dir == "" {
		t.Fatal("no prod backup release")
	}
	cronContainer := func(objs []*unstructured.Unstructured, edit func(ct map[string]any)) []*unstructured.Unstructured {
		c := firstOf(objs, "CronJob")
		path := []string{"spec", "jobTemplate", "spec", "template", "spec", "containers"}
		containers, _, _ := unstructured.NestedSlice(c.Object, path...)
		edit(containers[0].(map[string]any))
		_ = unstructured.SetNestedSlice(c.Object, containers, path...)
		return objs
	}
	for _, m := range []struct {
		name   string
		mutate func(objs []*unstructured.Unstructured) []*unstructured.Unstructured
		want   string
	}{
		{"cronjob writable root filesystem", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			return cronContainer(objs, func(ct map[string]any) {
				_ = unstructured.SetNestedField(ct, false, "securityContext", "readOnlyRootFilesystem")
			})
		}, "CronJob/backup: spec.jobTemplate.spec.template.spec.containers[backup].securityContext.readOnlyRootFilesystem: must be true"},
		{"cronjob connection string as a value", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			return cronContainer(objs, func(ct map[string]any) {
				ct["env"] = []any{map[string]any{"name": "MONGODB_URL", "value": "mongodb://u:p@h/db"}}
			})
		}, "CronJob/backup: spec.jobTemplate.spec.template.spec.containers[backup].env[MONGODB_URL]: must come from a Secret"},
		{"cronjob unpinned image", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			return cronContainer(objs, func(ct map[string]any) { ct["image"] = "example.invalid/orders/backup" })
		}, "has neither tag nor digest"},
		{"cronjob without network policy", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			return without(objs, "NetworkPolicy")
		}, "CronJob/backup: metadata.labels: not isolated by NetworkPolicies"},
		{"cronjob overlapping runs", func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			_ = unstructured.SetNestedField(firstOf(objs, "CronJob").Object, "Allow", "spec", "concurrencyPolicy")
			return objs
		}, "CronJob/backup: spec.concurrencyPolicy"},
	} {
		t.Run(m.name, func(t *testing.T) {
			objs := render(t, prodBackup).All()
			if vs, err := CheckWorkloads(objs, RequirementsFor("prod")); err != nil || len(vs) > 0 {
				t.Fatalf("unmutated backup release: %v %v", vs, err)
			}
			vs, err := CheckWorkloads(m.mutate(objs), RequirementsFor("prod"))
			if err != nil {
				t.Fatal(err)
			}
			if !containsViolation(vs, m.want) {
				t.Errorf("want a violation containing %q, got %v", m.want, vs)
			}
		})
	}

	t.Run("edge without EIPs and without rate limit", func(t *testing.T) {
		objs := render(t, prodEdge).All()
		ep := firstOf(objs, "EnvoyProxy")
		ann, _, _ := unstructured.NestedStringMap(ep.Object, "spec", "provider", "kubernetes", "envoyService", "annotations")
		delete(ann, AnnotationEIPs)
		_ = unstructured.SetNestedStringMap(ep.Object, ann, "spec", "provider", "kubernetes", "envoyService", "annotations")
		btp := firstOf(objs, "BackendTrafficPolicy")
		unstructured.RemoveNestedField(btp.Object, "spec", "rateLimit")
		vs := CheckEdge(objs, EdgeRequirementsFor("prod"))
		for _, want := range []string{
			"EnvoyProxy/orders-proxy: spec.provider.kubernetes.envoyService.annotations.service.beta.kubernetes.io/aws-load-balancer-eip-allocations: 0 Elastic IPs for 3 subnets",
			"BackendTrafficPolicy/orders-gateway-limits: spec.rateLimit.local.rules[].clientSelectors[].sourceCIDR.type",
		} {
			if !containsViolation(vs, want) {
				t.Errorf("want a violation containing %q, got %v", want, vs)
			}
		}
		if vs := CheckEdge(objs, EdgeRequirementsFor("local")); !containsViolation(vs, "AWS annotation in a non-AWS environment") {
			t.Errorf("AWS annotations must be flagged for local, got %v", vs)
		}
	})
}

func firstOf(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	panic("no " + kind)
}

func without(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != kind {
			out = append(out, o)
		}
	}
	return out
}

func containsViolation(vs []Violation, want string) bool {
	for _, v := range vs {
		if strings.Contains(v.String(), want) {
			return true
		}
	}
	return false
}

// TestSchemaRejectsBadValues: values.schema.json turns a misspelt key or a wrong
// type into an error that names it.
func TestSchemaRejectsBadValues(t *testing.T) {
	_, cs := cases(t)
	base := map[string]renderCase{}
	for _, c := range cs {
		if c.env == "dev" {
			base[c.release.Name] = c
		}
	}
	tests := []struct {
		release, name string
		overlay       map[string]any
		want          []string
	}{
		{"orders", "misspelt key", map[string]any{"services": map[string]any{"service1": map[string]any{"replcas": 2}}},
			[]string{"/services/service1", "replcas"}},
		{"orders", "misspelt top-level key", map[string]any{"imageRegistery": "x"}, []string{"imageRegistery"}},
		{"orders", "wrong type", map[string]any{"services": map[string]any{"service2": map[string]any{"replicas": "two"}}},
			[]string{"/services/service2/replicas", "string"}},
		{"orders", "latest tag", map[string]any{"services": map[string]any{"service1": map[string]any{"image": map[string]any{"tag": "latest"}}}},
			[]string{"/services/service1/image/tag"}},
		{"orders", "connection string as a value", map[string]any{"mongodb": map[string]any{"url": "mongodb://u:p@h/db"}},
			[]string{"/mongodb", "url"}},
		{"backup", "misspelt key", map[string]any{"s3": map[string]any{"buckt": "x"}}, []string{"/s3", "buckt"}},
		{"backup", "latest tag", map[string]any{"image": map[string]any{"tag": "latest", "digest": ""}}, []string{"/image/tag"}},
		{"backup", "connection string as a value", map[string]any{"mongodb": map[string]any{"url": "mongodb://u:p@h/db"}}, []string{"/mongodb", "url"}},
		{"backup", "wrong type", map[string]any{"suspend": "no"}, []string{"/suspend", "boolean"}},
		{"edge", "misspelt key", map[string]any{"rateLimit": map[string]any{"request": 10}}, []string{"/rateLimit", "request"}},
		{"edge", "wrong type", map[string]any{"aws": map[string]any{"enabled": "yes"}}, []string{"/aws/enabled", "boolean"}},
		{"edge", "malformed EIP id", map[string]any{"aws": map[string]any{"eipAllocations": []any{"10.0.0.1", "eipalloc-0f1e2d3c4b5a69781"}}},
			[]string{"/aws/eipAllocations/0"}},
	}
	for _, tc := range tests {
		t.Run(tc.release+"/"+tc.name, func(t *testing.T) {
			c := base[tc.release]
			_, err := Render(c.dir, c.release.Name, c.release.Namespace, MergeValues(c.values, tc.overlay))
			if err == nil {
				t.Fatalf("values %v were accepted", tc.overlay)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestRoutesMapTheContract: the gateway's path mapping, as the HTTPRoutes declare it.
func TestRoutesMapTheContract(t *testing.T) {
	_, cs := cases(t)
	tests := []struct {
		path        string
		wantService string // "" = no route
		wantPath    string
	}{
		{"/service1", "orders-service1", "/orders"},
		{"/service1/4", "orders-service1", "/orders/4"},
		{"/service1/19", "orders-service1", "/orders/19"},
		{"/service2", "orders-service2", "/orders"},
		{"/service2/", "orders-service2", "/orders/"},
		{"/service10", "", ""},
		{"/service1x/4", "", ""},
		{"/orders", "", ""},
		{"/", "", ""},
	}
	for _, c := range cs {
		if c.release.Name != "orders" {
			continue
		}
		objs := render(t, c).Objects
		for _, tc := range tests {
			t.Run(c.env+tc.path, func(t *testing.T) {
				got, ok, err := ResolveRoute(objs, tc.path)
				if err != nil {
					t.Fatal(err)
				}
				if tc.wantService == "" {
					if ok {
						t.Fatalf("%s must not be routed, goes to %s", tc.path, got)
					}
					return
				}
				if !ok || got.Service != tc.wantService || got.Path != tc.wantPath || got.Port != 80 {
					t.Fatalf("%s -> %v (matched %t), want %s:80%s", tc.path, got, ok, tc.wantService, tc.wantPath)
				}
			})
		}
	}
}
