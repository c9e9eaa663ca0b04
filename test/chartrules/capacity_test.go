package chartrules

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orders-platform/orders/internal/deploy"
	"github.com/orders-platform/orders/internal/tfvars"
)

// eksAddonPods are the pods of the EKS-managed add-ons of terraform/platform/eks.tf
// (not rendered here): DaemonSets run one pod on every node, the rest are
// Deployments at their default size. CoreDNS: two replicas (EKS user guide,
// managing-coredns); the EBS CSI controller: two; the CloudWatch observability
// add-on: its controller manager, the CloudWatch agent and Fluent Bit DaemonSets (its
// GPU and Neuron DaemonSets select only such instances).
var eksAddonPods = map[string]struct {
	daemonSets []string
	pods       map[string]int
}{
	"vpc-cni":                         {daemonSets: []string{"aws-node"}},
	"eks-pod-identity-agent":          {daemonSets: []string{"eks-pod-identity-agent"}},
	"kube-proxy":                      {daemonSets: []string{"kube-proxy"}},
	"coredns":                         {pods: map[string]int{"coredns": 2}},
	"aws-ebs-csi-driver":              {daemonSets: []string{"ebs-csi-node"}, pods: map[string]int{"ebs-csi-controller": 2}},
	"amazon-cloudwatch-observability": {daemonSets: []string{"cloudwatch-agent", "fluent-bit"}, pods: map[string]int{"amazon-cloudwatch-observability-controller-manager": 1}},
}

// addonWorkload is one workload of a chart add-on: a DaemonSet, or a Deployment or
// StatefulSet whose replicas are at values key Key (or fixed at Default when Key is
// empty), read in the pinned charts (charts.AddonMirrors cites them).
type addonWorkload struct {
	Name      string
	Key       string
	Default   int
	DaemonSet bool
	// Job: an install or upgrade hook Job of one pod at a time.
	Job bool
}

var addonWorkloads = map[string][]addonWorkload{
	"aws-load-balancer-controller": {{Name: "controller", Key: "replicaCount", Default: 2}},
	"metrics-server":               {{Name: "metrics-server", Key: "replicas", Default: 1}},
	"kube-prometheus-stack": {
		{Name: "operator", Default: 1},
		{Name: "kube-state-metrics", Key: "kube-state-metrics.replicas", Default: 1},
		{Name: "grafana", Key: "grafana.replicas", Default: 1},
		{Name: "prometheus", Key: "prometheus.prometheusSpec.replicas", Default: 1},
		{Name: "alertmanager", Key: "alertmanager.alertmanagerSpec.replicas", Default: 1},
		{Name: "node-exporter", DaemonSet: true},
		{Name: "admission webhook certificate Jobs", Job: true},
	},
	"envoy-gateway":      {{Name: "controller", Key: "deployment.replicas", Default: 1}, {Name: "certgen Job", Job: true}},
	"cluster-autoscaler": {{Name: "cluster-autoscaler", Key: "replicaCount", Default: 1}},
	"external-dns":       {{Name: "external-dns", Default: 1}},
}

// eksAddonsConfig is the addons object of module "eks" in terraform/platform/eks.tf.
func eksAddonsConfig(t *testing.T, root string) map[string]*hclsyntax.ObjectConsExpr {
	t.Helper()
	path := filepath.Join(root, "terraform", "platform", "eks.tf")
	for _, b := range platformFile(t, path).Blocks {
		if b.Type != "module" || len(b.Labels) != 1 || b.Labels[0] != "eks" {
			continue
		}
		a, ok := b.Body.Attributes["addons"]
		if !ok {
			break
		}
		obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
		if !ok {
			t.Fatalf("%s: addons is not an object", path)
		}
		out := map[string]*hclsyntax.ObjectConsExpr{}
		for _, item := range obj.Items {
			key, ok := objectKeyName(item.KeyExpr)
			val, isObj := item.ValueExpr.(*hclsyntax.ObjectConsExpr)
			if !ok || !isObj {
				t.Fatalf("%s: an addons entry this test cannot read", path)
			}
			out[key] = val
		}
		return out
	}
	t.Fatalf("%s: no module \"eks\" with addons", path)
	return nil
}

