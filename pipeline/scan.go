package pipeline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// ImageLayout is where an image tarball is unpacked for Trivy.
const ImageLayout = "/image"

// UnpackImage are the commands that unpack an image tarball (Dagger's
// AsTarball: an OCI image layout) into dir. Trivy's --input reads a Docker
// archive (manifest.json) or an OCI layout directory, not an OCI layout
// tarball (aquasecurity/trivy#5136), so every scan and SBOM reads the directory.
func UnpackImage(tarball, dir string) [][]string {
	return [][]string{{"mkdir", "-p", dir}, {"tar", "-xf", tarball, "-C", dir}}
}

// TrivyArgs scans an unpacked image (UnpackImage) for vulnerabilities of
// severity HIGH and CRITICAL and writes the JSON report to stdout. The exit
// code stays 0: the gate (VulnerabilityGate) decides, so accepted findings can
// be named.
func TrivyArgs(layout string) []string {
	return []string{"trivy", "image", "--quiet", "--input", layout,
		"--scanners", "vuln", "--severity", "HIGH,CRITICAL", "--format", "json", "--exit-code", "0"}
}

// Finding is one vulnerability of a scanned image.
type Finding struct {
	ID, Severity, Package, Installed, Fixed, Target string
}

func (f Finding) String() string {
	fixed := f.Fixed
	if fixed == "" {
		fixed = "no fix"
	}
	return fmt.Sprintf("%s %s %s %s (%s)", f.Severity, f.ID, f.Package, f.Installed, fixed)
}

// ParseTrivyReport reads Trivy's JSON report.
func ParseTrivyReport(data []byte) ([]Finding, error) {
	var report struct {
		Results []struct {
			Target          string
			Vulnerabilities []struct {
				VulnerabilityID  string
				PkgName          string
				InstalledVersion string
				FixedVersion     string
				Severity         string
			}
		}
	}
	if err := json.Unmarshal(data, &report); err != nil {
		return nil, fmt.Errorf("trivy report: %w", err)
	}
	var out []Finding
	for _, r := range report.Results {
		for _, v := range r.Vulnerabilities {
			out = append(out, Finding{ID: v.VulnerabilityID, Severity: v.Severity, Package: v.PkgName,
				Installed: v.InstalledVersion, Fixed: v.FixedVersion, Target: r.Target})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Package < out[j].Package
	})
	return out, nil
}

var cveRe = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,}|GHSA(-[0-9a-z]{4}){3})$`)

// ParseAccepted validates the --accept-vulnerabilities list: explicit ids only
// (no wildcards), so accepting is always a decision about a named finding.
func ParseAccepted(ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		for _, part := range strings.Split(id, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if !cveRe.MatchString(part) {
				return nil, fmt.Errorf("--accept-vulnerabilities: %q is not a CVE or GHSA id", part)
			}
			out = append(out, part)
		}
	}
	return out, nil
}

// VulnerabilityGate fails when an image has a HIGH or CRITICAL finding that is
// not accepted by id. It also reports accepted ids that no longer occur, so the
// acceptance list does not outlive the findings.
func VulnerabilityGate(image string, findings []Finding, accepted []string) (notes []string, err error) {
	var blocking []string
	seen := map[string]bool{}
	for _, f := range findings {
		if f.Severity != "HIGH" && f.Severity != "CRITICAL" {
			continue
		}
		seen[f.ID] = true
		if slices.Contains(accepted, f.ID) {
			continue
		}
		blocking = append(blocking, f.String())
	}
	for _, a := range accepted {
		if !seen[a] {
			notes = append(notes, fmt.Sprintf("%s: accepted vulnerability %s no longer found; remove it from --accept-vulnerabilities", image, a))
		}
	}
	if len(blocking) > 0 {
		return notes, fmt.Errorf("%s has %d HIGH/CRITICAL vulnerabilities: %s; fix them (rebuild on a patched base, upgrade the package) or accept each by id with --accept-vulnerabilities=<id,…>",
			image, len(blocking), strings.Join(blocking, "; "))
	}
	return notes, nil
}
