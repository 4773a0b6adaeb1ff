package simcluster

import (
	"fmt"
	"sort"
)

// instance is what a node of an EC2 instance type is: its vCPUs and
// memory (the EC2 instance type's published figures), and its network
// interfaces and IPv4 addresses per interface, which bound its pods.
type instance struct {
	vCPU, memoryGiB int
	enis, ipsPerENI int
}

// instances are the instance types the stacks and the price table use.
// vCPU and memory: the EC2 instance type pages (general purpose, burstable
// performance). ENIs and addresses: amazon-eks-ami v20260724,
// nodeadm/internal/kubelet/instance-info.jsonl (defaultMaxENIs,
// ipv4AddressesPerInterface), which nodeadm reads to set max pods. A test
// keeps this list and internal/cost/prices.json's EC2 types the same.
var instances = map[string]instance{
	"t3.large":   {vCPU: 2, memoryGiB: 8, enis: 3, ipsPerENI: 12},
	"m5.large":   {vCPU: 2, memoryGiB: 8, enis: 3, ipsPerENI: 10},
	"m5.xlarge":  {vCPU: 4, memoryGiB: 16, enis: 4, ipsPerENI: 15},
	"m6a.large":  {vCPU: 2, memoryGiB: 8, enis: 3, ipsPerENI: 10},
	"m6a.xlarge": {vCPU: 4, memoryGiB: 16, enis: 4, ipsPerENI: 15},
	"m6i.large":  {vCPU: 2, memoryGiB: 8, enis: 3, ipsPerENI: 10},
	"m6i.xlarge": {vCPU: 4, memoryGiB: 16, enis: 4, ipsPerENI: 15},
}

// InstanceTypes are the types Allocatable knows, sorted.
func InstanceTypes() []string {
	out := make([]string, 0, len(instances))
	for t := range instances {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// vmMemoryOverheadPercent is the share of an instance's nominal memory
// the kernel and hypervisor keep, so that the node's memory capacity is
// less than the instance type's figure. It is Karpenter's estimate (its
// --vm-memory-overhead-percent default, 0.075), which is conservative:
// an m5.large reports about 7.6 GiB of its 8.
const vmMemoryOverheadPercent = 0.075

// evictionHardMiB is nodeadm's evictionHard memory.available (100Mi).
const evictionHardMiB = 100

// Allocatable is what the kubelet of an EKS AL2023 node of type offers
// the scheduler, as nodeadm (amazon-eks-ami v20260724,
// nodeadm/internal/kubelet/config.go and eni_max_pods.go) configures it:
// max pods ENIs × (addresses per ENI − 1) + 2 (the VPC CNI without prefix
// delegation, which the stacks do not enable); kube-reserved CPU 6% of
// the first core, 1% of the second, 0.5% of the third and fourth and
// 0.25% of the rest; kube-reserved memory 11 MiB per pod plus 255 MiB;
// eviction at 100 MiB available. The memory capacity is the nominal less
// vmMemoryOverheadPercent.
func Allocatable(instanceType string) (cpu, memory string, pods int, err error) {
	in, ok := instances[instanceType]
	if !ok {
		return "", "", 0, fmt.Errorf("instance type %q is not in the placement check's table %v (internal/simcluster/instances.go): add its vCPUs, memory, ENIs and addresses per ENI", instanceType, InstanceTypes())
	}
	pods = in.enis*(in.ipsPerENI-1) + 2
	milli := in.vCPU * 1000
	reservedCPU := 0
	ranges := []int{0, 1000, 2000, 4000, milli}
	for i, pct := range []int{600, 100, 50, 25} {
		lo, hi := ranges[i], ranges[i+1]
		if milli < lo {
			break
		}
		if milli < hi {
			hi = milli
		}
		if hi > lo {
			reservedCPU += (hi - lo) * pct / 10000
		}
	}
	capacityMiB := int(float64(in.memoryGiB*1024) * (1 - vmMemoryOverheadPercent))
	allocMiB := capacityMiB - (11*pods + 255) - evictionHardMiB
	return fmt.Sprintf("%dm", milli-reservedCPU), fmt.Sprintf("%dMi", allocMiB), pods, nil
}
