package pipeline

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"golang.org/x/mod/semver"
)

const (
	commit = "0123456789abcdef0123456789abcdef01234567"
	digest = "sha256:abababababababababababababababababababababababababababababababab"
)

func TestImageRepositories(t *testing.T) {
	out := devOutputs(t)
	out.ECRRepositoryURLs["backup"] = registry + "/orders-dev/backup"
	repos, err := ImageRepositories(out, Images)
	if err != nil {
		t.Fatal(err)
	}
	if repos["backup"] != registry+"/orders-dev/backup" || repos["service2"] != registry+"/orders-dev/service2" {
		t.Errorf("repositories = %v", repos)
	}

	tests := []struct {
		name    string
		names   []string
		mutate  func(map[string]string)
		wantErr string
	}{
		{name: "environment provisioned before the backup image", names: Images, mutate: func(m map[string]string) { delete(m, "backup") },
			wantErr: `no ECR repository "backup" in terraform output ecr_repository_urls: terraform/platform's ecr_repositories must list "backup"; run ` + "`dagger call provision --env=dev`"},
		{name: "a tenant needs the services only", names: DeployImages("acme"), mutate: func(m map[string]string) { delete(m, "backup") }},
		{name: "unknown image", names: []string{"service3"}, wantErr: `unknown image "service3" (known: service1, service2, backup)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := devOutputs(t)
			o.ECRRepositoryURLs["backup"] = registry + "/orders-dev/backup"
			if tt.mutate != nil {
				tt.mutate(o.ECRRepositoryURLs)
			}
			_, err := ImageRepositories(o, tt.names)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if !slices.Equal(DeployImages(""), []string{"service1", "service2", "backup"}) || !slices.Equal(DeployImages("acme"), Services) {
		t.Errorf("DeployImages = %v / %v", DeployImages(""), DeployImages("acme"))
	}
}

func TestImageRefs(t *testing.T) {
	repo := registry + "/orders-dev/backup"
	ref, err := ParsePublished(repo+":"+commit+"@"+digest, repo, commit)
	if err != nil || ref.String() != repo+"@"+digest {
		t.Fatalf("ParsePublished = %v, %v", ref, err)
	}
	args, err := ImageArgs(map[string]ImageRef{"backup": ref})
	if err != nil || args["backup"] != repo+"@"+digest {
		t.Errorf("ImageArgs = %v, %v", args, err)
	}
	for _, tt := range []struct {
		name    string
		refs    map[string]ImageRef
		wantErr string
	}{
		{name: "a tag is not a digest", refs: map[string]ImageRef{"backup": {Repository: repo, Tag: commit}}, wantErr: "image backup: \"" + repo + "@\" is not a reference by digest"},
		{name: "no repository", refs: map[string]ImageRef{"service1": {Digest: digest}}, wantErr: "not a reference by digest"},
		{name: "unknown image", refs: map[string]ImageRef{"cron": ref}, wantErr: `unknown image "cron"`},
	} {
		if _, err := ImageArgs(tt.refs); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	for in, want := range map[string]string{
		repo:                                  "orders-dev/backup",
		registry + "/orders-dev/mirror/envoy": "orders-dev/mirror/envoy",
	} {
		if got, err := RepositoryName(in); err != nil || got != want {
			t.Errorf("RepositoryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "orders-dev", "/orders-dev/backup", registry + "/"} {
		if _, err := RepositoryName(bad); err == nil {
			t.Errorf("RepositoryName(%q) accepted", bad)
		}
	}
}

// stubDescribeImages answers DescribeImages at the SDK's middleware layer (the
// real client, serializers and validators run) and records what was asked.
func stubDescribeImages(out *ecr.DescribeImagesOutput, fail error, asked **ecr.DescribeImagesInput) *ecr.Client {
	cfg := aws.Config{Region: "eu-central-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	return ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("record", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				*asked = in.Parameters.(*ecr.DescribeImagesInput)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before); err != nil {
				return err
			}
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("stub", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if fail != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, fail
				}
				return middleware.FinalizeOutput{Result: out}, middleware.Metadata{}, nil
			}), middleware.After)
		})
	})
}

func TestFindImage(t *testing.T) {
	repo := registry + "/orders-dev/backup"
	detail := func(d string) *ecr.DescribeImagesOutput {
		return &ecr.DescribeImagesOutput{ImageDetails: []ecrtypes.ImageDetail{{ImageDigest: aws.String(d), ImageTags: []string{commit}}}}
	}
	tests := []struct {
		name      string
		repo      string
		out       *ecr.DescribeImagesOutput
		fail      error
		wantFound bool
		wantErr   string
	}{
		{name: "pushed before: reused by digest", repo: repo, out: detail(digest), wantFound: true},
		{name: "not pushed yet", repo: repo, fail: &ecrtypes.ImageNotFoundException{Message: aws.String("not found")}},
		{name: "empty answer", repo: repo, out: &ecr.DescribeImagesOutput{}},
		{name: "access denied is an error, not a rebuild", repo: repo, fail: errors.New("AccessDeniedException"), wantErr: "look up " + repo + ":" + commit + " in ECR"},
		{name: "odd digest", repo: repo, out: detail("sha256:short"), wantErr: `has digest "sha256:short"`},
		{name: "bad repository URL", repo: "backup", wantErr: `ECR repository URL "backup" is not <registry>/<name>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked *ecr.DescribeImagesInput
			ref, found, err := FindImage(context.Background(), stubDescribeImages(tt.out, tt.fail, &asked), tt.repo, commit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.wantFound {
				t.Fatalf("found = %v, want %v", found, tt.wantFound)
			}
			if asked == nil || aws.ToString(asked.RepositoryName) != "orders-dev/backup" || len(asked.ImageIds) != 1 || aws.ToString(asked.ImageIds[0].ImageTag) != commit {
				t.Errorf("asked ECR for %+v", asked)
			}
			if found && ref.String() != repo+"@"+digest {
				t.Errorf("ref = %s", ref)
			}
		})
	}
}

