package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/orders-platform/orders/test/kubeapi"
)

// TestBackupCommandsOnCluster runs backup and restore as the DR runbook does, with a
// kubeconfig and the Terraform outputs, against a real API server with controllers
// and kwok (whose pod-complete Stage finishes the Jobs' pods): apply the dev backup
// release with its image, back up now, refuse a restore without --replace, restore.
func TestBackupCommandsOnCluster(t *testing.T) {
	cluster := kubeapi.Start(t, kubeapi.Options{AfterStart: []func(testing.TB, *kubeapi.Cluster){kubeapi.WithWorkloads(nil)}})
	env := func(k string) string {
		return map[string]string{"ORDERS_MONGODB_ROOT_PASSWORD": "root-pw-2", "ORDERS_MONGODB_APP_PASSWORD": "app-pw-2"}[k]
	}
	outputs := devOutputsFile(t)
	digest := "sha256:" + strings.Repeat("5e", 32)
	access := []string{"--env=dev", "--terraform-outputs=" + outputs, "--kubeconfig=" + cluster.KubeconfigFile, "--context=kubeapi", "--timeout=2m"}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"apply the backup release", append([]string{"apply", "--skip-addons", "--tag=abc1234", "--image=backup=" + digest,
			"--skip=cluster", "--skip=edge", "--skip=mongodb", "--skip=orders"}, access...), 0,
			[]string{"secrets: mongodb/mongodb-auth, orders/orders-mongodb, mongodb/mongodb-backup applied", "backup: installed revision 1"}, nil},
		{"backup now", append([]string{"backup"}, access...), 0,
			[]string{"backup: Job mongodb/backup-backup-", "backup of environment dev: Job mongodb/backup-backup-", "written under s3://bucket/dev (the newest file there: go run ./cmd/backup list --from s3://bucket/dev)"}, nil},
		{"restore without --replace", append([]string{"restore", "--from=DevOpsAssignment-20261127T030000Z.jsonl.gz"}, access...), 2,
			nil, []string{"restore needs --replace"}},
		{"restore", append([]string{"restore", "--from=DevOpsAssignment-20261127T030000Z.jsonl.gz", "--replace"}, access...), 0,
			[]string{"restore of environment dev from s3://bucket/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz: Job mongodb/backup-restore-"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, env, &stdout, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			t.Logf("stdout:\n%s", stdout.String())
			wantAll(t, "stdout", stdout.String(), tc.stdout)
			wantAll(t, "stderr", stderr.String(), tc.stderr)
			for _, pw := range []string{"root-pw-2", "app-pw-2"} {
				if strings.Contains(stdout.String()+stderr.String(), pw) {
					t.Error("a password appears in the output")
				}
			}
		})
	}
}
