package chartrules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// terraformDefault reads a variable's string default from terraform/platform/variables.tf.
func terraformDefault(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "terraform", "platform", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)variable "` + name + `" \{.*?default\s*=\s*"([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("variable %s has no string default in terraform/platform/variables.tf", name)
	}
	return string(m[1])
}

// TestBackupChartMatchesTheInfrastructure: the backup CronJob runs where the Pod
// Identity association of the write-only backup role expects it, writes to the
// environment's bucket under its prefix, and without a bucket stays suspended.
func TestBackupChartMatchesTheInfrastructure(t *testing.T) {
	root, cs := cases(t)
	ns := terraformDefault(t, root, "mongodb_namespace")
	sa := terraformDefault(t, root, "backup_service_account")
	seen := 0
	for _, c := range cs {
		if c.release.Name != "backup" {
			continue
		}
		seen++
		t.Run(c.env, func(t *testing.T) {
			if c.release.Namespace != ns {
				t.Errorf("release namespace %s, the Pod Identity association is in %s", c.release.Namespace, ns)
			}
			objs := render(t, c).Objects
			if got := firstOf(objs, "ServiceAccount").GetName(); got != sa {
				t.Errorf("ServiceAccount %s, the Pod Identity association names %s", got, sa)
			}
			// deployer restore runs its Job as the account the read-only restore role is
			// bound to, named on the CronJob.
			restoreSA := terraformDefault(t, root, "restore_service_account")
			var accounts []string
			for _, o := range objs {
				if o.GetKind() == "ServiceAccount" {
					accounts = append(accounts, o.GetName())
				}
			}
			if strings.Join(accounts, ",") != sa+","+restoreSA {
				t.Errorf("ServiceAccounts %v, want %s and %s", accounts, sa, restoreSA)
			}
			if got := firstOf(objs, "CronJob").GetAnnotations()["orders-platform/restore-service-account"]; got != restoreSA {
				t.Errorf("CronJob names restore account %q, want %s", got, restoreSA)
			}
			cj := firstOf(objs, "CronJob")
			spec, _, _ := unstructured.NestedMap(cj.Object, "spec", "jobTemplate", "spec", "template", "spec")
			if spec["serviceAccountName"] != sa {
				t.Errorf("pods run as %v, want %s", spec["serviceAccountName"], sa)
			}
			if suspend, _, _ := unstructured.NestedBool(cj.Object, "spec", "suspend"); suspend {
				t.Errorf("%s: the schedule is suspended", c.env)
			}
			ct := spec["containers"].([]any)[0].(map[string]any)
			args := strings.Join(toStrings(ct["args"]), " ")
			want := "dump --to=s3://orders-" + c.env + "-mongodb-backups-123456789012-eu-central-1/" + c.env + " --database=DevOpsAssignment"
			if args != want {
				t.Errorf("args %q, want %q", args, want)
			}
			if strings.Contains(args, "mongodb://") {
				t.Errorf("a connection string in the args: %q", args)
			}
		})
	}
	if seen < 2 {
		t.Fatalf("backup rendered for %d environments, want dev and prod", seen)
	}

	r, err := Render(filepath.Join(root, "charts/backup"), "backup", ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	cj := firstOf(r.Objects, "CronJob")
	if suspend, _, _ := unstructured.NestedBool(cj.Object, "spec", "suspend"); !suspend {
		t.Error("without s3.bucket the CronJob must be suspended")
	}
	if !strings.Contains(r.Notes, "SUSPENDED") {
		t.Errorf("NOTES do not say the schedule is suspended:\n%s", r.Notes)
	}
	// One account for both roles would let the backup job read (or the restore write).
	if _, err := Render(filepath.Join(root, "charts/backup"), "backup", ns, map[string]any{"serviceAccount": map[string]any{"name": "x", "restoreName": "x"}}); err == nil ||
		!strings.Contains(err.Error(), "serviceAccount.restoreName must differ from serviceAccount.name") {
		t.Errorf("one account for backup and restore: got %v", err)
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, s := range l {
		out = append(out, s.(string))
	}
	return out
}
