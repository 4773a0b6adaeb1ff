package kit

import (
	"fmt"
	"net/netip"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
)

// Builders of the NetworkPolicies every component writes: a policy admits
// named peers to TCP ports of the pods a selector picks, or lets those pods
// reach peers.

// PeerNamespace is every pod of a namespace.
func PeerNamespace(name string) networkingv1.NetworkPolicyPeerArgs {
	return networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
		MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(name)},
	}}
}

// PeerPods are the pods with these labels in a namespace.
func PeerPods(namespace string, labels map[string]string) networkingv1.NetworkPolicyPeerArgs {
	p := PeerNamespace(namespace)
	p.PodSelector = Pods(labels)
	return p
}

// TCP is one TCP port.
func TCP(port int) networkingv1.NetworkPolicyPortArgs {
	return networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}
}

// TCPPorts are TCP ports, each once.
func TCPPorts(ps ...int) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	seen := map[int]bool{}
	for _, p := range ps {
		if seen[p] { // several components on one port (8080) list it once
			continue
		}
		seen[p] = true
		out = append(out, TCP(p))
	}
	return out
}

// Pods selects the pods with these labels.
func Pods(labels map[string]string) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)}
}

// CIDRPeers are IP blocks.
func CIDRPeers(cidrs ...string) networkingv1.NetworkPolicyPeerArray {
	var out networkingv1.NetworkPolicyPeerArray
	for _, c := range cidrs {
		out = append(out, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}})
	}
	return out
}

// Ingress admits peers to TCP ports of the pods a selector picks.
func Ingress(name string, sel map[string]string, from networkingv1.NetworkPolicyPeerArray, ps ...int) NetworkPolicy {
	return NetworkPolicy{Name: name, Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: Pods(sel),
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress:     networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: TCPPorts(ps...)}},
	}}
}

// Egress lets the selected pods reach peers on TCP ports.
func Egress(name string, sel *metav1.LabelSelectorArgs, to networkingv1.NetworkPolicyPeerArray, ps ...int) NetworkPolicy {
	return NetworkPolicy{Name: name, Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: sel,
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{To: to, Ports: TCPPorts(ps...)}},
	}}
}

// PodPeers are the pods with each set of labels in the policy's own
// namespace.
func PodPeers(sels ...map[string]string) networkingv1.NetworkPolicyPeerArray {
	var out networkingv1.NetworkPolicyPeerArray
	for _, s := range sels {
		out = append(out, networkingv1.NetworkPolicyPeerArgs{PodSelector: Pods(s)})
	}
	return out
}

// Addresses are the stack's network ranges the NetworkPolicies name, so
// that every component names the same peers the same way. Under the EKS
// VPC CNI every pod has an address in the node subnets; a peer that means
// "not a pod" must therefore be outside them (internal/flows explains the
// semantics the policies are checked against).
type Addresses struct {
	// VPC is the VPC's CIDR.
	VPC string
	// ServiceCIDR is the cluster's Service range.
	ServiceCIDR string
	// APIServer is the kubernetes Service's ClusterIP, the first address of
	// ServiceCIDR: pods dial it, and the VPC CNI judges their egress before
	// it is translated, against that address.
	APIServer string
	// Nodes are the subnets of the nodes (their kubelets, and pods in the
	// host network such as node-exporter) and of every pod.
	Nodes []string
	// ControlPlane are the subnets of the EKS control plane's network
	// interfaces, where nothing else has an address: its webhook calls come
	// from there, and the API servers' own endpoints are there.
	ControlPlane []string
	// Database and Cache are PostgreSQL's and Redis's subnets.
	Database, Cache []string
}

// NewAddresses derives the addresses from the VPC, the Service range and
// the subnet plan.
func NewAddresses(vpcCidr, serviceCidr string, plan []config.ZoneSubnets) (Addresses, error) {
	svc, err := netip.ParsePrefix(serviceCidr)
	if err != nil {
		return Addresses{}, fmt.Errorf("the Service range %q: %w", serviceCidr, err)
	}
	a := Addresses{VPC: vpcCidr, ServiceCIDR: serviceCidr, APIServer: svc.Masked().Addr().Next().String()}
	for _, z := range plan {
		a.Nodes = append(a.Nodes, z.Private.String())
		a.ControlPlane = append(a.ControlPlane, z.ControlPlane.String())
		a.Database = append(a.Database, z.Isolated.String())
		// ElastiCache sits in the isolated subnets too (infra/program.go).
		a.Cache = append(a.Cache, z.Isolated.String())
	}
	return a, nil
}

// APIServerPeers are the API server as pods reach it.
func (a Addresses) APIServerPeers() networkingv1.NetworkPolicyPeerArray {
	return CIDRPeers(a.APIServer + "/32")
}

// ControlPlanePeers are the control plane's network interfaces.
func (a Addresses) ControlPlanePeers() networkingv1.NetworkPolicyPeerArray {
	return CIDRPeers(a.ControlPlane...)
}

// NodePeers are the nodes' subnets.
func (a Addresses) NodePeers() networkingv1.NetworkPolicyPeerArray { return CIDRPeers(a.Nodes...) }

// DatabasePeers and CachePeers are PostgreSQL's and Redis's subnets.
func (a Addresses) DatabasePeers() networkingv1.NetworkPolicyPeerArray {
	return CIDRPeers(a.Database...)
}
func (a Addresses) CachePeers() networkingv1.NetworkPolicyPeerArray { return CIDRPeers(a.Cache...) }

// InternetPeers are every address outside the VPC and the Service range:
// public APIs through the NAT gateway (S3 through its gateway endpoint, at
// its public addresses). Without the exceptions, "0.0.0.0/0" would also
// admit the API server's ClusterIP, every Service and every pod.
func (a Addresses) InternetPeers() networkingv1.NetworkPolicyPeerArray {
	return networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{
		Cidr: pulumi.String("0.0.0.0/0"), Except: pulumi.ToStringArray([]string{a.VPC, a.ServiceCIDR}),
	}}}
}
