package chartrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The MongoDB release comes from the Bitnami chart, which cannot be rendered here
// (a remote OCI chart). MongoDBChartNetwork encodes what its templates render for
// the NetworkPolicy and the database pods, read in github.com/bitnami/charts at tag
// mongodb/17.0.2 (commit 8ca5ad289476b4664be3d8c955a3b610f2926527):
// bitnami/mongodb/templates/networkpolicy.yaml, templates/standalone/dep-sts.yaml
// and templates/replicaset/statefulset.yaml (pod labels, container ports), and the
// label helpers of its dependency common 2.31.4 (Chart.lock; bitnami/common
// templates/_labels.tpl, _names.tpl). Keys outside that subset are refused rather
// than guessed.

// mongoDBChartDefaults are the chart's defaults for the keys read here
// (bitnami/mongodb/values.yaml@mongodb/17.0.2).
var mongoDBChartDefaults = map[string]any{
	"containerPorts": map[string]any{"mongodb": int64(27017)},
	"metrics":        map[string]any{"enabled": false, "containerPort": int64(9216)},
	"networkPolicy": map[string]any{
		"enabled": true, "allowExternal": true, "allowExternalEgress": true, "addExternalClientAccess": true,
	},
	"externalAccess": map[string]any{"enabled": false},
}

// MongoDBChartEncoded is the chart version whose templates MongoDBChartNetwork encodes.
const MongoDBChartEncoded = "17.0.2"

