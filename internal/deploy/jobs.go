package deploy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// On-demand backups and restores run in the cluster, as Jobs made from the backup
// release's CronJob template (like `kubectl create job --from=cronjob/…`): the same
// image, Secret, NetworkPolicy labels and security settings as the scheduled runs,
// and the AWS role EKS Pod Identity binds to the Job's service account.

const (
	// DefaultJobTimeout bounds the wait for an on-demand backup or restore; the
	// chart's activeDeadlineSeconds (30 min by default) ends the Job itself.
	DefaultJobTimeout = 30 * time.Minute
	// DefaultRestoreServiceAccount is the backup chart's serviceAccount.restoreName,
	// bound to the read-only restore role (terraform/platform: restore_service_account).
	DefaultRestoreServiceAccount = "mongodb-restore"
	// AnnotationRestoreServiceAccount on the CronJob names the restore service account.
	AnnotationRestoreServiceAccount = "orders-platform/restore-service-account"
	// backupSelector finds the backup release's CronJob.
	backupSelector = "app.kubernetes.io/component=backup,app.kubernetes.io/part-of=orders-platform"
	// backupContainer is the container of the CronJob template that runs cmd/backup.
	backupContainer = "backup"
)

// JobResult is a finished on-demand backup or restore.
type JobResult struct {
	Namespace, Job string
	// Location is where the backup went (the CronJob's destination, or the exact
	// file when the pod's log could be read), or the restore's source.
	Location string
	// File: Location is the backup file itself (read from the pod's log), not the
	// prefix it was written under.
	File     bool
	Duration time.Duration
	// Log is the end of the pod's log when it could be read (cmd/backup never prints
	// the connection string).
	Log string
}

// JobError is an on-demand Job that failed or did not finish in time.
type JobError struct {
	Namespace, Job string
	// Op is "backup" or "restore".
	Op string
	// Running: the wait timed out and the Job may still finish by itself.
	Running bool
	Timeout time.Duration
	Reason  string
	// Diagnosis is the Job's conditions, pods and events; Log the end of the pod's log.
	Diagnosis []NotReady
	Log       string
}

