package chartrules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Violation is one policy failure, naming the object and the field.
type Violation struct {
	Kind, Name, Field, Problem string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s/%s: %s: %s", v.Kind, v.Name, v.Field, v.Problem)
}

// Requirements are what an environment asks of the workloads.
type Requirements struct {
	// MinReplicas is the least number of pods per Deployment: spec.replicas, or the
	// minReplicas of the HorizontalPodAutoscaler that scales it.
	MinReplicas int32
	// PDB: every Deployment's pods are covered by a PodDisruptionBudget.
	PDB bool
	// ZoneSpread: every Deployment spreads across topology.kubernetes.io/zone.
	ZoneSpread bool
	// ZoneSpreadHard: that spread is DoNotSchedule.
	ZoneSpreadHard bool
	// NetworkPolicy: every pod is selected by an Ingress+Egress NetworkPolicy.
	NetworkPolicy bool
}

// RequirementsFor returns the requirements of an environment: production
// environments (name starting with "prod") must be highly available.
func RequirementsFor(env string) Requirements {
	if strings.HasPrefix(env, "prod") {
		return Requirements{MinReplicas: 2, PDB: true, ZoneSpread: true, ZoneSpreadHard: true, NetworkPolicy: true}
	}
	return Requirements{MinReplicas: 1, NetworkPolicy: true}
}

type checker struct{ out []Violation }

func (c *checker) add(kind, name, field, format string, args ...any) {
	c.out = append(c.out, Violation{Kind: kind, Name: name, Field: field, Problem: fmt.Sprintf(format, args...)})
}

func convert[T any](u *unstructured.Unstructured) (*T, error) {
	var t T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, &t, true); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", u.GetKind(), u.GetName(), err)
	}
	return &t, nil
}

// RequiredLabels are on every object a chart renders.
var RequiredLabels = []string{
	"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
	"app.kubernetes.io/part-of", "helm.sh/chart",
}

