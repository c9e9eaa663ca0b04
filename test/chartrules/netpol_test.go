package chartrules

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/orders-platform/orders/internal/deploy"
	"github.com/orders-platform/orders/internal/tenant"
)

// Pods of add-ons whose charts are not rendered here, with the labels their
// controllers give them; none of these add-ons installs a NetworkPolicy with our
// values (kube-prometheus-stack 77.0.0: every networkPolicy.enabled defaults to false).
var (
	// github.com/envoyproxy/gateway v1.9.1 internal/infrastructure/kubernetes/proxy/resource.go
	// EnvoyAppLabel, plus the owning Gateway's labels; the proxies run in the
	// controller's namespace (the envoy-gateway add-on's).
	envoyProxyPod = Workload{Name: "envoy-gateway-system/Deployment/envoy-edge-orders-gateway", Namespace: "envoy-gateway-system", Labels: map[string]string{
		"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway",
		"gateway.envoyproxy.io/owning-gateway-name": "orders-gateway", "gateway.envoyproxy.io/owning-gateway-namespace": "edge",
	}}
	// The Prometheus Operator's pods of kube-prometheus-stack's Prometheus.
	prometheusPod = Workload{Name: "monitoring/StatefulSet/prometheus-kube-prometheus-stack-prometheus", Namespace: "monitoring", Labels: map[string]string{
		"app.kubernetes.io/name": "prometheus", "prometheus": "kube-prometheus-stack-prometheus",
	}}
	// CoreDNS (the EKS add-on; k3s's is labelled the same).
	dnsPod = Workload{Name: "kube-system/Deployment/coredns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"},
		Ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP}}}
	// Anyone else: a pod in a namespace of nobody's.
	strangerPod = Workload{Name: "default/Pod/stranger", Namespace: "default", Labels: map[string]string{"app.kubernetes.io/name": "orders"}}
)

