package docrules

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/smoke"
	"github.com/orders-platform/orders/internal/tfoutputs"
	"github.com/orders-platform/orders/pipeline"
	"github.com/orders-platform/orders/test/localrun"
)

func deploymentMD(t *testing.T) []byte {
	t.Helper()
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(root, "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestSample(t *testing.T) {
	md := []byte("x\n<!-- sample: report (rendered) -->\n```\na\nb\n```\n<!-- sample: open -->\n```sh\nc\n")
	if got, err := Sample(md, "report"); err != nil || got != "a\nb\n" {
		t.Errorf("Sample(report) = %q, %v", got, err)
	}
	if _, err := Sample(md, "open"); err == nil || !strings.Contains(err.Error(), "never closed") {
		t.Errorf("an unclosed block: %v", err)
	}
	if _, err := Sample(md, "missing"); err == nil {
		t.Error("a missing sample was found")
	}
}

// The sample report in deployment.md is what deploy prints: rendered by the
// code that writes it (pipeline.DeploySummary), with placeholders for what differs.
func TestDeploymentReportSample(t *testing.T) {
	doc, err := Sample(deploymentMD(t), "deploy report")
	if err != nil {
		t.Fatal(err)
	}
	const commit = "c0ffee1"
	out := &tfoutputs.Outputs{Environment: "dev", Region: "eu-central-1", ClusterName: "orders-dev", NLBPublicIPs: []string{"<elastic ip 1>", "<elastic ip 2>"}}
	refs := map[string]pipeline.ImageRef{}
	var sboms []pipeline.SBOMSummary
	components := map[string]int{"service1": 312, "service2": 298, "backup": 96}
	for _, name := range pipeline.DeployImages("") {
		refs[name] = pipeline.ImageRef{Repository: "<account>.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/" + name, Tag: commit, Digest: "sha256:…"}
		file, err := pipeline.SBOMFileName(name, commit)
		if err != nil {
			t.Fatal(err)
		}
		sboms = append(sboms, pipeline.SBOMSummary{File: file, SpecVersion: "1.6", Components: components[name]})
	}
	rendered := strings.ReplaceAll(pipeline.DeploySummary(out, "", refs, sboms), commit, "<commit>")
	if rendered != doc {
		t.Errorf("docs/deployment.md's sample report differs from what deploy prints.\ndoc:\n%s\ncode:\n%s", doc, rendered)
	}
}

var curlLine = regexp.MustCompile(`^curl -X(\w+)\s+http://<elastic ip>(\S+)(?:\s+-d\s+'([^']*)')?\s+#\s+(.*)$`)

// The answers deployment.md shows after a deploy are what the services give
// after the deploy's smoke test: on the local stack (the real services and
// gateway), the smoke checker runs first, then each curl line of the sample,
// compared byte for byte with its comment.
func TestDeploymentCurlSample(t *testing.T) {
	doc, err := Sample(deploymentMD(t), "after deploy")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(doc), "\n") {
		if !curlLine.MatchString(l) {
			t.Fatalf("not a curl line with its answer: %q", l)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 {
		t.Fatalf("want the three curl commands, got %d", len(lines))
	}
	stack := localrun.Start(t)
	ctx := context.Background()
	report := smoke.Run(ctx, smoke.Config{BaseURL: stack.URL})
	if err := report.Err(); err != nil {
		t.Fatalf("smoke: %v", err)
	}
	for _, l := range lines {
		m := curlLine.FindStringSubmatch(l)
		var body io.Reader
		if m[3] != "" {
			body = strings.NewReader(m[3])
		}
		req, err := http.NewRequestWithContext(ctx, m[1], stack.URL+m[2], body)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != m[4] {
			t.Errorf("%s\n  the doc says %q, the services answer %q", l, m[4], got)
		}
	}
}
