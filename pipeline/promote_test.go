package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go/middleware"

	"github.com/orders-platform/orders/test/awsstub"
)

// fakeECR is a registry behind the real ECR client: every call is built,
// serialized and signed by the SDK and answered at its deserialize step
// (test/awsstub) with the JSON the ECR API (awsJson1_1) sends, errors as
// {"__type": …}; layers are served over HTTP at the URLs GetDownloadUrlForLayer
// hands out, as ECR presigns them.
type fakeECR struct {
	mu        sync.Mutex
	manifests map[string]map[string]fakeManifest // repository → digest → manifest
	tags      map[string]map[string]string       // repository → tag → digest
	layers    map[string]map[string]bool         // repository → blob digest
	blobs     map[string][]byte                  // blob digest → bytes
	scans     map[string][]string                // manifest digest → statuses, one per call, the last repeated
	uploads   map[string][]byte                  // upload id → bytes so far
	calls     []string
	server    *httptest.Server
}

type fakeManifest struct{ body, mediaType string }

func newFakeECR(t *testing.T) *fakeECR {
	f := &fakeECR{manifests: map[string]map[string]fakeManifest{}, tags: map[string]map[string]string{}, layers: map[string]map[string]bool{},
		blobs: map[string][]byte{}, scans: map[string][]string{}, uploads: map[string][]byte{}}
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		b, ok := f.blobs[strings.TrimPrefix(r.URL.Path, "/blobs/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(f.server.Close)
	return f
}

// push stores an image (an index of two platform images, their configs and
// layers) in repo under tag, as a publish would, and returns the index digest.
func (f *fakeECR) push(repo, tag, seed string, scanned ...string) string {
	child := func(arch string) (string, fakeManifest) {
		cfg := []byte(`{"architecture":"` + arch + `","seed":"` + seed + `"}`)
		layer := []byte(strings.Repeat(seed+arch, 1000))
		f.blobs[sha256Digest(cfg)], f.blobs[sha256Digest(layer)] = cfg, layer
		f.layer(repo, sha256Digest(cfg))
		f.layer(repo, sha256Digest(layer))
		body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":%q},"layers":[{"digest":%q}]}`, sha256Digest(cfg), sha256Digest(layer))
		return sha256Digest([]byte(body)), fakeManifest{body: body, mediaType: "application/vnd.oci.image.manifest.v1+json"}
	}
	amd, amdM := child("amd64")
	arm, armM := child("arm64")
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":%q,"platform":{"os":"linux","architecture":"amd64"}},{"digest":%q,"platform":{"os":"linux","architecture":"arm64"}}]}`, amd, arm)
	d := sha256Digest([]byte(index))
	f.store(repo, amd, amdM)
	f.store(repo, arm, armM)
	f.store(repo, d, fakeManifest{body: index, mediaType: "application/vnd.oci.image.index.v1+json"})
	f.tag(repo, tag, d)
	for _, c := range []string{amd, arm} {
		f.scans[c] = scanned
	}
	return d
}

func (f *fakeECR) store(repo, digest string, m fakeManifest) {
	if f.manifests[repo] == nil {
		f.manifests[repo] = map[string]fakeManifest{}
	}
	f.manifests[repo][digest] = m
}

func (f *fakeECR) tag(repo, tag, digest string) {
	if f.tags[repo] == nil {
		f.tags[repo] = map[string]string{}
	}
	f.tags[repo][tag] = digest
}

func (f *fakeECR) layer(repo, digest string) {
	if f.layers[repo] == nil {
		f.layers[repo] = map[string]bool{}
	}
	f.layers[repo][digest] = true
}

func ecrError(typ, msg string) (int, http.Header, string) {
	return 400, http.Header{"X-Amzn-Errortype": {typ}}, fmt.Sprintf(`{"__type":%q,"message":%q}`, typ, msg)
}

func (f *fakeECR) answer(c awsstub.Call) (int, http.Header, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c.Operation)
	ok := func(v any) (int, http.Header, string) {
		b, _ := json.Marshal(v)
		return 200, http.Header{"Content-Type": {"application/x-amz-json-1.1"}}, string(b)
	}
	switch in := c.Input.(type) {
	case *ecr.DescribeImagesInput:
		repo := aws.ToString(in.RepositoryName)
		d := aws.ToString(in.ImageIds[0].ImageDigest)
		if t := aws.ToString(in.ImageIds[0].ImageTag); t != "" {
			d = f.tags[repo][t]
		}
		if _, found := f.manifests[repo][d]; !found {
			return ecrError("ImageNotFoundException", "The image requested does not exist in the specified repository.")
		}
		return ok(map[string]any{"imageDetails": []any{map[string]any{"imageDigest": d, "repositoryName": repo}}})
	case *ecr.BatchGetImageInput:
		repo, d := aws.ToString(in.RepositoryName), aws.ToString(in.ImageIds[0].ImageDigest)
		m, found := f.manifests[repo][d]
		if !found {
			return ok(map[string]any{"images": []any{}, "failures": []any{map[string]any{"failureCode": "ImageNotFound", "failureReason": "Requested image not found", "imageId": map[string]any{"imageDigest": d}}}})
		}
		return ok(map[string]any{"images": []any{map[string]any{"imageManifest": m.body, "imageManifestMediaType": m.mediaType, "imageId": map[string]any{"imageDigest": d}, "repositoryName": repo}}})
	case *ecr.DescribeImageScanFindingsInput:
		d := aws.ToString(in.ImageId.ImageDigest)
		s := f.scans[d]
		if len(s) == 0 {
			return ecrError("ScanNotFoundException", "Image scan does not exist for the image")
		}
		status := s[0]
		if len(s) > 1 {
			f.scans[d] = s[1:]
		}
		return ok(map[string]any{"imageScanStatus": map[string]any{"status": status, "description": "The scan was " + strings.ToLower(status)}, "imageScanFindings": map[string]any{"findingSeverityCounts": map[string]int{"LOW": 2}}})
	case *ecr.BatchCheckLayerAvailabilityInput:
		var layers []any
		for _, d := range in.LayerDigests {
			avail := "UNAVAILABLE"
			if f.layers[aws.ToString(in.RepositoryName)][d] {
				avail = "AVAILABLE"
			}
			layers = append(layers, map[string]any{"layerDigest": d, "layerAvailability": avail})
		}
		return ok(map[string]any{"layers": layers})
	case *ecr.GetDownloadUrlForLayerInput:
		d := aws.ToString(in.LayerDigest)
		if !f.layers[aws.ToString(in.RepositoryName)][d] {
			return ecrError("LayersNotFoundException", "layer not found")
		}
		return ok(map[string]any{"downloadUrl": f.server.URL + "/blobs/" + d, "layerDigest": d})
	case *ecr.InitiateLayerUploadInput:
		id := fmt.Sprintf("upload-%d", len(f.uploads))
		f.uploads[id] = nil
		return ok(map[string]any{"uploadId": id, "partSize": uploadPart})
	case *ecr.UploadLayerPartInput:
		id := aws.ToString(in.UploadId)
		if int64(len(f.uploads[id])) != aws.ToInt64(in.PartFirstByte) {
			return ecrError("InvalidLayerPartException", "part out of order")
		}
		f.uploads[id] = append(f.uploads[id], in.LayerPartBlob...)
		return ok(map[string]any{"uploadId": id, "lastByteReceived": len(f.uploads[id]) - 1})
	case *ecr.CompleteLayerUploadInput:
		id, d := aws.ToString(in.UploadId), in.LayerDigests[0]
		if sha256Digest(f.uploads[id]) != d {
			return ecrError("LayerPartTooSmallException", "digest mismatch")
		}
		f.layer(aws.ToString(in.RepositoryName), d)
		return ok(map[string]any{"layerDigest": d, "uploadId": id})
	case *ecr.PutImageInput:
		repo, d := aws.ToString(in.RepositoryName), aws.ToString(in.ImageDigest)
		body := aws.ToString(in.ImageManifest)
		if sha256Digest([]byte(body)) != d {
			return ecrError("ImageDigestDoesNotMatchException", "digest mismatch")
		}
		var m manifest
		_ = json.Unmarshal([]byte(body), &m)
		for _, c := range m.Manifests {
			if _, found := f.manifests[repo][c.Digest]; !found {
				return ecrError("ReferencedImagesNotFoundException", "child missing")
			}
		}
		if m.Config != nil && !f.layers[repo][m.Config.Digest] {
			return ecrError("LayersNotFoundException", "config missing")
		}
		if t := aws.ToString(in.ImageTag); t != "" {
			if old, found := f.tags[repo][t]; found {
				if old == d {
					return ecrError("ImageAlreadyExistsException", "already exists")
				}
				return ecrError("ImageTagAlreadyExistsException", "tag is immutable")
			}
			f.tag(repo, t, d)
		}
		f.store(repo, d, fakeManifest{body: body, mediaType: aws.ToString(in.ImageManifestMediaType)})
		return ok(map[string]any{"image": map[string]any{"repositoryName": repo, "imageId": map[string]any{"imageDigest": d}}})
	}
	return ecrError("InvalidParameterException", "unexpected call "+c.Operation)
}

func (f *fakeECR) client() *ecr.Client {
	cfg := aws.Config{Region: "eu-central-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	return ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return awsstub.CallResponder(f.answer)(s) })
	})
}

