package chartrules

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Workload is a set of pods as a NetworkPolicy sees them: a namespace, the pod
// labels and the named container ports (a policy may name a port).
type Workload struct {
	// Name identifies it in messages, e.g. "orders/Deployment/orders-service1".
	Name      string
	Namespace string
	Labels    map[string]string
	Ports     []corev1.ContainerPort
}

// Verdict is what the policies decide for one connection.
type Verdict int

// Verdicts in increasing order of permission (a rule's verdict is the best of its peers').
const (
	// Denied: no implementation of NetworkPolicy lets it through.
	Denied Verdict = iota
	// DependsOnIPBlock: only an ipBlock peer admits it; whether an ipBlock matches
	// pod addresses is left to the implementation (networking/v1 NetworkPolicyPeer),
	// so the connection is neither surely allowed nor surely denied.
	DependsOnIPBlock
	// Allowed: every implementation lets it through.
	Allowed
)

func (v Verdict) String() string {
	switch v {
	case Allowed:
		return "allowed"
	case Denied:
		return "denied"
	}
	return "allowed only if an ipBlock matches pod addresses"
}

// Network is the NetworkPolicy view of a cluster: the namespaces with their labels,
// the policies and the workloads.
type Network struct {
	Namespaces map[string]map[string]string
	Policies   []networkingv1.NetworkPolicy
	Workloads  []Workload
}

// AddObjects adds the NetworkPolicies and workloads (Deployments, StatefulSets,
// DaemonSets, Jobs, CronJobs, Pods) among rendered objects installed in namespace
// (an object's own metadata.namespace wins).
func (n *Network) AddObjects(namespace string, objs []*unstructured.Unstructured) error {
	for _, u := range objs {
		ns := u.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		var tpl *corev1.PodTemplateSpec
		switch u.GetKind() {
		case "NetworkPolicy":
			np, err := convert[networkingv1.NetworkPolicy](u)
			if err != nil {
				return err
			}
			np.Namespace = ns
			n.Policies = append(n.Policies, *np)
			continue
		case "Deployment", "StatefulSet", "DaemonSet", "Job":
			t, found, err := unstructured.NestedMap(u.Object, "spec", "template")
			if err != nil || !found {
				return fmt.Errorf("%s/%s: no pod template (%v)", u.GetKind(), u.GetName(), err)
			}
			tpl = &corev1.PodTemplateSpec{}
			if err := fromMap(t, tpl); err != nil {
				return fmt.Errorf("%s/%s: %w", u.GetKind(), u.GetName(), err)
			}
		case "CronJob":
			t, found, err := unstructured.NestedMap(u.Object, "spec", "jobTemplate", "spec", "template")
			if err != nil || !found {
				return fmt.Errorf("CronJob/%s: no pod template (%v)", u.GetName(), err)
			}
			tpl = &corev1.PodTemplateSpec{}
			if err := fromMap(t, tpl); err != nil {
				return fmt.Errorf("CronJob/%s: %w", u.GetName(), err)
			}
		case "Pod":
			p, err := convert[corev1.Pod](u)
			if err != nil {
				return err
			}
			tpl = &corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}
		default:
			continue
		}
		n.Workloads = append(n.Workloads, PodTemplateWorkload(ns+"/"+u.GetKind()+"/"+u.GetName(), ns, tpl))
	}
	return nil
}

// PodTemplateWorkload is the workload of the pods a template makes.
func PodTemplateWorkload(name, namespace string, tpl *corev1.PodTemplateSpec) Workload {
	w := Workload{Name: name, Namespace: namespace, Labels: tpl.Labels}
	for _, c := range append(append([]corev1.Container{}, tpl.Spec.InitContainers...), tpl.Spec.Containers...) {
		w.Ports = append(w.Ports, c.Ports...)
	}
	return w
}

// Find returns the workloads whose name contains every part.
func (n *Network) Find(parts ...string) []Workload {
	var out []Workload
	for _, w := range n.Workloads {
		match := true
		for _, p := range parts {
			match = match && strings.Contains(w.Name, p)
		}
		if match {
			out = append(out, w)
		}
	}
	return out
}

