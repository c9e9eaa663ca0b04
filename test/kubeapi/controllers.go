package kubeapi

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/orders-platform/orders/test/toolcache"
)

// KwokVersion is the pinned kwok release; test/tools/install-kwok.sh installs it,
// with the Stage files of its module's kustomize/stage/{node,pod}/fast, into
// <tools>/kwok-<KwokVersion>/{kwok,stages/node,stages/pod}.
const KwokVersion = "v0.8.0"

// KwokNodeAnnotation marks the fake Nodes kwok manages (and only those).
const KwokNodeAnnotation = "kwok.x-k8s.io/node"

// FakeNode is a Node simulated by kwok.
type FakeNode struct {
	Name string
	// Zone becomes the topology.kubernetes.io/zone label (and region "local").
	Zone string
}

// StartControllers starts kube-controller-manager and kube-scheduler (from the same
// tools directory as the API server) against the cluster. The controller manager
// signs service-account tokens with the cluster's key; its node-lifecycle controller
// lifts the not-ready taint once kwok reports a Node Ready, with a grace period long
// enough that the missing heartbeats never make a Node unreachable; node-ipam is off
// because no pod CIDRs are allocated.
func StartControllers(tb testing.TB, c *Cluster) {
	tb.Helper()
	c.StartProcess(tb, "kube-controller-manager", filepath.Join(c.BinDir, "kube-controller-manager"),
		"--kubeconfig="+c.KubeconfigFile,
		"--authentication-kubeconfig="+c.KubeconfigFile,
		"--authorization-kubeconfig="+c.KubeconfigFile,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(freePort(tb)),
		"--leader-elect=false",
		"--service-account-private-key-file="+c.ServiceAccountKeyFile,
		"--root-ca-file="+c.CAFile,
		"--use-service-account-credentials=true",
		"--controllers=*,-node-ipam-controller,-certificatesigningrequest-signing-controller",
		// kwok's fast stages send no heartbeats: without a long grace period the
		// node-lifecycle controller would mark the nodes unreachable and evict.
		"--node-monitor-grace-period=24h",
		"--concurrent-deployment-syncs=5",
		"--v=1",
	)
	c.StartProcess(tb, "kube-scheduler", filepath.Join(c.BinDir, "kube-scheduler"),
		"--kubeconfig="+c.KubeconfigFile,
		"--authentication-kubeconfig="+c.KubeconfigFile,
		"--authorization-kubeconfig="+c.KubeconfigFile,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(freePort(tb)),
		"--leader-elect=false",
		"--v=1",
	)
	// The ServiceAccount controller creates "default" in every namespace: proof
	// that the controller manager is up and authorised.
	kube := kubernetes.NewForConfigOrDie(c.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := kube.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		tb.Fatalf("kubeapi: kube-controller-manager did not create default/default ServiceAccount: %v\n--- kube-controller-manager log ---\n%s",
			err, c.LogTail("kube-controller-manager", 40))
	}
}

// StartKwok starts kwok with the "fast" node and pod Stages from the tools cache,
// managing only Nodes annotated KwokNodeAnnotation, and creates the given Nodes
// and waits until each is Ready. Pods scheduled onto them become Running and
// Ready at once (no kubelet, no image pull, no probes).
func StartKwok(tb testing.TB, c *Cluster, nodes []FakeNode) {
	tb.Helper()
	bin := toolcache.Path(tb, "kwok", KwokVersion, "kwok")
	stageDirs := []string{filepath.Join(filepath.Dir(bin), "stages", "node"), filepath.Join(filepath.Dir(bin), "stages", "pod")}
	args := []string{
		"--kubeconfig=" + c.KubeconfigFile,
		"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=fake",
		"--server-address=127.0.0.1:" + strconv.Itoa(freePort(tb)),
		"--node-ip=10.244.0.1",
		"--cidr=10.244.0.0/16",
	}
	for _, dir := range stageDirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			tb.Fatalf("kubeapi: no kwok Stage files in %s (run test/tools/install-kwok.sh): %v", dir, err)
		}
		for _, f := range files {
			args = append(args, "--config="+f)
		}
	}
	c.StartProcess(tb, "kwok", bin, args...)

	kube := kubernetes.NewForConfigOrDie(c.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, n := range nodes {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        n.Name,
				Annotations: map[string]string{KwokNodeAnnotation: "fake"},
				Labels: map[string]string{
					"kubernetes.io/hostname":        n.Name,
					"kubernetes.io/os":              "linux",
					"kubernetes.io/arch":            "amd64",
					"type":                          "kwok",
					"topology.kubernetes.io/region": "local",
					"topology.kubernetes.io/zone":   n.Zone,
				},
			},
			Status: corev1.NodeStatus{
				Allocatable: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourcePods: resource.MustParse("110"),
				},
				Capacity: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"), corev1.ResourcePods: resource.MustParse("110"),
				},
			},
		}
		if _, err := kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			tb.Fatalf("kubeapi: create fake node %s: %v", n.Name, err)
		}
	}
	for _, n := range nodes {
		err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			node, err := kube.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			tb.Fatalf("kubeapi: fake node %s not Ready: %v\n--- kwok log ---\n%s", n.Name, err, c.LogTail("kwok", 40))
		}
	}
}

// DefaultFakeNodes are two nodes in two zones, so a zone spread can be honoured.
func DefaultFakeNodes() []FakeNode {
	return []FakeNode{{Name: "kwok-node-a", Zone: "local-a"}, {Name: "kwok-node-b", Zone: "local-b"}}
}

// WithWorkloads is an AfterStart hook that makes workloads run: kube-controller-manager,
// kube-scheduler and kwok with the given fake nodes (DefaultFakeNodes when nil).
func WithWorkloads(nodes []FakeNode) func(testing.TB, *Cluster) {
	return func(tb testing.TB, c *Cluster) {
		tb.Helper()
		if nodes == nil {
			nodes = DefaultFakeNodes()
		}
		begin := time.Now()
		StartControllers(tb, c)
		StartKwok(tb, c, nodes)
		tb.Logf("kubeapi: kube-controller-manager, kube-scheduler and kwok %s with %d fake nodes ready in %s",
			KwokVersion, len(nodes), time.Since(begin).Round(time.Millisecond))
	}
}

// String describes the node for logs.
func (n FakeNode) String() string { return fmt.Sprintf("%s (zone %s)", n.Name, n.Zone) }
