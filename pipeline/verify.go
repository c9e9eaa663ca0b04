package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/orders-platform/orders/internal/attest"
	"github.com/orders-platform/orders/internal/tfvars"
)

// What attests the images publish pushes: deploy.yml's build job, run on
// main, with actions/attest (a provenance and a CycloneDX SBOM attestation
// per image, pushed next to it in ECR). Its certificate's SAN is this
// workflow file on this ref of the repository the bootstrap names.
const (
	AttestingWorkflow = ".github/workflows/deploy.yml"
	AttestingRef      = "refs/heads/main"
)

// RequiredAttestations are the predicate types every verified digest needs.
var RequiredAttestations = []string{attest.ProvenancePredicate, attest.CycloneDXPredicate}

// SupplyChain is the attestation policy of one environment.
type SupplyChain struct {
	Env      string
	Identity attest.Identity
	// Enforce refuses a digest whose attestations do not verify; otherwise
	// the deploy goes on with a warning naming the image and the reason.
	Enforce bool
}

// SupplyChainPolicy is environment env's policy: the identity is the
// attesting workflow of repository (terraform/bootstrap github_repository,
// the repository the GitHub roles trust). Every environment enforces it but
// previewEnv (terraform/bootstrap preview_environment): there, pull requests
// deploy their own, unreviewed builds and people deploy from workstations by
// design, so an unattested digest is a warning (docs/security.md, "Supply
// chain").
func SupplyChainPolicy(env, repository, previewEnv string) (SupplyChain, error) {
	id, err := attest.GitHubWorkflow(repository, AttestingWorkflow, AttestingRef)
	if err != nil {
		return SupplyChain{}, fmt.Errorf("terraform/bootstrap github_repository: %w", err)
	}
	return SupplyChain{Env: env, Identity: id, Enforce: env != previewEnv}, nil
}

// CheckRelease refuses, before anything changes, a deploy of an enforcing
// environment that would build its own images: only a release (the digests
// deploy.yml's build job attested) can pass there.
func (s SupplyChain) CheckRelease(tenant string, release Release) error {
	if s.Enforce && release == nil {
		return refused("%s installs attested images only, and a deploy without --release builds its own: pass --release=<the line deploy.yml's build job printed after %q> (deploy --env=%s%s)", s.Env, strings.TrimSpace(ReleaseLine), s.Env, tenantFlag(tenant))
	}
	return nil
}

// DigestVerifier verifies the attestations of one image by digest
// (attest.Verifier).
type DigestVerifier interface {
	Verify(ctx context.Context, ref string) (attest.Result, error)
}

// CheckAttestations verifies the digest of every named image, before any is
// installed or copied. Where the policy enforces, the first image that fails
// is refused in one line naming it (RefusedError), and so is a registry that
// cannot be read (nothing was proven); otherwise each failure is a warning
// and the deploy goes on. It returns the digests that verified.
func CheckAttestations(ctx context.Context, v DigestVerifier, s SupplyChain, refs map[string]ImageRef, names []string, log func(format string, args ...any)) (map[string]bool, error) {
	verified := map[string]bool{}
	for _, name := range names {
		ref, ok := refs[name]
		if !ok {
			return nil, fmt.Errorf("verify attestations: no digest for %s", name)
		}
		at := ref.Repository + "@" + ref.Digest
		_, err := v.Verify(ctx, at)
		var no *attest.RefusedError
		switch {
		case err == nil:
			verified[ref.Digest] = true
			log("%s %s: attested by %s (provenance, SBOM)", name, ref.Digest, s.Identity.SAN)
		case s.Enforce && errors.As(err, &no):
			return nil, refused("%s is not attested as %s requires: %s", name, s.Env, no.Error())
		case s.Enforce:
			return nil, refused("%s: its attestations could not be verified, so %s refuses it: %v", name, s.Env, err)
		default:
			log("WARNING %s: not attested, deployed anyway (%s is the preview environment; every other one refuses it): %s", name, s.Env, oneLine(err))
		}
	}
	return verified, nil
}

// supplyChain reads environment env's policy from the source's
// terraform/bootstrap (github_repository, preview_environment): one place
// names the repository, for the GitHub roles' trust and for this check.
func (p *Pipeline) supplyChain(ctx context.Context, env string) (SupplyChain, error) {
	tmp, err := os.MkdirTemp("", "orders-bootstrap-")
	if err != nil {
		return SupplyChain{}, err
	}
	defer os.RemoveAll(tmp)
	if _, err := p.src.Directory(tfvars.BootstrapDir).Export(ctx, filepath.Join(tmp, tfvars.BootstrapDir)); err != nil {
		return SupplyChain{}, fmt.Errorf("read %s: %w", tfvars.BootstrapDir, err)
	}
	return SupplyChainFromBootstrap(tmp, env)
}

