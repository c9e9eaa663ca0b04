package terraformrules

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/orders-platform/orders/internal/tfvars"
)

// CheckFormatGo reports files that hclwrite.Format (the formatter inside
// terraform fmt) would change, with the first line that differs. It is the
// fallback where the terraform binary is not installed; terraform fmt also
// normalises a few Terraform-specific forms hclwrite leaves alone.
func CheckFormatGo(paths []string) []tfvars.Finding {
	var out []tfvars.Finding
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			out = append(out, tfvars.Finding{File: p, Line: 1, Check: "fmt", Msg: err.Error()})
			continue
		}
		formatted := hclwrite.Format(src)
		if bytes.Equal(src, formatted) {
			continue
		}
		line, want, got := firstDiff(src, formatted)
		out = append(out, tfvars.Finding{File: p, Line: line, Check: "fmt",
			Msg: fmt.Sprintf("not formatted (run terraform fmt): have %q, want %q", got, want)})
	}
	return out
}

func firstDiff(have, want []byte) (line int, wantLine, haveLine string) {
	h := strings.Split(string(have), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < len(h) || i < len(w); i++ {
		var hl, wl string
		if i < len(h) {
			hl = h[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if hl != wl {
			return i + 1, wl, hl
		}
	}
	return 1, "", ""
}

var hunkHeader = regexp.MustCompile(`(?m)^@@ -(\d+)`)

// CheckFormatTerraform runs `terraform fmt -check -recursive -diff` on dirs and
// reports each file it would change, at the first changed line of its diff.
func CheckFormatTerraform(terraform string, dirs ...string) ([]tfvars.Finding, error) {
	var out []tfvars.Finding
	for _, dir := range dirs {
		cmd := exec.Command(terraform, "fmt", "-check", "-recursive", "-diff", "-no-color", ".")
		cmd.Dir = dir // paths in the diff are then relative to dir
		// Keep the run hermetic: no user CLI configuration, no update checks.
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null", "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			continue
		case errors.As(err, &exit) && exit.ExitCode() == 3:
			for _, f := range parseFmtDiff(stdout.String()) {
				f.File = filepath.Join(dir, f.File)
				out = append(out, f)
			}
		default:
			return nil, fmt.Errorf("terraform fmt %s: %v\n%s%s", dir, err, stdout.String(), stderr.String())
		}
	}
	return out, nil
}

// parseFmtDiff turns terraform fmt -diff output into findings: one per file,
// at its first changed line, with the diff as the message.
func parseFmtDiff(s string) []tfvars.Finding {
	var out []tfvars.Finding
	var cur *tfvars.Finding
	oldLine, located := 0, false
	for _, l := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(l, "--- old/"):
			out = append(out, tfvars.Finding{File: strings.TrimPrefix(l, "--- old/"), Line: 1, Check: "fmt", Msg: "not formatted (run terraform fmt):"})
			cur, located = &out[len(out)-1], false
		case cur == nil || strings.HasPrefix(l, "+++ "):
		case strings.HasPrefix(l, "@@"):
			if m := hunkHeader.FindStringSubmatch(l); m != nil {
				oldLine, _ = strconv.Atoi(m[1])
			}
			cur.Msg += "\n" + l
		case strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+"):
			if !located {
				cur.Line, located = max(oldLine, 1), true
			}
			cur.Msg += "\n" + l
		case strings.HasPrefix(l, " "):
			oldLine++
		}
	}
	// A file listed without a diff (unlikely) is still a finding.
	if len(out) == 0 && strings.TrimSpace(s) != "" {
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "diff ") {
				out = append(out, tfvars.Finding{File: l, Line: 1, Check: "fmt", Msg: "not formatted (run terraform fmt)"})
			}
		}
	}
	return out
}
