package pipeline

import (
	"fmt"

	"dagger.io/dagger"

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
	// Platforms are the platforms upstream publishes it for (as verified).
	Platforms []string
}

// EnvoyImages are Envoy Gateway's images (internal/charts: the deployer points the
// envoy-gateway add-on at their mirrors).
func EnvoyImages() []ThirdPartyImage {
	return thirdParty(charts.EnvoyGatewayImages)
}

// AddonImages are the images of every cluster add-on (internal/charts AddonMirrors).
func AddonImages() []ThirdPartyImage {
	var out []ThirdPartyImage
	for _, a := range charts.AddonMirrors {
		out = append(out, thirdParty(a.Images)...)
	}
	return out
}

func thirdParty(images []charts.MirroredImage) []ThirdPartyImage {
	var out []ThirdPartyImage
	for _, img := range images {
		out = append(out, ThirdPartyImage{Source: img.Source, ECRRepository: img.ECRRepository, Platforms: img.Platforms})
	}
	return out
}

// Mirror is one copy: pull Source for each of Platforms, push to Target.
type Mirror struct {
	Source string
	Target string // repository URL:tag
	// Platforms are the nodes' platforms (charts.NodePlatforms): pulling one the
	// image is not published for fails, and copying one no node runs is waste.
	Platforms []dagger.Platform
}

// MirrorPlan maps each third-party image onto its ECR repository, same tag, and the
// platforms to copy. A digest in the source pins what is pulled; the copy is pushed
// under the tag. An image not published for a node platform is an error.
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
		platforms, err := charts.MirrorPlatforms(img.Source, img.Platforms)
		if err != nil {
			return nil, fmt.Errorf("mirror: %w", err)
		}
		m := Mirror{Source: img.Source, Target: repo + ":" + tag}
		for _, p := range platforms {
			m.Platforms = append(m.Platforms, dagger.Platform(p))
		}
		plan = append(plan, m)
	}
	return plan, nil
}

// MirrorGate is the vulnerability gate of our images (VulnerabilityGate) for
// one third-party image, on its Trivy report, before it is pushed: a HIGH or
// CRITICAL finding not accepted by id refuses it, naming the image, where
// enforce is set (every environment but the preview one, as for attestations:
// SupplyChain.Enforce). Elsewhere the same finding is a warning and the image
// is copied: a frozen upstream image (bitnamilegacy) carries findings no one
// here can fix, and dev's first deploy must not stop on them; the warning names
// each one so it is seen, accepted by id or fixed before prod. Accepted ids it
// does not have are not reported here: one --accept-vulnerabilities list
// serves every image, ours and the mirrored ones.
func MirrorGate(source string, report []byte, accepted []string, enforce bool) (warning string, err error) {
	findings, err := ParseTrivyReport(report)
	if err != nil {
		return "", fmt.Errorf("mirror %s: %w", source, err)
	}
	const fix = "for a third-party image, fixing is pinning a patched upstream tag in charts/mongodb/upstream.yaml or internal/charts/mirrors.go"
	if _, err := VulnerabilityGate(source, findings, accepted); err != nil {
		if !enforce {
			return fmt.Sprintf("mirrored although refused in an enforcing environment (%s): %v", fix, err), nil
		}
		return "", fmt.Errorf("mirror refused, nothing pushed (%s): %w", fix, err)
	}
	return "", nil
}
