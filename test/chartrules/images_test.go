package chartrules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/deploy"
	"github.com/orders-platform/orders/test/kubeapi"
)

// chartImage is how a remote chart builds one image reference from its values,
// read in its templates at the pinned version (charts.AddonMirrors cites each):
// "<registry>/<repository>:<tag>", where GlobalRegistry (when set and non-empty)
// wins over the registry; with no RegistryKey the repository carries the host.
type chartImage struct {
	RegistryKey, RepositoryKey, TagKey, GlobalRegistryKey string
	Registry, Repository, Tag                             string // the chart's defaults
}

func (c chartImage) resolve(values map[string]any) string {
	str := func(key, def string) string {
		if key == "" {
			return def
		}
		if s, ok := get(values, key).(string); ok && s != "" {
			return s
		}
		return def
	}
	repo, tag := str(c.RepositoryKey, c.Repository), str(c.TagKey, c.Tag)
	registry := str(c.GlobalRegistryKey, str(c.RegistryKey, c.Registry))
	if registry == "" {
		return repo + ":" + tag
	}
	return registry + "/" + repo + ":" + tag
}

// addonChartImages are the images each add-on's pinned chart runs with the
// platform's values, and how it builds them (the sources in charts.AddonMirrors).
// Envoy Gateway's chart is rendered for real instead (TestProxiesPullFromTheMirror).
var addonChartImages = map[string][]chartImage{
	"aws-load-balancer-controller": {{RepositoryKey: "image.repository", TagKey: "image.tag", Repository: "public.ecr.aws/eks/aws-load-balancer-controller", Tag: "v2.17.0"}},
	"metrics-server":               {{RepositoryKey: "image.repository", TagKey: "image.tag", Repository: "registry.k8s.io/metrics-server/metrics-server", Tag: "v0.8.0"}},
	"cluster-autoscaler":           {{RepositoryKey: "image.repository", TagKey: "image.tag", Repository: "registry.k8s.io/autoscaling/cluster-autoscaler", Tag: "v1.35.0"}},
	"external-dns":                 {{RepositoryKey: "image.repository", TagKey: "image.tag", Repository: "registry.k8s.io/external-dns/external-dns", Tag: "v0.21.0"}},
	"kube-prometheus-stack": {
		kpsImage("prometheusOperator.image", "quay.io", "prometheus-operator/prometheus-operator", "v0.85.0"),
		kpsImage("prometheusOperator.prometheusConfigReloader.image", "quay.io", "prometheus-operator/prometheus-config-reloader", "v0.85.0"),
		kpsImage("prometheusOperator.admissionWebhooks.patch.image", "registry.k8s.io", "ingress-nginx/kube-webhook-certgen", "v1.6.1"),
		kpsImage("prometheus.prometheusSpec.image", "quay.io", "prometheus/prometheus", "v3.5.0"),
		kpsImage("alertmanager.alertmanagerSpec.image", "quay.io", "prometheus/alertmanager", "v0.28.1"),
		kpsImage("kube-state-metrics.image", "registry.k8s.io", "kube-state-metrics/kube-state-metrics", "v2.16.0"),
		kpsImage("prometheus-node-exporter.image", "quay.io", "prometheus/node-exporter", "v1.9.1"),
		kpsImage("grafana.image", "docker.io", "grafana/grafana", "12.1.0"),
		kpsImage("grafana.sidecar.image", "quay.io", "kiwigrid/k8s-sidecar", "1.30.3"),
	},
}

// kpsImage: kube-prometheus-stack and its subcharts take global.imageRegistry over
// <prefix>.registry (the subcharts see the parent's global).
func kpsImage(prefix, registry, repository, tag string) chartImage {
	return chartImage{RegistryKey: prefix + ".registry", RepositoryKey: prefix + ".repository", TagKey: prefix + ".tag", GlobalRegistryKey: "global.imageRegistry",
		Registry: registry, Repository: repository, Tag: tag}
}

