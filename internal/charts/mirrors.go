package charts

import (
	"fmt"
	"slices"
	"strings"
)

// EnvoyGatewayVersion is the Envoy Gateway release the envoy-gateway add-on installs
// (charts/addons.yaml pins its chart to the same version; a test keeps them equal).
const EnvoyGatewayVersion = "v1.9.1"

// Platforms an image can be published for, as OCI platform strings.
const (
	LinuxAMD64 = "linux/amd64"
	LinuxARM64 = "linux/arm64"
)

// NodePlatforms are the platforms of the AWS environments' nodes: the node groups
// run ami_type AL2023_x86_64_STANDARD (terraform/platform/eks.tf; a test reads it).
// The mirror copies each image for these only.
var NodePlatforms = []string{LinuxAMD64}

// MirroredImage is a third-party image that AWS environments pull from their private
// ECR mirror instead of a public registry: the pipeline copies Source to the ECR
// repository ECRRepository (a key of the Terraform output ecr_repository_urls),
// keeping the tag, and the deployer points the chart at the copy.
type MirroredImage struct {
	// Source is the reference the chart resolves to with the platform's values and
	// no mirror (a digest, when given, pins what is pulled).
	Source        string
	ECRRepository string
	// Platforms are the platforms upstream publishes the image for, as far as read in
	// its build definition (cited beside each); a platform not verified is left out,
	// so a node platform missing here stops the mirror instead of a pull on a node.
	Platforms []string
	// Where the chart takes the mirror: ImageKey takes the full reference
	// (registry/repository:tag); otherwise RepositoryKey takes the repository, with
	// the registry host in front unless RegistryKey takes the host. The chart's
	// own tag stays (it equals the source's; the test of the add-on images checks it).
	ImageKey, RegistryKey, RepositoryKey string
}

// AddonMirror is the mirrored images of one add-on of charts/addons.yaml, as read in
// its chart at ChartVersion (a test keeps it equal to the pinned version, so an
// upgrade makes someone read the chart's images again).
type AddonMirror struct {
	Addon, ChartVersion string
	Images              []MirroredImage
}

var (
	amd64Only = []string{LinuxAMD64}
	multiArch = []string{LinuxAMD64, LinuxARM64}
)

