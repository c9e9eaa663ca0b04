package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Build once, promote by digest: the build on main publishes each image once
// (publish), and every environment deploys exactly those digests. The
// environment that received them verifies them in place; any other copies them
// into its own repositories byte for byte (the same manifests, so the same
// digests) and never builds.

// Release is what one publish produced: each image by reference with digest.
type Release map[string]ImageRef

// String is the release as publish prints it and deploy --release takes it:
// name=<repository>@sha256:…, comma-separated, in the order of Images.
func (r Release) String() string {
	var parts []string
	for _, name := range Images {
		if ref, ok := r[name]; ok {
			parts = append(parts, name+"="+ref.String())
		}
	}
	return strings.Join(parts, ",")
}

// ParseRelease reads a release; every entry must be a known image by digest,
// each image once.
func ParseRelease(s string) (Release, error) {
	r := Release{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		name, ref, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("--release: %q is not <image>=<repository>@sha256:<digest>", part)
		}
		if err := CheckImage(name); err != nil {
			return nil, fmt.Errorf("--release: %w", err)
		}
		repo, digest, ok := strings.Cut(ref, "@")
		if !ok || repo == "" || !digestRe.MatchString(digest) {
			return nil, fmt.Errorf("--release: %s=%q is not <repository>@sha256:<64 hex>", name, ref)
		}
		if _, dup := r[name]; dup {
			return nil, fmt.Errorf("--release names %s twice", name)
		}
		r[name] = ImageRef{Repository: repo, Digest: digest}
	}
	return r, nil
}

// ECRPromoteAPI is the part of the ECR client that verifies and copies images.
type ECRPromoteAPI interface {
	ECRImagesAPI
	DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
	BatchGetImage(ctx context.Context, in *ecr.BatchGetImageInput, optFns ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error)
	BatchCheckLayerAvailability(ctx context.Context, in *ecr.BatchCheckLayerAvailabilityInput, optFns ...func(*ecr.Options)) (*ecr.BatchCheckLayerAvailabilityOutput, error)
	GetDownloadUrlForLayer(ctx context.Context, in *ecr.GetDownloadUrlForLayerInput, optFns ...func(*ecr.Options)) (*ecr.GetDownloadUrlForLayerOutput, error)
	InitiateLayerUpload(ctx context.Context, in *ecr.InitiateLayerUploadInput, optFns ...func(*ecr.Options)) (*ecr.InitiateLayerUploadOutput, error)
	UploadLayerPart(ctx context.Context, in *ecr.UploadLayerPartInput, optFns ...func(*ecr.Options)) (*ecr.UploadLayerPartOutput, error)
	CompleteLayerUpload(ctx context.Context, in *ecr.CompleteLayerUploadInput, optFns ...func(*ecr.Options)) (*ecr.CompleteLayerUploadOutput, error)
	PutImage(ctx context.Context, in *ecr.PutImageInput, optFns ...func(*ecr.Options)) (*ecr.PutImageOutput, error)
}

// Promoter verifies a release's images and copies them between repositories of
// one registry.
type Promoter struct {
	ECR ECRPromoteAPI
	// HTTP downloads layers from the URLs ECR presigns (GetDownloadUrlForLayer).
	HTTP *http.Client
	// ScanWait is how long a scan still in progress is waited for; Poll how often.
	ScanWait, Poll time.Duration
	Log            func(format string, args ...any)
}

// RefusedError is a deploy refused before anything changed, with its reason.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "deploy refused: " + e.Reason }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// Manifest media types ECR is asked to return as stored (a type it is not
// offered it may convert, and the digest would change).
var manifestTypes = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// manifest is the part of an image index or manifest the promotion reads.
type manifest struct {
	MediaType string `json:"mediaType"`
	Manifests []struct {
		Digest   string `json:"digest"`
		Platform *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
		} `json:"platform"`
	} `json:"manifests"`
	Config *struct {
		Digest string `json:"digest"`
	} `json:"config"`
	Layers []struct {
		Digest string `json:"digest"`
	} `json:"layers"`
}