// CheckWorkloads applies the platform's policies to a release's rendered objects
// (objects and hooks together) for an environment's requirements.
func CheckWorkloads(objs []*unstructured.Unstructured, req Requirements) ([]Violation, error) {
	c := &checker{}
	var deps []*appsv1.Deployment
	var hpas []*autoscalingv2.HorizontalPodAutoscaler
	var pdbs []*policyv1.PodDisruptionBudget
	var nps []*networkingv1.NetworkPolicy
	var pods []*corev1.Pod
	var jobs []*batchv1.Job
	var cronJobs []*batchv1.CronJob
	for _, u := range objs {
		for _, l := range RequiredLabels {
			if u.GetLabels()[l] == "" {
				c.add(u.GetKind(), u.GetName(), "metadata.labels."+l, "missing")
			}
		}
		var err error
		switch u.GetKind() {
		case "Deployment":
			var d *appsv1.Deployment
			if d, err = convert[appsv1.Deployment](u); err == nil {
				deps = append(deps, d)
			}
		case "HorizontalPodAutoscaler":
			var h *autoscalingv2.HorizontalPodAutoscaler
			if h, err = convert[autoscalingv2.HorizontalPodAutoscaler](u); err == nil {
				hpas = append(hpas, h)
			}
		case "PodDisruptionBudget":
			var p *policyv1.PodDisruptionBudget
			if p, err = convert[policyv1.PodDisruptionBudget](u); err == nil {
				pdbs = append(pdbs, p)
			}
		case "NetworkPolicy":
			var n *networkingv1.NetworkPolicy
			if n, err = convert[networkingv1.NetworkPolicy](u); err == nil {
				nps = append(nps, n)
			}
		case "CronJob":
			var cj *batchv1.CronJob
			if cj, err = convert[batchv1.CronJob](u); err == nil {
				cronJobs = append(cronJobs, cj)
			}
		case "Job":
			var j *batchv1.Job
			if j, err = convert[batchv1.Job](u); err == nil {
				jobs = append(jobs, j)
			}
		case "Pod":
			var p *corev1.Pod
			if p, err = convert[corev1.Pod](u); err == nil {
				pods = append(pods, p)
			}
		case "ServiceAccount":
			if v, ok, _ := unstructured.NestedBool(u.Object, "automountServiceAccountToken"); !ok || v {
				c.add("ServiceAccount", u.GetName(), "automountServiceAccountToken", "must be false")
			}
		}
		if err != nil {
			return nil, err
		}
	}

	for _, d := range deps {
		const kind = "Deployment"
		spec := &d.Spec.Template.Spec
		c.checkPodSpec(kind, d.Name, "spec.template.spec", spec, true)
		podLabels := labels.Set(d.Spec.Template.Labels)
		if d.Spec.Template.Labels["app.kubernetes.io/version"] == "" {
			c.add(kind, d.Name, "spec.template.metadata.labels.app.kubernetes.io/version", "missing")
		}

		// Replicas: from the HPA when one scales this Deployment.
		replicas, field := int32(1), "spec.replicas"
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		for _, h := range hpas {
			if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name {
				replicas, field = 1, "HorizontalPodAutoscaler/"+h.Name+" spec.minReplicas"
				if h.Spec.MinReplicas != nil {
					replicas = *h.Spec.MinReplicas
				}
			}
		}
		if replicas < req.MinReplicas {
			c.add(kind, d.Name, field, "%d replicas, the environment needs at least %d", replicas, req.MinReplicas)
		}

		if req.PDB {
			covered := false
			for _, p := range pdbs {
				sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
				if err == nil && !sel.Empty() && sel.Matches(podLabels) {
					covered = true
					if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
						c.add("PodDisruptionBudget", p.Name, "spec", "neither minAvailable nor maxUnavailable set")
					}
					if p.Spec.MinAvailable != nil && p.Spec.MinAvailable.Type == 0 && p.Spec.MinAvailable.IntVal >= replicas {
						c.add("PodDisruptionBudget", p.Name, "spec.minAvailable", "%d blocks every voluntary eviction with %d replicas", p.Spec.MinAvailable.IntVal, replicas)
					}
				}
			}
			if !covered {
				c.add(kind, d.Name, "spec.template.metadata.labels", "no PodDisruptionBudget selects these pods")
			}
		}

		if req.ZoneSpread {
			found := false
			for i, t := range spec.TopologySpreadConstraints {
				if t.TopologyKey != "topology.kubernetes.io/zone" {
					continue
				}
				found = true
				f := fmt.Sprintf("spec.template.spec.topologySpreadConstraints[%d]", i)
				if req.ZoneSpreadHard && t.WhenUnsatisfiable != corev1.DoNotSchedule {
					c.add(kind, d.Name, f+".whenUnsatisfiable", "%s, the environment needs DoNotSchedule", t.WhenUnsatisfiable)
				}
				if sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector); err != nil || sel.Empty() || !sel.Matches(podLabels) {
					c.add(kind, d.Name, f+".labelSelector", "does not select the Deployment's own pods")
				}
			}
			if !found {
				c.add(kind, d.Name, "spec.template.spec.topologySpreadConstraints", "no constraint on topology.kubernetes.io/zone")
			}
		}
	}

	for _, p := range pods {
		c.checkPodSpec("Pod", p.Name, "spec", &p.Spec, false)
	}
	// Batch pods get the same Pod Security and container rules (no probes, no replicas).
	for _, j := range jobs {
		c.checkPodSpec("Job", j.Name, "spec.template.spec", &j.Spec.Template.Spec, false)
	}
	for _, cj := range cronJobs {
		c.checkPodSpec("CronJob", cj.Name, "spec.jobTemplate.spec.template.spec", &cj.Spec.JobTemplate.Spec.Template.Spec, false)
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			c.add("CronJob", cj.Name, "spec.concurrencyPolicy", "%q, want Forbid (runs must not overlap)", cj.Spec.ConcurrencyPolicy)
		}
		if cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds == nil {
			c.add("CronJob", cj.Name, "spec.jobTemplate.spec.activeDeadlineSeconds", "missing (a hung run would block the schedule)")
		}
	}

	if req.NetworkPolicy {
		type target struct {
			kind, name string
			labels     labels.Set
		}
		var targets []target
		for _, d := range deps {
			targets = append(targets, target{"Deployment", d.Name, labels.Set(d.Spec.Template.Labels)})
		}
		for _, p := range pods {
			targets = append(targets, target{"Pod", p.Name, labels.Set(p.Labels)})
		}
		for _, j := range jobs {
			targets = append(targets, target{"Job", j.Name, labels.Set(j.Spec.Template.Labels)})
		}
		for _, cj := range cronJobs {
			targets = append(targets, target{"CronJob", cj.Name, labels.Set(cj.Spec.JobTemplate.Spec.Template.Labels)})
		}
		for _, t := range targets {
			ingress, egress, allowAllIngress := false, false, false
			for _, n := range nps {
				sel, err := metav1.LabelSelectorAsSelector(&n.Spec.PodSelector)
				if err != nil || !sel.Matches(t.labels) {
					continue
				}
				for _, pt := range n.Spec.PolicyTypes {
					ingress = ingress || pt == networkingv1.PolicyTypeIngress
					egress = egress || pt == networkingv1.PolicyTypeEgress
				}
				for _, r := range n.Spec.Ingress {
					if len(r.From) == 0 {
						allowAllIngress = true
					}
				}
			}
			if !ingress || !egress {
				c.add(t.kind, t.name, "metadata.labels", "not isolated by NetworkPolicies for both ingress (%t) and egress (%t)", ingress, egress)
			}
			if allowAllIngress {
				c.add(t.kind, t.name, "NetworkPolicy ingress", "a rule without 'from' admits every source")
			}
		}
	}
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].String() < c.out[j].String() })
	return c.out, nil
}

