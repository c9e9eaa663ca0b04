package pipeline

// Every image the pipeline runs its own steps in, pinned, each with where its
// name, tag (and, for the test tools, the binary's path) was read upstream.
// The third-party images the deployments run (mirrored into ECR) are listed
// with the charts, not here.
const (
	// GoImage builds and tests the Go code and has git (its base is
	// buildpack-deps:bookworm-scm): docker-library/official-images
	// library/golang "Tags: 1.26.7-bookworm, 1.26-bookworm";
	// docker-library/golang 1.26/bookworm/Dockerfile (FROM
	// buildpack-deps:bookworm-scm).
	GoImage = "golang:1.26-bookworm"
	// GitImage reads the source's commit: the Go image, which has git.
	GitImage = GoImage
	// NodeImage runs the services' suites: docker-library/official-images
	// library/node "Tags: 24-bookworm-slim, …".
	NodeImage = "node:24-bookworm-slim"
	// MongoImage is the services' test database: docker-library/official-images
	// library/mongo "SharedTags: 8.0.29, 8.0" (amd64, arm64v8).
	MongoImage = "mongo:8.0"
	// TerraformImage runs every Terraform command (terraform/*/versions.tf
	// require >= 1.11, < 2); the binary is /bin/terraform: hashicorp/terraform
	// v1.11.4 .github/workflows/build.yml (docker.io/hashicorp/terraform:<version>)
	// and build.Dockerfile (COPY … /bin/terraform).
	TerraformImage = "hashicorp/terraform:1.11.4"
	// K3sImage runs the local cluster of `up`, the newest patch of the EKS minor
	// of dev and prod: k3s-io/k3s pull request 14229 "[release-1.35] Update to
	// v1.35.6-k3s1" (image tags spell "+k3s1" as "-k3s1").
	K3sImage = "rancher/k3s:v1.35.6-k3s1"
)

// The tools of `dagger call test`, taken from their upstream release images so
// a cold runner does not build them from source (test/tools builds them where
// there is no container engine). Each version equals the one test/tools pins
// (pipeline/toolimages_test.go checks it); every binary is statically linked, so
// it runs in GoImage.
var TestToolImages = []ToolImage{
	// registry.k8s.io/<component>:<version>: k8s.io/kubernetes v1.37.2
	// cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go (DefaultImageRepository)
	// and cmd/kubeadm/app/images/images.go (GetGenericImage); the binary at
	// /usr/local/bin/<component>: build/server-image/kube-apiserver/Dockerfile and
	// build/server-image/Dockerfile; static: hack/lib/golang.sh KUBE_STATIC_BINARIES.
	{Tool: "kube", Version: "v1.37.2", Image: "registry.k8s.io/kube-apiserver:v1.37.2", Binary: "/usr/local/bin/kube-apiserver"},
	{Tool: "kube", Version: "v1.37.2", Image: "registry.k8s.io/kube-controller-manager:v1.37.2", Binary: "/usr/local/bin/kube-controller-manager"},
	{Tool: "kube", Version: "v1.37.2", Image: "registry.k8s.io/kube-scheduler:v1.37.2", Binary: "/usr/local/bin/kube-scheduler"},
	// ghcr.io/k3s-io/kine:<tag>: github.com/k3s-io/kine v0.17.5
	// .github/workflows/release.yml (target multi-arch-package); /bin/kine:
	// Dockerfile; linked -extldflags -static: scripts/buildx.
	{Tool: "kine", Version: "v0.17.5", Image: "ghcr.io/k3s-io/kine:v0.17.5", Binary: "/bin/kine"},
	// registry.k8s.io/kwok/kwok:v<version>: sigs.k8s.io/kwok v0.8.0
	// pkg/consts/consts.go (ImagePrefix) and pkg/config/vars.go (joinImageURI);
	// /usr/local/bin/kwok: images/kwok/Dockerfile; CGO_ENABLED=0: hack/releases.sh.
	{Tool: "kwok", Version: "v0.8.0", Image: "registry.k8s.io/kwok/kwok:v0.8.0", Binary: "/usr/local/bin/kwok"},
	// aquasec/trivy:<version without v>: github.com/aquasecurity/trivy v0.74.0
	// goreleaser.yml (dockers_v2, CGO_ENABLED=0); /usr/local/bin/trivy: Dockerfile.
	{Tool: "trivy", Version: "v0.74.0", Image: TrivyImage, Binary: "/usr/local/bin/trivy"},
	// prom/prometheus:v3.5.0: github.com/prometheus/prometheus v0.305.0 (v3.5.0)
	// Makefile.common (DOCKER_REPO prom), Makefile (DOCKER_IMAGE_NAME);
	// /bin/promtool: Dockerfile; netgo, no cgo: .promu.yml.
	{Tool: "promtool", Version: "v3.5.0", Image: "prom/prometheus:v3.5.0", Binary: "/bin/promtool"},
}

// TrivyImage scans the service images and writes their SBOMs.
const TrivyImage = "aquasec/trivy:0.74.0"

// ToolImage is one test tool's binary in its upstream image.
type ToolImage struct {
	// Tool and Version name the tools cache directory, <tool>-<version>
	// (test/toolcache).
	Tool, Version string
	// Image is the upstream image, Binary the tool's path inside it.
	Image, Binary string
}
