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

// BackupImage is the image of cmd/backup (MongoDB dump, list, restore): built
// from cmd/backup/Dockerfile with the repository root as context, pushed to the
// ECR repository "backup", handed to the deployer as -image backup=<ref>.
const BackupImage = "backup"

// BackupDockerfile is the backup image's Dockerfile, relative to the repository root.
const BackupDockerfile = "cmd/backup/Dockerfile"

// BackupContext is what the backup build reads of the repository: the build
// context is cut down to it before it is sent (cmd/backup/Dockerfile.dockerignore
// says the same for docker build).
var BackupContext = []string{"go.mod", "go.sum", "cmd/backup/", "internal/backup/"}

// Images are every image the pipeline builds, scans, publishes and describes
// with an SBOM: the services, then the backup tool.
var Images = append(append([]string{}, Services...), BackupImage)

// Platforms every image is built for.
var Platforms = []dagger.Platform{"linux/amd64", "linux/arm64"}

// CheckImage says whether name is one of Images.
func CheckImage(name string) error {
	if !slices.Contains(Images, name) {
		return fmt.Errorf("unknown image %q (known: %s)", name, strings.Join(Images, ", "))
	}
	return nil
}

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
	return ImageRepositories(out, Services)
}

// ImageRepositories returns the ECR repository URL of each named image from the
// Terraform output ecr_repository_urls. A missing one is an error that says how
// to add it (an environment provisioned before the image existed).
func ImageRepositories(out *tfoutputs.Outputs, names []string) (map[string]string, error) {
	repos := map[string]string{}
	for _, n := range names {
		if err := CheckImage(n); err != nil {
			return nil, err
		}
		u, err := out.RepositoryURL(n)
		if err != nil {
			return nil, fmt.Errorf("%w: terraform/platform's ecr_repositories must list %q; run `dagger call provision --env=%s` (or deploy without --skip-provision/--tenant) first", err, n, out.Environment)
		}
		repos[n] = u
	}
	return repos, nil
}

// RepositoryName is the ECR repository name of a repository URL
// (<registry>/<name>), as the ECR API wants it.
func RepositoryName(url string) (string, error) {
	host, name, ok := strings.Cut(url, "/")
	if !ok || host == "" || name == "" {
		return "", fmt.Errorf("ECR repository URL %q is not <registry>/<name>", url)
	}
	return name, nil
}

// ImageArgs are the deployer's -image values by image name,
// <repository>@<digest>; anything but a reference by digest is refused.
func ImageArgs(refs map[string]ImageRef) (map[string]string, error) {
	images := map[string]string{}
	for name, r := range refs {
		if err := CheckImage(name); err != nil {
			return nil, err
		}
		if r.Repository == "" || !digestRe.MatchString(r.Digest) {
			return nil, fmt.Errorf("image %s: %q is not a reference by digest", name, r.String())
		}
		images[name] = r.String()
	}
	return images, nil
}

// LocalImage is the name a service image has in the local cluster (the orders
// chart's default repository, no registry), tagged with the commit.
func LocalImage(service, tag string) string { return "orders/" + service + ":" + tag }