// checkPodSpec checks Pod Security "restricted" and the platform's container rules.
func (c *checker) checkPodSpec(kind, name, path string, spec *corev1.PodSpec, service bool) {
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	podNonRoot := psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	podSeccomp := psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
	if psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		c.add(kind, name, path+".securityContext.runAsUser", "0 (root)")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		c.add(kind, name, path+".automountServiceAccountToken", "must be false")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		c.add(kind, name, path, "host namespaces are not allowed")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			c.add(kind, name, path+".volumes["+v.Name+"].hostPath", "not allowed")
		}
	}
	if len(spec.InitContainers) > 0 || len(spec.EphemeralContainers) > 0 {
		c.add(kind, name, path+".initContainers", "not expected")
	}
	for _, ct := range spec.Containers {
		f := path + ".containers[" + ct.Name + "]"
		sc := ct.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			c.add(kind, name, f+".securityContext.allowPrivilegeEscalation", "must be false")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			c.add(kind, name, f+".securityContext.readOnlyRootFilesystem", "must be true")
		}
		if sc.Privileged != nil && *sc.Privileged {
			c.add(kind, name, f+".securityContext.privileged", "must not be true")
		}
		if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
			c.add(kind, name, f+".securityContext.runAsNonRoot", "must be true (here or on the pod)")
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			c.add(kind, name, f+".securityContext.runAsUser", "0 (root)")
		}
		if !podSeccomp && (sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault) {
			c.add(kind, name, f+".securityContext.seccompProfile.type", "must be RuntimeDefault (here or on the pod)")
		}
		dropAll := false
		if sc.Capabilities != nil {
			for _, d := range sc.Capabilities.Drop {
				dropAll = dropAll || d == "ALL"
			}
			if len(sc.Capabilities.Add) > 0 {
				c.add(kind, name, f+".securityContext.capabilities.add", "must be empty, got %v", sc.Capabilities.Add)
			}
		}
		if !dropAll {
			c.add(kind, name, f+".securityContext.capabilities.drop", "must contain ALL")
		}

		if msg := imageProblem(ct.Image); msg != "" {
			c.add(kind, name, f+".image", "%s", msg)
		}

		if ct.Resources.Requests.Cpu().IsZero() {
			c.add(kind, name, f+".resources.requests.cpu", "missing")
		}
		if ct.Resources.Requests.Memory().IsZero() {
			c.add(kind, name, f+".resources.requests.memory", "missing")
		}
		if ct.Resources.Limits.Memory().IsZero() {
			c.add(kind, name, f+".resources.limits.memory", "missing")
		}

		for _, e := range ct.Env {
			if e.Name == "MONGODB_URL" && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				c.add(kind, name, f+".env[MONGODB_URL]", "must come from a Secret (valueFrom.secretKeyRef)")
			}
		}

		if !service {
			continue
		}
		checkProbe := func(field string, p *corev1.Probe, want string) {
			switch {
			case p == nil:
				c.add(kind, name, f+"."+field, "missing")
			case p.HTTPGet == nil || p.HTTPGet.Path != want:
				c.add(kind, name, f+"."+field+".httpGet.path", "must be %s", want)
			}
		}
		checkProbe("livenessProbe", ct.LivenessProbe, "/livez")
		checkProbe("readinessProbe", ct.ReadinessProbe, "/readyz")
		hasURL := false
		for _, e := range ct.Env {
			hasURL = hasURL || e.Name == "MONGODB_URL"
			if e.Name == "SHUTDOWN_TIMEOUT_MS" {
				ms, err := strconv.Atoi(e.Value)
				grace := int64(30)
				if spec.TerminationGracePeriodSeconds != nil {
					grace = *spec.TerminationGracePeriodSeconds
				}
				if err != nil || grace*1000 <= int64(ms) {
					c.add(kind, name, path+".terminationGracePeriodSeconds", "%d s does not exceed SHUTDOWN_TIMEOUT_MS %q", grace, e.Value)
				}
			}
		}
		if !hasURL {
			c.add(kind, name, f+".env[MONGODB_URL]", "missing")
		}
	}
}

// imageProblem returns why an image reference is not pinned, or "".
func imageProblem(image string) string {
	if image == "" {
		return "empty"
	}
	if i := strings.Index(image, "@"); i >= 0 {
		if !strings.HasPrefix(image[i+1:], "sha256:") || len(image[i+1:]) != len("sha256:")+64 {
			return fmt.Sprintf("%q: malformed digest", image)
		}
		return ""
	}
	last := image[strings.LastIndex(image, "/")+1:]
	j := strings.LastIndex(last, ":")
	if j < 0 {
		return fmt.Sprintf("%q has neither tag nor digest", image)
	}
	if tag := last[j+1:]; tag == "latest" || tag == "" {
		return fmt.Sprintf("%q: tag %q is not a pinned version", image, tag)
	}
	return ""
}
