package main

import (
	"bytes"
	"context"
	"testing"
)

func TestRunTenant(t *testing.T) {
	addr := closedAddress(t)
	kc := kubeconfig(t, "https://"+addr)
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr []string
	}{
		{name: "plan", args: []string{"plan", "--env=local", "--tenant=acme", "--tag=abc1234"}, code: 0, stdout: []string{
			"plan for tenant acme of environment local (namespace tenant-acme, database tenant_acme, routes /acme/service1 and /acme/service2)",
			"1. tenant-acme", "ns/tenant-acme", "charts/tenant", "2. orders"}},
		{name: "bad name", args: []string{"plan", "--env=local", "--tenant=ACME"}, code: 2, stderr: []string{`tenant name "ACME": want 2 to 20`}},
		{name: "reserved name", args: []string{"apply", "--env=local", "--tenant=mongodb"}, code: 2, stderr: []string{`"mongodb" is reserved for the platform`}},
		{name: "not with tunnel", args: []string{"tunnel", "--env=local", "--tenant=acme"}, code: 2, stderr: []string{"--tenant applies to plan, apply, diff and uninstall, not tunnel"}},
		{name: "not with --skip", args: []string{"apply", "--env=local", "--tenant=acme", "--skip=mongodb"}, code: 2, stderr: []string{"--skip does not apply to a tenant"}},
		{name: "prod applies digests only", args: []string{"apply", "--env=prod", "--tenant=acme", "--tag=abc"}, code: 2, stderr: []string{"deploys images by digest"}},
		{name: "unreachable cluster", args: []string{"apply", "--env=local", "--tenant=acme", "--tag=abc1234", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"cannot reach the Kubernetes API at https://" + addr}},
		{name: "uninstall drops data: refused without --confirm", args: []string{"uninstall", "--env=local", "--tenant=acme", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"uninstall --tenant=acme refused: it drops the tenant's database", "--confirm=acme"}},
		{name: "uninstall refused with another name", args: []string{"uninstall", "--env=local", "--tenant=acme", "--confirm=acme2", "--kubeconfig=" + kc}, code: 2,
			stderr: []string{"repeat the tenant's name with --confirm=acme"}},
		{name: "--confirm belongs to uninstall --tenant", args: []string{"apply", "--env=local", "--tenant=acme", "--confirm=acme"}, code: 2,
			stderr: []string{"--confirm is a flag of uninstall --tenant only"}},
		{name: "confirmed uninstall needs a cluster", args: []string{"uninstall", "--env=local", "--tenant=acme", "--confirm=acme", "--kubeconfig=" + kc}, code: 1,
			stderr: []string{"cannot reach the Kubernetes API at https://" + addr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, noEnv, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			wantAll(t, "stdout", stdout.String(), tc.stdout)
			wantAll(t, "stderr", stderr.String(), tc.stderr)
		})
	}
}