// Connect decides a TCP or UDP connection from a pod of src to port of a pod of
// dst, as networking/v1 NetworkPolicy defines it: the destination's ingress
// policies and the source's egress policies must both admit it (a pod that no
// policy of a direction selects is not isolated in that direction). The reason
// names what admitted or refused it.
func (n *Network) Connect(src, dst Workload, port int32, protocol corev1.Protocol) (Verdict, string) {
	in, inWhy := n.direction(dst, src, dst, port, protocol, networkingv1.PolicyTypeIngress)
	out, outWhy := n.direction(src, dst, dst, port, protocol, networkingv1.PolicyTypeEgress)
	why := "ingress: " + inWhy + "; egress: " + outWhy
	switch {
	case in == Denied || out == Denied:
		return Denied, why
	case in == Allowed && out == Allowed:
		return Allowed, why
	}
	return DependsOnIPBlock, why
}

// direction evaluates the policies selecting subject (the destination for
// ingress, the source for egress) against peer.
func (n *Network) direction(subject, peer, dst Workload, port int32, protocol corev1.Protocol, typ networkingv1.PolicyType) (Verdict, string) {
	isolated := false
	best, why := Denied, ""
	for i := range n.Policies {
		p := &n.Policies[i]
		if p.Namespace != subject.Namespace || !selects(&p.Spec.PodSelector, subject.Labels) || !hasType(p, typ) {
			continue
		}
		isolated = true
		var v Verdict
		if typ == networkingv1.PolicyTypeIngress {
			for _, r := range p.Spec.Ingress {
				v = max(v, n.rule(p.Namespace, r.From, r.Ports, peer, dst, port, protocol))
			}
		} else {
			for _, r := range p.Spec.Egress {
				v = max(v, n.rule(p.Namespace, r.To, r.Ports, peer, dst, port, protocol))
			}
		}
		if v > best {
			best, why = v, "NetworkPolicy "+p.Namespace+"/"+p.Name
		}
		if best == Allowed {
			break
		}
	}
	if !isolated {
		return Allowed, subject.Name + " is not isolated"
	}
	if best == Denied {
		return Denied, "no rule of the policies selecting " + subject.Name + " admits " + peer.Name
	}
	return best, why
}

// rule: one ingress or egress rule. An empty peer list admits every peer, an empty
// port list every port.
func (n *Network) rule(policyNS string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, peer, dst Workload, port int32, protocol corev1.Protocol) Verdict {
	if len(ports) > 0 {
		ok := false
		for _, pp := range ports {
			ok = ok || portMatches(pp, dst, port, protocol)
		}
		if !ok {
			return Denied
		}
	}
	if len(peers) == 0 {
		return Allowed
	}
	v := Denied
	for _, pr := range peers {
		switch {
		case pr.IPBlock != nil:
			v = max(v, DependsOnIPBlock)
		case pr.NamespaceSelector == nil:
			if peer.Namespace == policyNS && selects(pr.PodSelector, peer.Labels) {
				return Allowed
			}
		default:
			if selects(pr.NamespaceSelector, n.Namespaces[peer.Namespace]) &&
				(pr.PodSelector == nil || selects(pr.PodSelector, peer.Labels)) {
				return Allowed
			}
		}
	}
	return v
}

// portMatches: a numbered port (with endPort, a range) or a name resolved against
// the destination pod's container ports; the protocol defaults to TCP.
func portMatches(pp networkingv1.NetworkPolicyPort, dst Workload, port int32, protocol corev1.Protocol) bool {
	proto := corev1.ProtocolTCP
	if pp.Protocol != nil {
		proto = *pp.Protocol
	}
	if proto != protocol {
		return false
	}
	if pp.Port == nil {
		return true
	}
	if pp.Port.StrVal != "" {
		for _, cp := range dst.Ports {
			cpProto := cp.Protocol
			if cpProto == "" {
				cpProto = corev1.ProtocolTCP
			}
			if cp.Name == pp.Port.StrVal && cp.ContainerPort == port && cpProto == protocol {
				return true
			}
		}
		return false
	}
	if pp.EndPort != nil {
		return port >= pp.Port.IntVal && port <= *pp.EndPort
	}
	return port == pp.Port.IntVal
}

// hasType: policyTypes, or when unset Ingress always and Egress when the policy
// has egress rules (networking/v1 NetworkPolicySpec.policyTypes).
func hasType(p *networkingv1.NetworkPolicy, typ networkingv1.PolicyType) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return typ == networkingv1.PolicyTypeIngress || len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		if t == typ {
			return true
		}
	}
	return false
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(l))
}

// fromMap converts an unstructured map into a typed object, refusing unknown fields.
func fromMap(m map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(m, into, true)
}
