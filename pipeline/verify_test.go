package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/orders-platform/orders/internal/attest"
	"github.com/orders-platform/orders/test/attestations"
)

// The identity and the policy come from terraform/bootstrap, the one place
// that names the repository (the GitHub roles trust it too): prod and any new
// environment refuse, the preview environment (dev) warns.
func TestSupplyChainFromTheBootstrap(t *testing.T) {
	for env, enforce := range map[string]bool{"dev": false, "prod": true, "staging": true} {
		s, err := SupplyChainFromBootstrap("..", env)
		if err != nil {
			t.Fatal(err)
		}
		if s.Identity.SAN != "https://github.com/orders-platform/orders/.github/workflows/deploy.yml@refs/heads/main" || s.Identity.Issuer != attest.GitHubIssuer || s.Enforce != enforce {
			t.Errorf("%s: %+v", env, s)
		}
	}
	// Another repository is set in one place.
	root := t.TempDir()
	dir := filepath.Join(root, "terraform", "bootstrap")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tfvars := "github_repository = \"acme/shop\"\npreview_environment = \"review\"\n"
	if err := os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte(tfvars), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := SupplyChainFromBootstrap(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if s.Identity.SAN != "https://github.com/acme/shop/.github/workflows/deploy.yml@refs/heads/main" || !s.Enforce {
		t.Errorf("acme/shop, preview environment review: %+v", s)
	}
}

// An enforcing environment takes releases only: a deploy that would build
// its own images is refused before anything runs.
func TestSupplyChainNeedsARelease(t *testing.T) {
	prod, _ := SupplyChainPolicy("prod", "orders-platform/orders", "dev")
	err := prod.CheckRelease("acme", nil)
	var r *RefusedError
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "pass --release=") || !strings.Contains(err.Error(), "deploy --env=prod --tenant=acme") {
		t.Errorf("prod without a release: %v", err)
	}
	if err := prod.CheckRelease("", Release{}); err != nil {
		t.Errorf("prod with a release: %v", err)
	}
	dev, _ := SupplyChainPolicy("dev", "orders-platform/orders", "dev")
	if err := dev.CheckRelease("", nil); err != nil {
		t.Errorf("dev without a release: %v", err)
	}
}

// The gate with the real verifier (sigstore-go) on a real registry and a
// test Sigstore as the trust root: service1 attested by deploy.yml on main,
// service2 unsigned, backup attested by another workflow. prod refuses the
// first image that fails, in one line naming it; dev deploys with a warning
// per image; a fully attested release passes in prod.
func TestAttestationGate(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	reg := attestations.NewRegistry(t, true)
	prod, _ := SupplyChainPolicy("prod", "orders-platform/orders", "dev")
	dev, _ := SupplyChainPolicy("dev", "orders-platform/orders", "dev")
	sign := func(ref, san string) {
		_, digest, _ := strings.Cut(ref, "@")
		for _, p := range RequiredAttestations {
			b := attestations.Bundle(t, vs, san, attest.GitHubIssuer, attestations.Statement(ref, digest, p))
			reg.PushBundle(t, ref, b, p, true)
		}
	}
	refs := map[string]ImageRef{}
	for _, name := range Images {
		full := reg.PushImage(t, "orders-dev/"+name, "c0ffee")
		repo, digest, _ := strings.Cut(full, "@")
		refs[name] = ImageRef{Repository: repo, Tag: "c0ffee", Digest: digest}
	}
	at := func(name string) string { return refs[name].Repository + "@" + refs[name].Digest }
	sign(at("service1"), prod.Identity.SAN)
	sign(at("backup"), "https://github.com/orders-platform/orders/.github/workflows/preview.yml@refs/heads/main")
	verifier := attest.Verifier{Trust: attestations.Trust(vs), Identity: prod.Identity, Require: RequiredAttestations, Remote: reg.Options()}
	ctx := context.Background()

	var log []string
	record := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }

	_, err = CheckAttestations(ctx, verifier, prod, refs, Images, record)
	var r *RefusedError
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "service2 is not attested as prod requires: "+at("service2")+": unsigned") || strings.Contains(err.Error(), "\n") {
		t.Errorf("prod: got %v, want service2 refused as unsigned, in one line", err)
	}
	_, err = CheckAttestations(ctx, verifier, prod, refs, []string{"service1", "backup"}, record)
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "backup is not attested as prod requires") || !strings.Contains(err.Error(), "preview.yml") {
		t.Errorf("prod: got %v, want backup refused, naming the workflow that signed it", err)
	}

	log = nil
	verified, err := CheckAttestations(ctx, verifier, dev, refs, Images, record)
	if err != nil {
		t.Fatalf("dev: %v", err)
	}
	if len(verified) != 1 || !verified[refs["service1"].Digest] {
		t.Errorf("dev verified %v, want service1's digest only", verified)
	}
	warnings := strings.Join(log, "\n")
	for _, want := range []string{"WARNING service2: not attested, deployed anyway", "WARNING backup: not attested, deployed anyway", "service1 " + refs["service1"].Digest + ": attested by"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("dev log lacks %q:\n%s", want, warnings)
		}
	}

	sign(at("service2"), prod.Identity.SAN)
	sign(at("backup"), prod.Identity.SAN) // the valid one beside the other workflow's
	if verified, err := CheckAttestations(ctx, verifier, prod, refs, Images, record); err != nil || len(verified) != 3 {
		t.Errorf("prod, every image attested: %v, %v", verified, err)
	}

	// A registry that refuses the login proves nothing: prod refuses, dev warns.
	noLogin := attest.Verifier{Trust: attestations.Trust(vs), Identity: prod.Identity, Require: RequiredAttestations}
	if _, err := CheckAttestations(ctx, noLogin, prod, refs, Images, record); !errors.As(err, &r) || !strings.Contains(err.Error(), "could not be verified") {
		t.Errorf("prod, registry refused the login: %v", err)
	}
	if _, err := CheckAttestations(ctx, noLogin, dev, refs, Images, record); err != nil {
		t.Errorf("dev, registry refused the login: %v", err)
	}
}
