// Package attestations gives tests a real OCI registry in process (with the
// login ECR asks for) and attestations made by sigstore-go's own test
// Sigstore (pkg/testing/ca VirtualSigstore: a Fulcio CA, a Rekor log and a
// timestamp authority whose keys live in the test), pushed next to an image
// the way actions/attest pushes them. Nothing here is used outside tests.
package attestations

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"google.golang.org/protobuf/proto"

	"github.com/orders-platform/orders/internal/attest"
)

// Login is what the test registry accepts (ECR's: user AWS and a password).
var Login = authn.Basic{Username: "AWS", Password: "test-ecr-password"}

// Registry is an OCI registry served in process.
type Registry struct {
	Host string // host:port
}

// NewRegistry starts go-containerregistry's registry behind Basic
// authentication (ECR answers an anonymous request with 401 and a Basic
// challenge). referrersAPI false serves no referrers API, so clients must
// use the referrers tag schema.
func NewRegistry(t *testing.T, referrersAPI bool) *Registry {
	t.Helper()
	reg := registry.New(registry.WithReferrersSupport(referrersAPI), registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != Login.Username || p != Login.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+"http://"+r.Host+`/",service="ecr.amazonaws.com"`)
			http.Error(w, `{"errors":[{"code":"DENIED","message":"Not Authorized"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &Registry{Host: strings.TrimPrefix(srv.URL, "http://")}
}

// Options are the remote options that reach the registry with the login.
func (r *Registry) Options() []remote.Option {
	return []remote.Option{remote.WithAuth(&Login)}
}

// PushImage pushes a random image to repository:tag and returns it as
// <host>/<repository>@sha256:….
func (r *Registry) PushImage(t *testing.T, repository, tag string) string {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(r.Host + "/" + repository + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, r.Options()...); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return r.Host + "/" + repository + "@" + d.String()
}

// Statement is an in-toto statement about one subject, as actions/attest
// writes it (@actions/attest: subject name and sha256).
func Statement(subjectName, digest, predicateType string) []byte {
	s := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": subjectName, "digest": map[string]string{"sha256": strings.TrimPrefix(digest, "sha256:")}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	}
	b, _ := json.Marshal(s)
	return b
}

// Bundle signs statement as identity (the certificate's SAN) of issuer with
// the test Sigstore and returns it as a v0.3 bundle in its JSON form: the
// leaf certificate, a Rekor entry with its inclusion promise and proof, and
// an RFC 3161 timestamp, as the public-good instance returns them.
func Bundle(t *testing.T, vs *ca.VirtualSigstore, identity, issuer string, statement []byte) []byte {
	t.Helper()
	integrated := time.Now().Add(5 * time.Minute) // inside the leaf's validity (ca.Attest)
	e, err := vs.AttestAtTime(identity, issuer, statement, integrated, true)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := e.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	leaf := vc.Certificate()
	sc, err := e.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.(*bundle.Envelope).Envelope
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []*protodsse.Signature
	for _, s := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, &protodsse.Signature{Sig: raw, Keyid: s.KeyID})
	}
	entries, err := e.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	var tles []*protorekor.TransparencyLogEntry
	for _, entry := range entries {
		tles = append(tles, withPromise(t, vs, entry))
	}
	stamps, err := e.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	var rfc3161 []*protocommon.RFC3161SignedTimestamp
	for _, s := range stamps {
		rfc3161 = append(rfc3161, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: s})
	}
	pb := &protobundle.Bundle{
		MediaType: attest.BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leafDER(leaf)}},
			TlogEntries:               tles,
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: rfc3161},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{Payload: payload, PayloadType: env.PayloadType, Signatures: sigs}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func leafDER(c *x509.Certificate) []byte { return c.Raw }

// withPromise completes a test log entry as Rekor v1 returns it: kind and
// version, and the signed entry timestamp (the inclusion promise) over the
// entry, signed by the test log's key.
func withPromise(t *testing.T, vs *ca.VirtualSigstore, entry *tlog.Entry) *protorekor.TransparencyLogEntry {
	t.Helper()
	tle := entry.TransparencyLogEntry()
	logID, err := vs.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	set, err := vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          logID,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := proto.Clone(tle).(*protorekor.TransparencyLogEntry)
	out.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	out.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return out
}

// PushBundle attaches a bundle to the image ref (<host>/<repository>@sha256:…)
// as @sigstore/oci attaches it (packages/oci/src/image.ts @ @sigstore/oci@0.7.2):
// an OCI manifest with artifactType and one layer of the bundle's media type,
// the empty config ({}), the image as subject, the predicate type annotated.
// Without the referrers API it also writes the index tagged sha256-<hex>.
func (r *Registry) PushBundle(t *testing.T, ref string, bundleJSON []byte, predicateType string, referrersAPI bool) {
	t.Helper()
	subject, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(subject, r.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	repo := subject.Context()
	layer := static.NewLayer(bundleJSON, types.MediaType(attest.BundleMediaType))
	empty := static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")
	for _, l := range []v1.Layer{layer, empty} {
		if err := remote.WriteLayer(repo, l, r.Options()...); err != nil {
			t.Fatal(err)
		}
	}
	ld, _ := layer.Digest()
	ed, _ := empty.Digest()
	annotations := map[string]string{
		"org.opencontainers.image.created":  time.Now().UTC().Format(time.RFC3339),
		"dev.sigstore.bundle.content":       "dsse-envelope",
		"dev.sigstore.bundle.predicateType": predicateType,
	}
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     string(types.OCIManifestSchema1),
		"artifactType":  attest.BundleMediaType,
		"config":        map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": ed.String(), "size": 2},
		"layers":        []any{map[string]any{"mediaType": attest.BundleMediaType, "digest": ld.String(), "size": len(bundleJSON)}},
		"subject":       map[string]any{"mediaType": string(desc.MediaType), "digest": desc.Digest.String(), "size": desc.Size},
		"annotations":   annotations,
	}
	raw, _ := json.Marshal(manifest)
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(repo.Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}, r.Options()...); err != nil {
		t.Fatal(err)
	}
	if referrersAPI {
		return
	}
	tag := repo.Tag(strings.Replace(subject.DigestStr(), ":", "-", 1))
	index := map[string]any{"schemaVersion": 2, "mediaType": string(types.OCIImageIndex), "manifests": []any{}}
	if existing, err := remote.Get(tag, r.Options()...); err == nil {
		if err := json.Unmarshal(existing.Manifest, &index); err != nil {
			t.Fatal(err)
		}
	}
	index["manifests"] = append(index["manifests"].([]any), map[string]any{
		"mediaType": string(types.OCIManifestSchema1), "digest": h.String(), "size": size,
		"artifactType": attest.BundleMediaType, "annotations": annotations,
	})
	rawIndex, _ := json.Marshal(index)
	if err := remote.Put(tag, rawManifest{rawIndex, types.OCIImageIndex}, r.Options()...); err != nil {
		t.Fatal(err)
	}
}

type rawManifest struct {
	body      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// Trust is a test Sigstore as the trust root, with what its bundles carry
// (no SCTs: VirtualSigstore's certificates have none).
func Trust(vs *ca.VirtualSigstore) attest.Trust {
	return attest.Trust{Name: "test Sigstore", Material: vs, Options: []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}}
}
