package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/orders-platform/orders/test/kubeapi"
)

func TestRestoreSource(t *testing.T) {
	dest := "s3://orders-dev-backups/dev"
	for _, tc := range []struct {
		from, dest, want, wantErr string
	}{
		{from: "s3://other-bucket/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz", dest: dest, want: "s3://other-bucket/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz"},
		{from: "dev/DevOpsAssignment-20261127T030000Z.jsonl.gz", dest: dest, want: "s3://orders-dev-backups/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz"},
		{from: "DevOpsAssignment-20261127T030000Z.jsonl.gz", dest: dest, want: "s3://orders-dev-backups/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz"},
		{from: "DevOpsAssignment-20261127T030000Z.jsonl.gz", dest: dest + "/", want: "s3://orders-dev-backups/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz"},
		{from: "s3://bucket-only", dest: dest, wantErr: "want s3://<bucket>/<key> of one backup file"},
		{from: "s3://b/prefix/", dest: dest, wantErr: "want s3://<bucket>/<key>"},
		{from: "/tmp/backup.jsonl.gz", dest: dest, wantErr: "reads S3 only"},
		{from: "./backup.jsonl.gz", dest: dest, wantErr: "reads S3 only"},
		{from: "https://example.com/b.jsonl.gz", dest: dest, wantErr: "reads S3 only"},
		{from: "DevOpsAssignment-1.jsonl.gz", dest: "", wantErr: "no S3 destination"},
	} {
		t.Run(tc.from, func(t *testing.T) {
			got, err := RestoreSource(tc.from, tc.dest)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q %v, want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestBackupFileFromLog(t *testing.T) {
	for _, tc := range []struct{ log, want string }{
		{"backup of DevOpsAssignment written to s3://b/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz: counters=1 orders=3, sha256 ab12\n", "s3://b/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz"},
		{"some warning\nbackup of DevOpsAssignment written to s3://b/dev/x.jsonl.gz: no documents, sha256 00", "s3://b/dev/x.jsonl.gz"},
		{"(log of pod p not readable: not found)", ""},
		{"", ""},
	} {
		got, ok := backupFileFromLog(tc.log)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%q: got %q %v, want %q", tc.log, got, ok, tc.want)
		}
	}
}

// A restore without --replace is refused before anything is contacted.
func TestRestoreNeedsReplace(t *testing.T) {
	_, err := (&Deployer{}).Restore(context.Background(), RestoreOptions{From: "s3://b/k"})
	if !errors.Is(err, ErrRestoreNeedsReplace) || !strings.Contains(err.Error(), "drops the live database") {
		t.Fatalf("got %v, want ErrRestoreNeedsReplace", err)
	}
}

// jobPods are the pods of a Job.
func jobPods(t *testing.T, kube kubernetes.Interface, ns, job string) []corev1.Pod {
	t.Helper()
	pods, err := kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// TestBackupAndRestoreOnCluster installs the backup release of dev with the
// deployer (Secrets included) on a real API server with kube-controller-manager,
// kube-scheduler and kwok, then runs on-demand backups and restores: kwok's
// pod-complete Stage completes the pods of Jobs (Running → Succeeded, exit 0), so
// the Job controller marks them Complete. A failure is made as a kubelet would
// report it: the pods of a release pinned to a node that does not exist stay
// Pending (kwok never sees them) and the test writes the pod's status Failed with
// the container's exit code 1 through the API; the Job controller then fails the Job.
func TestBackupAndRestoreOnCluster(t *testing.T) {
	root := repoRoot(t)
	cluster := kubeapi.Start(t, kubeapi.Options{AfterStart: []func(testing.TB, *kubeapi.Cluster){kubeapi.WithWorkloads(nil)}})
	kube := kubernetes.NewForConfigOrDie(cluster.Config)
	d := &Deployer{Config: cluster.Config, Out: testLog{t}, RollbackTimeout: time.Minute}
	ctx := context.Background()
	creds := Credentials{RootPassword: "r00t-pw-9", AppPassword: "app-pw-9"}

	in := awsInputs("dev", 2)
	in.SkipAddons = true
	in.Skip = []string{"cluster", "edge", "mongodb", "orders"}
	in.Timeout = 2 * time.Minute
	plan := mustPlan(t, root, in)
	if _, err := d.Deploy(ctx, plan, creds); err != nil {
		t.Fatalf("deploy the backup release: %v", err)
	}
	bucket := in.Outputs.BackupBucket
	wantImage := "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/backup@" + digest3

	t.Run("the backup Secret holds the application user's URL", func(t *testing.T) {
		s, err := kube.CoreV1().Secrets("mongodb").Get(ctx, BackupMongoSecret, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(s.Data[KeyMongoURL]); got != plan.Mongo.URL(creds.AppPassword) {
			t.Errorf("%s/%s has %d bytes, not the application user's connection string", "mongodb", BackupMongoSecret, len(got))
		}
		if strings.Contains(string(s.Data[KeyMongoURL]), creds.RootPassword) {
			t.Error("the backup Secret holds the root password")
		}
	})

	var out strings.Builder
	d.Out = &out
	t.Run("backup now", func(t *testing.T) {
		res, err := d.Backup(ctx, BackupOptions{Timeout: 2 * time.Minute})
		if err != nil {
			t.Fatalf("backup: %v", err)
		}
		t.Logf("pod log as read: %q", res.Log)
		if res.Location != "s3://"+bucket+"/dev" {
			t.Errorf("location %q, want the CronJob's destination", res.Location)
		}
		j, err := kube.BatchV1().Jobs("mongodb").Get(ctx, res.Job, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(j.Name, "backup-backup-") {
			t.Errorf("Job name %s", j.Name)
		}
		owner := metav1.GetControllerOf(j)
		if owner == nil || owner.Kind != "CronJob" || owner.Name != "backup" {
			t.Errorf("Job owner %+v, want the CronJob backup", owner)
		}
		if j.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
			t.Errorf("annotations %v", j.Annotations)
		}
		spec := j.Spec.Template.Spec
		c := spec.Containers[0]
		for _, tc := range []struct{ what, got, want string }{
			{"service account", spec.ServiceAccountName, "mongodb-backup"},
			{"image", c.Image, wantImage},
			{"args", strings.Join(c.Args, " "), "dump --to=s3://" + bucket + "/dev --database=DevOpsAssignment"},
			{"MONGODB_URL from", c.Env[0].Name + "=" + c.Env[0].ValueFrom.SecretKeyRef.Name + "/" + c.Env[0].ValueFrom.SecretKeyRef.Key, "MONGODB_URL=mongodb-backup/MONGODB_URL"},
			{"pod label for MongoDB's NetworkPolicy", j.Spec.Template.Labels["mongodb-client"], "true"},
		} {
			if tc.got != tc.want {
				t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
			}
		}
		pods := jobPods(t, kube, "mongodb", j.Name)
		if len(pods) != 1 || pods[0].Status.Phase != corev1.PodSucceeded {
			t.Errorf("pods of the Job: %d, want 1 Succeeded", len(pods))
		}
	})

	t.Run("restore a file of the bucket", func(t *testing.T) {
		res, err := d.Restore(ctx, RestoreOptions{From: "DevOpsAssignment-20261127T030000Z.jsonl.gz", Replace: true, Timeout: 2 * time.Minute})
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		src := "s3://" + bucket + "/dev/DevOpsAssignment-20261127T030000Z.jsonl.gz"
		if res.Location != src {
			t.Errorf("location %q, want %q", res.Location, src)
		}
		j, err := kube.BatchV1().Jobs("mongodb").Get(ctx, res.Job, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		spec := j.Spec.Template.Spec
		c := spec.Containers[0]
		for _, tc := range []struct{ what, got, want string }{
			{"service account (read-only restore role)", spec.ServiceAccountName, "mongodb-restore"},
			{"image", c.Image, wantImage},
			{"args", strings.Join(c.Args, " "), "restore --from=" + src + " --replace --database=DevOpsAssignment"},
			{"MONGODB_URL from", c.Env[0].ValueFrom.SecretKeyRef.Name, "mongodb-backup"},
			{"AWS_REGION", c.Env[1].Name + "=" + c.Env[1].Value, "AWS_REGION=eu-central-1"},
		} {
			if tc.got != tc.want {
				t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
			}
		}
		if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
			t.Errorf("a restore must not retry by itself: backoffLimit %v", j.Spec.BackoffLimit)
		}
		if !strings.Contains(j.Name, "-restore-") {
			t.Errorf("Job name %s", j.Name)
		}
	})

	// Pin the release's pods to a node that does not exist: kwok never runs them.
	in.ExtraValues = map[string]map[string]any{"backup": {"nodeSelector": map[string]any{"kubernetes.io/hostname": "no-such-node"}}}
	d.Out = testLog{t}
	if _, err := d.Deploy(ctx, mustPlan(t, root, in), creds); err != nil {
		t.Fatalf("upgrade the backup release: %v", err)
	}

	t.Run("a backup that does not finish in time", func(t *testing.T) {
		_, err := d.Backup(ctx, BackupOptions{Timeout: 3 * time.Second})
		var je *JobError
		if !errors.As(err, &je) || !je.Running {
			t.Fatalf("got %v, want a *JobError for a Job still running", err)
		}
		for _, want := range []string{"backup Job mongodb/backup-backup-", "not finished within 3s", "it keeps running", "phase Pending", "PodScheduled=False Unschedulable"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("report lacks %q:\n%v", want, err)
			}
		}
		t.Logf("report:\n%v", err)
		// It must not block the next test's CronJob-owned Job accounting.
		policy := metav1.DeletePropagationBackground
		if err := kube.BatchV1().Jobs("mongodb").Delete(ctx, je.Job, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a restore that fails", func(t *testing.T) {
		type result struct {
			res *JobResult
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := d.Restore(ctx, RestoreOptions{From: "s3://" + bucket + "/dev/damaged.jsonl.gz", Replace: true, Timeout: 90 * time.Second})
			done <- result{res, err}
		}()
		// Fail the restore's pod the way a kubelet reports a container that exited 1.
		deadline := time.Now().Add(60 * time.Second)
		failed := false
		for !failed && time.Now().Before(deadline) {
			jobs, err := kube.BatchV1().Jobs("mongodb").List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs.Items {
				if j.Annotations["orders-platform/operation"] != "restore" || finished(&j) != nil {
					continue
				}
				if cj, err := kube.BatchV1().CronJobs("mongodb").Get(ctx, "backup", metav1.GetOptions{}); err != nil || cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
					t.Errorf("the backup schedule is not suspended while the restore runs (err %v)", err)
				}
				for _, p := range jobPods(t, kube, "mongodb", j.Name) {
					now := metav1.Now()
					p.Status.Phase = corev1.PodFailed
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{
						Name: "backup", Image: p.Spec.Containers[0].Image,
						State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
							Message: "backup: backup file is damaged: sha256 mismatch", StartedAt: now, FinishedAt: now}},
					}}
					if _, err := kube.CoreV1().Pods("mongodb").UpdateStatus(ctx, &p, metav1.UpdateOptions{}); err != nil {
						t.Logf("update pod status: %v (retrying)", err)
						continue
					}
					failed = true
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !failed {
			t.Fatal("no restore pod appeared to fail")
		}
		r := <-done
		var je *JobError
		if !errors.As(r.err, &je) || je.Running {
			t.Fatalf("got %v %v, want a *JobError for a failed Job", r.res, r.err)
		}
		for _, want := range []string{"restore Job mongodb/backup-restore-", "failed: BackoffLimitExceeded", "1 failed", "container backup terminated: Error (exit 1) backup: backup file is damaged"} {
			if !strings.Contains(r.err.Error(), want) {
				t.Errorf("report lacks %q:\n%v", want, r.err)
			}
		}
		for _, secret := range []string{creds.AppPassword, creds.RootPassword} {
			if strings.Contains(r.err.Error(), secret) {
				t.Error("the report reveals a password")
			}
		}
		t.Logf("report:\n%v", r.err)
		if cj, err := kube.BatchV1().CronJobs("mongodb").Get(ctx, "backup", metav1.GetOptions{}); err != nil || cj.Spec.Suspend == nil || *cj.Spec.Suspend {
			t.Errorf("the backup schedule was not resumed after the failed restore (err %v)", err)
		}
	})

	t.Run("no restore service account", func(t *testing.T) {
		if err := kube.CoreV1().ServiceAccounts("mongodb").Delete(ctx, "mongodb-restore", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		before, _ := kube.BatchV1().Jobs("mongodb").List(ctx, metav1.ListOptions{})
		_, err := d.Restore(ctx, RestoreOptions{From: "x.jsonl.gz", Replace: true})
		if err == nil || !strings.Contains(err.Error(), "ServiceAccount mongodb/mongodb-restore of the restore role does not exist") {
			t.Fatalf("got %v", err)
		}
		after, _ := kube.BatchV1().Jobs("mongodb").List(ctx, metav1.ListOptions{})
		if len(after.Items) != len(before.Items) {
			t.Error("a Job was created although the restore was refused")
		}
	})

	t.Run("no backup release", func(t *testing.T) {
		_, err := d.Backup(ctx, BackupOptions{Namespace: "orders"})
		if err == nil || !strings.Contains(err.Error(), "no backup CronJob") || !strings.Contains(err.Error(), "namespace orders") {
			t.Fatalf("got %v", err)
		}
	})
}
