package deploy

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/orders-platform/orders/internal/charts"
)

// NotReady is one object of a release that was not ready, and why: the conditions,
// pod states and recent events a person would look up next.
type NotReady struct {
	Kind, Namespace, Name string
	// Status summarises the object (e.g. "0/1 updated replicas available").
	Status string
	// Details are conditions, pods and events, one per line.
	Details []string
}

func (n NotReady) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s: %s", n.Kind, n.Namespace, n.Name, n.Status)
	for _, d := range n.Details {
		b.WriteString("\n      ")
		b.WriteString(d)
	}
	return b.String()
}

const maxEventsPerObject = 5

// diagnose looks at the workloads of a release manifest in the cluster and reports
// those that are not ready. Errors reading an object become part of its report:
// diagnosis must never hide the original failure.
func diagnose(ctx context.Context, kube kubernetes.Interface, manifest, namespace string) []NotReady {
	objs, err := charts.DecodeManifest(manifest)
	if err != nil {
		return []NotReady{{Kind: "manifest", Namespace: namespace, Status: "cannot decode the release manifest: " + err.Error()}}
	}
	var out []NotReady
	for _, o := range objs {
		ns := o.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		name := o.GetName()
		var nr *NotReady
		switch o.GetKind() {
		case "Deployment":
			nr = diagnoseDeployment(ctx, kube, ns, name)
		case "StatefulSet":
			nr = diagnoseStatefulSet(ctx, kube, ns, name)
		case "DaemonSet":
			nr = diagnoseDaemonSet(ctx, kube, ns, name)
		case "Job":
			nr = diagnoseJob(ctx, kube, ns, name)
		case "PersistentVolumeClaim":
			nr = diagnosePVC(ctx, kube, ns, name)
		}
		if nr != nil {
			out = append(out, *nr)
		}
	}
	return out
}

func diagnoseDeployment(ctx context.Context, kube kubernetes.Interface, ns, name string) *NotReady {
	d, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return &NotReady{Kind: "Deployment", Namespace: ns, Name: name, Status: "cannot read: " + err.Error()}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	ready := s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.AvailableReplicas >= want &&
		s.Replicas == s.UpdatedReplicas && s.UnavailableReplicas == 0
	if ready {
		return nil
	}
	nr := &NotReady{Kind: "Deployment", Namespace: ns, Name: name,
		Status: fmt.Sprintf("rollout not complete: %d/%d replicas updated, %d available, %d unavailable, %d pods in all", s.UpdatedReplicas, want, s.AvailableReplicas, s.UnavailableReplicas, s.Replicas)}
	for _, c := range s.Conditions {
		nr.Details = append(nr.Details, fmt.Sprintf("condition %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	nr.Details = append(nr.Details, events(ctx, kube, ns, "Deployment", name)...)
	// The newest ReplicaSet's pods are the ones that did not come up.
	if rs := newestReplicaSet(ctx, kube, d); rs != nil {
		nr.Details = append(nr.Details, events(ctx, kube, ns, "ReplicaSet", rs.Name)...)
		nr.Details = append(nr.Details, podDetails(ctx, kube, ns, labels.Set(rs.Spec.Selector.MatchLabels).AsSelector())...)
	} else {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil {
			nr.Details = append(nr.Details, podDetails(ctx, kube, ns, sel)...)
		}
	}
	return nr
}

func newestReplicaSet(ctx context.Context, kube kubernetes.Interface, d *appsv1.Deployment) *appsv1.ReplicaSet {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil
	}
	list, err := kube.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil
	}
	var newest *appsv1.ReplicaSet
	newestRev := -1
	for i := range list.Items {
		rs := &list.Items[i]
		if !metav1.IsControlledBy(rs, d) {
			continue
		}
		rev, err := strconv.Atoi(rs.Annotations["deployment.kubernetes.io/revision"])
		if err != nil {
			continue
		}
		if rev > newestRev {
			newest, newestRev = rs, rev
		}
	}
	return newest
}

func diagnoseStatefulSet(ctx context.Context, kube kubernetes.Interface, ns, name string) *NotReady {
	s, err := kube.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return &NotReady{Kind: "StatefulSet", Namespace: ns, Name: name, Status: "cannot read: " + err.Error()}
	}
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	if st.ObservedGeneration >= s.Generation && st.ReadyReplicas >= want && st.UpdatedReplicas >= want && st.CurrentRevision == st.UpdateRevision {
		return nil
	}
	nr := &NotReady{Kind: "StatefulSet", Namespace: ns, Name: name,
		Status: fmt.Sprintf("%d/%d ready, %d updated (revision %s, want %s)", st.ReadyReplicas, want, st.UpdatedReplicas, st.CurrentRevision, st.UpdateRevision)}
	nr.Details = append(nr.Details, events(ctx, kube, ns, "StatefulSet", name)...)
	if sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector); err == nil {
		nr.Details = append(nr.Details, podDetails(ctx, kube, ns, sel)...)
	}
	return nr
}