// environmentNetwork is the NetworkPolicy view of a whole environment as the
// deployer installs it: every release of its plan rendered with the deployer's
// values (MongoDB's policy as the pinned Bitnami chart renders it), the backup's
// restore Job, two tenants (previews), the namespaces with the labels the
// deployer gives them, and the add-ons' pods that talk to the releases.
func environmentNetwork(t *testing.T, root, env string) *Network {
	t.Helper()
	p, _ := envPlan(t, root, env)
	up, err := ReadMongoDBUpstream(filepath.Join(root, "charts/mongodb/upstream.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := &Network{Namespaces: map[string]map[string]string{}}
	addNS := func(name string, extra map[string]string) {
		l := map[string]string{"kubernetes.io/metadata.name": name}
		for k, v := range extra {
			l[k] = v
		}
		n.Namespaces[name] = l
	}
	for _, ns := range []string{"default", "kube-system", "envoy-gateway-system", "monitoring", "edge"} {
		addNS(ns, nil)
	}
	// internal/deploy labelPlatformNamespaces: MongoDB's and the orders namespace are
	// MongoDB clients, the orders namespace also a route namespace.
	addNS(deploy.MongoNamespace, map[string]string{tenant.MongoDBClientLabel: "true"})
	addNS("orders", map[string]string{tenant.MongoDBClientLabel: "true", tenant.GatewayRoutesLabel: "true"})

	addons := map[string]bool{}
	steps := p.Steps
	imgs := map[string]deploy.Image{"service1": {Digest: "sha256:" + strings.Repeat("d4", 32)}, "service2": {Digest: "sha256:" + strings.Repeat("e5", 32)}}
	for _, name := range []string{"acme", "beta"} {
		tp, err := deploy.BuildTenantPlan(root, deploy.Inputs{Env: env, Images: imgs}, name)
		if err != nil {
			t.Fatal(err)
		}
		addNS(tp.Tenant.Namespace(), deploy.TenantNamespaceLabels(tp.Tenant))
		steps = append(steps, tp.Steps...)
	}
	for _, s := range steps {
		if s.Skip != "" {
			continue
		}
		if _, ok := n.Namespaces[s.Namespace]; !ok {
			addNS(s.Namespace, nil)
		}
		switch s.Kind {
		case deploy.KindAddon:
			addons[s.Name] = true
		case deploy.KindRemote:
			np, pod, err := MongoDBChartNetwork(s.Name, s.Namespace, up, s.Values)
			if err != nil {
				t.Fatal(err)
			}
			if np != nil {
				n.Policies = append(n.Policies, *np)
			}
			n.Workloads = append(n.Workloads, pod)
		case deploy.KindLocal:
			r, err := Render(s.ChartDir, s.Name, s.Namespace, s.Values)
			if err != nil {
				t.Fatalf("render %s for %s: %v", s.Name, env, err)
			}
			if err := n.AddObjects(s.Namespace, r.All()); err != nil {
				t.Fatal(err)
			}
		}
	}
	// deployer restore runs a Job made from the backup CronJob's template (internal/deploy
	// jobFromCronJob): the same pods, under the restore service account.
	for _, w := range n.Find("/CronJob/") {
		restore := w
		restore.Name = w.Namespace + "/Job/" + w.Name[strings.LastIndex(w.Name, "/")+1:] + "-restore"
		n.Workloads = append(n.Workloads, restore)
	}
	n.Workloads = append(n.Workloads, dnsPod, strangerPod)
	if addons["envoy-gateway"] {
		n.Workloads = append(n.Workloads, envoyProxyPod)
	}
	if addons["kube-prometheus-stack"] {
		n.Workloads = append(n.Workloads, prometheusPod)
	}
	return n
}

// one returns the single workload whose name contains every part.
func one(t *testing.T, n *Network, parts ...string) Workload {
	t.Helper()
	ws := n.Find(parts...)
	if len(ws) != 1 {
		names := []string{}
		for _, w := range n.Workloads {
			names = append(names, w.Name)
		}
		t.Fatalf("%d workloads match %v, want 1 (workloads: %v)", len(ws), parts, names)
	}
	return ws[0]
}

// namedPort is the number of dst's container port called name.
func namedPort(t *testing.T, dst Workload, name string) int32 {
	t.Helper()
	for _, p := range dst.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("%s has no port %q (%v)", dst.Name, name, dst.Ports)
	return 0
}

// TestNetworkPoliciesMean evaluates, per environment, what the NetworkPolicies of
// everything the deployer installs allow: each pair of workloads that must talk is
// allowed, and each pair that must not is denied. Implementations disagree on
// whether an ipBlock matches pod addresses: a pair admitted only by one is neither.
func TestNetworkPoliciesMean(t *testing.T) {
	root, envs := repoEnvironments(t)
	for _, env := range envs {
		t.Run(env, func(t *testing.T) {
			n := environmentNetwork(t, root, env)
			mongo := one(t, n, "mongodb/StatefulSet/")
			type pair struct {
				from, to Workload
				port     int32
				proto    corev1.Protocol
				want     Verdict
			}
			var pairs []pair
			allow := func(from, to Workload, port int32) {
				pairs = append(pairs, pair{from, to, port, corev1.ProtocolTCP, Allowed})
			}
			deny := func(from, to Workload, port int32) {
				pairs = append(pairs, pair{from, to, port, corev1.ProtocolTCP, Denied})
			}
			mongoPort := namedPort(t, mongo, "mongodb")
			var services, acme, beta []Workload
			for _, svc := range deploy.Services {
				services = append(services, one(t, n, "orders/Deployment/", svc))
				acme = append(acme, one(t, n, "tenant-acme/Deployment/", svc))
				beta = append(beta, one(t, n, "tenant-beta/Deployment/", svc))
			}
			for i, s := range services {
				allow(s, mongo, mongoPort)
				pairs = append(pairs, pair{s, dnsPod, 53, corev1.ProtocolUDP, Allowed})
				allow(envoyProxyPod, s, namedPort(t, s, "http"))
				allow(envoyProxyPod, acme[i], namedPort(t, acme[i], "http"))
				allow(acme[i], mongo, mongoPort)
				// Tenants and the platform never reach each other's services.
				deny(acme[i], beta[i], namedPort(t, beta[i], "http"))
				deny(acme[i], s, namedPort(t, s, "http"))
				deny(s, acme[i], namedPort(t, acme[i], "http"))
				deny(strangerPod, s, namedPort(t, s, "http"))
				deny(mongo, s, namedPort(t, s, "http"))
				if prometheusIn(n) {
					allow(prometheusPod, s, namedPort(t, s, "http"))
					allow(prometheusPod, acme[i], namedPort(t, acme[i], "http"))
				}
			}
			deny(strangerPod, mongo, mongoPort)
			deny(envoyProxyPod, mongo, mongoPort)
			for _, test := range n.Find("orders/Pod/") { // the helm test pod
				deny(test, mongo, mongoPort)
				allow(test, envoyProxyPod, 80)
			}
			if prometheusIn(n) {
				allow(prometheusPod, mongo, namedPort(t, mongo, "metrics"))
				deny(prometheusPod, mongo, mongoPort)
			}
			// Backups and restores: every AWS environment has them.
			backups := n.Find("mongodb/CronJob/")
			restores := n.Find("mongodb/Job/", "-restore")
			if env != "local" && (len(backups) != 1 || len(restores) != 1) {
				t.Fatalf("%d backup CronJobs and %d restore Jobs, want one each", len(backups), len(restores))
			}
			for _, b := range append(backups, restores...) {
				allow(b, mongo, mongoPort)
				pairs = append(pairs, pair{b, dnsPod, 53, corev1.ProtocolUDP, Allowed})
				for _, s := range services {
					deny(b, s, namedPort(t, s, "http"))
				}
			}
			for _, p := range pairs {
				got, why := n.Connect(p.from, p.to, p.port, p.proto)
				if got != p.want {
					t.Errorf("%s -> %s port %d/%s: %s, want %s (%s)", p.from.Name, p.to.Name, p.port, p.proto, got, p.want, why)
				}
			}
		})
	}
}

func prometheusIn(n *Network) bool {
	return len(n.Find("monitoring/StatefulSet/prometheus")) > 0
}

// TestNetworkEvaluator pins the evaluator's reading of networking/v1 on small cases:
// isolation per direction, peers, named ports, protocols and ipBlocks.
func TestNetworkEvaluator(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	web := Workload{Name: "a/web", Namespace: "a", Labels: map[string]string{"app": "web"},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}
	db := Workload{Name: "b/db", Namespace: "b", Labels: map[string]string{"app": "db"}}
	other := Workload{Name: "a/other", Namespace: "a", Labels: map[string]string{"app": "other"}}
	port := func(p intstr.IntOrString, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Port: &p, Protocol: proto}
	}
	sel := func(k, v string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
	}
	policy := func(ns string, pod *metav1.LabelSelector, types []networkingv1.PolicyType, in []networkingv1.NetworkPolicyIngressRule, out []networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: *pod, PolicyTypes: types, Ingress: in, Egress: out}}
	}
	nsAB := map[string]map[string]string{"a": {"kubernetes.io/metadata.name": "a"}, "b": {"kubernetes.io/metadata.name": "b", "team": "data"}}
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egress := []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	for _, tc := range []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		from, to Workload
		port     int32
		proto    corev1.Protocol
		want     Verdict
	}{
		{"no policy", nil, web, db, 1, tcp, Allowed},
		{"default deny ingress", []networkingv1.NetworkPolicy{policy("b", &metav1.LabelSelector{}, ingress, nil, nil)}, web, db, 1, tcp, Denied},
		{"policy in another namespace", []networkingv1.NetworkPolicy{policy("a", &metav1.LabelSelector{}, ingress, nil, nil)}, web, db, 1, tcp, Allowed},
		{"pod selector peer is same-namespace only", []networkingv1.NetworkPolicy{policy("b", sel("app", "db"), ingress,
			[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", "web")}}}}, nil)}, web, db, 1, tcp, Denied},
		{"namespace and pod selector", []networkingv1.NetworkPolicy{policy("b", sel("app", "db"), ingress,
			[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("kubernetes.io/metadata.name", "a"), PodSelector: sel("app", "web")}}}}, nil)}, web, db, 1, tcp, Allowed},
		{"namespace and pod selector, other pod", []networkingv1.NetworkPolicy{policy("b", sel("app", "db"), ingress,
			[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("kubernetes.io/metadata.name", "a"), PodSelector: sel("app", "web")}}}}, nil)}, other, db, 1, tcp, Denied},
		{"egress isolation", []networkingv1.NetworkPolicy{policy("a", sel("app", "web"), egress, nil,
			[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("team", "data")}}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(27017), nil)}}})}, web, db, 27017, tcp, Allowed},
		{"egress wrong port", []networkingv1.NetworkPolicy{policy("a", sel("app", "web"), egress, nil,
			[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("team", "data")}}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(27017), nil)}}})}, web, db, 27018, tcp, Denied},
		{"egress wrong protocol", []networkingv1.NetworkPolicy{policy("a", sel("app", "web"), egress, nil,
			[]networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(53), &tcp)}}})}, web, db, 53, udp, Denied},
		{"named port", []networkingv1.NetworkPolicy{policy("a", sel("app", "web"), ingress,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("http"), nil)}}}, nil)}, db, web, 8080, tcp, Allowed},
		{"named port, other number", []networkingv1.NetworkPolicy{policy("a", sel("app", "web"), ingress,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("http"), nil)}}}, nil)}, db, web, 9090, tcp, Denied},
		{"ipBlock only", []networkingv1.NetworkPolicy{policy("a", sel("app", "web"), egress, nil,
			[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}}})}, web, db, 443, tcp, DependsOnIPBlock},
		{"policyTypes unset: ingress only", []networkingv1.NetworkPolicy{policy("a", sel("app", "web"), nil, nil, nil)}, web, db, 1, tcp, Allowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &Network{Namespaces: nsAB, Policies: tc.policies}
			if got, why := n.Connect(tc.from, tc.to, tc.port, tc.proto); got != tc.want {
				t.Errorf("got %s, want %s (%s)", got, tc.want, why)
			}
		})
	}
}