// AddonMirrors are the images every add-on of charts/addons.yaml runs with the
// platform's values (containers, init containers and install hooks; helm test pods
// are never run), read in each chart's templates at the pinned version. amd64Only
// means arm64 was not verified, not that it is missing.
var AddonMirrors = []AddonMirror{
	// github.com/aws/eks-charts stable/aws-load-balancer-controller (commit b9f9067, chart
	// 1.17.0): templates/deployment.yaml "{{ image.repository }}:{{ image.tag }}".
	{Addon: "aws-load-balancer-controller", ChartVersion: "1.17.0", Images: []MirroredImage{
		{Source: "public.ecr.aws/eks/aws-load-balancer-controller:v2.17.0", ECRRepository: "mirror/aws-load-balancer-controller", Platforms: amd64Only, RepositoryKey: "image.repository"},
	}},
	// kubernetes-sigs/metrics-server charts/metrics-server@metrics-server-helm-chart-3.13.0:
	// _helpers.tpl metrics-server.image (tag default v<appVersion> = v0.8.0; the addon
	// resizer is off); Makefile ALL_ARCHITECTURES amd64 arm arm64 ppc64le s390x.
	{Addon: "metrics-server", ChartVersion: "3.13.0", Images: []MirroredImage{
		{Source: "registry.k8s.io/metrics-server/metrics-server:v0.8.0", ECRRepository: "mirror/metrics-server", Platforms: multiArch, RepositoryKey: "image.repository"},
	}},
	// prometheus-community/helm-charts charts/kube-prometheus-stack@kube-prometheus-stack-77.0.0:
	// every image is "{{ global.imageRegistry | default <x>.registry }}/{{ <x>.repository }}:<tag>"
	// (templates/prometheus-operator/deployment.yaml, prometheus/prometheus.yaml,
	// alertmanager/alertmanager.yaml, prometheus-operator/admission-webhooks/job-patch/*.yaml;
	// the operator's and config reloader's tag default to appVersion v0.85.0). Subcharts
	// (Chart.yaml): kube-state-metrics 6.1.4, prometheus-node-exporter 4.47.3 (same helpers),
	// grafana 9.3.4 (grafana/helm-charts grafana-9.3.4 templates/_pod.tpl: the grafana
	// container, tag default appVersion 12.1.0, and the dashboards and datasources
	// sidecars; no init containers without persistence). Not run with these values:
	// the admission webhook Deployment, Thanos, the CRD upgrade Job, Windows exporter.
	// Platforms: prometheus/prometheus@v0.305.0 (3.5.0), alertmanager@v0.28.1 and
	// node_exporter@v1.9.1 Makefile DOCKER_ARCHS amd64 armv7 arm64 ppc64le s390x.
	{Addon: "kube-prometheus-stack", ChartVersion: "77.0.0", Images: []MirroredImage{
		registryAndRepository("prometheusOperator.image", "quay.io/prometheus-operator/prometheus-operator:v0.85.0", "mirror/prometheus-operator", amd64Only),
		registryAndRepository("prometheusOperator.prometheusConfigReloader.image", "quay.io/prometheus-operator/prometheus-config-reloader:v0.85.0", "mirror/prometheus-config-reloader", amd64Only),
		registryAndRepository("prometheusOperator.admissionWebhooks.patch.image", "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.1", "mirror/kube-webhook-certgen", amd64Only),
		registryAndRepository("prometheus.prometheusSpec.image", "quay.io/prometheus/prometheus:v3.5.0", "mirror/prometheus", multiArch),
		registryAndRepository("alertmanager.alertmanagerSpec.image", "quay.io/prometheus/alertmanager:v0.28.1", "mirror/alertmanager", multiArch),
		registryAndRepository("kube-state-metrics.image", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.16.0", "mirror/kube-state-metrics", amd64Only),
		registryAndRepository("prometheus-node-exporter.image", "quay.io/prometheus/node-exporter:v1.9.1", "mirror/node-exporter", multiArch),
		registryAndRepository("grafana.image", "docker.io/grafana/grafana:12.1.0", "mirror/grafana", amd64Only),
		registryAndRepository("grafana.sidecar.image", "quay.io/kiwigrid/k8s-sidecar:1.30.3", "mirror/k8s-sidecar", amd64Only),
	}},
	// Envoy Gateway v1.9.1: its controller (and certgen Job, and the proxies'
	// shutdown-manager container: EnvoyGateway provider.kubernetes.shutdownManager.image),
	// the proxies and the rate limiter (api/v1alpha1 DefaultEnvoyProxyImage and
	// DefaultRateLimitImage; charts/gateway-helm templates/_helpers.tpl eg.image,
	// eg.envoyProxy.image, eg.ratelimit.image). The proxy image reaches the proxies only
	// through the merged EnvoyProxy (charts/edge). Platforms: tools/make/image.mk
	// IMAGE_PLATFORMS linux_amd64 linux_arm64 (branch release/v1.9).
	{Addon: "envoy-gateway", ChartVersion: EnvoyGatewayVersion, Images: []MirroredImage{
		{Source: "docker.io/envoyproxy/gateway:" + EnvoyGatewayVersion, ECRRepository: "mirror/envoy-gateway", Platforms: multiArch, ImageKey: "global.images.envoyGateway.image"},
		{Source: "docker.io/envoyproxy/envoy:distroless-v1.39.1@sha256:eb2c01c13125d1629637cb4e4cce7207009fb7cc2c8027f9742758549d15b6f4", ECRRepository: "mirror/envoy", Platforms: amd64Only, ImageKey: "global.images.envoyProxy.image"},
		{Source: "docker.io/envoyproxy/ratelimit:8fe6ea42@sha256:a61547259607d40aff153050c2a87873ca1676d1d9f5f06937d412000dcc2df1", ECRRepository: "mirror/envoy-ratelimit", Platforms: amd64Only, ImageKey: "global.images.ratelimit.image"},
	}},
	// kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler@cluster-autoscaler-chart-9.59.0:
	// templates/deployment.yaml "{{ image.repository }}:{{ image.tag }}"; cluster-autoscaler/Makefile
	// ALL_ARCH amd64 arm64 s390x.
	{Addon: "cluster-autoscaler", ChartVersion: "9.59.0", Images: []MirroredImage{
		{Source: "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.0", ECRRepository: "mirror/cluster-autoscaler", Platforms: multiArch, RepositoryKey: "image.repository"},
	}},
	// kubernetes-sigs/external-dns charts/external-dns@external-dns-helm-chart-1.21.1:
	// _helpers.tpl external-dns.image (tag default v<appVersion> = v0.21.0; the webhook
	// sidecar is for webhook providers only); Makefile IMG_PLATFORM linux/amd64,linux/arm64,linux/arm/v7.
	{Addon: "external-dns", ChartVersion: "1.21.1", Images: []MirroredImage{
		{Source: "registry.k8s.io/external-dns/external-dns:v0.21.0", ECRRepository: "mirror/external-dns", Platforms: multiArch, RepositoryKey: "image.repository"},
	}},
}

// registryAndRepository is an image a chart takes as <prefix>.registry and
// <prefix>.repository (kube-prometheus-stack and its subcharts).
func registryAndRepository(prefix, source, ecrRepository string, platforms []string) MirroredImage {
	return MirroredImage{Source: source, ECRRepository: ecrRepository, Platforms: platforms,
		RegistryKey: prefix + ".registry", RepositoryKey: prefix + ".repository"}
}

// MirrorsOf returns the mirrored images of an add-on (none for an add-on not listed).
func MirrorsOf(addon string) []MirroredImage {
	for _, a := range AddonMirrors {
		if a.Addon == addon {
			return a.Images
		}
	}
	return nil
}

// EnvoyGatewayImages are Envoy Gateway's images (AddonMirrors).
var EnvoyGatewayImages = MirrorsOf("envoy-gateway")

// SourceTag is the tag of an image reference (name:tag or name:tag@digest).
func SourceTag(ref string) (string, error) {
	name, _, _ := strings.Cut(ref, "@")
	slash := strings.LastIndex(name, "/")
	colon := strings.LastIndex(name, ":")
	if colon <= slash || colon == len(name)-1 {
		return "", fmt.Errorf("image %s has no tag (mirrors keep the source's tag)", ref)
	}
	return name[colon+1:], nil
}

// MirrorReference is the reference of the mirrored copy: the ECR repository URL and
// the source's tag. Not the source's digest: the copy holds only the platforms the
// cluster runs, so its digest differs; ECR tags are immutable, which pins it as well.
func (m MirroredImage) MirrorReference(repositoryURL string) (string, error) {
	tag, err := SourceTag(m.Source)
	if err != nil {
		return "", err
	}
	return repositoryURL + ":" + tag, nil
}

// MirrorValues are the chart values that point the chart at the mirrored copy in
// repositoryURL (<registry host>/<path>).
func (m MirroredImage) MirrorValues(repositoryURL string) (map[string]any, error) {
	host, path, ok := strings.Cut(repositoryURL, "/")
	if !ok || host == "" || path == "" || strings.ContainsAny(repositoryURL, "@: ") {
		return nil, fmt.Errorf("%q is not a repository URL <registry>/<path>", repositoryURL)
	}
	out := map[string]any{}
	switch {
	case m.ImageKey != "":
		ref, err := m.MirrorReference(repositoryURL)
		if err != nil {
			return nil, err
		}
		out = MergeValues(out, NestedValue(m.ImageKey, ref))
	case m.RepositoryKey != "" && m.RegistryKey != "":
		out = MergeValues(NestedValue(m.RegistryKey, host), NestedValue(m.RepositoryKey, path))
	case m.RepositoryKey != "":
		out = NestedValue(m.RepositoryKey, repositoryURL)
	default:
		return nil, fmt.Errorf("image %s: no values key takes its mirror", m.Source)
	}
	return out, nil
}

// NestedValue is {a: {b: {c: value}}} for the dotted key a.b.c.
func NestedValue(key string, value any) map[string]any {
	path := strings.Split(key, ".")
	var out any = value
	for i := len(path) - 1; i >= 0; i-- {
		out = map[string]any{path[i]: out}
	}
	return out.(map[string]any)
}

// MirrorPlatforms are the platforms to copy of an image published for published:
// the node platforms, each of which it must have.
func MirrorPlatforms(source string, published []string) ([]string, error) {
	var missing []string
	for _, p := range NodePlatforms {
		if !slices.Contains(published, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("image %s: the nodes run %s, but it is published (as verified) only for %s",
			source, strings.Join(missing, ", "), strings.Join(published, ", "))
	}
	return slices.Clone(NodePlatforms), nil
}
