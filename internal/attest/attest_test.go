package attest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/orders-platform/orders/internal/attest"
	"github.com/orders-platform/orders/test/attestations"
)

const repository = "orders-platform/orders"

func deployIdentity(t *testing.T) attest.Identity {
	t.Helper()
	id, err := attest.GitHubWorkflow(repository, ".github/workflows/deploy.yml", "refs/heads/main")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// signed is one bundle a test pushes: who signs, with which CA, what.
type signed struct {
	ca        *ca.VirtualSigstore
	san       string
	issuer    string
	predicate string
}

// The real verifier (sigstore-go) against a real registry: the referrers
// the registry lists, each bundle read and verified against a test Sigstore
// as the trust root, the identity and the digest. Each refusal names why.
func TestVerify(t *testing.T) {
	trusted, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := ca.NewVirtualSigstore() // a look-alike CA nobody trusts
	if err != nil {
		t.Fatal(err)
	}
	deploy := deployIdentity(t)
	both := func(c *ca.VirtualSigstore, san string) []signed {
		return []signed{
			{c, san, attest.GitHubIssuer, attest.ProvenancePredicate},
			{c, san, attest.GitHubIssuer, attest.CycloneDXPredicate},
		}
	}
	repoSAN := func(repo, workflow, ref string) string {
		return "https://github.com/" + repo + "/.github/workflows/" + workflow + "@" + ref
	}
	for _, tc := range []struct {
		name         string
		referrersAPI bool
		bundles      []signed
		otherDigest  bool   // the statements name another image's digest
		wantErr      string // "" passes
	}{
		{name: "attested by deploy.yml on main", referrersAPI: true, bundles: both(trusted, deploy.SAN)},
		{name: "attested, registry without the referrers API (tag schema)", bundles: both(trusted, deploy.SAN)},
		{name: "unsigned", referrersAPI: true, wantErr: "unsigned: no Sigstore attestation refers to this digest"},
		{name: "signed by another workflow", referrersAPI: true, bundles: both(trusted, repoSAN(repository, "preview.yml", "refs/heads/main")),
			wantErr: `expected SAN value "` + deploy.SAN + `", got "` + repoSAN(repository, "preview.yml", "refs/heads/main") + `"`},
		{name: "signed by another repository", referrersAPI: true, bundles: both(trusted, repoSAN("someone/orders", "deploy.yml", "refs/heads/main")),
			wantErr: `got "` + repoSAN("someone/orders", "deploy.yml", "refs/heads/main") + `"`},
		{name: "signed on another branch", referrersAPI: true, bundles: both(trusted, repoSAN(repository, "deploy.yml", "refs/heads/feature")),
			wantErr: `got "` + repoSAN(repository, "deploy.yml", "refs/heads/feature") + `"`},
		{name: "signed with another issuer", referrersAPI: true, bundles: []signed{
			{trusted, deploy.SAN, "https://accounts.example.com", attest.ProvenancePredicate},
			{trusted, deploy.SAN, "https://accounts.example.com", attest.CycloneDXPredicate}},
			wantErr: `expected issuer value "` + attest.GitHubIssuer + `"`},
		{name: "bundle for another digest", referrersAPI: true, bundles: both(trusted, deploy.SAN), otherDigest: true,
			wantErr: "provided artifact digest does not match any digest in statement"},
		{name: "certificate of an untrusted CA", referrersAPI: true, bundles: both(untrusted, deploy.SAN),
			wantErr: "no valid " + attest.ProvenancePredicate + " or " + attest.CycloneDXPredicate + " attestation by " + deploy.SAN},
		{name: "provenance without its SBOM", referrersAPI: true, bundles: both(trusted, deploy.SAN)[:1],
			wantErr: "no valid " + attest.CycloneDXPredicate + " attestation by " + deploy.SAN},
		{name: "a forged bundle beside the valid ones hides nothing", referrersAPI: true,
			bundles: append(both(trusted, deploy.SAN), signed{untrusted, deploy.SAN, attest.GitHubIssuer, attest.ProvenancePredicate})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := attestations.NewRegistry(t, tc.referrersAPI)
			ref := reg.PushImage(t, "orders-dev/service1", "c0ffee")
			_, digest, _ := strings.Cut(ref, "@")
			if tc.otherDigest {
				_, digest, _ = strings.Cut(reg.PushImage(t, "orders-dev/service1", "other"), "@")
			}
			for _, b := range tc.bundles {
				data := attestations.Bundle(t, b.ca, b.san, b.issuer, attestations.Statement(reg.Host+"/orders-dev/service1", digest, b.predicate))
				reg.PushBundle(t, ref, data, b.predicate, tc.referrersAPI)
			}
			v := attest.Verifier{Trust: attestations.Trust(trusted), Identity: deploy,
				Require: []string{attest.ProvenancePredicate, attest.CycloneDXPredicate}, Remote: reg.Options()}
			res, err := v.Verify(context.Background(), ref)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(res.Verified) != 2 {
					t.Errorf("verified %v, want provenance and SBOM", res.Verified)
				}
				return
			}
			var refused *attest.RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("got %v, want a refusal containing %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), ref+": ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("refusal %q\nwant one line naming %s, containing %q", err, ref, tc.wantErr)
			}
		})
	}
}

// A registry that refuses the login is an error, not a refusal: nothing was
// learnt about the image.
func TestVerifyRegistryErrors(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	reg := attestations.NewRegistry(t, true)
	ref := reg.PushImage(t, "orders-dev/service1", "c0ffee")
	v := attest.Verifier{Trust: attestations.Trust(vs), Identity: deployIdentity(t), Require: []string{attest.ProvenancePredicate}}
	_, err = v.Verify(context.Background(), ref) // no login
	var refused *attest.RefusedError
	if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), "list the referrers of "+ref) {
		t.Errorf("got %v, want the registry's refusal of the login", err)
	}
	if _, err := v.Verify(context.Background(), "orders-dev/service1:latest"); err == nil || !strings.Contains(err.Error(), "not <repository>@sha256:<digest>") {
		t.Errorf("a tag: got %v", err)
	}
}

func TestGitHubWorkflow(t *testing.T) {
	id, err := attest.GitHubWorkflow("acme/orders", ".github/workflows/deploy.yml", "refs/heads/main")
	if err != nil || id.SAN != "https://github.com/acme/orders/.github/workflows/deploy.yml@refs/heads/main" || id.Issuer != "https://token.actions.githubusercontent.com" {
		t.Errorf("got %+v, %v", id, err)
	}
	for _, bad := range [][3]string{
		{"acme", ".github/workflows/deploy.yml", "refs/heads/main"},
		{"acme/orders/x", ".github/workflows/deploy.yml", "refs/heads/main"},
		{"acme/orders", "deploy.yml", "refs/heads/main"},
		{"acme/orders", ".github/workflows/deploy.yml", "main"},
	} {
		if _, err := attest.GitHubWorkflow(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
