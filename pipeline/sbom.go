package pipeline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// SBOMs are CycloneDX JSON, written by the Trivy that scans the images. Why
// CycloneDX rather than SPDX: Trivy's CycloneDX output keeps its own package
// identity (PURLs plus layer and package properties), so `trivy sbom <file>`
// re-checks a deployed image for new vulnerabilities later without pulling it,
// and the same file carries VEX statements if a finding is ever accepted; SPDX
// from Trivy loses part of that on the way back in.

// SBOMSuffix ends every SBOM file name.
const SBOMSuffix = ".cdx.json"

// SBOMDir is the folder of deploy's output that holds the SBOMs.
const SBOMDir = "sbom"

// SBOMArgs writes the CycloneDX SBOM of an unpacked image (UnpackImage) to
// output. The CycloneDX format disables vulnerability scanning unless asked
// for (the gate runs separately), so no vulnerability database is needed.
func SBOMArgs(layout, output string) []string {
	return []string{"trivy", "image", "--quiet", "--input", layout, "--format", "cyclonedx", "--output", output}
}

var tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// SBOMFileName is the SBOM file of an image built from a commit:
// <image>-<tag>.cdx.json, e.g. service1-0123…cdef.cdx.json.
func SBOMFileName(image, tag string) (string, error) {
	if err := CheckImage(image); err != nil {
		return "", fmt.Errorf("sbom: %w", err)
	}
	if !tagRe.MatchString(tag) {
		return "", fmt.Errorf("sbom %s: %q is not an image tag", image, tag)
	}
	return image + "-" + tag + SBOMSuffix, nil
}

// SBOMSummary is what deploy reports of one SBOM.
type SBOMSummary struct {
	File        string // file name under SBOMDir
	SpecVersion string // CycloneDX specification version
	Components  int    // packages and the like described
}

func (s SBOMSummary) String() string {
	return fmt.Sprintf("%s/%s (CycloneDX %s, %d components)", SBOMDir, s.File, s.SpecVersion, s.Components)
}

// ParseSBOM checks that data is a CycloneDX JSON document that describes
// something, so an empty or truncated file never passes for an SBOM.
func ParseSBOM(file string, data []byte) (SBOMSummary, error) {
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    *struct {
			Component *struct {
				Name string `json:"name"`
			} `json:"component"`
		} `json:"metadata"`
		Components []json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		return SBOMSummary{}, fmt.Errorf("sbom %s: not JSON: %w", file, err)
	}
	switch {
	case bom.BOMFormat != "CycloneDX":
		return SBOMSummary{}, fmt.Errorf("sbom %s: bomFormat is %q, want CycloneDX", file, bom.BOMFormat)
	case !strings.HasPrefix(bom.SpecVersion, "1."):
		return SBOMSummary{}, fmt.Errorf("sbom %s: specVersion %q is not a CycloneDX 1.x version", file, bom.SpecVersion)
	case bom.Metadata == nil || bom.Metadata.Component == nil || bom.Metadata.Component.Name == "":
		return SBOMSummary{}, fmt.Errorf("sbom %s: metadata.component (the image described) is missing", file)
	case len(bom.Components) == 0:
		return SBOMSummary{}, fmt.Errorf("sbom %s: no components: Trivy found nothing in the image", file)
	}
	return SBOMSummary{File: file, SpecVersion: bom.SpecVersion, Components: len(bom.Components)}, nil
}