func (e *JobError) Error() string {
	var b strings.Builder
	if e.Running {
		fmt.Fprintf(&b, "%s Job %s/%s not finished within %s; it keeps running (watch: kubectl -n %s logs -f job/%s)", e.Op, e.Namespace, e.Job, e.Timeout, e.Namespace, e.Job)
	} else {
		fmt.Fprintf(&b, "%s Job %s/%s failed: %s", e.Op, e.Namespace, e.Job, e.Reason)
	}
	for _, n := range e.Diagnosis {
		b.WriteString("\n  ")
		b.WriteString(n.String())
	}
	if e.Log != "" {
		b.WriteString("\n  log of the last pod:")
		for _, l := range strings.Split(e.Log, "\n") {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// BackupOptions are the inputs of an on-demand backup.
type BackupOptions struct {
	// Namespace of the backup release (MongoNamespace when empty).
	Namespace string
	// Timeout of the wait (DefaultJobTimeout when 0).
	Timeout time.Duration
}

// RestoreOptions are the inputs of an on-demand restore.
type RestoreOptions struct {
	Namespace string
	Timeout   time.Duration
	// From is an s3:// URL, a key in the backup bucket (<prefix>/<file>), or a file
	// name under the CronJob's prefix.
	From string
	// Replace must be set: the restore drops the live collections first.
	Replace bool
	// WritersNamespace holds the services that write orders ("orders" when empty):
	// Restore warns when they are running.
	WritersNamespace string
}

// ErrRestoreNeedsReplace is returned by Restore without Replace.
var ErrRestoreNeedsReplace = errors.New("restore needs --replace: it drops the live database's collections and writes the backup's in their place (orders created after the backup are lost); nothing was changed")

// Backup runs a backup now: a Job from the backup CronJob's template, waited for.
func (d *Deployer) Backup(ctx context.Context, o BackupOptions) (*JobResult, error) {
	kube, cj, err := d.backupCronJob(ctx, o.Namespace)
	if err != nil {
		return nil, err
	}
	dest := argValue(backupArgs(cj), "--to")
	if dest == "" {
		return nil, fmt.Errorf("CronJob %s/%s has no destination (s3.bucket is not set, so it is suspended): deploy the backup release with the Terraform outputs first", cj.Namespace, cj.Name)
	}
	job := jobFromCronJob(cj, "backup")
	res, err := d.runJob(ctx, kube, job, "backup", o.Timeout)
	if err != nil {
		return nil, err
	}
	res.Location = dest
	if file, ok := backupFileFromLog(res.Log); ok {
		res.Location, res.File = file, true
	}
	return res, nil
}

// backupFileFromLog finds the file in cmd/backup's last line of a dump,
// "backup of <db> written to <location>: <counts>, sha256 <hex>".
func backupFileFromLog(log string) (string, bool) {
	for _, l := range strings.Split(log, "\n") {
		if _, after, ok := strings.Cut(l, " written to "); ok && strings.HasPrefix(l, "backup of ") {
			file, _, _ := strings.Cut(after, ": ")
			return file, file != ""
		}
	}
	return "", false
}

// Restore restores a backup into the live database: a Job from the backup
// CronJob's template, run as the restore service account (read-only role) with
// `backup restore --from <source> --replace`, waited for. The services keep
// running; the caller warns about writes during the restore.
func (d *Deployer) Restore(ctx context.Context, o RestoreOptions) (*JobResult, error) {
	if !o.Replace {
		return nil, ErrRestoreNeedsReplace
	}
	if strings.TrimSpace(o.From) == "" {
		return nil, errors.New("restore needs --from: an s3:// URL, a key in the backup bucket, or a backup file name")
	}
	kube, cj, err := d.backupCronJob(ctx, o.Namespace)
	if err != nil {
		return nil, err
	}
	args := backupArgs(cj)
	src, err := RestoreSource(o.From, argValue(args, "--to"))
	if err != nil {
		return nil, err
	}
	sa := cj.Annotations[AnnotationRestoreServiceAccount]
	if sa == "" {
		sa = DefaultRestoreServiceAccount
	}
	if _, err := kube.CoreV1().ServiceAccounts(cj.Namespace).Get(ctx, sa, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("ServiceAccount %s/%s of the restore role does not exist: upgrade the backup release (deployer apply) first; nothing was changed", cj.Namespace, sa)
		}
		return nil, fmt.Errorf("read ServiceAccount %s/%s: %w", cj.Namespace, sa, err)
	}
	writersNS := o.WritersNamespace
	if writersNS == "" {
		writersNS = "orders"
	}
	if running := runningDeployments(ctx, kube, writersNS); len(running) > 0 {
		// Not stopped here: the replica counts belong to the release (and the HPA);
		// the DR runbook scales them to 0 first and the next deploy restores them.
		d.logf("restore: WARNING: %s still running: orders written during the restore can be lost when their collections are dropped; stop them first (docs/disaster-recovery.md, \"Restore into the cluster\")", strings.Join(running, ", "))
	}
	// A scheduled dump during the restore would save a half-restored database:
	// the schedule is suspended until the restore is over (the next deploy also
	// resets it, should this process die first).
	if !ptrTrue(cj.Spec.Suspend) {
		if err := setSuspend(ctx, kube, cj, true); err != nil {
			return nil, err
		}
		d.logf("restore: CronJob %s/%s suspended until the restore is over", cj.Namespace, cj.Name)
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := setSuspend(rctx, kube, cj, false); err != nil {
				d.logf("restore: WARNING: %v; resume it with: kubectl -n %s patch cronjob %s -p '{\"spec\":{\"suspend\":false}}'", err, cj.Namespace, cj.Name)
			} else {
				d.logf("restore: CronJob %s/%s resumed", cj.Namespace, cj.Name)
			}
		}()
	}
	if len(cj.Status.Active) > 0 {
		d.logf("restore: WARNING: a scheduled backup (%s) is running; its file may hold a half-restored database", cj.Status.Active[0].Name)
	}
	job := jobFromCronJob(cj, "restore")
	spec := &job.Spec.Template.Spec
	spec.ServiceAccountName = sa
	c := &spec.Containers[containerIndex(spec.Containers)]
	c.Args = []string{"restore", "--from=" + src, "--replace"}
	if db := argValue(args, "--database"); db != "" {
		c.Args = append(c.Args, "--database="+db)
	}
	// A failed restore may have dropped collections already: a person looks at the
	// reason before it runs again, rather than the Job retrying on its own.
	job.Spec.BackoffLimit = new(int32)
	res, err := d.runJob(ctx, kube, job, "restore", o.Timeout)
	if err != nil {
		return nil, err
	}
	res.Location, res.File = src, true
	return res, nil
}

// RestoreSource resolves --from against the CronJob's destination
// s3://<bucket>/<prefix>: an s3:// URL as is, "<prefix>/<file>" in the bucket, or a
// bare file name under the prefix. The restore runs in the cluster, so a local
// path is refused.
func RestoreSource(from, dest string) (string, error) {
	if rest, ok := strings.CutPrefix(from, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
			return "", fmt.Errorf("--from %q: want s3://<bucket>/<key> of one backup file", from)
		}
		return from, nil
	}
	if strings.Contains(from, "://") || strings.HasPrefix(from, "/") || strings.HasPrefix(from, ".") {
		return "", fmt.Errorf("--from %q: the restore runs in the cluster and reads S3 only; give an s3:// URL or a key in the backup bucket", from)
	}
	if dest == "" || !strings.HasPrefix(dest, "s3://") {
		return "", fmt.Errorf("--from %q: the backup CronJob has no S3 destination to resolve a key against; give an s3:// URL", from)
	}
	if strings.Contains(from, "/") {
		bucket, _, _ := strings.Cut(strings.TrimPrefix(dest, "s3://"), "/")
		return "s3://" + bucket + "/" + from, nil
	}
	return strings.TrimSuffix(dest, "/") + "/" + from, nil
}