// podImages are the images of every container and init container of the pods the
// objects make.
func podImages(objs []*unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for _, u := range objs {
		var spec []string
		switch u.GetKind() {
		case "Deployment", "StatefulSet", "DaemonSet", "Job":
			spec = []string{"spec", "template", "spec"}
		case "CronJob":
			spec = []string{"spec", "jobTemplate", "spec", "template", "spec"}
		case "Pod":
			spec = []string{"spec"}
		default:
			continue
		}
		for _, field := range []string{"initContainers", "containers"} {
			cs, _, _ := unstructured.NestedSlice(u.Object, append(spec, field)...)
			for _, c := range cs {
				m, _ := c.(map[string]any)
				out[u.GetNamespace()+"/"+u.GetKind()+"/"+u.GetName()+"/"+fmt.Sprint(m["name"])], _ = m["image"].(string)
			}
		}
	}
	return out
}

// gatewayHelm is Envoy Gateway's gateway-helm chart at charts.EnvoyGatewayVersion as
// the project publishes it (tools/make/helm.mk, branch release/v1.9: values.yaml is
// values.tmpl.yaml with GatewayImage=docker.io/envoyproxy/gateway:<tag> and
// GatewayImagePullPolicy=IfNotPresent; version and appVersion are the tag), from the
// Go module of that version.
func gatewayHelm(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mod, err := kubeapi.ModuleDir(ctx, kubeapi.EnvoyGatewayModule, charts.EnvoyGatewayVersion)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(mod, "charts", "gateway-helm")
	dst := filepath.Join(t.TempDir(), "gateway-helm")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(src, "values.tmpl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	values := strings.NewReplacer("${GatewayImage}", "docker.io/envoyproxy/gateway:"+charts.EnvoyGatewayVersion,
		"${GatewayImagePullPolicy}", "IfNotPresent").Replace(string(tmpl))
	if strings.Contains(values, "${") {
		t.Fatalf("gateway-helm values.tmpl.yaml has a placeholder this test does not fill:\n%s", values)
	}
	chartYAML, err := os.ReadFile(filepath.Join(src, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	chartYAML = []byte(strings.NewReplacer("version: v0.0.0-latest", "version: "+charts.EnvoyGatewayVersion,
		`appVersion: "latest"`, `appVersion: "`+charts.EnvoyGatewayVersion+`"`).Replace(string(chartYAML)))
	for name, b := range map[string][]byte{"values.yaml": []byte(values), "Chart.yaml": chartYAML} {
		if err := os.Chmod(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// mergeType of an EnvoyProxy spec (nil: unset).
func mergeType(spec map[string]any) *string {
	if s, ok := spec["mergeType"].(string); ok {
		return &s
	}
	return nil
}

// mergeEnvoyProxy is internal/gatewayapi MergeEnvoyProxyConfigs of Envoy Gateway
// v1.9.1 on EnvoyProxy specs: the Gateway's over the GatewayClass's by the Gateway's
// mergeType, then that over the EnvoyGateway default by the GatewayClass's mergeType
// (else the Gateway's); an unset mergeType is Replace (api/v1alpha1/envoyproxy_types.go).
// A nil spec is an absent EnvoyProxy.
func mergeEnvoyProxy(defaultSpec, class, gateway map[string]any) (map[string]any, error) {
	first := func(specs ...map[string]any) string {
		for _, s := range specs {
			if s != nil && mergeType(s) != nil {
				return *mergeType(s)
			}
		}
		return "Replace"
	}
	step1, err := mergeProxies(class, gateway, first(gateway))
	if err != nil {
		return nil, err
	}
	return mergeProxies(defaultSpec, step1, first(class, gateway))
}

// mergeProxies is mergeEnvoyProxies: override replaces base, or is merged over it
// (internal/utils Merge: StrategicMerge or JSONMerge of the JSON). Lists present on
// both sides would need the Go types' patch strategies: refused, not guessed.
func mergeProxies(base, override map[string]any, mt string) (map[string]any, error) {
	switch {
	case override == nil:
		return base, nil
	case base == nil || mt == "Replace":
		return override, nil
	case mt != "StrategicMerge" && mt != "JSONMerge":
		return nil, fmt.Errorf("unsupported merge type %q", mt)
	}
	var merge func(path string, b, o map[string]any) (map[string]any, error)
	merge = func(path string, b, o map[string]any) (map[string]any, error) {
		out := map[string]any{}
		for k, v := range b {
			out[k] = v
		}
		for k, v := range o {
			bm, bIsMap := out[k].(map[string]any)
			om, oIsMap := v.(map[string]any)
			_, bIsList := out[k].([]any)
			_, oIsList := v.([]any)
			switch {
			case v == nil && mt == "JSONMerge":
				delete(out, k)
			case bIsMap && oIsMap:
				m, err := merge(path+"."+k, bm, om)
				if err != nil {
					return nil, err
				}
				out[k] = m
			case bIsList && oIsList && mt == "StrategicMerge" && !reflect.DeepEqual(out[k], v):
				return nil, fmt.Errorf("%s.%s: a list on both sides; its strategic merge is not encoded here", path, k)
			default:
				out[k] = v
			}
		}
		return out, nil
	}
	return merge("spec", base, override)
}

// proxyImage is the Envoy container's image of the merged EnvoyProxy: internal/
// infrastructure/kubernetes/proxy/resource.go resolveProxyImage of v1.9.1
// (imageRepository with the default image's tag, else image, else
// api/v1alpha1 DefaultEnvoyProxyImage).
func proxyImage(spec map[string]any) string {
	const defaultImage = "docker.io/envoyproxy/envoy:distroless-v1.39.1@sha256:eb2c01c13125d1629637cb4e4cce7207009fb7cc2c8027f9742758549d15b6f4"
	container, _ := get(spec, "provider.kubernetes.envoyDeployment.container").(map[string]any)
	if repo, _ := container["imageRepository"].(string); repo != "" {
		tag, _ := charts.SourceTag(defaultImage)
		return repo + ":" + tag
	}
	if img, _ := container["image"].(string); img != "" {
		return img
	}
	return defaultImage
}

// edgeProxySpecs are the EnvoyProxy specs the edge's Gateway gets: the
// GatewayClass's (its parametersRef) and the Gateway's own (infrastructure.parametersRef).
func edgeProxySpecs(t *testing.T, objs []*unstructured.Unstructured) (class, gateway map[string]any) {
	t.Helper()
	proxies := map[string]map[string]any{}
	for _, o := range objs {
		if o.GetKind() == "EnvoyProxy" {
			proxies[o.GetName()], _, _ = unstructured.NestedMap(o.Object, "spec")
		}
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "GatewayClass":
			name, _, _ := unstructured.NestedString(o.Object, "spec", "parametersRef", "name")
			if class = proxies[name]; name != "" && class == nil {
				t.Fatalf("GatewayClass %s names EnvoyProxy %s, which the edge does not render", o.GetName(), name)
			}
		case "Gateway":
			name, _, _ := unstructured.NestedString(o.Object, "spec", "infrastructure", "parametersRef", "name")
			gateway = proxies[name]
		}
	}
	if class == nil {
		t.Fatal("the edge renders no GatewayClass-level EnvoyProxy")
	}
	return class, gateway
}

// mongoDBImages are the images the Bitnami mongodb chart 17.0.2 runs with these
// values: common.images.image of common 2.31.4 ("<global.imageRegistry or
// registry>/<repository>:<tag>", "@<digest>" when set) for the database
// (templates/standalone/dep-sts.yaml, replicaset/statefulset.yaml) and, with
// metrics.enabled, the exporter. Features that add other images are refused.
func mongoDBImages(t *testing.T, values map[string]any) []string {
	t.Helper()
	// The arbiter and hidden members run the database image too.
	for _, k := range []string{"volumePermissions.enabled", "tls.enabled", "externalAccess.enabled", "passwordUpdateJob.enabled"} {
		if b, _ := get(values, k).(bool); b {
			t.Fatalf("mongodb %s: its images are not encoded in this test", k)
		}
	}
	image := func(prefix string) string {
		ref := chartImage{GlobalRegistryKey: "global.imageRegistry", RegistryKey: prefix + ".registry", RepositoryKey: prefix + ".repository", TagKey: prefix + ".tag"}.resolve(values)
		if d, _ := get(values, prefix+".digest").(string); d != "" {
			ref = ref[:strings.LastIndex(ref, ":")] + "@" + d
		}
		return ref
	}
	out := []string{image("image")}
	if b, _ := get(values, "metrics.enabled").(bool); b {
		out = append(out, image("metrics.image"))
	}
	return out
}

// TestProxiesPullFromTheMirror: in every AWS environment, every image of every
// workload the deployer installs resolves to the environment's ECR registry, under a
// repository Terraform creates and, for a mirror, with the tag the pipeline copies.
// The Envoy proxies' image is the one of the effective EnvoyProxy of the edge's
// Gateway, computed as Envoy Gateway v1.9.1 merges them, over the EnvoyGateway
// default that its real gateway-helm chart renders from the add-on's values.
// Not covered: the EKS-managed add-ons of terraform/platform/eks.tf (vpc-cni,
// coredns, kube-proxy, ebs-csi, Pod Identity agent, CloudWatch observability), which
// AWS serves from its own regional registries.
func TestProxiesPullFromTheMirror(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	up, err := ReadMongoDBUpstream(filepath.Join(root, "charts/mongodb/upstream.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gwChart := gatewayHelm(t)
	for _, env := range awsEnvironments(t, root) {
		t.Run(env, func(t *testing.T) {
			p, _ := envPlan(t, root, env)
			out := envOutputs(t, root, env)
			images := map[string]string{} // where -> reference
			var egConfig map[string]any
			var edgeObjs []*unstructured.Unstructured
			for _, s := range p.Steps {
				switch {
				case s.Kind == deploy.KindAddon && s.Name == "envoy-gateway":
					r, err := Render(gwChart, s.Name, s.Namespace, s.Values)
					if err != nil {
						t.Fatalf("render gateway-helm: %v", err)
					}
					for k, v := range podImages(r.All()) {
						images["envoy-gateway: "+k] = v
					}
					for _, o := range r.Objects {
						if o.GetKind() == "ConfigMap" && o.GetName() == "envoy-gateway-config" {
							raw, _, _ := unstructured.NestedString(o.Object, "data", "envoy-gateway.yaml")
							if err := yaml.Unmarshal([]byte(raw), &egConfig); err != nil {
								t.Fatal(err)
							}
						}
					}
				case s.Kind == deploy.KindAddon:
					specs, ok := addonChartImages[s.Name]
					if !ok {
						t.Fatalf("add-on %s: its images are not listed in addonChartImages (read its chart at %s)", s.Name, s.Chart.Version)
					}
					for _, c := range specs {
						images[s.Name+": "+c.Repository] = c.resolve(s.Values)
					}
				case s.Kind == deploy.KindRemote:
					for i, ref := range mongoDBImages(t, s.Values) {
						images[fmt.Sprintf("%s: image %d", s.Name, i)] = ref
					}
				default:
					r, err := Render(s.ChartDir, s.Name, s.Namespace, s.Values)
					if err != nil {
						t.Fatalf("render %s: %v", s.Name, err)
					}
					for k, v := range podImages(r.All()) {
						images[s.Name+": "+s.Namespace+k] = v
					}
					if s.Name == "edge" {
						edgeObjs = r.All()
					}
				}
			}
			if egConfig == nil || edgeObjs == nil {
				t.Fatal("no envoy-gateway add-on or no edge release in the plan")
			}
			class, gateway := edgeProxySpecs(t, edgeObjs)
			defaultSpec, _ := egConfig["envoyProxy"].(map[string]any)
			merged, err := mergeEnvoyProxy(defaultSpec, class, gateway)
			if err != nil {
				t.Fatalf("merge the edge's EnvoyProxy: %v", err)
			}
			images["edge proxies: envoy"] = proxyImage(merged)
			sm, _ := get(egConfig, "provider.kubernetes.shutdownManager.image").(string)
			if sm == "" {
				sm = "docker.io/envoyproxy/gateway-dev:latest" // api/v1alpha1 DefaultShutdownManagerImage
			}
			images["edge proxies: shutdown-manager"] = sm

			mirrorTags := map[string][]string{} // ECR repository -> tags the pipeline copies
			for _, a := range charts.AddonMirrors {
				for _, m := range a.Images {
					tag, _ := charts.SourceTag(m.Source)
					mirrorTags[m.ECRRepository] = append(mirrorTags[m.ECRRepository], tag)
				}
			}
			for _, m := range up.Images {
				mirrorTags[m.ECRRepository] = append(mirrorTags[m.ECRRepository], m.Tag)
			}
			repoByURL := map[string]string{}
			for name, u := range out.ECRRepositoryURLs {
				repoByURL[u] = name
			}
			where := make([]string, 0, len(images))
			for w := range images {
				where = append(where, w)
			}
			sort.Strings(where)
			for _, w := range where {
				ref := images[w]
				name, _, _ := strings.Cut(ref, "@")
				repoURL, tag := name, ""
				if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
					repoURL, tag = name[:i], name[i+1:]
				}
				repo, ok := repoByURL[repoURL]
				switch {
				case !strings.HasPrefix(ref, out.ECRRegistry+"/"):
					t.Errorf("%s pulls %s, outside the environment's ECR registry %s", w, ref, out.ECRRegistry)
				case !ok:
					t.Errorf("%s pulls %s: no repository of ecr_repositories (environments/%s/terraform.tfvars) is %s", w, ref, env, repoURL)
				case strings.HasPrefix(repo, "mirror/") && !slices.Contains(mirrorTags[repo], tag):
					t.Errorf("%s pulls %s: the pipeline copies %s only with tag(s) %v", w, ref, repo, mirrorTags[repo])
				}
			}
			if !t.Failed() {
				t.Logf("%d images, all from %s", len(images), out.ECRRegistry)
			}
		})
	}
}

// The merge of EnvoyProxy specs as v1.9.1 does it, on the cases its doc comment names.
func TestMergeEnvoyProxy(t *testing.T) {
	img := func(i string) map[string]any {
		return map[string]any{"provider": map[string]any{"kubernetes": map[string]any{"envoyDeployment": map[string]any{"container": map[string]any{"image": i}}}}}
	}
	withReplicas := func(m map[string]any, mt string) map[string]any {
		out := MergeValues(m, map[string]any{"provider": map[string]any{"kubernetes": map[string]any{"envoyDeployment": map[string]any{"replicas": int64(2)}}}})
		if mt != "" {
			out["mergeType"] = mt
		}
		return out
	}
	class := withReplicas(map[string]any{}, "")
	for _, tc := range []struct {
		name                    string
		def, class, gateway     map[string]any
		wantImage               string
		wantReplicas, wantError bool
	}{
		{name: "only the default", def: img("mirror/envoy:1"), wantImage: "mirror/envoy:1"},
		{name: "class without mergeType replaces the default", def: img("mirror/envoy:1"), class: class,
			wantImage: "docker.io/envoyproxy/envoy:distroless-v1.39.1@sha256:eb2c01c13125d1629637cb4e4cce7207009fb7cc2c8027f9742758549d15b6f4", wantReplicas: true},
		{name: "class with StrategicMerge keeps the default's image", def: img("mirror/envoy:1"), class: withReplicas(map[string]any{}, "StrategicMerge"), wantImage: "mirror/envoy:1", wantReplicas: true},
		{name: "class with JSONMerge keeps the default's image", def: img("mirror/envoy:1"), class: withReplicas(map[string]any{}, "JSONMerge"), wantImage: "mirror/envoy:1", wantReplicas: true},
		{name: "class's own image wins", def: img("mirror/envoy:1"), class: withReplicas(img("own/envoy:2"), "StrategicMerge"), wantImage: "own/envoy:2", wantReplicas: true},
		{name: "gateway's mergeType decides when the class has none", def: img("mirror/envoy:1"), class: class, gateway: withReplicas(map[string]any{}, "StrategicMerge"), wantImage: "mirror/envoy:1", wantReplicas: true},
		{name: "unknown merge type", def: img("mirror/envoy:1"), class: withReplicas(map[string]any{}, "Deep"), wantError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mergeEnvoyProxy(tc.def, tc.class, tc.gateway)
			if tc.wantError {
				if err == nil {
					t.Fatalf("merged %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if i := proxyImage(got); i != tc.wantImage {
				t.Errorf("image %s, want %s", i, tc.wantImage)
			}
			if r := get(got, "provider.kubernetes.envoyDeployment.replicas"); (r != nil) != tc.wantReplicas {
				t.Errorf("replicas %v, want set: %t", r, tc.wantReplicas)
			}
		})
	}
}

// Every add-on of charts/addons.yaml has its images read in its chart at the version
// it pins (charts.AddonMirrors, addonChartImages), and what the chart requests with
// no mirror is exactly what the pipeline copies: same repository path, same tag.
func TestAddonImagesReadAtPinnedVersions(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	addons, err := deploy.ReadAddons(filepath.Join(root, "charts", "addons.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pinned := map[string]string{}
	for _, a := range addons {
		pinned[a.Name] = a.Chart.Version
	}
	for _, m := range charts.AddonMirrors {
		if v, ok := pinned[m.Addon]; !ok || v != m.ChartVersion {
			t.Errorf("internal/charts/mirrors.go: %s images read at chart %s, charts/addons.yaml pins %q: read its images again", m.Addon, m.ChartVersion, v)
		}
	}
	for _, a := range addons {
		mirrors := charts.MirrorsOf(a.Name)
		if len(mirrors) == 0 {
			t.Errorf("add-on %s: no images in internal/charts/mirrors.go", a.Name)
			continue
		}
		if a.Name == "envoy-gateway" {
			continue // rendered for real
		}
		specs := addonChartImages[a.Name]
		if len(specs) != len(mirrors) {
			t.Errorf("add-on %s: %d images in its chart, %d mirrored", a.Name, len(specs), len(mirrors))
			continue
		}
		for i, c := range specs {
			if got := c.resolve(map[string]any{}); got != mirrors[i].Source {
				t.Errorf("add-on %s: the chart requests %s by default, the pipeline copies %s", a.Name, got, mirrors[i].Source)
			}
		}
	}
}

// The mirror copies the platforms the node groups run: their ami_type
// (terraform/platform/eks.tf) names the architecture.
func TestNodePlatformsAreTheNodeGroups(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "terraform", "platform", "eks.tf"))
	if err != nil {
		t.Fatal(err)
	}
	types := regexp.MustCompile(`(?m)^\s*ami_type\s*=\s*"([^"]+)"`).FindAllStringSubmatch(string(b), -1)
	if len(types) == 0 {
		t.Fatal("terraform/platform/eks.tf sets no literal ami_type")
	}
	var platforms []string
	for _, m := range types {
		var p string
		switch {
		case strings.Contains(m[1], "x86_64"):
			p = charts.LinuxAMD64
		case strings.Contains(m[1], "ARM_64"):
			p = charts.LinuxARM64
		default:
			t.Fatalf("ami_type %s: architecture unknown to this test", m[1])
		}
		if !slices.Contains(platforms, p) {
			platforms = append(platforms, p)
		}
	}
	sort.Strings(platforms)
	if !reflect.DeepEqual(platforms, charts.NodePlatforms) {
		t.Errorf("the node groups run %v, charts.NodePlatforms (what the mirror copies) is %v", platforms, charts.NodePlatforms)
	}
}
