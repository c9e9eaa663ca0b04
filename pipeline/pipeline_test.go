package pipeline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

var (
	devEnv   = &environments.Environment{Name: "dev", AWS: true, Region: "eu-central-1", StateKey: "platform/dev/terraform.tfstate"}
	localEnv = &environments.Environment{Name: "local"}
)

const registry = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"

// outputsJSON is `terraform output -json` of a dev platform; drop removes outputs.
func outputsJSON(t *testing.T, mutate func(map[string]any)) []byte {
	t.Helper()
	v := map[string]any{
		"environment": "dev", "region": "eu-central-1", "cluster_name": "orders-dev",
		"cluster_endpoint": "https://ABC.gr7.eu-central-1.eks.amazonaws.com", "cluster_certificate_authority_data": "Q0E=",
		"vpc_id": "vpc-1", "vpc_cidr": "10.10.0.0/16",
		"public_subnet_ids": []string{"subnet-a", "subnet-b"}, "private_subnet_ids": []string{"subnet-c", "subnet-d"},
		"nlb_eip_allocation_ids": []string{"eipalloc-a", "eipalloc-b"}, "nlb_public_ips": []string{"198.51.100.1", "198.51.100.2"},
		"ecr_registry": registry,
		"ecr_repository_urls": map[string]string{
			"service1": registry + "/orders-dev/service1", "service2": registry + "/orders-dev/service2",
			"mirror/mongodb": registry + "/orders-dev/mirror/mongodb", "mirror/envoy": registry + "/orders-dev/mirror/envoy",
			"mirror/envoy-gateway": registry + "/orders-dev/mirror/envoy-gateway", "mirror/envoy-ratelimit": registry + "/orders-dev/mirror/envoy-ratelimit",
		},
		"aws_lb_controller_role_arn": "arn:aws:iam::123456789012:role/lb", "ebs_csi_role_arn": "arn:aws:iam::123456789012:role/ebs",
		"backup_role_arn": "arn:aws:iam::123456789012:role/b", "restore_role_arn": "arn:aws:iam::123456789012:role/r",
		"backup_bucket": "orders-dev-backups", "mongodb_namespace": "mongodb",
		"mongodb_root_secret_arn": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:root",
		"mongodb_app_secret_arn":  "arn:aws:secretsmanager:eu-central-1:123456789012:secret:app",
		// no domain: the three are empty together
		"domain_name": "", "edge_certificate_arn": "", "route53_zone_id": "",
	}
	if mutate != nil {
		mutate(v)
	}
	raw := map[string]any{}
	for k, val := range v {
		raw[k] = map[string]any{"sensitive": false, "type": "string", "value": val}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func devOutputs(t *testing.T) *tfoutputs.Outputs {
	t.Helper()
	out, err := ParseOutputs(devEnv, outputsJSON(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPlanSteps(t *testing.T) {
	tests := []struct {
		name    string
		env     *environments.Environment
		mode    Mode
		opts    StepOptions
		want    string
		wantErr string
	}{
		{name: "deploy runs everything, scan before publish", env: devEnv, mode: ModeDeploy,
			want: "provision mirror scan publish sbom verify release smoke"},
		{name: "deploy without provision", env: devEnv, mode: ModeDeploy, opts: StepOptions{SkipProvision: true},
			want: "provision (skipped: --skip-provision) mirror scan publish sbom verify release smoke"},
		{name: "deploy without smoke", env: devEnv, mode: ModeDeploy, opts: StepOptions{SkipSmoke: true},
			want: "provision mirror scan publish sbom verify release smoke (skipped: --skip-smoke)"},
		{name: "tenant deploy needs the environment: no apply, no mirror", env: devEnv, mode: ModeDeploy, opts: StepOptions{Tenant: "acme"},
			want: "provision (skipped: tenant deploy: the environment must exist (dagger call deploy --env=dev does this)) mirror (skipped: tenant deploy: the environment must exist (dagger call deploy --env=dev does this)) scan publish sbom verify release smoke"},
		{name: "tenant deploy still scans", env: devEnv, mode: ModeDeploy, opts: StepOptions{Tenant: "acme", SkipProvision: true, SkipSmoke: true},
			want: "provision (skipped: tenant deploy: the environment must exist (dagger call deploy --env=dev does this)) mirror (skipped: tenant deploy: the environment must exist (dagger call deploy --env=dev does this)) scan publish sbom verify release smoke (skipped: --skip-smoke)"},
		{name: "bad tenant name", env: devEnv, mode: ModeDeploy, opts: StepOptions{Tenant: "Acme Corp"}, wantErr: `--tenant="Acme Corp"`},
		{name: "tenant only for deploy", env: devEnv, mode: ModeDestroy, opts: StepOptions{Tenant: "acme"}, wantErr: "--tenant applies to deploy only"},
		{name: "diff is plan-only", env: devEnv, mode: ModeDiff,
			want: "plan publish (skipped: diff compares against images of the current commit, without pushing) diff"},
		{name: "destroy uninstalls first", env: devEnv, mode: ModeDestroy, want: "uninstall destroy"},
		{name: "up on local has no terraform", env: localEnv, mode: ModeUp,
			want: "build scan (skipped: local images are scanned by deploy, before they are pushed) cluster release smoke"},
		{name: "deploy refuses local", env: localEnv, mode: ModeDeploy, wantErr: `environment "local" has no Terraform`},
		{name: "destroy refuses local", env: localEnv, mode: ModeDestroy, wantErr: "use `dagger call up`"},
		{name: "up refuses AWS", env: devEnv, mode: ModeUp, wantErr: "use `dagger call deploy --env=dev`"},
		{name: "unknown mode", env: devEnv, mode: "release", wantErr: `unknown mode "release"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, err := Plan(tt.env, tt.mode, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range steps {
				got = append(got, s.String())
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("steps = %q\nwant     %q", g, tt.want)
			}
		})
	}
}

func TestConfirmDestroy(t *testing.T) {
	for _, tt := range []struct {
		env, confirm string
		ok           bool
	}{{"dev", "dev", true}, {"dev", "", false}, {"prod", "dev", false}, {"prod", "prod ", false}} {
		err := ConfirmDestroy(tt.env, tt.confirm)
		if (err == nil) != tt.ok {
			t.Errorf("ConfirmDestroy(%q, %q) = %v, want ok=%v", tt.env, tt.confirm, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--confirm="+tt.env) {
			t.Errorf("refusal does not say how to confirm: %v", err)
		}
	}
}

func TestImageTagAndDigest(t *testing.T) {
	commit := "0123456789abcdef0123456789abcdef01234567"
	for _, tt := range []struct {
		in string
		ok bool
	}{{commit, true}, {commit + "\n", true}, {"0123456", false}, {strings.ToUpper(commit), false}, {"", false}} {
		tag, err := ImageTag(tt.in)
		if (err == nil) != tt.ok || (tt.ok && tag != commit) {
			t.Errorf("ImageTag(%q) = %q, %v", tt.in, tag, err)
		}
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	repo := registry + "/orders-dev/service1"
	for _, tt := range []struct {
		published, want, wantErr string
	}{
		{published: repo + ":" + commit + "@" + digest, want: repo + "@" + digest},
		{published: repo + ":" + commit, wantErr: "has no digest"},
		{published: repo + ":" + commit + "@sha256:xyz", wantErr: "not a sha256 digest"},
		{published: registry + "/orders-dev/service2:" + commit + "@" + digest, wantErr: "is not " + repo},
	} {
		ref, err := ParsePublished(tt.published, repo, commit)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePublished(%q) error = %v, want %q", tt.published, err, tt.wantErr)
			}
			continue
		}
		if err != nil || ref.String() != tt.want || ref.Tag != commit {
			t.Errorf("ParsePublished(%q) = %v, %v; want %s", tt.published, ref, err, tt.want)
		}
	}
	if _, err := ServiceDockerfile("service3"); err == nil {
		t.Error("unknown service accepted")
	}
	if d, _ := ServiceDockerfile("service2"); d != "service2/Dockerfile" {
		t.Errorf("Dockerfile = %q", d)
	}
}

func TestMirrorPlan(t *testing.T) {
	out := devOutputs(t)
	plan, err := MirrorPlan([]ThirdPartyImage{
		{Source: "docker.io/bitnamilegacy/mongodb:8.0.13-debian-12-r0", ECRRepository: "mirror/mongodb", Platforms: []string{"linux/amd64"}},
		EnvoyImages()[1],
	}, out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mirror{
		{Source: "docker.io/bitnamilegacy/mongodb:8.0.13-debian-12-r0", Target: registry + "/orders-dev/mirror/mongodb:8.0.13-debian-12-r0", Platforms: []dagger.Platform{"linux/amd64"}},
		{Source: EnvoyImages()[1].Source, Target: registry + "/orders-dev/mirror/envoy:distroless-v1.39.1", Platforms: []dagger.Platform{"linux/amd64"}},
	}
	if !reflect.DeepEqual(plan, want) {
		t.Errorf("plan = %+v\nwant %+v", plan, want)
	}
	if _, err := MirrorPlan([]ThirdPartyImage{{Source: "docker.io/x/y:1", ECRRepository: "mirror/missing"}}, out); err == nil || !strings.Contains(err.Error(), `no ECR repository "mirror/missing"`) {
		t.Errorf("missing repository: %v", err)
	}
	if _, err := MirrorPlan([]ThirdPartyImage{{Source: "localhost:5000/y", ECRRepository: "mirror/envoy"}}, out); err == nil || !strings.Contains(err.Error(), "no tag") {
		t.Errorf("untagged source: %v", err)
	}
}

func TestTerraformCommands(t *testing.T) {
	tf := Terraform{Env: devEnv, Bucket: "orders-tfstate-123456789012-eu-central-1"}
	init, err := tf.Init()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		got  []string
		want string
	}{
		{"init", init, "terraform -chdir=terraform/platform init -input=false -no-color -backend-config=../../environments/dev/backend.hcl -backend-config=bucket=orders-tfstate-123456789012-eu-central-1 -backend-config=region=eu-central-1"},
		{"plan", tf.Plan(), "terraform -chdir=terraform/platform plan -input=false -no-color -lock-timeout=5m -detailed-exitcode -var-file=../../environments/dev/terraform.tfvars -out=platform.tfplan"},
		{"apply applies the plan shown", tf.Apply(), "terraform -chdir=terraform/platform apply -input=false -no-color -lock-timeout=5m -auto-approve platform.tfplan"},
		{"destroy", tf.Destroy(), "terraform -chdir=terraform/platform destroy -input=false -no-color -lock-timeout=5m -auto-approve -var-file=../../environments/dev/terraform.tfvars"},
		{"output", tf.Output(), "terraform -chdir=terraform/platform output -json -no-color"},
	} {
		if g := strings.Join(tt.got, " "); g != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, g, tt.want)
		}
	}
	if init, _ := (Terraform{Env: devEnv, Bucket: "b", BucketRegion: "us-east-1"}).Init(); !slices.Contains(init, "-backend-config=region=us-east-1") {
		t.Errorf("init with the bucket's own region: %v", init)
	}
	if _, err := (Terraform{Env: localEnv, Bucket: "b"}).Init(); err == nil {
		t.Error("init for local accepted")
	}
	if _, err := (Terraform{Env: devEnv}).Init(); err == nil {
		t.Error("init without bucket accepted")
	}
	if b, err := StateBucket("123456789012", "eu-central-1"); err != nil || b != "orders-tfstate-123456789012-eu-central-1" {
		t.Errorf("StateBucket = %q, %v", b, err)
	}
	if _, err := StateBucket("12345", "eu-central-1"); err == nil {
		t.Error("bad account accepted")
	}
	for code, want := range map[int]PlanResult{0: PlanNoChanges, 2: PlanChanges} {
		if got, err := ParsePlanExit(code); err != nil || got != want {
			t.Errorf("ParsePlanExit(%d) = %v, %v", code, got, err)
		}
	}
	if _, err := ParsePlanExit(1); err == nil {
		t.Error("exit code 1 is a failed plan")
	}
}

func TestParseOutputs(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(map[string]any)
		wantErr string
	}{
		{name: "complete"},
		{name: "missing output is one line", mutate: func(m map[string]any) { delete(m, "cluster_name"); delete(m, "ecr_registry") },
			wantErr: "environment dev: terraform outputs missing: cluster_name, ecr_registry"},
		{name: "state of another environment", mutate: func(m map[string]any) { m["environment"] = "prod" },
			wantErr: `the Terraform state holds environment "prod"`},
		{name: "region differs", mutate: func(m map[string]any) { m["region"] = "us-east-1" },
			wantErr: `region "us-east-1"`},
		{name: "service repository missing", mutate: func(m map[string]any) {
			m["ecr_repository_urls"] = map[string]string{"service1": "x"}
		}, wantErr: `has no repository "service2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ParseOutputs(devEnv, outputsJSON(t, tt.mutate))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out.ClusterName != "orders-dev" || PublicURL(out) != "http://198.51.100.1" {
					t.Errorf("outputs = %+v", out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// stubECR answers GetAuthorizationToken at the SDK's middleware layer: the real
// client, serializers and validators run; only the network round trip is replaced.
func stubECR(out *ecr.GetAuthorizationTokenOutput) *ecr.Client {
	cfg := aws.Config{Region: "eu-central-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	return ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("stub", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				return middleware.FinalizeOutput{Result: out}, middleware.Metadata{}, nil
			}), middleware.After)
		})
	})
}

func TestECRLogin(t *testing.T) {
	token := func(s string) *string { v := base64.StdEncoding.EncodeToString([]byte(s)); return &v }
	endpoint := "https://" + registry
	tests := []struct {
		name    string
		out     *ecr.GetAuthorizationTokenOutput
		want    RegistryAuth
		wantErr string
	}{
		{name: "decodes AWS:password", out: &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: token("AWS:s3cr3t:with:colons"), ProxyEndpoint: &endpoint}}},
			want: RegistryAuth{Registry: registry, Username: "AWS", Password: "s3cr3t:with:colons"}},
		{name: "no data", out: &ecr.GetAuthorizationTokenOutput{}, wantErr: "no authorization data"},
		{name: "not base64", out: &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: aws.String("%%%")}}}, wantErr: "not base64"},
		{name: "no password", out: &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: token("AWS")}}}, wantErr: "not <user>:<password>"},
		{name: "another registry", out: &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: token("AWS:p"), ProxyEndpoint: aws.String("https://999999999999.dkr.ecr.us-east-1.amazonaws.com")}}},
			wantErr: "credentials of another account or region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ECRLogin(context.Background(), stubECR(tt.out), registry)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVulnerabilityGate(t *testing.T) {
	report := []byte(`{"Results":[{"Target":"service1 (debian 12)","Vulnerabilities":[
		{"VulnerabilityID":"CVE-2026-0002","PkgName":"libssl3","InstalledVersion":"3.0.1","FixedVersion":"3.0.2","Severity":"CRITICAL"},
		{"VulnerabilityID":"CVE-2026-0001","PkgName":"zlib","InstalledVersion":"1.2","Severity":"HIGH"},
		{"VulnerabilityID":"CVE-2026-0003","PkgName":"tar","InstalledVersion":"1","Severity":"MEDIUM"}]},
		{"Target":"node_modules","Vulnerabilities":null}]}`)
	findings, err := ParseTrivyReport(report)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 3 || findings[0].ID != "CVE-2026-0001" {
		t.Fatalf("findings = %+v", findings)
	}
	tests := []struct {
		name      string
		accepted  []string
		wantErr   string
		wantNotes int
	}{
		{name: "blocks HIGH and CRITICAL", wantErr: "service1 has 2 HIGH/CRITICAL vulnerabilities: HIGH CVE-2026-0001 zlib 1.2 (no fix); CRITICAL CVE-2026-0002 libssl3 3.0.1 (3.0.2)"},
		{name: "one accepted, one blocks", accepted: []string{"CVE-2026-0002"}, wantErr: "has 1 HIGH/CRITICAL"},
		{name: "all accepted", accepted: []string{"CVE-2026-0001", "CVE-2026-0002"}},
		{name: "stale acceptance is reported", accepted: []string{"CVE-2026-0001", "CVE-2026-0002", "CVE-2020-9999"}, wantNotes: 1},
		{name: "accepting a MEDIUM does not help", accepted: []string{"CVE-2026-0003"}, wantErr: "has 2", wantNotes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notes, err := VulnerabilityGate("service1", findings, tt.accepted)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if len(notes) != tt.wantNotes {
				t.Errorf("notes = %q, want %d", notes, tt.wantNotes)
			}
		})
	}
	if ids, err := ParseAccepted([]string{"CVE-2026-0001,GHSA-abcd-efgh-2345", " "}); err != nil || len(ids) != 2 {
		t.Errorf("ParseAccepted = %v, %v", ids, err)
	}
	if _, err := ParseAccepted([]string{"CVE-*"}); err == nil {
		t.Error("wildcard accepted")
	}
	if _, err := ParseTrivyReport([]byte("not json")); err == nil {
		t.Error("bad report accepted")
	}
}