func diagnoseDaemonSet(ctx context.Context, kube kubernetes.Interface, ns, name string) *NotReady {
	d, err := kube.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return &NotReady{Kind: "DaemonSet", Namespace: ns, Name: name, Status: "cannot read: " + err.Error()}
	}
	st := d.Status
	if st.ObservedGeneration >= d.Generation && st.NumberReady >= st.DesiredNumberScheduled && st.UpdatedNumberScheduled >= st.DesiredNumberScheduled {
		return nil
	}
	nr := &NotReady{Kind: "DaemonSet", Namespace: ns, Name: name,
		Status: fmt.Sprintf("%d/%d ready, %d updated", st.NumberReady, st.DesiredNumberScheduled, st.UpdatedNumberScheduled)}
	nr.Details = append(nr.Details, events(ctx, kube, ns, "DaemonSet", name)...)
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
		nr.Details = append(nr.Details, podDetails(ctx, kube, ns, sel)...)
	}
	return nr
}

func diagnoseJob(ctx context.Context, kube kubernetes.Interface, ns, name string) *NotReady {
	j, err := kube.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return &NotReady{Kind: "Job", Namespace: ns, Name: name, Status: "cannot read: " + err.Error()}
	}
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return nil
		}
	}
	nr := &NotReady{Kind: "Job", Namespace: ns, Name: name,
		Status: fmt.Sprintf("not complete: %d active, %d succeeded, %d failed", j.Status.Active, j.Status.Succeeded, j.Status.Failed)}
	for _, c := range j.Status.Conditions {
		nr.Details = append(nr.Details, fmt.Sprintf("condition %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	nr.Details = append(nr.Details, events(ctx, kube, ns, "Job", name)...)
	// The pods say why: exit codes, image pulls, scheduling.
	if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && j.Spec.Selector != nil {
		nr.Details = append(nr.Details, podDetails(ctx, kube, ns, sel)...)
	}
	return nr
}

func diagnosePVC(ctx context.Context, kube kubernetes.Interface, ns, name string) *NotReady {
	p, err := kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return &NotReady{Kind: "PersistentVolumeClaim", Namespace: ns, Name: name, Status: "cannot read: " + err.Error()}
	}
	if p.Status.Phase == corev1.ClaimBound {
		return nil
	}
	nr := &NotReady{Kind: "PersistentVolumeClaim", Namespace: ns, Name: name, Status: "phase " + string(p.Status.Phase)}
	nr.Details = events(ctx, kube, ns, "PersistentVolumeClaim", name)
	return nr
}

// podDetails describes the pods that are not ready, with their conditions,
// container states and events.
func podDetails(ctx context.Context, kube kubernetes.Interface, ns string, sel labels.Selector) []string {
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return []string{"pods: cannot list: " + err.Error()}
	}
	var out []string
	for _, p := range pods.Items {
		if podReady(&p) {
			continue
		}
		line := fmt.Sprintf("Pod %s: phase %s", p.Name, p.Status.Phase)
		if p.Spec.NodeName != "" {
			line += " on node " + p.Spec.NodeName
		}
		out = append(out, line)
		for _, c := range p.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				out = append(out, fmt.Sprintf("  condition %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
			}
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			switch {
			case cs.State.Waiting != nil:
				out = append(out, fmt.Sprintf("  container %s waiting: %s %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message))
			case cs.State.Terminated != nil:
				out = append(out, fmt.Sprintf("  container %s terminated: %s (exit %d) %s", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode, cs.State.Terminated.Message))
			case !cs.Ready:
				out = append(out, fmt.Sprintf("  container %s running, not ready (restarts %d)", cs.Name, cs.RestartCount))
			}
		}
		for _, e := range events(ctx, kube, ns, "Pod", p.Name) {
			out = append(out, "  "+e)
		}
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// events returns the most recent events of an object, newest last.
func events(ctx context.Context, kube kubernetes.Interface, ns, kind, name string) []string {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.kind", kind),
		fields.OneTermEqualSelector("involvedObject.name", name),
	).String()
	list, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return []string{fmt.Sprintf("events of %s %s: cannot list: %v", kind, name, err)}
	}
	items := list.Items
	last := func(e corev1.Event) time.Time {
		if e.Series != nil && !e.Series.LastObservedTime.IsZero() {
			return e.Series.LastObservedTime.Time
		}
		for _, t := range []time.Time{e.LastTimestamp.Time, e.EventTime.Time, e.FirstTimestamp.Time, e.CreationTimestamp.Time} {
			if !t.IsZero() {
				return t
			}
		}
		return time.Time{}
	}
	sort.SliceStable(items, func(i, j int) bool { return last(items[i]).Before(last(items[j])) })
	if len(items) > maxEventsPerObject {
		items = items[len(items)-maxEventsPerObject:]
	}
	out := make([]string, 0, len(items))
	for _, e := range items {
		count := e.Count
		if e.Series != nil {
			count = e.Series.Count
		}
		src := e.Source.Component
		if src == "" {
			src = e.ReportingController
		}
		line := fmt.Sprintf("event %s %s on %s %s", e.Type, e.Reason, kind, name)
		if count > 1 {
			line += fmt.Sprintf(" (x%d)", count)
		}
		if src != "" {
			line += " from " + src
		}
		out = append(out, line+": "+strings.TrimSpace(e.Message))
	}
	return out
}