func objectKeyName(e hclsyntax.Expression) (string, bool) {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if name := hcl.ExprAsKeyword(k.Wrapped); name != "" {
			return name, true
		}
		v, diags := k.Wrapped.Value(nil)
		if !diags.HasErrors() && v.Type().FriendlyName() == "string" {
			return v.AsString(), true
		}
	}
	return "", false
}

// prefixDelegation reads ENABLE_PREFIX_DELEGATION of the vpc-cni add-on's
// configuration_values (jsonencode of a literal object) in terraform/platform/eks.tf.
func prefixDelegation(t *testing.T, root string) bool {
	t.Helper()
	vpcCNI, ok := eksAddonsConfig(t, root)["vpc-cni"]
	if !ok {
		t.Fatal("terraform/platform/eks.tf installs no vpc-cni add-on")
	}
	for _, item := range vpcCNI.Items {
		if key, _ := objectKeyName(item.KeyExpr); key != "configuration_values" {
			continue
		}
		call, ok := item.ValueExpr.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "jsonencode" || len(call.Args) != 1 {
			t.Fatal("vpc-cni configuration_values is not jsonencode(<literal object>)")
		}
		v, diags := call.Args[0].Value(nil)
		if diags.HasErrors() {
			t.Fatalf("vpc-cni configuration_values: %v", diags)
		}
		if !v.Type().IsObjectType() || !v.Type().HasAttribute("env") {
			return false
		}
		env := v.GetAttr("env")
		if !env.Type().IsObjectType() || !env.Type().HasAttribute("ENABLE_PREFIX_DELEGATION") {
			return false
		}
		return env.GetAttr("ENABLE_PREFIX_DELEGATION").AsString() == "true"
	}
	return false
}

// replicasOf is a Deployment's or StatefulSet's pod count: spec.replicas (default
// 1), or the minReplicas of the HorizontalPodAutoscaler that scales it.
func replicasOf(u *unstructured.Unstructured, objs []*unstructured.Unstructured) int {
	n, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		n = 1
	}
	for _, h := range objs {
		if h.GetKind() != "HorizontalPodAutoscaler" {
			continue
		}
		kind, _, _ := unstructured.NestedString(h.Object, "spec", "scaleTargetRef", "kind")
		name, _, _ := unstructured.NestedString(h.Object, "spec", "scaleTargetRef", "name")
		if kind == u.GetKind() && name == u.GetName() {
			if n, found, _ = unstructured.NestedInt64(h.Object, "spec", "minReplicas"); !found {
				n = 1
			}
		}
	}
	return int(n)
}

// countRendered adds a rendered release's pods: DaemonSets to every node,
// Deployments and StatefulSets placed, Jobs, CronJob runs and hook pods as one-off
// pods (only the largest counts: they are not all running at once).
func countRendered(c *Capacity, release string, objs []*unstructured.Unstructured, largestJob *PodCount) {
	for _, u := range objs {
		what := release + " " + u.GetKind() + "/" + u.GetName()
		switch u.GetKind() {
		case "DaemonSet":
			c.PerNode = append(c.PerNode, PodCount{what, 1})
		case "Deployment", "StatefulSet":
			c.Placed = append(c.Placed, PodCount{what, replicasOf(u, objs)})
		case "Job", "CronJob", "Pod":
			path := []string{"spec", "parallelism"}
			if u.GetKind() == "CronJob" {
				path = []string{"spec", "jobTemplate", "spec", "parallelism"}
			}
			n, found, _ := unstructured.NestedInt64(u.Object, path...)
			if !found || u.GetKind() == "Pod" {
				n = 1
			}
			if int(n) > largestJob.Pods {
				*largestJob = PodCount{what, int(n)}
			}
		}
	}
}

// intAt is an integer value of Helm values, or def when unset.
func intAt(t *testing.T, values map[string]any, key string, def int) int {
	t.Helper()
	x := get(values, key)
	if x == nil || key == "" {
		return def
	}
	n, err := intValue(x)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return int(n)
}

