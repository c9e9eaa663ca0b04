package charts

import (
	"fmt"
	"strings"
)

// EnvoyGatewayVersion is the Envoy Gateway release the envoy-gateway add-on installs
// (charts/addons.yaml pins its chart to the same version; a test keeps them equal).
const EnvoyGatewayVersion = "v1.9.1"

// MirroredImage is a third-party image that AWS environments pull from their private
// ECR mirror instead of a public registry: the pipeline copies Source to the ECR
// repository ECRRepository (a key of the Terraform output ecr_repository_urls),
// keeping the tag; the deployer points ValuesKey of the add-on at the copy.
type MirroredImage struct {
	Source        string
	ECRRepository string
	// ValuesKey is the dotted key of the envoy-gateway chart that takes the full image reference.
	ValuesKey string
}

// EnvoyGatewayImages are the images of Envoy Gateway v1.9.1: its controller and the
// defaults it runs the proxies and the rate limiter with (api/v1alpha1
// DefaultEnvoyProxyImage and DefaultRateLimitImage of github.com/envoyproxy/gateway
// v1.9.1; global.images.* of its gateway-helm chart). Change them with EnvoyGatewayVersion.
var EnvoyGatewayImages = []MirroredImage{
	{Source: "docker.io/envoyproxy/gateway:" + EnvoyGatewayVersion, ECRRepository: "mirror/envoy-gateway", ValuesKey: "global.images.envoyGateway.image"},
	{Source: "docker.io/envoyproxy/envoy:distroless-v1.39.1@sha256:eb2c01c13125d1629637cb4e4cce7207009fb7cc2c8027f9742758549d15b6f4", ECRRepository: "mirror/envoy", ValuesKey: "global.images.envoyProxy.image"},
	{Source: "docker.io/envoyproxy/ratelimit:8fe6ea42@sha256:a61547259607d40aff153050c2a87873ca1676d1d9f5f06937d412000dcc2df1", ECRRepository: "mirror/envoy-ratelimit", ValuesKey: "global.images.ratelimit.image"},
}

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