// stored is a manifest as ECR holds it: its bytes, media type and digest.
type stored struct {
	body, mediaType, digest string
	parsed                  manifest
}

// get reads a manifest by digest from a repository and checks its bytes are
// that digest.
func (p Promoter) get(ctx context.Context, repository, digest string) (stored, error) {
	out, err := p.ECR.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RepositoryName:     &repository,
		ImageIds:           []ecrtypes.ImageIdentifier{{ImageDigest: &digest}},
		AcceptedMediaTypes: manifestTypes,
	})
	if err != nil {
		return stored{}, fmt.Errorf("read %s@%s: %w", repository, digest, err)
	}
	if len(out.Images) != 1 {
		reason := "no image"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].FailureReason)
		}
		return stored{}, refused("%s@%s is not in the registry (%s)", repository, digest, reason)
	}
	img := out.Images[0]
	body := aws.ToString(img.ImageManifest)
	if got := sha256Digest([]byte(body)); got != digest {
		return stored{}, fmt.Errorf("%s@%s: the registry returned a manifest whose digest is %s", repository, digest, got)
	}
	s := stored{body: body, mediaType: aws.ToString(img.ImageManifestMediaType), digest: digest}
	if err := json.Unmarshal([]byte(body), &s.parsed); err != nil {
		return stored{}, fmt.Errorf("%s@%s: manifest: %w", repository, digest, err)
	}
	if s.mediaType == "" {
		s.mediaType = s.parsed.MediaType
	}
	return s, nil
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// platformImages are the image manifests of an index that run somewhere (not
// attestation manifests, whose platform is unknown/unknown), or the manifest itself.
func (s stored) platformImages() []string {
	if len(s.parsed.Manifests) == 0 {
		return []string{s.digest}
	}
	var out []string
	for _, m := range s.parsed.Manifests {
		if m.Platform == nil || m.Platform.OS != "unknown" {
			out = append(out, m.Digest)
		}
	}
	return out
}

// Verify refuses an image that is not in its repository, or whose platform
// images the registry never scanned (scan on push); a scan in progress is
// waited for up to ScanWait.
func (p Promoter) Verify(ctx context.Context, name string, ref ImageRef) error {
	repo, err := RepositoryName(ref.Repository)
	if err != nil {
		return err
	}
	_, err = p.ECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: &repo, ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: &ref.Digest}}})
	var notFound *ecrtypes.ImageNotFoundException
	if errors.As(err, &notFound) {
		return refused("%s %s is not in %s (never published there, or expired)", name, ref.Digest, ref.Repository)
	}
	if err != nil {
		return fmt.Errorf("look up %s in ECR: %w", ref, err)
	}
	idx, err := p.get(ctx, repo, ref.Digest)
	if err != nil {
		return err
	}
	for _, d := range idx.platformImages() {
		if err := p.scanned(ctx, name, repo, d); err != nil {
			return err
		}
	}
	return nil
}

func (p Promoter) scanned(ctx context.Context, name, repo, digest string) error {
	deadline := time.Now().Add(p.ScanWait)
	for {
		out, err := p.ECR.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: &repo, ImageId: &ecrtypes.ImageIdentifier{ImageDigest: &digest}})
		var none *ecrtypes.ScanNotFoundException
		if errors.As(err, &none) {
			return refused("%s %s (in %s) was never scanned", name, digest, repo)
		}
		if err != nil {
			return fmt.Errorf("scan of %s@%s: %w", repo, digest, err)
		}
		var status ecrtypes.ScanStatus
		var why string
		if out.ImageScanStatus != nil {
			status, why = out.ImageScanStatus.Status, aws.ToString(out.ImageScanStatus.Description)
		}
		switch status {
		case ecrtypes.ScanStatusComplete, ecrtypes.ScanStatusActive:
			if p.Log != nil && out.ImageScanFindings != nil {
				p.Log("%s %s: scanned by ECR, findings by severity %v", name, digest, out.ImageScanFindings.FindingSeverityCounts)
			}
			return nil
		case ecrtypes.ScanStatusInProgress, ecrtypes.ScanStatusPending:
			if time.Now().After(deadline) {
				return refused("%s %s (in %s): its scan is still %s after %s", name, digest, repo, status, p.ScanWait)
			}
			if p.Log != nil {
				p.Log("%s %s: scan %s, waiting", name, digest, status)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(p.Poll):
			}
		default:
			return refused("%s %s (in %s) has no completed scan (status %q: %s)", name, digest, repo, status, why)
		}
	}
}