// envCapacity counts the pods of an environment as the deployer installs it, with a
// backup or restore Job running and one preview (a tenant) deployed, against its
// node groups at their desired size.
func envCapacity(t *testing.T, root, env string, pd bool) Capacity {
	t.Helper()
	var c Capacity
	types := environmentStrings(t, root, env, "node_instance_types")
	for _, it := range types {
		n, err := MaxPods(it, pd)
		if err != nil {
			t.Fatal(err)
		}
		if c.SmallestType == "" || n < c.MaxPods {
			c.MaxPods, c.SmallestType = n, it
		}
	}
	groups := 1
	if v, found, err := tfvars.EnvironmentValue(root, env, "node_group_per_az"); err != nil {
		t.Fatal(err)
	} else if found && v.True() {
		groups = tfNumber(t, root, env, "az_count")
	}
	c.Nodes = groups * tfNumber(t, root, env, "node_desired_size")

	addons := eksAddonsConfig(t, root)
	names := make([]string, 0, len(addons))
	for name := range addons {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		pods, ok := eksAddonPods[name]
		if !ok {
			t.Fatalf("terraform/platform/eks.tf installs add-on %s, whose pods eksAddonPods does not count", name)
		}
		for _, ds := range pods.daemonSets {
			c.PerNode = append(c.PerNode, PodCount{"EKS " + name + " " + ds, 1})
		}
		for what, n := range pods.pods {
			c.Placed = append(c.Placed, PodCount{"EKS " + name + " " + what, n})
		}
	}

	p, _ := envPlan(t, root, env)
	largestJob := PodCount{"none", 0}
	type step struct {
		deploy.Step
		label string
	}
	var steps []step
	for _, s := range p.Steps {
		steps = append(steps, step{s, s.Name})
	}
	tp, err := deploy.BuildTenantPlan(root, deploy.Inputs{Env: env, Images: map[string]deploy.Image{
		"service1": {Digest: "sha256:" + strings.Repeat("d4", 32)}, "service2": {Digest: "sha256:" + strings.Repeat("e5", 32)},
	}}, "preview")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range tp.Steps {
		steps = append(steps, step{s, "preview " + s.Name})
	}
	for _, s := range steps {
		switch s.Kind {
		case deploy.KindAddon:
			// Counted whether or not it is skipped for lack of a domain: with one it runs.
			ws, ok := addonWorkloads[s.Name]
			if !ok {
				t.Fatalf("add-on %s: its workloads are not in addonWorkloads (read its chart at %s)", s.Name, s.Chart.Version)
			}
			for _, w := range ws {
				switch {
				case w.DaemonSet:
					c.PerNode = append(c.PerNode, PodCount{s.Name + " " + w.Name, 1})
				case w.Job:
					if largestJob.Pods < 1 {
						largestJob = PodCount{s.Name + " " + w.Name, 1}
					}
				default:
					c.Placed = append(c.Placed, PodCount{s.Name + " " + w.Name, intAt(t, s.Values, w.Key, w.Default)})
				}
			}
		case deploy.KindRemote:
			// Bitnami mongodb 17.0.2: a standalone StatefulSet of one, or replicaCount
			// members, an arbiter and hidden members (templates/replicaset/*.yaml).
			n := 1
			if arch, _ := get(s.Values, "architecture").(string); arch == "replicaset" {
				n = intAt(t, s.Values, "replicaCount", 2)
				if b, _ := get(s.Values, "arbiter.enabled").(bool); b {
					n++
				}
				if b, _ := get(s.Values, "hidden.enabled").(bool); b {
					n += intAt(t, s.Values, "hidden.replicaCount", 1)
				}
			}
			c.Placed = append(c.Placed, PodCount{s.Name, n})
		default:
			if s.Skip != "" {
				t.Fatalf("release %s is skipped (%s): the count would miss it", s.label, s.Skip)
			}
			r, err := Render(s.ChartDir, s.Name, s.Namespace, s.Values)
			if err != nil {
				t.Fatalf("render %s: %v", s.Name, err)
			}
			countRendered(&c, s.label, r.All(), &largestJob)
			if s.Name == "edge" {
				// The Envoy proxies Envoy Gateway creates from the EnvoyProxy.
				for _, o := range r.Objects {
					if o.GetKind() != "EnvoyProxy" {
						continue
					}
					spec, _, _ := unstructured.NestedMap(o.Object, "spec")
					n := intAt(t, spec, "provider.kubernetes.envoyDeployment.replicas", 1)
					if get(spec, "provider.kubernetes.envoyHpa") != nil {
						n = intAt(t, spec, "provider.kubernetes.envoyHpa.minReplicas", 1)
					}
					c.Placed = append(c.Placed, PodCount{"edge Envoy proxies", n})
				}
			}
		}
	}
	// A restore runs the backup CronJob's template: as large as a backup run.
	c.Placed = append(c.Placed, PodCount{"largest Job: " + largestJob.What, largestJob.Pods})
	return c
}