// backupCronJob finds the backup release's CronJob (exactly one).
func (d *Deployer) backupCronJob(ctx context.Context, namespace string) (kubernetes.Interface, *batchv1.CronJob, error) {
	if d.Config == nil {
		return nil, nil, errNoCluster
	}
	if namespace == "" {
		namespace = MongoNamespace
	}
	reach := d.ReachTimeout
	if reach == 0 {
		reach = DefaultReachTimeout
	}
	if _, err := CheckReachable(ctx, d.Config, reach); err != nil {
		return nil, nil, err
	}
	kube, err := kubernetes.NewForConfig(d.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("Kubernetes client for %s: %w", d.Config.Host, err)
	}
	list, err := kube.BatchV1().CronJobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: backupSelector})
	if err != nil {
		return nil, nil, fmt.Errorf("list the backup CronJob in namespace %s: %w", namespace, err)
	}
	switch len(list.Items) {
	case 0:
		return nil, nil, fmt.Errorf("no backup CronJob (labels %s) in namespace %s: is the backup release installed? (deployer apply --env <env> --image backup=<ref>)", backupSelector, namespace)
	case 1:
		return kube, &list.Items[0], nil
	}
	names := make([]string, len(list.Items))
	for i, c := range list.Items {
		names[i] = c.Name
	}
	return nil, nil, fmt.Errorf("more than one backup CronJob in namespace %s: %s", namespace, strings.Join(names, ", "))
}

func containerIndex(cs []corev1.Container) int {
	for i, c := range cs {
		if c.Name == backupContainer {
			return i
		}
	}
	return 0
}

func backupArgs(cj *batchv1.CronJob) []string {
	cs := cj.Spec.JobTemplate.Spec.Template.Spec.Containers
	if len(cs) == 0 {
		return nil
	}
	return cs[containerIndex(cs)].Args
}

// argValue returns the value of a --name=value argument.
func argValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// jobFromCronJob is what `kubectl create job --from=cronjob/<name>` makes: the
// template's Job owned by the CronJob (deleted with it, and counted in its history
// limits; the CronJob controller does not count it as active, so Forbid does not
// hold a scheduled run back), with a unique generated name.
func jobFromCronJob(cj *batchv1.CronJob, op string) *batchv1.Job {
	tpl := cj.Spec.JobTemplate
	labels := map[string]string{}
	for k, v := range tpl.Labels {
		labels[k] = v
	}
	annotations := map[string]string{"cronjob.kubernetes.io/instantiate": "manual", "orders-platform/operation": op}
	for k, v := range tpl.Annotations {
		annotations[k] = v
	}
	prefix := cj.Name
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-")
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    prefix + "-" + op + "-",
			Namespace:       cj.Namespace,
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
		Spec: *tpl.Spec.DeepCopy(),
	}
}