// The backup image's Dockerfile: pinned bases, a static binary, non-root, and a
// context that holds every package cmd/backup needs.
func TestBackupDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", BackupDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	for _, re := range []string{
		`(?m)^ARG GO_IMAGE=golang:1\.26\.[0-9]+-bookworm@sha256:[0-9a-f]{64}$`,                   // the toolchain, by version and digest
		`(?m)^ARG BASE_IMAGE=gcr\.io/distroless/static-debian13:nonroot(@sha256:[0-9a-f]{64})?$`, // the runtime (by digest once read)
		`(?m)^FROM --platform=\$BUILDPLATFORM \$\{GO_IMAGE\} AS build$`,
		`(?m)^FROM \$\{BASE_IMAGE\}$`,
		`CGO_ENABLED=0 GOOS=\$TARGETOS GOARCH=\$TARGETARCH`,
		`(?m)^USER 65532:65532$`,
		`(?m)^ENTRYPOINT \["/usr/local/bin/backup"\]$`,
	} {
		if !regexp.MustCompile(re).MatchString(df) {
			t.Errorf("%s does not match %s", BackupDockerfile, re)
		}
	}
	// The toolchain is at least go.mod's go line (a minimum: the Dagger engine
	// caps that line, test/enginerules), of the same minor.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	image := regexp.MustCompile(`golang:(\d+\.\d+)\.\d+-bookworm@`).FindStringSubmatch(df)
	imageGo := regexp.MustCompile(`golang:(\S+)-bookworm@`).FindStringSubmatch(df)
	if goVersion == nil || image == nil || !strings.HasPrefix(string(goVersion[1]), image[1]+".") ||
		semver.Compare("v"+imageGo[1], "v"+string(goVersion[1])) < 0 {
		t.Errorf("%s: the build stage's Go is not go.mod's minor at or above its go line %s", BackupDockerfile, goVersion)
	}
	if strings.Count(df, "\nFROM ") != 2 {
		t.Errorf("%s: want exactly a build and a runtime stage", BackupDockerfile)
	}

	// What the Dockerfile copies is what the pipeline sends and what the
	// .dockerignore lets through.
	ignore, err := os.ReadFile(filepath.Join("..", BackupDockerfile+".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var copied []string
	for _, m := range regexp.MustCompile(`(?m)^COPY ([^-\n][^\n]*) \S+$`).FindAllStringSubmatch(df, -1) {
		copied = append(copied, strings.Fields(m[1])...)
	}
	if len(copied) == 0 {
		t.Fatal("no COPY from the context found")
	}
	for _, c := range copied {
		if !slices.Contains(BackupContext, c) && !slices.Contains(BackupContext, c+"/") {
			t.Errorf("COPY %s: not in BackupContext %v (the pipeline would not send it)", c, BackupContext)
		}
		if !strings.Contains(string(ignore), "\n!"+c) {
			t.Errorf("COPY %s: not let through by %s.dockerignore", c, BackupDockerfile)
		}
	}

	// Every package of this module that cmd/backup imports is in the context.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "../cmd/backup").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/orders-platform/orders/"
	for _, pkg := range strings.Fields(string(out)) {
		dir, ok := strings.CutPrefix(pkg, module)
		if !ok {
			continue
		}
		if !slices.ContainsFunc(copied, func(c string) bool { return dir == c || strings.HasPrefix(dir, c+"/") }) {
			t.Errorf("cmd/backup imports %s, which cmd/backup/Dockerfile does not copy", pkg)
		}
	}
}

// Every image the pipeline pushes has an ECR repository in terraform/platform's
// default and in every AWS environment.
func TestImagesHaveRepositories(t *testing.T) {
	p := hclparse.NewParser()
	lists := map[string][]string{}
	f, diags := p.ParseHCLFile("../terraform/platform/variables.tf")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "variable" && len(b.Labels) == 1 && b.Labels[0] == "ecr_repositories" {
			lists["terraform/platform/variables.tf default"] = stringList(t, b.Body.Attributes["default"].Expr)
		}
	}
	tfvars, _ := filepath.Glob("../environments/*/terraform.tfvars")
	for _, file := range tfvars {
		f, diags := p.ParseHCLFile(file)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		attrs, _ := f.Body.JustAttributes()
		if a, ok := attrs["ecr_repositories"]; ok {
			lists[file] = stringList(t, a.Expr)
		}
	}
	if len(lists) < 2 {
		t.Fatalf("found ecr_repositories in %d files, want the default and the environments", len(lists))
	}
	for file, repos := range lists {
		for _, img := range Images {
			if !slices.Contains(repos, img) {
				t.Errorf("%s: ecr_repositories lacks %q (the pipeline pushes it)", file, img)
			}
		}
	}
}

func stringList(t *testing.T, expr hcl.Expression) []string {
	t.Helper()
	if expr == nil {
		t.Fatal("no list")
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return out
}
