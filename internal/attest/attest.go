// Package attest verifies that a container image, by digest, carries Sigstore
// attestations made by one GitHub Actions workflow: the bundles actions/attest
// pushes next to the image as OCI referrers, each verified with sigstore-go
// against a trust root and an identity policy (certificate issuer and subject
// alternative name), and bound to the digest by its in-toto subject.
//
// The layout it reads is the one @sigstore/oci writes for actions/attest
// (sigstore/sigstore-js packages/oci/src/image.ts @ @sigstore/oci@0.7.2, used
// by actions/attest src/attest.ts @ v4.2.2): an OCI image manifest whose
// artifactType and only layer have the bundle's media type
// (application/vnd.dev.sigstore.bundle.v0.3+json), whose config is the empty
// descriptor and whose subject is the image. Registries without the referrers
// API get the same manifest listed in an index tagged sha256-<hex> (the OCI
// referrers tag schema); remote.Referrers reads both.
package attest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

const (
	// GitHubIssuer is the OIDC issuer of GitHub Actions' tokens, as Fulcio
	// writes it into the certificate.
	GitHubIssuer = "https://token.actions.githubusercontent.com"
	// BundleMediaType is the media type actions/attest gives the bundle it
	// pushes (the bundle's own mediaType, v0.3).
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// ProvenancePredicate is the predicate type of actions/attest's default
	// (build provenance) attestation (src/provenance.ts @ v4.2.2).
	ProvenancePredicate = "https://slsa.dev/provenance/v1"
	// CycloneDXPredicate is the predicate type of an SBOM attestation of a
	// CycloneDX document (src/sbom.ts @ v4.2.2).
	CycloneDXPredicate = "https://cyclonedx.org/bom"

	// emptyConfig is the config media type of an artifact manifest.
	emptyConfig = "application/vnd.oci.empty.v1+json"
	// bundlePrefix matches every bundle version's media type.
	bundlePrefix = "application/vnd.dev.sigstore.bundle"
	// maxBundle bounds what is read of one bundle (actions/attest caps a
	// predicate at 16 MB; the bundle adds the envelope and certificates).
	maxBundle = 32 << 20
)

// Identity is who must have signed: the certificate's OIDC issuer and
// subject alternative name, both matched exactly.
type Identity struct {
	Issuer string
	SAN    string
}

// GitHubWorkflow is the identity Fulcio certifies for a job of a workflow of
// repository (owner/name) run on ref: the SAN is the job's workflow ref,
// https://github.com/<owner>/<name>/<workflow>@<ref>.
func GitHubWorkflow(repository, workflow, ref string) (Identity, error) {
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || repo == "" || strings.ContainsAny(repo, "/@ ") || strings.ContainsAny(owner, "@ ") {
		return Identity{}, fmt.Errorf("attestation identity: repository %q is not <owner>/<name>", repository)
	}
	if !strings.HasPrefix(workflow, ".github/workflows/") || !strings.HasPrefix(ref, "refs/") {
		return Identity{}, fmt.Errorf("attestation identity: %q@%q is not a workflow file on a git ref", workflow, ref)
	}
	return Identity{Issuer: GitHubIssuer, SAN: "https://github.com/" + repository + "/" + workflow + "@" + ref}, nil
}

// Trust is the trust root and what a bundle must prove against it.
type Trust struct {
	Name     string // for messages, e.g. "Sigstore public-good"
	Material root.TrustedMaterial
	Options  []verify.VerifierOption
}

// PublicGood is the Sigstore public-good instance's trust root, fetched
// through its TUF repository (the root of trust embedded in sigstore-go,
// cached in cacheDir, or ~/.sigstore when empty), with what the public
// instance's bundles carry: an SCT in the certificate, a Rekor entry, and a
// time observed by the log or a timestamp authority (sigstore-go
// examples/sigstore-go-verification/main.go @ v1.3.0, its defaults).
// actions/attest signs with this instance for a public repository only; a
// private repository's attestations come from GitHub's own instance
// (src/main.ts @ v4.2.2), which this root refuses.
func PublicGood(ctx context.Context, cacheDir string) (Trust, error) {
	opts := tuf.DefaultOptions().WithContext(ctx)
	if cacheDir != "" {
		opts = opts.WithCachePath(cacheDir)
	}
	tr, err := root.FetchTrustedRootWithOptions(opts)
	if err != nil {
		return Trust{}, fmt.Errorf("Sigstore public-good trust root (TUF): %w", err)
	}
	return Trust{Name: "Sigstore public-good", Material: tr, Options: []verify.VerifierOption{
		verify.WithSignedCertificateTimestamps(1), verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1),
	}}, nil
}

// Verifier checks the attestations of image digests.
type Verifier struct {
	Trust    Trust
	Identity Identity
	// Require are the predicate types that must each have a valid bundle.
	Require []string
	// Remote are the registry options (authentication, transport).
	Remote []remote.Option
}

// Result is what a digest proved: for each verified predicate type, the
// digest of the referrer holding its bundle.
type Result struct {
	Ref      string
	Verified map[string]string
}

