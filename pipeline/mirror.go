package pipeline

import (
	"fmt"

	"github.com/orders-platform/orders/internal/charts"
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

// EnvoyImages are Envoy Gateway's images (internal/charts: the deployer points the
// envoy-gateway add-on at their mirrors).
func EnvoyImages() []ThirdPartyImage {
	var out []ThirdPartyImage
	for _, img := range charts.EnvoyGatewayImages {
		out = append(out, ThirdPartyImage{Source: img.Source, ECRRepository: img.ECRRepository})
	}
	return out
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
		tag, err := charts.SourceTag(img.Source)
		if err != nil {
			return nil, fmt.Errorf("mirror: %w", err)
		}
		repo, err := out.RepositoryURL(img.ECRRepository)
		if err != nil {
			return nil, fmt.Errorf("mirror %s: %w", img.Source, err)
		}
		plan = append(plan, Mirror{Source: img.Source, Target: repo + ":" + tag})
	}
	return plan, nil
}