// MongoDBChartNetwork returns the NetworkPolicy (nil when disabled) and the
// database pods of the pinned Bitnami mongodb chart installed as release in
// namespace with values (the environment's values over the chart's defaults). A
// pin other than MongoDBChartEncoded is refused: its templates must be read again.
func MongoDBChartNetwork(release, namespace string, up *MongoDBUpstream, values map[string]any) (*networkingv1.NetworkPolicy, Workload, error) {
	if up.Chart.Version != MongoDBChartEncoded {
		return nil, Workload{}, fmt.Errorf("mongodb chart %s is pinned, its NetworkPolicy is encoded for %s: read the new templates and update %s",
			up.Chart.Version, MongoDBChartEncoded, "test/chartrules/mongodb_policy.go")
	}
	v := MergeValues(mongoDBChartDefaults, values)
	if b, _ := get(v, "externalAccess.enabled").(bool); b {
		// The policy then opens the API server's endpoints found by `lookup`: not encoded.
		return nil, Workload{}, errors.New("mongodb: externalAccess.enabled is not encoded in this check")
	}
	for _, k := range []string{"networkPolicy.customRules", "networkPolicy.namespaceSelector", "networkPolicy.podSelector", "networkPolicy.extraEgress"} {
		if x := get(v, k); x != nil && fmt.Sprint(x) != "[]" && fmt.Sprint(x) != "map[]" {
			return nil, Workload{}, fmt.Errorf("mongodb: %s is not encoded in this check", k)
		}
	}
	// common.names.name / common.names.fullname (release name when it contains the chart name).
	name := "mongodb"
	if s, _ := get(v, "nameOverride").(string); s != "" {
		name = s
	}
	fullname := release
	if s, _ := get(v, "fullnameOverride").(string); s != "" {
		fullname = s
	} else if !strings.Contains(release, name) {
		fullname = release + "-" + name
	}
	labelMaps := map[string]map[string]string{}
	for _, k := range []string{"commonLabels", "podLabels", "networkPolicy.ingressPodMatchLabels",
		"networkPolicy.ingressNSMatchLabels", "networkPolicy.ingressNSPodMatchLabels"} {
		m, err := stringMap(get(v, k))
		if err != nil {
			return nil, Workload{}, fmt.Errorf("mongodb %s: %w", k, err)
		}
		labelMaps[k] = m
	}
	ports := map[string]int64{}
	for _, k := range []string{"containerPorts.mongodb", "metrics.containerPort"} {
		n, err := intValue(get(v, k))
		if err != nil {
			return nil, Workload{}, fmt.Errorf("mongodb %s: %w", k, err)
		}
		ports[k] = n
	}
	commonLabels, podLabels := labelMaps["commonLabels"], labelMaps["podLabels"]
	mongoPort, metricsPort := ports["containerPorts.mongodb"], ports["metrics.containerPort"]
	// common.labels.matchLabels: name and instance, overridable by the custom labels.
	matchLabels := func(custom map[string]string) map[string]string {
		m := map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/instance": release}
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance"} {
			if x, ok := custom[k]; ok {
				m[k] = x
			}
		}
		return m
	}
	metrics, _ := get(v, "metrics.enabled").(bool)

	// The pods: common.labels.standard over podLabels+commonLabels, plus the component.
	custom := mergeStrings(podLabels, commonLabels)
	pod := Workload{
		Name: namespace + "/StatefulSet/" + fullname, Namespace: namespace,
		Labels: mergeStrings(custom, map[string]string{
			"app.kubernetes.io/name": name, "app.kubernetes.io/instance": release, "app.kubernetes.io/managed-by": "Helm",
			"helm.sh/chart": "mongodb-" + up.Chart.Version, "app.kubernetes.io/version": up.Chart.AppVersion, "app.kubernetes.io/component": "mongodb",
		}),
		Ports: []corev1.ContainerPort{{Name: "mongodb", ContainerPort: int32(mongoPort), Protocol: corev1.ProtocolTCP}},
	}
	if metrics {
		pod.Ports = append(pod.Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: int32(metricsPort), Protocol: corev1.ProtocolTCP})
	}
	if enabled, _ := get(v, "networkPolicy.enabled").(bool); !enabled {
		return nil, pod, nil
	}

	tcp := corev1.ProtocolTCP
	udp := corev1.ProtocolUDP
	portOf := func(p int64) *intstr.IntOrString { x := intstr.FromInt32(int32(p)); return &x }
	selfSelector := mergeStrings(matchLabels(commonLabels), map[string]string{"app.kubernetes.io/component": "mongodb"})
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: fullname, Namespace: namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: mergeStrings(matchLabels(custom), map[string]string{"app.kubernetes.io/component": "mongodb"})},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
	if b, _ := get(v, "networkPolicy.allowExternalEgress").(bool); b {
		np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
	} else {
		np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
			{Ports: []networkingv1.NetworkPolicyPort{{Port: portOf(53), Protocol: &udp}, {Port: portOf(53), Protocol: &tcp}}},
			{Ports: []networkingv1.NetworkPolicyPort{{Port: portOf(mongoPort)}},
				To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: matchLabels(commonLabels)}}}},
		}
	}
	first := networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: portOf(mongoPort)}}}
	if metrics {
		first.Ports = append(first.Ports, networkingv1.NetworkPolicyPort{Port: portOf(metricsPort)})
	}
	if b, _ := get(v, "networkPolicy.allowExternal").(bool); !b {
		first.From = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: selfSelector}}}
		if b, _ := get(v, "networkPolicy.addExternalClientAccess").(bool); b {
			first.From = append(first.From, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{fullname + "-client": "true"}}})
		}
		if podMatch := labelMaps["networkPolicy.ingressPodMatchLabels"]; len(podMatch) > 0 {
			first.From = append(first.From, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: podMatch}})
		}
		if nsMatch := labelMaps["networkPolicy.ingressNSMatchLabels"]; len(nsMatch) > 0 {
			peer := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: nsMatch}}
			if nsPod := labelMaps["networkPolicy.ingressNSPodMatchLabels"]; len(nsPod) > 0 {
				peer.PodSelector = &metav1.LabelSelector{MatchLabels: nsPod}
			}
			first.From = append(first.From, peer)
		}
	}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{first}
	if extra := get(v, "networkPolicy.extraIngress"); extra != nil {
		var rules []networkingv1.NetworkPolicyIngressRule
		if err := fromList(extra, &rules); err != nil {
			return nil, pod, fmt.Errorf("mongodb networkPolicy.extraIngress: %w", err)
		}
		np.Spec.Ingress = append(np.Spec.Ingress, rules...)
	}
	return np, pod, nil
}

func stringMap(x any) (map[string]string, error) {
	out := map[string]string{}
	if x == nil {
		return out, nil
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a map", x)
	}
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %v is not a string", k, v)
		}
		out[k] = s
	}
	return out, nil
}

func mergeStrings(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func intValue(x any) (int64, error) {
	switch n := x.(type) {
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		if n == float64(int64(n)) {
			return int64(n), nil
		}
	}
	return 0, fmt.Errorf("%v is not an integer", x)
}

// fromList converts a list of values (YAML) into typed items, refusing unknown fields.
func fromList(x any, into any) error {
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

// get reads a dotted key path of Helm values (nil when absent).
func get(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}