// SupplyChainFromBootstrap is env's policy from the bootstrap under root.
func SupplyChainFromBootstrap(root, env string) (SupplyChain, error) {
	var vals [2]string
	for i, name := range []string{"github_repository", "preview_environment"} {
		v, err := tfvars.BootstrapStrings(root, name)
		if err != nil {
			return SupplyChain{}, err
		}
		if len(v) != 1 {
			return SupplyChain{}, fmt.Errorf("terraform/bootstrap: %s is not one string", name)
		}
		vals[i] = v[0]
	}
	return SupplyChainPolicy(env, vals[0], vals[1])
}

// attestVerifier is the verifier of the images in one registry, with its
// login, against the Sigstore public-good trust root (fetched once a run).
func (p *Pipeline) attestVerifier(ctx context.Context, s SupplyChain, auth RegistryAuth) (attest.Verifier, error) {
	if p.trust == nil {
		t, err := attest.PublicGood(ctx, "")
		if err != nil {
			return attest.Verifier{}, err
		}
		p.trust = &t
	}
	return attest.Verifier{Trust: *p.trust, Identity: s.Identity, Require: RequiredAttestations,
		Remote: []remote.Option{remote.WithAuth(&authn.Basic{Username: auth.Username, Password: auth.Password})}}, nil
}

// verifyAttestations checks names' digests of refs, all in the registry auth
// logs in to; a verifier that cannot be built (the trust root unreachable)
// refuses where the policy enforces and is a warning elsewhere.
func (p *Pipeline) verifyAttestations(ctx context.Context, s SupplyChain, auth RegistryAuth, refs map[string]ImageRef, names []string) (map[string]bool, error) {
	p.progress("verify the attestations of %s (%s, %s)", strings.Join(names, ", "), s.Identity.SAN, map[bool]string{true: "refused if missing", false: "warned if missing"}[s.Enforce])
	v, err := p.attestVerifier(ctx, s, auth)
	switch {
	case err != nil && s.Enforce:
		return nil, refused("%s cannot verify attestations: %v", s.Env, err)
	case err != nil:
		p.progress("WARNING %s: attestations not verified: %v", s.Env, err)
		return map[string]bool{}, nil
	}
	return CheckAttestations(ctx, v, s, refs, names, p.progress)
}

// verifyRelease verifies a release's images where the release put them (the
// publish environment's ECR, where deploy.yml attached the attestations),
// before the deploy changes anything; the copies promotion makes have the
// same digests.
func (p *Pipeline) verifyRelease(ctx context.Context, d *deployment) error {
	names := DeployImages(d.o.Tenant)
	host := ""
	for _, name := range names {
		ref, ok := d.release[name]
		if !ok {
			return refused("the release names no digest for %s (it has %s)", name, d.release)
		}
		h, _, _ := strings.Cut(ref.Repository, "/")
		if host != "" && h != host {
			return refused("the release's images are in two registries (%s, %s): one publish pushes to one", host, h)
		}
		host = h
	}
	cfg, err := p.aws.config(ctx, d.run.env.Region)
	if err != nil {
		return err
	}
	auth, err := ECRLogin(ctx, ecrClient(cfg), host)
	if err != nil {
		return err
	}
	if _, err := p.verifyAttestations(ctx, d.supply, auth, d.release, names); err != nil {
		return err
	}
	for _, name := range names {
		d.checked[d.release[name].Digest] = true
	}
	return nil
}

// verifyStep verifies what the release step is about to install and was not
// checked before the deploy started (images found by tag or built now).
func (p *Pipeline) verifyStep(ctx context.Context, d *deployment) error {
	var pending []string
	for _, name := range DeployImages(d.o.Tenant) {
		if ref, ok := d.refs[name]; ok && !d.checked[ref.Digest] {
			pending = append(pending, name)
		}
	}
	if len(pending) == 0 {
		p.progress("verify: every digest to install was checked before anything changed")
		return nil
	}
	if err := p.connect(ctx, d); err != nil {
		return err
	}
	if _, err := p.verifyAttestations(ctx, d.supply, d.auth, d.refs, pending); err != nil {
		return err
	}
	for _, name := range pending {
		d.checked[d.refs[name].Digest] = true
	}
	return nil
}