func TestDeployerArgs(t *testing.T) {
	images := map[string]string{"service2": "r/s2@sha256:2", "service1": "r/s1@sha256:1"}
	withBackup := map[string]string{"service2": "r/s2@sha256:2", "backup": "r/b@sha256:3", "service1": "r/s1@sha256:1"}
	tests := []struct {
		name    string
		req     DeployerRequest
		want    string
		wantErr string
	}{
		{name: "apply on AWS with digests", req: DeployerRequest{Action: DeployerApply, Env: "dev", Root: "/src", OutputsFile: "/work/o.json", Images: images, Timeout: "15m"},
			want: "deployer apply -env dev -root /src -terraform-outputs /work/o.json -image service1=r/s1@sha256:1 -image service2=r/s2@sha256:2 -timeout 15m"},
		{name: "apply local", req: DeployerRequest{Action: DeployerApply, Env: "local", Root: "/src", Kubeconfig: "/work/kubeconfig", Images: images},
			want: "deployer apply -env local -root /src -kubeconfig /work/kubeconfig -image service1=r/s1@sha256:1 -image service2=r/s2@sha256:2"},
		{name: "diff has no timeout", req: DeployerRequest{Action: DeployerDiff, Env: "dev", Root: "/src", OutputsFile: "/o", Images: images, Timeout: "1m"},
			want: "deployer diff -env dev -root /src -terraform-outputs /o -image service1=r/s1@sha256:1 -image service2=r/s2@sha256:2"},
		{name: "uninstall", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src", OutputsFile: "/o"},
			want: "deployer uninstall -env dev -root /src -terraform-outputs /o"},
		{name: "tunnel", req: DeployerRequest{Action: DeployerTunnel, Env: "dev", Root: "/src", OutputsFile: "/o", Listen: "0.0.0.0:27017"},
			want: "deployer tunnel -env dev -root /src -terraform-outputs /o -listen 0.0.0.0:27017"},
		{name: "missing image", req: DeployerRequest{Action: DeployerApply, Env: "dev", Root: "/src", OutputsFile: "/o", Images: map[string]string{"service1": "x"}}, wantErr: "no image for service2"},
		{name: "both targets", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src", OutputsFile: "/o", Kubeconfig: "/k"}, wantErr: "exactly one"},
		{name: "no target", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src"}, wantErr: "exactly one"},
		{name: "unknown action", req: DeployerRequest{Action: "install", Env: "dev", Root: "/src", OutputsFile: "/o"}, wantErr: "unknown deployer action"},
		{name: "apply with the backup image", req: DeployerRequest{Action: DeployerApply, Env: "dev", Root: "/src", OutputsFile: "/o", Images: withBackup, Timeout: "15m"},
			want: "deployer apply -env dev -root /src -terraform-outputs /o -image backup=r/b@sha256:3 -image service1=r/s1@sha256:1 -image service2=r/s2@sha256:2 -timeout 15m"},
		{name: "apply one tenant", req: DeployerRequest{Action: DeployerApply, Env: "dev", Root: "/src", OutputsFile: "/o", Images: images, Tenant: "acme", Timeout: "15m"},
			want: "deployer apply -env dev -root /src -terraform-outputs /o -image service1=r/s1@sha256:1 -image service2=r/s2@sha256:2 -tenant acme -timeout 15m"},
		{name: "unknown image name", req: DeployerRequest{Action: DeployerApply, Env: "dev", Root: "/src", OutputsFile: "/o", Images: map[string]string{"service1": "a", "service2": "b", "service3": "c"}},
			wantErr: `unknown image "service3" (known: service1, service2, backup)`},
		{name: "uninstall one tenant", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src", OutputsFile: "/o", Tenant: "acme", Confirm: "acme"},
			want: "deployer uninstall -env dev -root /src -terraform-outputs /o -tenant acme -confirm acme"},
		{name: "uninstall one tenant unconfirmed", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src", OutputsFile: "/o", Tenant: "acme"},
			wantErr: "remove-tenant --tenant=acme refused: it drops the tenant's database and user with no backup of them; repeat the tenant's name with --confirm=acme"},
		{name: "uninstall one tenant, another name", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src", OutputsFile: "/o", Tenant: "acme", Confirm: "acme2"}, wantErr: "--confirm=acme"},
		{name: "bad tenant", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src", OutputsFile: "/o", Tenant: "-acme", Confirm: "-acme"}, wantErr: `--tenant="-acme"`},
		{name: "tenant upper case", req: DeployerRequest{Action: DeployerUninstall, Env: "dev", Root: "/src", OutputsFile: "/o", Tenant: "Acme", Confirm: "Acme"}, wantErr: "lower-case"},
		{name: "reserved tenant", req: DeployerRequest{Action: DeployerApply, Env: "dev", Root: "/src", OutputsFile: "/o", Images: images, Tenant: "service1"}, wantErr: `tenant name "service1" is reserved`},
		{name: "tenant on backup", req: DeployerRequest{Action: DeployerBackup, Env: "dev", Root: "/src", OutputsFile: "/o", Tenant: "acme"}, wantErr: "--tenant applies to apply and uninstall only"},
		{name: "backup", req: DeployerRequest{Action: DeployerBackup, Env: "dev", Root: "/src", OutputsFile: "/o"},
			want: "deployer backup -env dev -root /src -terraform-outputs /o"},
		{name: "restore a key", req: DeployerRequest{Action: DeployerRestore, Env: "dev", Root: "/src", OutputsFile: "/o", From: "dev/DevOpsAssignment-20261127T010000Z.jsonl.gz", Replace: true},
			want: "deployer restore -env dev -root /src -terraform-outputs /o -from dev/DevOpsAssignment-20261127T010000Z.jsonl.gz -replace"},
		{name: "restore an s3 URL", req: DeployerRequest{Action: DeployerRestore, Env: "dev", Root: "/src", OutputsFile: "/o", From: "s3://b/dev/x.jsonl.gz", Replace: true},
			want: "deployer restore -env dev -root /src -terraform-outputs /o -from s3://b/dev/x.jsonl.gz -replace"},
		{name: "restore without --replace is refused", req: DeployerRequest{Action: DeployerRestore, Env: "dev", Root: "/src", OutputsFile: "/o", From: "s3://b/dev/x.jsonl.gz"}, wantErr: "restore --env=dev: --replace is required"},
		{name: "restore needs --from", req: DeployerRequest{Action: DeployerRestore, Env: "dev", Root: "/src", OutputsFile: "/o", Replace: true}, wantErr: "--from is required"},
		{name: "restore --from is not a flag", req: DeployerRequest{Action: DeployerRestore, Env: "dev", Root: "/src", OutputsFile: "/o", From: "-replace", Replace: true}, wantErr: "not a backup key"},
		{name: "restore --from without spaces", req: DeployerRequest{Action: DeployerRestore, Env: "dev", Root: "/src", OutputsFile: "/o", From: "a b", Replace: true}, wantErr: "not a backup key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := tt.req.Args()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(args, " "); g != tt.want {
				t.Errorf("args:\n got %s\nwant %s", g, tt.want)
			}
		})
	}
}

func TestCredentialsError(t *testing.T) {
	if err := CredentialsError("deploy", true, true); err != nil {
		t.Errorf("complete credentials refused: %v", err)
	}
	for _, c := range [][2]bool{{false, false}, {true, false}, {false, true}} {
		err := CredentialsError("deploy", c[0], c[1])
		if err == nil || !strings.HasPrefix(err.Error(), "deploy needs AWS credentials: pass --aws-access-key-id=env://AWS_ACCESS_KEY_ID") || strings.Contains(err.Error(), "\n") {
			t.Errorf("CredentialsError(%v) = %v", c, err)
		}
	}
}

func TestDeploySummary(t *testing.T) {
	out := devOutputs(t)
	refs := map[string]ImageRef{"service1": {Repository: "r/s1", Digest: "sha256:1"}, "backup": {Repository: "r/b", Digest: "sha256:3"}}
	sboms := []SBOMSummary{{File: "service1-abc.cdx.json", SpecVersion: "1.6", Components: 42}}
	tests := []struct {
		name, tenant string
		want, not    []string
	}{
		{name: "environment", want: []string{"deployed dev (eu-central-1, cluster orders-dev)", "public URL:   http://198.51.100.1\n", "Elastic IPs:  198.51.100.1, 198.51.100.2",
			"service1  r/s1@sha256:1", "backup    r/b@sha256:3", "sbom/service1-abc.cdx.json (CycloneDX 1.6, 42 components)", "curl -XGET    http://198.51.100.1/service2"}},
		{name: "tenant", tenant: "acme", want: []string{"deployed tenant acme to dev", "public URL:   http://198.51.100.1/acme\n", "curl -XPOST   http://198.51.100.1/acme/service1"},
			not: []string{"curl -XGET    http://198.51.100.1/service2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DeploySummary(out, tt.tenant, refs, sboms)
			for _, want := range tt.want {
				if !strings.Contains(s, want) {
					t.Errorf("summary lacks %q:\n%s", want, s)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(s, not) {
					t.Errorf("summary has %q:\n%s", not, s)
				}
			}
		})
	}
}

// Every image the mirror step copies has a repository in terraform/platform's ecr_repositories.
func TestEnvoyImagesHaveMirrors(t *testing.T) {
	for _, img := range EnvoyImages() {
		if !strings.HasPrefix(img.ECRRepository, "mirror/") {
			t.Errorf("%s: %s is not a mirror repository", img.Source, img.ECRRepository)
		}
		if _, err := charts.SourceTag(img.Source); err != nil {
			t.Error(err)
		}
	}
}

// With a domain the public URL is https://<domain> and the smoke test connects to the
// first Elastic IP (DNS may not answer yet); without one, plain HTTP on that IP.
func TestPublicURLAndSmokeArgs(t *testing.T) {
	base := func() *tfoutputs.Outputs {
		return &tfoutputs.Outputs{NLBPublicIPs: []string{"198.51.100.1", "198.51.100.2"}}
	}
	withDomain := base()
	withDomain.DomainName = "orders.example.com"
	for _, tc := range []struct {
		name   string
		out    *tfoutputs.Outputs
		tenant string
		url    string
		args   string
	}{
		{"no domain", base(), "", "http://198.51.100.1", "-url http://198.51.100.1"},
		{"no domain, tenant", base(), "pr-7", "http://198.51.100.1", "-url http://198.51.100.1/pr-7"},
		{"domain", withDomain, "", "https://orders.example.com", "-url https://orders.example.com -connect-to 198.51.100.1"},
		{"domain, tenant", withDomain, "acme", "https://orders.example.com", "-url https://orders.example.com/acme -connect-to 198.51.100.1"},
		{"no address yet", &tfoutputs.Outputs{}, "", "", "-url "},
	} {
		if got := PublicURL(tc.out); got != tc.url {
			t.Errorf("%s: PublicURL = %q, want %q", tc.name, got, tc.url)
		}
		if got := strings.Join(SmokeArgs(tc.out, tc.tenant), " "); got != tc.args {
			t.Errorf("%s: SmokeArgs = %q, want %q", tc.name, got, tc.args)
		}
	}
}
