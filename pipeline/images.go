package pipeline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"dagger.io/dagger"

	"github.com/orders-platform/orders/internal/tfoutputs"
)

// Services are the images built from this repository: services/<name>/Dockerfile,
// build context services/.
var Services = []string{"service1", "service2"}

// Platforms every service image is built for.
var Platforms = []dagger.Platform{"linux/amd64", "linux/arm64"}

// ServiceDockerfile is the Dockerfile of a service, relative to the build context services/.
func ServiceDockerfile(service string) (string, error) {
	if !slices.Contains(Services, service) {
		return "", fmt.Errorf("unknown service %q (known: %s)", service, strings.Join(Services, ", "))
	}
	return service + "/Dockerfile", nil
}

var commitRe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ImageTag is the tag of the images built from a git commit: the full commit
// hash. ECR tags are immutable, so one commit is one image.
func ImageTag(commit string) (string, error) {
	c := strings.TrimSpace(commit)
	if !commitRe.MatchString(c) {
		return "", fmt.Errorf("image tag: %q is not a full git commit hash (40 lower-case hex digits; pass --commit=$(git rev-parse HEAD))", commit)
	}
	return c, nil
}

var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ImageRef is an image pushed to a registry, addressed by its digest.
type ImageRef struct {
	Repository string // e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/service1
	Tag        string // the git commit
	Digest     string // sha256:…
}

// String is the reference by digest, repository@sha256:….
func (r ImageRef) String() string { return r.Repository + "@" + r.Digest }

// ParsePublished parses the reference Dagger's Container.Publish returns
// (repository:tag@sha256:…) and checks it names the repository and tag pushed.
func ParsePublished(published, repository, tag string) (ImageRef, error) {
	at := strings.LastIndex(published, "@")
	if at < 0 {
		return ImageRef{}, fmt.Errorf("published image %q has no digest", published)
	}
	name, digest := published[:at], published[at+1:]
	if !digestRe.MatchString(digest) {
		return ImageRef{}, fmt.Errorf("published image %q: %q is not a sha256 digest", published, digest)
	}
	if name != repository+":"+tag && name != repository {
		return ImageRef{}, fmt.Errorf("published image %q is not %s:%s", published, repository, tag)
	}
	return ImageRef{Repository: repository, Tag: tag, Digest: digest}, nil
}

// ServiceRepositories returns the ECR repository URL of each service from the
// Terraform outputs.
func ServiceRepositories(out *tfoutputs.Outputs) (map[string]string, error) {
	repos := map[string]string{}
	for _, s := range Services {
		u, err := out.RepositoryURL(s)
		if err != nil {
			return nil, err
		}
		repos[s] = u
	}
	return repos, nil
}

// LocalImage is the name a service image has in the local cluster (the orders
// chart's default repository, no registry), tagged with the commit.
func LocalImage(service, tag string) string { return "orders/" + service + ":" + tag }