// runJob creates the Job and waits until it completes or fails, or the timeout.
func (d *Deployer) runJob(ctx context.Context, kube kubernetes.Interface, job *batchv1.Job, op string, timeout time.Duration) (*JobResult, error) {
	if timeout <= 0 {
		timeout = DefaultJobTimeout
	}
	begin := time.Now()
	created, err := kube.BatchV1().Jobs(job.Namespace).Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create the %s Job in namespace %s: %w", op, job.Namespace, err)
	}
	ns, name := created.Namespace, created.Name
	d.logf("%s: Job %s/%s created (timeout %s)", op, ns, name, timeout)

	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var done *batchv1.JobCondition
	for done == nil {
		j, err := kube.BatchV1().Jobs(ns).Get(wctx, name, metav1.GetOptions{})
		if err == nil {
			done = finished(j)
			if done != nil {
				break
			}
		}
		select {
		case <-wctx.Done():
			// A fresh deadline: the diagnosis must not die with the wait.
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer dcancel()
			return nil, &JobError{Namespace: ns, Job: name, Op: op, Running: true, Timeout: timeout,
				Diagnosis: []NotReady{*diagnoseJobAlways(dctx, kube, ns, name)}, Log: lastPodLog(dctx, kube, ns, name)}
		case <-time.After(time.Second):
		}
	}
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer dcancel()
	log := lastPodLog(dctx, kube, ns, name)
	if done.Type == batchv1.JobFailed {
		return nil, &JobError{Namespace: ns, Job: name, Op: op, Reason: strings.TrimSpace(done.Reason + ": " + done.Message),
			Diagnosis: []NotReady{*diagnoseJobAlways(dctx, kube, ns, name)}, Log: log}
	}
	res := &JobResult{Namespace: ns, Job: name, Duration: time.Since(begin), Log: log}
	d.logf("%s: Job %s/%s complete in %s", op, ns, name, res.Duration.Round(time.Millisecond))
	return res, nil
}

// finished returns the Job's Complete or Failed condition when it is true.
func finished(j *batchv1.Job) *batchv1.JobCondition {
	for i, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// diagnoseJobAlways is diagnoseJob, also for a Job that is not reported as pending.
func diagnoseJobAlways(ctx context.Context, kube kubernetes.Interface, ns, name string) *NotReady {
	if nr := diagnoseJob(ctx, kube, ns, name); nr != nil {
		return nr
	}
	return &NotReady{Kind: "Job", Namespace: ns, Name: name, Status: "complete"}
}

// maxLogLines bounds the log excerpt in a report.
const maxLogLines = 20

// lastPodLog returns the end of the log of the Job's newest pod, or a note why it
// could not be read (e.g. the node's kubelet is unreachable).
func lastPodLog(ctx context.Context, kube kubernetes.Interface, ns, job string) string {
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
	if err != nil || len(pods.Items) == 0 {
		return ""
	}
	newest := &pods.Items[0]
	for i := range pods.Items {
		if pods.Items[i].CreationTimestamp.After(newest.CreationTimestamp.Time) {
			newest = &pods.Items[i]
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tail := int64(maxLogLines)
	opts := &corev1.PodLogOptions{TailLines: &tail}
	if len(newest.Spec.Containers) > 1 {
		opts.Container = newest.Spec.Containers[containerIndex(newest.Spec.Containers)].Name
	}
	rc, err := kube.CoreV1().Pods(ns).GetLogs(newest.Name, opts).Stream(lctx)
	if err != nil {
		return fmt.Sprintf("(log of pod %s not readable: %v)", newest.Name, err)
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(rc, 64<<10))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines, "\n")
}

// runningDeployments names the Deployments of a namespace that have ready replicas.
func runningDeployments(ctx context.Context, kube kubernetes.Interface, ns string) []string {
	list, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range list.Items {
		if d.Status.ReadyReplicas > 0 {
			out = append(out, fmt.Sprintf("%s/%s (%d ready)", ns, d.Name, d.Status.ReadyReplicas))
		}
	}
	return out
}

func ptrTrue(b *bool) bool { return b != nil && *b }

// setSuspend suspends or resumes a CronJob's schedule.
func setSuspend(ctx context.Context, kube kubernetes.Interface, cj *batchv1.CronJob, suspend bool) error {
	patch := fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend)
	if _, err := kube.BatchV1().CronJobs(cj.Namespace).Patch(ctx, cj.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("set suspend=%t on CronJob %s/%s: %w", suspend, cj.Namespace, cj.Name, err)
	}
	return nil
}