// RefusedError is a digest whose attestations do not satisfy the policy,
// with the reason in one line.
type RefusedError struct {
	Ref    string
	Reason string
}

func (e *RefusedError) Error() string { return e.Ref + ": " + e.Reason }

// Verify reads the Sigstore bundles that refer to ref (<repository>@sha256:…)
// and verifies each against the trust root, the identity and the digest. It
// returns a *RefusedError when a required predicate type has no valid bundle;
// any other error means the registry or a bundle could not be read.
func (v Verifier) Verify(ctx context.Context, ref string) (Result, error) {
	d, err := name.NewDigest(ref)
	if err != nil {
		return Result{}, fmt.Errorf("attestations of %q: not <repository>@sha256:<digest>: %w", ref, err)
	}
	hexDigest, ok := strings.CutPrefix(d.DigestStr(), "sha256:")
	sum, herr := hex.DecodeString(hexDigest)
	if !ok || herr != nil || len(sum) != 32 {
		return Result{}, fmt.Errorf("attestations of %s: only sha256 digests are verified", ref)
	}
	if v.Identity.Issuer == "" || v.Identity.SAN == "" || v.Trust.Material == nil {
		return Result{}, errors.New("attestation verifier: no identity or trust root")
	}
	opts := append(slices.Clone(v.Remote), remote.WithContext(ctx))
	idx, err := remote.Referrers(d, opts...)
	if err != nil {
		return Result{}, fmt.Errorf("list the referrers of %s: %w", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return Result{}, fmt.Errorf("referrers of %s: %w", ref, err)
	}
	var bundles []v1.Descriptor
	for _, m := range im.Manifests {
		// The distribution spec lists a referrer's artifactType as the
		// manifest's own; some registries give the config's media type
		// instead (go-containerregistry pkg/registry/manifest.go @ v0.22.1),
		// which for @sigstore/oci's manifests is the empty descriptor's.
		if strings.HasPrefix(m.ArtifactType, bundlePrefix) || m.ArtifactType == emptyConfig {
			bundles = append(bundles, m)
		}
	}
	if len(bundles) == 0 {
		return Result{}, &RefusedError{Ref: ref, Reason: fmt.Sprintf("unsigned: no Sigstore attestation refers to this digest (%s attests what it publishes)", v.Identity.SAN)}
	}
	verifier, err := verify.NewVerifier(v.Trust.Material, v.Trust.Options...)
	if err != nil {
		return Result{}, fmt.Errorf("attestation verifier: %w", err)
	}
	id, err := verify.NewShortCertificateIdentity(v.Identity.Issuer, "", v.Identity.SAN, "")
	if err != nil {
		return Result{}, fmt.Errorf("attestation identity: %w", err)
	}
	policy := verify.NewPolicy(verify.WithArtifactDigest("sha256", sum), verify.WithCertificateIdentity(id))
	res := Result{Ref: ref, Verified: map[string]string{}}
	var why []string
	for _, b := range bundles {
		short := b.Digest.Hex
		if len(short) > 12 {
			short = short[:12]
		}
		// A referrer that cannot be read or is no bundle fails only itself:
		// anyone who may push could add one, and must not hide a valid one.
		data, err := readBundle(d, b, opts)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		var bun bundle.Bundle
		if err := bun.UnmarshalJSON(data); err != nil {
			why = append(why, fmt.Sprintf("bundle %s: %v", short, err))
			continue
		}
		out, err := verifier.Verify(&bun, policy)
		if err != nil {
			why = append(why, fmt.Sprintf("bundle %s: %v", short, err))
			continue
		}
		res.Verified[out.Statement.GetPredicateType()] = b.Digest.String()
	}
	var missing []string
	for _, p := range v.Require {
		if _, ok := res.Verified[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		reason := fmt.Sprintf("no valid %s attestation by %s", strings.Join(missing, " or "), v.Identity.SAN)
		if len(why) > 0 {
			reason += " (" + strings.Join(why, "; ") + ")"
		}
		return res, &RefusedError{Ref: ref, Reason: oneLine(reason)}
	}
	return res, nil
}

// readBundle reads the bundle layer of one referrer manifest; the layer's
// bytes are checked against its digest as they are read.
func readBundle(subject name.Digest, desc v1.Descriptor, opts []remote.Option) ([]byte, error) {
	ref := subject.Context().Digest(desc.Digest.String())
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("read attestation %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read attestation %s: %w", ref, err)
	}
	if len(m.Layers) != 1 || !strings.HasPrefix(string(m.Layers[0].MediaType), bundlePrefix) {
		return nil, fmt.Errorf("attestation %s: want one layer of type %s, got %d layers", ref, BundleMediaType, len(m.Layers))
	}
	if m.Layers[0].Size > maxBundle {
		return nil, fmt.Errorf("attestation %s: bundle of %d bytes is larger than %d", ref, m.Layers[0].Size, maxBundle)
	}
	layer, err := img.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("read attestation %s: %w", ref, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, fmt.Errorf("read attestation %s: %w", ref, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxBundle+1))
	if err != nil {
		return nil, fmt.Errorf("read attestation %s: %w", ref, err)
	}
	return data, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