// TestPodCapacity: in every AWS environment the pods per node — DaemonSets, add-ons,
// the releases, the largest Job and one preview — fit the node groups with one node
// lost, at the pod limit of the smallest instance type they may get, given the
// prefix-delegation setting of the VPC CNI (terraform/platform/eks.tf).
func TestPodCapacity(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pd := prefixDelegation(t, root)
	for _, env := range awsEnvironments(t, root) {
		t.Run(env, func(t *testing.T) {
			c := envCapacity(t, root, env, pd)
			if err := c.Check(); err != nil {
				t.Errorf("%s (prefix delegation %t): %v", env, pd, err)
				return
			}
			t.Logf("%s: %d nodes of %s (max %d pods, prefix delegation %t): %d DaemonSet pods per node, %d others\n%s",
				env, c.Nodes, c.SmallestType, c.MaxPods, pd, sum(c.PerNode), sum(c.Placed), c)
		})
	}
}

// MaxPods reproduces misc/eni-max-pods.txt of amazon-vpc-cni-k8s@v1.23.0 for the
// secondary-IP mode and the calculator's results with prefix delegation.
func TestMaxPods(t *testing.T) {
	for _, tc := range []struct {
		instance string
		pd       bool
		want     int
	}{
		{"t3.medium", false, 17}, {"t3a.medium", false, 17}, {"t3.large", false, 35}, {"t3.xlarge", false, 58},
		{"m5.large", false, 29}, {"m6i.large", false, 29},
		// ENIs × ((IPv4 − 1) × 16) + 2, capped at 110 below 30 vCPUs.
		{"t3.medium", true, 110}, {"m5.large", true, 110},
	} {
		t.Run(fmt.Sprintf("%s/pd=%t", tc.instance, tc.pd), func(t *testing.T) {
			got, err := MaxPods(tc.instance, tc.pd)
			if err != nil || got != tc.want {
				t.Errorf("MaxPods = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	if _, err := MaxPods("x9.huge", false); err == nil || !strings.Contains(err.Error(), "vpc_ip_resource_limit.go") {
		t.Errorf("unknown type: %v", err)
	}
	// The check itself: a node lost, room per remaining node.
	c := Capacity{PerNode: []PodCount{{"ds", 7}}, Placed: []PodCount{{"apps", 20}}, Nodes: 2, MaxPods: 17, SmallestType: "t3.medium"}
	if err := c.Check(); err == nil || !strings.Contains(err.Error(), "room for 10 more, 20 needed") {
		t.Errorf("2 nodes of 17 with 7 DaemonSet pods each, 20 others: %v", err)
	}
	c.MaxPods = 27
	if err := c.Check(); err != nil {
		t.Errorf("room for exactly 20: %v", err)
	}
	c.Nodes = 1
	if err := c.Check(); err == nil || !slices.ContainsFunc([]string{"leaves none"}, func(s string) bool { return strings.Contains(err.Error(), s) }) {
		t.Errorf("one node: %v", err)
	}
}
