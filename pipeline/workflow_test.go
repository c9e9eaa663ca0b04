package pipeline

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The verifier expects what deploy.yml's build job signs: that workflow
// file, run on main (the certificate's SAN is the job's workflow ref), a
// provenance and a CycloneDX SBOM attestation of every image publish pushed,
// each pushed next to its digest. actions/attest @ v4.2.2 (action.yml,
// src/detect.ts): no predicate input means provenance, sbom-path an SBOM;
// push-to-registry attaches the bundle to subject-name@subject-digest.
func TestDeployWorkflowAttestsWhatPublishPushes(t *testing.T) {
	src, err := os.ReadFile("../" + AttestingWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	type trigger struct {
		Push struct {
			Branches []string `json:"branches"`
		} `json:"push"`
	}
	var wf struct {
		On   trigger `json:"on"`
		True trigger `json:"true"` // YAML 1.1 reads a bare on as true
		Jobs map[string]struct {
			Permissions map[string]string `json:"permissions"`
			Steps       []workflowStep    `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(src, &wf); err != nil {
		t.Fatal(err)
	}
	branches := append(wf.On.Push.Branches, wf.True.Push.Branches...)
	if want := []string{strings.TrimPrefix(AttestingRef, "refs/heads/")}; !slices.Equal(branches, want) {
		t.Errorf("%s runs on push to %v, the verifier expects %s", AttestingWorkflow, branches, AttestingRef)
	}
	publishers := 0
	for name, job := range wf.Jobs {
		publishes := slices.ContainsFunc(job.Steps, func(s workflowStep) bool { return strings.Contains(s.With["args"], "publish --env=") })
		if !publishes {
			continue
		}
		publishers++
		if job.Permissions["id-token"] != "write" || job.Permissions["attestations"] != "write" {
			t.Errorf("job %s: permissions %v, want id-token and attestations: write", name, job.Permissions)
		}
		provenance, sbom := map[string]int{}, map[string]int{}
		var release string
		for _, s := range job.Steps {
			if strings.Contains(s.With["args"], "publish --env=") && !strings.Contains(s.With["args"], "export --path=publish") {
				t.Errorf("job %s: publish's directory is not exported to publish/", name)
			}
			if s.ID == "release" {
				release = s.Run
			}
			if !strings.HasPrefix(s.Uses, "actions/attest@") {
				continue
			}
			if s.With["push-to-registry"] != "true" {
				t.Errorf("job %s: %v does not push the attestation to the registry", name, s.With)
			}
			for _, img := range Images {
				if s.With["subject-name"] != fmt.Sprintf("${{ steps.release.outputs.%s_name }}", img) {
					continue
				}
				if s.With["subject-digest"] != fmt.Sprintf("${{ steps.release.outputs.%s_digest }}", img) {
					t.Errorf("job %s: %s attested by another digest: %v", name, img, s.With)
				}
				switch {
				case s.With["sbom-path"] == fmt.Sprintf("${{ steps.release.outputs.%s_sbom }}", img):
					sbom[img]++
				case s.With["sbom-path"] == "" && s.With["predicate-type"] == "":
					provenance[img]++
				}
			}
		}
		for _, img := range Images {
			if provenance[img] != 1 || sbom[img] != 1 {
				t.Errorf("job %s: %s has %d provenance and %d SBOM attestations, want one of each", name, img, provenance[img], sbom[img])
			}
		}
		for _, want := range []string{
			"publish/" + PublishReleaseFile,
			"publish/" + SBOMDir + "/$image-$GITHUB_SHA" + SBOMSuffix, // SBOMFileName(image, commit)
			"for image in " + strings.Join(Images, " ") + ";",
			`sed -n 's/^` + ReleaseLine,
		} {
			if !strings.Contains(release, want) {
				t.Errorf("job %s: its release step does not contain %q:\n%s", name, want, release)
			}
		}
	}
	if publishers != 1 {
		t.Errorf("%d jobs of %s publish, want one", publishers, AttestingWorkflow)
	}
}

type workflowStep struct {
	ID   string            `json:"id"`
	Uses string            `json:"uses"`
	Run  string            `json:"run"`
	With map[string]string `json:"with"`
}
