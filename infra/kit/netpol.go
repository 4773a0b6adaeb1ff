package kit

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
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

// TCPPorts are TCP ports.
func TCPPorts(ps ...int) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	for _, p := range ps {
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
