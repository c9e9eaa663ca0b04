package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/charts"
)

func kubeconfig(t *testing.T, server string) string {
	t.Helper()
	body := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: ` + server + `, insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t0ken}
contexts:
- name: staging
  context: {cluster: c, user: u}
- name: dev
  context: {cluster: c, user: u}
current-context: dev
`
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestRun(t *testing.T) {
	addr := closedAddress(t)
	kc := kubeconfig(t, "https://"+addr)
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderr     []string
		oneLineErr bool
	}{
		{name: "no command", args: nil, code: 2, stderr: []string{"usage: deployer plan|apply|diff|uninstall"}},
		{name: "unknown command", args: []string{"install"}, code: 2, stderr: []string{`unknown command "install"`}},
		{name: "no environment", args: []string{"plan"}, code: 2, stderr: []string{"--env is required"}, oneLineErr: true},
		{name: "unknown environment", args: []string{"plan", "--env=staging"}, code: 2, stderr: []string{`deployer plan: unknown environment "staging" (known: dev, local, prod; an environment is a folder under environments/)`}, oneLineErr: true},
		{name: "plan local", args: []string{"plan", "--env=local", "--skip-addons", "--skip=mongodb", "--tag=abc1234"}, code: 0,
			stdout: []string{"1. envoy-gateway", "(skipped: add-ons skipped by the caller)", "2. edge", "3. mongodb", "4. orders", "charts/orders (timeout 5m0s)"}},
		{name: "passwords are never flags", args: []string{"deploy", "--env=local", "--mongodb-root-password=x"}, code: 2, stderr: []string{"flag provided but not defined"}},
		{name: "bad image flag", args: []string{"plan", "--env=local", "--image=service1"}, code: 2, stderr: []string{"want <service>=<image reference>"}},
		{name: "image not in the environment's registry", args: []string{"plan", "--env=local", "--image=service1=example.com/x/service1:abc", "--image=service2=example.org/x/service2:abc"}, code: 2, stderr: []string{"must come from one registry"}},
		{name: "prod applies digests only", args: []string{"apply", "--env=prod", "--skip-addons", "--tag=abc"}, code: 2, stderr: []string{"deploys images by digest"}},
		{name: "prod plan with tags is shown", args: []string{"plan", "--env=prod", "--skip-addons", "--tag=abc"}, code: 0, stdout: []string{"plan for environment prod"}},
		{name: "wrong context", args: []string{"deploy", "--env=local", "--kubeconfig=" + kc, "--context=prod"}, code: 2,
			stderr: []string{`context "prod" not found in kubeconfig`, "(available: dev, staging)"}, oneLineErr: true},
		{name: "unreachable cluster", args: []string{"deploy", "--env=local", "--skip-addons", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"cannot reach the Kubernetes API at https://" + addr}},
		{name: "restore refuses without --replace", args: []string{"restore", "--env=dev", "--from=DevOpsAssignment-20261127T030000Z.jsonl.gz", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"restore needs --replace: it drops the live database's collections", "nothing was changed"}, oneLineErr: true},
		{name: "--from belongs to restore", args: []string{"backup", "--env=dev", "--from=x", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"--from and --replace are flags of restore only"}, oneLineErr: true},
		{name: "no backup release in local", args: []string{"backup", "--env=local", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"environment local has no backup release", "environments/local/values/backup.yaml is missing"}, oneLineErr: true},
		{name: "backup of an unknown environment", args: []string{"backup", "--env=staging"}, code: 2, stderr: []string{`unknown environment "staging"`}, oneLineErr: true},
		{name: "backup needs a cluster", args: []string{"backup", "--env=dev", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"cannot reach the Kubernetes API at https://" + addr}},
		{name: "usage names backup and restore", args: nil, code: 2, stderr: []string{"backup|restore", "--from=<key or s3:// URL> --replace"}},
		{name: "diff needs a cluster too", args: []string{"diff", "--env=local", "--kubeconfig=" + kc, "--context=staging"}, code: 2,
			stderr: []string{"cannot reach the Kubernetes API"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, noEnv, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			wantAll(t, "stdout", stdout.String(), tc.stdout)
			wantAll(t, "stderr", stderr.String(), tc.stderr)
			if tc.oneLineErr && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("error is not one line:\n%s", stderr.String())
			}
		})
	}
}

// devOutputsFile writes a minimal but complete `terraform output -json` for dev.
func devOutputsFile(t *testing.T) string {
	t.Helper()
	outputs := `{
 "environment": {"value": "dev"}, "region": {"value": "eu-central-1"}, "cluster_name": {"value": "orders-dev"},
 "cluster_endpoint": {"value": "https://example.eks.amazonaws.com"}, "cluster_certificate_authority_data": {"value": "Q0E="},
 "vpc_id": {"value": "vpc-1"}, "vpc_cidr": {"value": "10.0.0.0/16"},
 "public_subnet_ids": {"value": ["subnet-0a1b2c3d4e5f60700", "subnet-0a1b2c3d4e5f60701"]},
 "private_subnet_ids": {"value": ["subnet-0a1b2c3d4e5f60710"]},
 "nlb_eip_allocation_ids": {"value": ["eipalloc-0f1e2d3c4b5a69780", "eipalloc-0f1e2d3c4b5a69781"]},
 "nlb_public_ips": {"value": ["192.0.2.1", "192.0.2.2"]},
 "ecr_registry": {"value": "123456789012.dkr.ecr.eu-central-1.amazonaws.com"},
 "ecr_repository_urls": {"value": {"service1": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/service1", "service2": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/service2", "mirror/mongodb": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/mirror/mongodb", "mirror/mongodb-exporter": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/mirror/mongodb-exporter", "backup": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/backup", "mirror/envoy-gateway": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/envoy-gateway", "mirror/envoy": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/envoy", "mirror/envoy-ratelimit": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/envoy-ratelimit"}},
 "aws_lb_controller_role_arn": {"value": "arn:aws:iam::123456789012:role/a"}, "ebs_csi_role_arn": {"value": "arn:aws:iam::123456789012:role/b"},
 "backup_role_arn": {"value": "arn:aws:iam::123456789012:role/c"}, "restore_role_arn": {"value": "arn:aws:iam::123456789012:role/d"},
 "backup_bucket": {"value": "bucket"}, "mongodb_namespace": {"value": "mongodb"},
 "mongodb_root_secret_arn": {"value": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:r"},
 "mongodb_app_secret_arn": {"value": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:a"},
 "domain_name": {"value": ""}, "edge_certificate_arn": {"value": ""}, "route53_zone_id": {"value": ""}
}`
	// Every add-on's mirror repository, as terraform/platform creates them.
	var doc map[string]map[string]any
	if err := json.Unmarshal([]byte(outputs), &doc); err != nil {
		t.Fatal(err)
	}
	urls := doc["ecr_repository_urls"]["value"].(map[string]any)
	for _, a := range charts.AddonMirrors {
		for _, m := range a.Images {
			urls[m.ECRRepository] = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/" + m.ECRRepository
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTerraformOutputsMustMatchTheEnvironment(t *testing.T) {
	path := devOutputsFile(t)
	for _, tc := range []struct {
		env  string
		code int
		want string
	}{
		{"prod", 2, `are for environment "dev", not "prod"`},
		{"dev", 0, "2. aws-load-balancer-controller"},
		// The backup image is optional: without it the plan says how to pass it.
		{"dev", 0, "ns/mongodb             local  charts/backup (skipped: no backup image: pass --image backup=<ref>"},
		{"dev", 0, "ns/kube-system         local  charts/cluster (timeout 1m0s)"},
		{"dev", 0, "external-dns"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"plan", "--env=" + tc.env, "--terraform-outputs=" + path, "--tag=abc1234"}, func(string) string { return "" }, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Errorf("exit %d, output:\n%s%s\nwant %d and %q", code, stdout.String(), stderr.String(), tc.code, tc.want)
			}
		})
	}
}

// wantAll reports each of wants that out (stdout or stderr, named what) lacks.
func wantAll(t *testing.T, what, out string, wants []string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}
