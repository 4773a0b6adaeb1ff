package kit

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Pod Security Standard levels a namespace enforces.
const (
	Restricted = "restricted"
	Baseline   = "baseline"
	Privileged = "privileged"
)

// dnsPort is cluster DNS, which every pod needs.
const dnsPort = 53

// NamespaceArgs describe a namespace the platform uses.
type NamespaceArgs struct {
	// Name is the namespace's name.
	Name string
	// PodSecurity is the Pod Security Standard level enforced, audited and
	// warned about: Restricted unless a workload there cannot run under it
	// (say why where it is set).
	PodSecurity string
	// PartOf is the app.kubernetes.io/part-of label.
	PartOf string
	// Labels are extra namespace labels (the load balancer controller's
	// readiness gate injection, say).
	Labels map[string]string
	// Policies are the flows its pods need beyond the baseline (default
	// deny, DNS), made with the namespace.
	Policies []NetworkPolicy
}

// NamespaceLabels are the labels of a namespace: its Pod Security level,
// enforced, audited and warned about at the latest version, plus the extras.
func NamespaceLabels(args NamespaceArgs) map[string]string {
	l := map[string]string{"app.kubernetes.io/part-of": args.PartOf}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		l["pod-security.kubernetes.io/"+mode] = args.PodSecurity
		l["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	for k, v := range args.Labels {
		l[k] = v
	}
	return l
}

// BaselinePolicies are the NetworkPolicies every platform namespace starts
// with: deny all ingress and egress, then allow every pod to reach cluster
// DNS. The flows a namespace needs are added by its owner.
func BaselinePolicies() []NetworkPolicy {
	return []NetworkPolicy{
		{Name: "default-deny", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		}},
		{Name: "allow-dns", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
					PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
				}},
				Ports: networkingv1.NetworkPolicyPortArray{
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(dnsPort)},
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(dnsPort)},
				},
			}},
		}},
	}
}

// NetworkPolicy is one named policy of a namespace.
type NetworkPolicy struct {
	Name string
	Spec *networkingv1.NetworkPolicySpecArgs
}

// NewNamespace declares a namespace the platform uses, with its Pod
// Security labels, the baseline policies (default deny, DNS) and its own
// Policies. Charts install into namespaces made here, never into one they
// create.
func NewNamespace(ctx *pulumi.Context, args NamespaceArgs, opts ...pulumi.ResourceOption) (*corev1.Namespace, error) {
	ns, err := corev1.NewNamespace(ctx, args.Name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.Name), Labels: pulumi.ToStringMap(NamespaceLabels(args))},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", args.Name, err)
	}
	if err := NewNetworkPolicies(ctx, args.Name, args.PartOf, append(BaselinePolicies(), args.Policies...), append(opts, pulumi.DependsOn([]pulumi.Resource{ns}))...); err != nil {
		return nil, err
	}
	return ns, nil
}

// NewNetworkPolicies creates named policies in a namespace; each is keyed by
// namespace and name, never by position.
func NewNetworkPolicies(ctx *pulumi.Context, namespace, partOf string, policies []NetworkPolicy, opts ...pulumi.ResourceOption) error {
	for _, p := range policies {
		if _, err := networkingv1.NewNetworkPolicy(ctx, namespace+"-"+p.Name, &networkingv1.NetworkPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p.Name), Namespace: pulumi.String(namespace), Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String(partOf)}},
			Spec:     p.Spec,
		}, opts...); err != nil {
			return fmt.Errorf("creating NetworkPolicy %s/%s: %w", namespace, p.Name, err)
		}
	}
	return nil
}
