package chartrules

import (
	"fmt"
	"sort"
	"strings"
)

// InstanceNetwork is what bounds the pods of an EC2 instance type on EKS with the
// Amazon VPC CNI: its network interfaces and IPv4 addresses per interface (github.com/
// aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go@v1.23.0, ENILimit and
// IPv4Limit, default network card), whether it is Nitro (prefix delegation needs it)
// and its vCPUs (the managed node groups' cap; EC2 instance type specifications).
type InstanceNetwork struct {
	ENIs, IPv4PerENI, VCPUs int
	Nitro                   bool
}

// InstanceNetworks are the instance types this repository's environments use or
// might; a type missing here makes the capacity check fail until it is added.
var InstanceNetworks = map[string]InstanceNetwork{
	"t3.medium":  {ENIs: 3, IPv4PerENI: 6, VCPUs: 2, Nitro: true},
	"t3a.medium": {ENIs: 3, IPv4PerENI: 6, VCPUs: 2, Nitro: true},
	"t3.large":   {ENIs: 3, IPv4PerENI: 12, VCPUs: 2, Nitro: true},
	"t3a.large":  {ENIs: 3, IPv4PerENI: 12, VCPUs: 2, Nitro: true},
	"t3.xlarge":  {ENIs: 4, IPv4PerENI: 15, VCPUs: 4, Nitro: true},
	"t3a.xlarge": {ENIs: 4, IPv4PerENI: 15, VCPUs: 4, Nitro: true},
	"m5.large":   {ENIs: 3, IPv4PerENI: 10, VCPUs: 2, Nitro: true},
	"m6i.large":  {ENIs: 3, IPv4PerENI: 10, VCPUs: 2, Nitro: true},
}

// MaxPods is the kubelet's pod limit on a node of instanceType in an EKS managed node
// group without a custom AMI, as awslabs/amazon-eks-ami's max-pods-calculator.sh
// computes it (templates/al2/runtime/max-pods-calculator.sh, last at commit
// b2289030^): ENIs × (IPv4 per ENI − 1) + 2 secondary-IP mode (the table
// misc/eni-max-pods.txt of amazon-vpc-cni-k8s@v1.23.0), ENIs × ((IPv4 per ENI − 1) ×
// 16) + 2 with prefix delegation on a Nitro instance (a /28 prefix per slot), capped
// at 110 below 30 vCPUs and 250 above. Managed node groups apply that value
// themselves when the VPC CNI add-on has ENABLE_PREFIX_DELEGATION before the group is
// created (EKS user guide, cni-increase-ip-addresses-procedure) and enforce the same
// cap (110 / 250) either way.
func MaxPods(instanceType string, prefixDelegation bool) (int, error) {
	n, ok := InstanceNetworks[instanceType]
	if !ok {
		return 0, fmt.Errorf("instance type %s: its ENI and IPv4 limits are not in InstanceNetworks (amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go)", instanceType)
	}
	pods := n.ENIs*(n.IPv4PerENI-1) + 2
	if prefixDelegation && n.Nitro {
		pods = n.ENIs*((n.IPv4PerENI-1)*16) + 2
	}
	ceiling := 110
	if n.VCPUs > 30 {
		ceiling = 250
	}
	return min(pods, ceiling), nil
}

// PodCount is a number of pods and where they come from.
type PodCount struct {
	What string
	Pods int
}

// Capacity is an environment's pod count against its nodes.
type Capacity struct {
	// PerNode are the pods on every node (DaemonSets).
	PerNode []PodCount
	// Placed are the other pods, placed wherever they fit.
	Placed []PodCount
	// Nodes is the number of nodes at the node groups' desired size; MaxPods the
	// limit of the smallest instance type they may get.
	Nodes, MaxPods int
	// SmallestType is the instance type with that limit.
	SmallestType string
}

func sum(cs []PodCount) int {
	n := 0
	for _, c := range cs {
		n += c.Pods
	}
	return n
}

// Check fails when the pods do not fit with one node lost: the remaining nodes,
// each at the smallest type's limit, must hold every node's DaemonSet pods plus
// all the other pods.
func (c Capacity) Check() error {
	remaining := c.Nodes - 1
	if remaining < 1 {
		return fmt.Errorf("%d node(s) at the desired size: losing one leaves none", c.Nodes)
	}
	perNode, placed := sum(c.PerNode), sum(c.Placed)
	room := remaining * (c.MaxPods - perNode)
	if room < placed {
		return fmt.Errorf("with one of %d nodes lost, %d nodes of %s hold %d pods each (%d taken by DaemonSets on every node): room for %d more, %d needed\n%s",
			c.Nodes, remaining, c.SmallestType, c.MaxPods, perNode, max(room, 0), placed, c)
	}
	return nil
}

// String lists the counts, largest first.
func (c Capacity) String() string {
	var b strings.Builder
	for _, part := range []struct {
		title string
		list  []PodCount
	}{{"on every node", c.PerNode}, {"placed", c.Placed}} {
		list := append([]PodCount{}, part.list...)
		sort.SliceStable(list, func(i, j int) bool { return list[i].Pods > list[j].Pods })
		fmt.Fprintf(&b, "  %s (%d):", part.title, sum(list))
		for _, p := range list {
			fmt.Fprintf(&b, " %s %d;", p.What, p.Pods)
		}
		b.WriteString("\n")
	}
	return b.String()
}
