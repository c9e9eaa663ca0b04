package terraformrules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/orders-platform/orders/internal/tfvars"
)

// Trivy pins the misconfiguration scanner: the tools cache holds
// trivy-<TrivyVersion>/trivy (test/tools/install-trivy.sh builds it).
const TrivyVersion = "v0.74.0"

// trivyReport is the part of `trivy config --format json` that matters here.
type trivyReport struct {
	Results []struct {
		Target            string `json:"Target"`
		Misconfigurations []struct {
			ID            string `json:"ID"`
			Title         string `json:"Title"`
			Message       string `json:"Message"`
			Resolution    string `json:"Resolution"`
			Severity      string `json:"Severity"`
			Status        string `json:"Status"`
			CauseMetadata struct {
				Resource    string `json:"Resource"`
				StartLine   int    `json:"StartLine"`
				Occurrences []struct {
					Resource string `json:"Resource"`
					Filename string `json:"Filename"`
					Location struct {
						StartLine int `json:"StartLine"`
					} `json:"Location"`
				} `json:"Occurrences"`
			} `json:"CauseMetadata"`
		} `json:"Misconfigurations"`
	} `json:"Results"`
}

// ParseTrivyReport returns one finding per failed check in a Trivy JSON
// report; paths are joined to base (the scanned directory).
func ParseTrivyReport(data []byte, base string) ([]tfvars.Finding, error) {
	var r trivyReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("trivy report: %w", err)
	}
	var out []tfvars.Finding
	for _, res := range r.Results {
		for _, m := range res.Misconfigurations {
			if m.Status != "FAIL" {
				continue
			}
			msg := fmt.Sprintf("%s %s: %s", m.ID, m.Severity, m.Title)
			if m.Message != "" && m.Message != m.Title {
				msg += " — " + m.Message
			}
			if m.CauseMetadata.Resource != "" {
				msg += " (" + m.CauseMetadata.Resource + ")"
			}
			// Findings inside a module point back at the module call in this repo.
			for _, o := range m.CauseMetadata.Occurrences {
				msg += fmt.Sprintf("\n\tvia %s at %s:%d", o.Resource, filepath.Join(base, o.Filename), o.Location.StartLine)
			}
			if m.Resolution != "" {
				msg += "\n\tfix: " + m.Resolution + " — or, if accepted, add `#trivy:ignore:" + m.ID + "` with the reason above the block"
			}
			line := m.CauseMetadata.StartLine
			if line == 0 {
				line = 1
			}
			out = append(out, tfvars.Finding{File: filepath.Join(base, res.Target), Line: line, Check: "trivy", Msg: msg})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

// TrivyOptions configure RunTrivy.
type TrivyOptions struct {
	// CacheDir is Trivy's cache; a fresh temporary directory keeps runs hermetic.
	CacheDir string
	// Severities to report, e.g. "HIGH,CRITICAL".
	Severities string
	// TfVars are .tfvars files whose values trivy uses to evaluate the
	// configuration (one environment's view of terraform/platform).
	TfVars []string
	// Scanners limits the misconfiguration scanners (e.g. "terraform"), so
	// that example manifests inside downloaded modules are not scanned as
	// this repository's Kubernetes files. Empty: trivy's default set.
	Scanners string
	// Offline makes module downloads fail at once instead of waiting for a
	// network that is not there: registry modules are then not scanned, only
	// this repository's own resources (the pipeline scans after terraform init,
	// when .terraform/modules holds them).
	Offline bool
}

// RunTrivy runs `trivy config` on dir with the embedded checks (no check or
// database download) and returns the failed checks.
func RunTrivy(ctx context.Context, trivy, dir string, opt TrivyOptions) ([]tfvars.Finding, error) {
	if opt.Severities == "" {
		opt.Severities = "HIGH,CRITICAL"
	}
	args := []string{
		"config",
		"--skip-check-update",
		"--skip-version-check",
		"--disable-telemetry",
		"--quiet",
		"--severity", opt.Severities,
		"--format", "json",
		"--exit-code", "0",
	}
	if opt.Scanners != "" {
		args = append(args, "--misconfig-scanners", opt.Scanners)
	}
	for _, v := range opt.TfVars {
		args = append(args, "--tf-vars", v)
	}
	if opt.CacheDir != "" {
		args = append(args, "--cache-dir", opt.CacheDir)
	}
	args = append(args, dir)
	cmd := exec.CommandContext(ctx, trivy, args...)
	cmd.Env = os.Environ()
	if opt.Offline {
		// An unroutable proxy: the module resolver's HTTP requests fail
		// immediately, and trivy continues with the local files.
		cmd.Env = append(cmd.Env, "HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("trivy config %s: exit %d\n%s", dir, exit.ExitCode(), strings.TrimSpace(stderr.String()))
		}
		return nil, fmt.Errorf("trivy config %s: %w", dir, err)
	}
	return ParseTrivyReport(stdout.Bytes(), dir)
}
