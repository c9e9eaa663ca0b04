package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orders-platform/orders/internal/backup"
	"github.com/orders-platform/orders/internal/devdb"
)

func noS3(context.Context) (backup.S3API, error) { return nil, errors.New("no S3 in this test") }

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestUsage(t *testing.T) {
	url := map[string]string{"MONGODB_URL": "mongodb://127.0.0.1:1"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no command", nil, url, "no command"},
		{"unknown command", []string{"backup"}, url, `unknown command "backup"`},
		{"dump without --to", []string{"dump"}, url, "dump needs --to"},
		{"restore without --from", []string{"restore"}, url, "restore needs --from"},
		{"list without --from", []string{"list"}, nil, "list needs --from"},
		{"no MONGODB_URL", []string{"dump", "--to", "/tmp/x"}, nil, "MONGODB_URL is not set"},
		{"connection string as a flag", []string{"dump", "--to", "/tmp/x", "--mongodb-url", "mongodb://u:p@h"}, url, "flag provided but not defined"},
		{"unsupported scheme", []string{"restore", "--from", "gs://b/k"}, url, "only local paths and s3://"},
		{"stray argument", []string{"restore", "--from", "/tmp/x", "now"}, url, "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, env(tc.env), &stdout, &stderr, noS3); code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tc.want)
			}
		})
	}
}

// The whole command: dump, list, a refused restore (exit 1), a restore with
// --replace; the connection string never appears in any output.
func TestDumpListRestore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := devdb.Start(ctx, devdb.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	client, err := backup.Connect(ctx, srv.URI())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	if _, err := client.Database("DevOpsAssignment").Collection("orders").InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}}); err != nil {
		t.Fatal(err)
	}
	vars := env(map[string]string{"MONGODB_URL": srv.URI()})
	dir := t.TempDir()

	call := func(wantCode int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, vars, &stdout, &stderr, noS3)
		out := stdout.String() + stderr.String()
		if code != wantCode {
			t.Fatalf("backup %v: exit %d, want %d\n%s", args, code, wantCode, out)
		}
		if strings.Contains(out, srv.URI()) {
			t.Fatalf("backup %v printed the connection string:\n%s", args, out)
		}
		return out
	}

	out := call(0, "dump", "--to", dir)
	if !strings.Contains(out, "orders=2") {
		t.Errorf("dump output does not count the orders: %q", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "DevOpsAssignment-*.jsonl.gz"))
	if len(files) != 1 {
		t.Fatalf("backup files %v, want one", files)
	}
	if out := call(0, "list", "--from", dir); !strings.Contains(out, files[0]) {
		t.Errorf("list does not show %s: %q", files[0], out)
	}
	if out := call(1, "restore", "--from", files[0]); !strings.Contains(out, "not empty") {
		t.Errorf("restore into the live database: %q, want a refusal", out)
	}
	if out := call(0, "restore", "--from", files[0], "--replace"); !strings.Contains(out, "order counter raised to 2") {
		t.Errorf("restore output %q does not report the counter raised to the highest order", out)
	}
	if _, err := os.Stat(files[0]); err != nil {
		t.Fatal(err)
	}
}

// A connection failure is exit 1 and names no password.
func TestConnectionErrorHidesPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	const password = "s3cr3t-Passw0rd"
	vars := env(map[string]string{"MONGODB_URL": "mongodb://orders:" + password + "@" + addr + "/DevOpsAssignment"})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"dump", "--to", t.TempDir(), "--timeout", "2s"}, vars, &stdout, &stderr, noS3)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "reach MongoDB") {
		t.Errorf("stderr %q does not say what failed", stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), password) {
		t.Fatalf("output reveals the password: %s", stderr.String())
	}
}
