package pipeline

import (
	"fmt"
	"strings"

	"github.com/orders-platform/orders/internal/tfoutputs"
)

// ThirdPartyImage is an image the platform runs but does not build. AWS
// environments never pull from a public registry: the pipeline copies each of
// these into the private ECR repository ECRRepository (a key of the Terraform
// output ecr_repository_urls), keeping the tag.
type ThirdPartyImage struct {
	Source        string // e.g. docker.io/bitnamilegacy/mongodb:8.0.13-debian-12-r0
	ECRRepository string // e.g. mirror/mongodb
}

// EnvoyImages are the images of Envoy Gateway v1.9.1, the version the deployer
// installs: its controller, and the defaults it runs the proxies and the rate
// limiter with (api/v1alpha1 DefaultEnvoyProxyImage and DefaultRateLimitImage of
// github.com/envoyproxy/gateway v1.9.1). Change them with the Envoy Gateway version.
var EnvoyImages = []ThirdPartyImage{
	{Source: "docker.io/envoyproxy/gateway:v1.9.1", ECRRepository: "mirror/envoy-gateway"},
	{Source: "docker.io/envoyproxy/envoy:distroless-v1.39.1@sha256:eb2c01c13125d1629637cb4e4cce7207009fb7cc2c8027f9742758549d15b6f4", ECRRepository: "mirror/envoy"},
	{Source: "docker.io/envoyproxy/ratelimit:8fe6ea42@sha256:a61547259607d40aff153050c2a87873ca1676d1d9f5f06937d412000dcc2df1", ECRRepository: "mirror/envoy-ratelimit"},
}

// Mirror is one copy: pull Source, push to Target.
type Mirror struct {
	Source string
	Target string // repository URL:tag
}

// MirrorPlan maps each third-party image onto its ECR repository, same tag. A
// digest in the source pins what is pulled; the copy is pushed under the tag.
func MirrorPlan(images []ThirdPartyImage, out *tfoutputs.Outputs) ([]Mirror, error) {
	var plan []Mirror
	for _, img := range images {
		tag, err := sourceTag(img.Source)
		if err != nil {
			return nil, err
		}
		repo, err := out.RepositoryURL(img.ECRRepository)
		if err != nil {
			return nil, fmt.Errorf("mirror %s: %w", img.Source, err)
		}
		plan = append(plan, Mirror{Source: img.Source, Target: repo + ":" + tag})
	}
	return plan, nil
}

// sourceTag is the tag of an image reference (name:tag or name:tag@digest).
func sourceTag(ref string) (string, error) {
	name := ref
	if at := strings.Index(name, "@"); at >= 0 {
		name = name[:at]
	}
	slash := strings.LastIndex(name, "/")
	colon := strings.LastIndex(name, ":")
	if colon <= slash || colon == len(name)-1 {
		return "", fmt.Errorf("mirror %s: the image has no tag (mirrors keep the source's tag)", ref)
	}
	return name[colon+1:], nil
}