func (f *fakeECR) promoter() Promoter {
	return Promoter{ECR: f.client(), HTTP: f.server.Client(), ScanWait: time.Second, Poll: time.Millisecond}
}

// The path of a release through dev and prod: publish put each image once into
// dev's repositories; dev deploys them where they are; prod copies exactly
// those digests into its own repositories (nothing built) and deploys them.
func TestPromotionProdDeploysDevsDigests(t *testing.T) {
	f := newFakeECR(t)
	dev, prod := map[string]string{}, map[string]string{}
	release := Release{}
	for _, name := range Images {
		dev[name], prod[name] = registry+"/orders-dev/"+name, registry+"/orders-prod/"+name
		d := f.push("orders-dev/"+name, commit, name, "COMPLETE")
		release[name] = ImageRef{Repository: dev[name], Digest: d}
	}
	parsed, err := ParseRelease(release.String())
	if err != nil || parsed.String() != release.String() {
		t.Fatalf("release %q does not read back: %v", release, err)
	}
	p := f.promoter()
	ctx := context.Background()

	devRefs, err := p.Resolve(ctx, parsed, dev, Images, commit)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.calls {
		if c == "PutImage" || c == "InitiateLayerUpload" {
			t.Fatalf("dev's deploy wrote to the registry (%v): the release is already there", f.calls)
		}
	}
	prodRefs, err := p.Resolve(ctx, parsed, prod, Images, commit)
	if err != nil {
		t.Fatal(err)
	}
	devArgs, _ := ImageArgs(devRefs)
	prodArgs, _ := ImageArgs(prodRefs)
	for _, name := range Images {
		if devRefs[name].Digest != release[name].Digest || prodRefs[name].Digest != release[name].Digest {
			t.Errorf("%s: dev deploys %s, prod %s; the release says %s", name, devRefs[name].Digest, prodRefs[name].Digest, release[name].Digest)
		}
		if prodArgs[name] != prod[name]+"@"+release[name].Digest || devArgs[name] != dev[name]+"@"+release[name].Digest {
			t.Errorf("%s: deployer gets %s in prod, %s in dev", name, prodArgs[name], devArgs[name])
		}
		// The copy is byte for byte: manifests, configs and layers.
		for d, m := range f.manifests["orders-dev/"+name] {
			if f.manifests["orders-prod/"+name][d] != m {
				t.Errorf("%s: manifest %s differs or is missing in prod", name, d)
			}
		}
		if f.tags["orders-prod/"+name][commit] != release[name].Digest {
			t.Errorf("%s: prod's tag %s names %s", name, commit, f.tags["orders-prod/"+name][commit])
		}
	}
	// A rerun of prod's deploy (the tag exists, same digest) copies nothing new and succeeds.
	if _, err := p.Resolve(ctx, parsed, prod, Images, commit); err != nil {
		t.Errorf("rerun: %v", err)
	}
}