// Promote copies an image (an index with its platform images, or one image)
// into repositoryURL of the same registry, byte for byte, and tags it: the
// copy has the source's digest. A tag that exists already must name that digest.
func (p Promoter) Promote(ctx context.Context, src ImageRef, repositoryURL, tag string) (ImageRef, error) {
	srcHost, srcRepo, _ := strings.Cut(src.Repository, "/")
	dstHost, dstRepo, ok := strings.Cut(repositoryURL, "/")
	if !ok || srcHost != dstHost {
		return ImageRef{}, refused("%s is in registry %s, the environment's is %s: promotion copies within one account and region", src, srcHost, dstHost)
	}
	// A rerun finds its copy; another build under the tag is refused before anything is written.
	if out, err := p.ECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: &dstRepo, ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: &tag}}}); err == nil && len(out.ImageDetails) == 1 {
		if d := aws.ToString(out.ImageDetails[0].ImageDigest); d != src.Digest {
			return ImageRef{}, refused("%s:%s exists with digest %s, not %s (tags are immutable: that commit was deployed from another build)", dstRepo, tag, d, src.Digest)
		}
		return ImageRef{Repository: repositoryURL, Tag: tag, Digest: src.Digest}, nil
	}
	idx, err := p.get(ctx, srcRepo, src.Digest)
	if err != nil {
		return ImageRef{}, err
	}
	// An index: its platform (and attestation) images go first; a single image: itself.
	images, children := []stored{idx}, []stored(nil)
	for _, m := range idx.parsed.Manifests {
		c, err := p.get(ctx, srcRepo, m.Digest)
		if err != nil {
			return ImageRef{}, err
		}
		children = append(children, c)
	}
	if len(children) > 0 {
		images = children
	}
	for _, img := range images {
		if err := p.copyBlobs(ctx, srcRepo, dstRepo, img); err != nil {
			return ImageRef{}, err
		}
	}
	for _, c := range children {
		if err := p.put(ctx, dstRepo, c, ""); err != nil {
			return ImageRef{}, err
		}
	}
	if err := p.put(ctx, dstRepo, idx, tag); err != nil {
		return ImageRef{}, err
	}
	return ImageRef{Repository: repositoryURL, Tag: tag, Digest: src.Digest}, nil
}

// put stores a manifest under its digest (and a tag); the same digest already
// under that tag is success, another one a refusal (tags are immutable).
func (p Promoter) put(ctx context.Context, repo string, m stored, tag string) error {
	in := &ecr.PutImageInput{RepositoryName: &repo, ImageManifest: &m.body, ImageManifestMediaType: &m.mediaType, ImageDigest: &m.digest}
	if tag != "" {
		in.ImageTag = &tag
	}
	_, err := p.ECR.PutImage(ctx, in)
	var exists *ecrtypes.ImageAlreadyExistsException
	var tagged *ecrtypes.ImageTagAlreadyExistsException
	switch {
	case errors.As(err, &exists):
		return nil
	case errors.As(err, &tagged):
		out, derr := p.ECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: &repo, ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: &tag}}})
		if derr == nil && len(out.ImageDetails) == 1 && aws.ToString(out.ImageDetails[0].ImageDigest) == m.digest {
			return nil
		}
		return refused("%s:%s exists with another digest than %s (tags are immutable: that commit was deployed from another build)", repo, tag, m.digest)
	case err != nil:
		return fmt.Errorf("put %s@%s: %w", repo, m.digest, err)
	}
	return nil
}

