package deploy

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultDrainTimeout bounds each wait of a teardown: for the load balancers to
// go before their controller does, and for the deleted claims' volumes.
const DefaultDrainTimeout = 10 * time.Minute

// drainPoll is how often a teardown looks again.
const drainPoll = 2 * time.Second

// What controllers made outside the cluster and only they delete: an internet-
// facing NLB (with the Elastic IPs on its interfaces) for every Service of type
// LoadBalancer, made by the AWS Load Balancer Controller, which holds the
// Service with a finalizer until the NLB is gone; and an EBS volume for every
// claim, deleted by the EBS CSI driver when a claim whose volume has reclaim
// policy Delete goes. An environment's uninstall therefore (1) uninstalls the
// platform's releases, (2) waits until no Service of type LoadBalancer is left
// before it uninstalls any add-on (Envoy Gateway deletes the edge's Service, the
// controller then its NLB: were either gone first, the NLB and its addresses
// would stay behind and terraform destroy would stop at the subnets and Elastic
// IPs), (3) uninstalls the add-ons, (4) deletes the claims in the releases'
// namespaces, waits for the volumes with reclaim policy Delete to go, and names
// the ones kept (Retain) with how to delete them.

func (d *Deployer) drainTimeout() time.Duration {
	if d.DrainTimeout == 0 {
		return DefaultDrainTimeout
	}
	return d.DrainTimeout
}

// waitNoLoadBalancers waits until no Service of type LoadBalancer exists.
func (d *Deployer) waitNoLoadBalancers(ctx context.Context, kube kubernetes.Interface) error {
	deadline := time.Now().Add(d.drainTimeout())
	logged := false
	for {
		svcs, err := kube.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list Services: %w", err)
		}
		var left []string
		for _, s := range svcs.Items {
			if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
				left = append(left, s.Namespace+"/"+s.Name)
			}
		}
		if len(left) == 0 {
			d.logf("no Service of type LoadBalancer is left: their load balancers are gone")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Service %s of type LoadBalancer is still there after %s: its load balancer (and the Elastic IPs on it) would be left behind if its controller went now, so no add-on was uninstalled; see `kubectl -n %s describe service %s`, then run destroy again",
				strings.Join(left, ", "), d.drainTimeout(), strings.Split(left[0], "/")[0], strings.Split(left[0], "/")[1])
		}
		if !logged {
			d.logf("waiting for %s (type LoadBalancer) to go, and its load balancer with it, before the add-ons", strings.Join(left, ", "))
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(drainPoll):
		}
	}
}

// Kept is a cloud resource a teardown deliberately leaves, with how to delete it.
type Kept struct {
	What, Delete string
}

func (k Kept) String() string { return "kept: " + k.What + "; delete it with: " + k.Delete }

// releaseVolumes deletes the claims in namespaces, waits for the volumes with
// reclaim policy Delete to go, and returns the volumes kept (Retain).
func (d *Deployer) releaseVolumes(ctx context.Context, kube kubernetes.Interface, namespaces []string) ([]Kept, error) {
	pvs, err := kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list PersistentVolumes: %w", err)
	}
	ours := map[string]bool{}
	for _, pv := range pvs.Items {
		if ref := pv.Spec.ClaimRef; ref != nil && slices.Contains(namespaces, ref.Namespace) {
			ours[pv.Name] = true
		}
	}
	for _, ns := range namespaces {
		claims, err := kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list PersistentVolumeClaims in %s: %w", ns, err)
		}
		for _, c := range claims.Items {
			if err := kube.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, c.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("delete claim %s/%s: %w", ns, c.Name, err)
			}
			d.logf("deleted claim %s/%s (volume %s)", ns, c.Name, c.Spec.VolumeName)
		}
	}
	deadline := time.Now().Add(d.drainTimeout())
	for {
		pvs, err := kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list PersistentVolumes: %w", err)
		}
		var kept []Kept
		var waiting []string
		for _, pv := range pvs.Items {
			if !ours[pv.Name] {
				continue
			}
			if pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete {
				waiting = append(waiting, pv.Name)
				continue
			}
			kept = append(kept, keptVolume(pv))
		}
		if len(waiting) == 0 {
			sort.Slice(kept, func(i, j int) bool { return kept[i].What < kept[j].What })
			for _, k := range kept {
				d.logf("%s", k)
			}
			return kept, nil
		}
		if time.Now().After(deadline) {
			return kept, fmt.Errorf("volumes %s (reclaim policy Delete) are still there after %s: the EBS CSI driver has not deleted them; see `kubectl describe pv %s`, then run destroy again (terraform destroy would leave the EBS volumes behind)",
				strings.Join(waiting, ", "), d.drainTimeout(), waiting[0])
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(drainPoll):
		}
	}
}

// keptVolume names a retained volume and the command that deletes it.
func keptVolume(pv corev1.PersistentVolume) Kept {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ", claim " + ref.Namespace + "/" + ref.Name
	}
	if csi := pv.Spec.CSI; csi != nil && csi.Driver == "ebs.csi.aws.com" {
		return Kept{What: fmt.Sprintf("EBS volume %s (PersistentVolume %s%s, reclaim policy Retain)", csi.VolumeHandle, pv.Name, claim),
			Delete: "aws ec2 delete-volume --volume-id " + csi.VolumeHandle}
	}
	return Kept{What: fmt.Sprintf("PersistentVolume %s%s (reclaim policy Retain)", pv.Name, claim), Delete: "kubectl delete pv " + pv.Name + " (then its storage by hand)"}
}

// namespacesOf lists the namespaces of the steps, sorted.
func namespacesOf(steps []Step) []string {
	var out []string
	for _, s := range steps {
		if !slices.Contains(out, s.Namespace) {
			out = append(out, s.Namespace)
		}
	}
	sort.Strings(out)
	return out
}
