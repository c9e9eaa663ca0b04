package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/orders-platform/orders/test/kubeapi"
)

// TestDeployCommandOnCluster runs the command as a person would, with a kubeconfig,
// against a real API server with controllers and kwok nodes: deploy, then diff
// (nothing changed), then diff with a new tag (the image line changes).
func TestDeployCommandOnCluster(t *testing.T) {
	cluster := kubeapi.Start(t, kubeapi.Options{AfterStart: []func(testing.TB, *kubeapi.Cluster){kubeapi.WithWorkloads(nil)}})
	env := func(k string) string {
		return map[string]string{"ORDERS_MONGODB_ROOT_PASSWORD": "root-pw-1", "ORDERS_MONGODB_APP_PASSWORD": "app-pw-1"}[k]
	}
	digest := "sha256:" + strings.Repeat("0f", 32)
	common := []string{"--env=local", "--skip-addons", "--skip=mongodb", "--kubeconfig=" + cluster.KubeconfigFile, "--context=kubeapi", "--timeout=2m"}
	for _, tc := range []struct {
		name   string
		args   []string
		stdout []string
		absent []string
	}{
		{"apply", append([]string{"apply", "--tag=abc1234"}, common...), []string{"edge: installed revision 1", "orders: installed revision 1", "deployed environment local"}, nil},
		{"diff without changes", append([]string{"diff", "--tag=abc1234"}, common...), []string{"# edge: no changes (revision 1)", "# orders: no changes (revision 1)", "# mongodb: skipped"}, []string{"+++"}},
		{"diff with a new tag", append([]string{"diff", "--tag=def5678"}, common...), []string{"--- live/orders/orders (revision 1)", `+          image: "orders/service2:def5678"`, "# edge: no changes"}, nil},
		{"diff with full references by digest", append([]string{"diff", "--image=service1=localhost:5000/orders/service1@" + digest, "--image=service2=localhost:5000/orders/service2@" + digest}, common...),
			[]string{`+          image: "localhost:5000/orders/service1@` + digest + `"`}, nil},
		{"apply again (the pipeline's spelling)", append([]string{"deploy", "--tag=abc1234"}, common...), []string{"edge: upgraded revision 2", "orders: upgraded revision 2"}, nil},
		{"uninstall", append([]string{"uninstall"}, common...), []string{"orders: uninstalled (was revision 2)", "edge: uninstalled (was revision 2)", "uninstalled the releases of environment local"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, env, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			out := stdout.String()
			for _, w := range tc.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			for _, pw := range []string{"root-pw-1", "app-pw-1"} {
				if strings.Contains(out+stderr.String(), pw) {
					t.Errorf("a password appears in the output")
				}
			}
		})
	}
}