// copyBlobs uploads the config and layers of an image that the target
// repository does not have, each checked against its digest.
func (p Promoter) copyBlobs(ctx context.Context, src, dst string, img stored) error {
	var digests []string
	if img.parsed.Config != nil {
		digests = append(digests, img.parsed.Config.Digest)
	}
	for _, l := range img.parsed.Layers {
		if !slices.Contains(digests, l.Digest) {
			digests = append(digests, l.Digest)
		}
	}
	if len(digests) == 0 {
		return fmt.Errorf("%s@%s has no config or layers", src, img.digest)
	}
	have, err := p.ECR.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: &dst, LayerDigests: digests})
	if err != nil {
		return fmt.Errorf("check the layers of %s in %s: %w", img.digest, dst, err)
	}
	present := map[string]bool{}
	for _, l := range have.Layers {
		if l.LayerAvailability == ecrtypes.LayerAvailabilityAvailable {
			present[aws.ToString(l.LayerDigest)] = true
		}
	}
	for _, d := range digests {
		if present[d] {
			continue
		}
		if err := p.copyBlob(ctx, src, dst, d); err != nil {
			return err
		}
	}
	return nil
}

// uploadPart is the size of the parts a layer is uploaded in (ECR's parts are
// at least 5 MiB but the last).
const uploadPart = 10 << 20

func (p Promoter) copyBlob(ctx context.Context, src, dst, digest string) error {
	url, err := p.ECR.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: &src, LayerDigest: &digest})
	if err != nil {
		return fmt.Errorf("layer %s of %s: %w", digest, src, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, aws.ToString(url.DownloadUrl), nil)
	if err != nil {
		return err
	}
	client := p.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download layer %s of %s: %w", digest, src, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("download layer %s of %s: HTTP %d", digest, src, res.StatusCode)
	}
	blob, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("download layer %s of %s: %w", digest, src, err)
	}
	if got := sha256Digest(blob); got != digest {
		return fmt.Errorf("layer %s of %s: downloaded bytes have digest %s", digest, src, got)
	}
	up, err := p.ECR.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: &dst})
	if err != nil {
		return fmt.Errorf("upload layer %s to %s: %w", digest, dst, err)
	}
	for first := 0; first < len(blob); first += uploadPart {
		last := min(first+uploadPart, len(blob))
		_, err := p.ECR.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{
			RepositoryName: &dst, UploadId: up.UploadId, LayerPartBlob: blob[first:last],
			PartFirstByte: aws.Int64(int64(first)), PartLastByte: aws.Int64(int64(last - 1)),
		})
		if err != nil {
			return fmt.Errorf("upload layer %s to %s: %w", digest, dst, err)
		}
	}
	_, err = p.ECR.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: &dst, UploadId: up.UploadId, LayerDigests: []string{digest}})
	var exists *ecrtypes.LayerAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("complete layer %s in %s: %w", digest, dst, err)
	}
	return nil
}

// Resolve gives each named image of the release as the environment runs it:
// verified (in the registry, scanned) where the release put it and, when that
// is not the environment's repository, promoted into it under tag. An image
// the release lacks is refused: a deploy with a release never builds. Every
// image is verified before any is copied, so a refusal changes nothing.
func (p Promoter) Resolve(ctx context.Context, release Release, repos map[string]string, names []string, tag string) (map[string]ImageRef, error) {
	for _, name := range names {
		src, ok := release[name]
		if !ok {
			return nil, refused("the release names no digest for %s (it has %s)", name, release)
		}
		if err := p.Verify(ctx, name, src); err != nil {
			return nil, err
		}
	}
	out := map[string]ImageRef{}
	for _, name := range names {
		src := release[name]
		if src.Repository == repos[name] {
			src.Tag = tag
			out[name] = src
			continue
		}
		if p.Log != nil {
			p.Log("promote %s %s -> %s:%s", name, src, repos[name], tag)
		}
		ref, err := p.Promote(ctx, src, repos[name], tag)
		if err != nil {
			return nil, err
		}
		out[name] = ref
	}
	return out, nil
}