func TestPromotionRefusals(t *testing.T) {
	ctx := context.Background()
	unknown := "sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		name  string
		setup func(f *fakeECR) (Release, map[string]string)
		want  string
	}{
		{"a digest that is not in the registry", func(f *fakeECR) (Release, map[string]string) {
			f.push("orders-dev/service1", commit, "a", "COMPLETE")
			return Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: unknown}}, map[string]string{"service1": registry + "/orders-prod/service1"}
		}, "deploy refused: service1 " + unknown + " is not in " + registry + "/orders-dev/service1 (never published there, or expired)"},
		{"a digest never scanned", func(f *fakeECR) (Release, map[string]string) {
			d := f.push("orders-dev/service1", commit, "a")
			return Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: d}}, map[string]string{"service1": registry + "/orders-prod/service1"}
		}, "was never scanned"},
		{"a scan that failed", func(f *fakeECR) (Release, map[string]string) {
			d := f.push("orders-dev/service1", commit, "a", "FAILED")
			return Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: d}}, map[string]string{"service1": registry + "/orders-prod/service1"}
		}, `has no completed scan (status "FAILED"`},
		{"a scan that never finishes", func(f *fakeECR) (Release, map[string]string) {
			d := f.push("orders-dev/service1", commit, "a", "IN_PROGRESS")
			return Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: d}}, map[string]string{"service1": registry + "/orders-prod/service1"}
		}, "its scan is still IN_PROGRESS"},
		{"an image the release lacks is never built", func(f *fakeECR) (Release, map[string]string) {
			d := f.push("orders-dev/service1", commit, "a", "COMPLETE")
			return Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: d}}, map[string]string{"service1": registry + "/orders-prod/service1", "backup": registry + "/orders-prod/backup"}
		}, "the release names no digest for backup"},
		{"prod's tag names another build", func(f *fakeECR) (Release, map[string]string) {
			d := f.push("orders-dev/service1", commit, "a", "COMPLETE")
			f.push("orders-prod/service1", commit, "other", "COMPLETE")
			return Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: d}}, map[string]string{"service1": registry + "/orders-prod/service1"}
		}, "exists with digest"},
		{"another account's registry", func(f *fakeECR) (Release, map[string]string) {
			d := f.push("orders-dev/service1", commit, "a", "COMPLETE")
			return Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: d}}, map[string]string{"service1": "210987654321.dkr.ecr.eu-central-1.amazonaws.com/orders-prod/service1"}
		}, "promotion copies within one account and region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeECR(t)
			release, repos := tc.setup(f)
			var names []string
			for n := range repos {
				names = append(names, n)
			}
			if len(names) > 1 {
				names = []string{"service1", "backup"}
			}
			_, err := f.promoter().Resolve(ctx, release, repos, names, commit)
			var r *RefusedError
			if !errors.As(err, &r) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want a one-line refusal containing %q", err, tc.want)
			}
			t.Log(err)
			for _, c := range f.calls {
				if c == "PutImage" || c == "InitiateLayerUpload" || c == "UploadLayerPart" {
					t.Errorf("a refused deploy wrote to the registry (%s)", c)
				}
			}
		})
	}
}

// A scan still in progress right after the push is waited for.
func TestPromotionWaitsForTheScan(t *testing.T) {
	f := newFakeECR(t)
	d := f.push("orders-dev/service1", commit, "a", "PENDING", "IN_PROGRESS", "COMPLETE")
	refs, err := f.promoter().Resolve(context.Background(), Release{"service1": {Repository: registry + "/orders-dev/service1", Digest: d}},
		map[string]string{"service1": registry + "/orders-dev/service1"}, []string{"service1"}, commit)
	if err != nil || refs["service1"].Digest != d {
		t.Fatalf("%v %v", refs, err)
	}
}

func TestParseReleaseRefusals(t *testing.T) {
	for _, bad := range []string{
		"", "service1", "service1=" + registry + "/orders-dev/service1:" + commit, "nginx=" + registry + "/x@" + digest,
		"service1=" + registry + "/orders-dev/service1@" + digest + ",service1=" + registry + "/orders-dev/service1@" + digest,
		"service1=@" + digest,
	} {
		if _, err := ParseRelease(bad); err == nil {
			t.Errorf("ParseRelease(%q) accepted", bad)
		}
	}
}
