package apptier

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/kit"
)

// Namespaces the app's traffic comes from.
const (
	// GatewayNamespace runs NGINX Gateway Fabric and the Gateway's NGINX.
	GatewayNamespace = "nginx-gateway"
	// MonitoringNamespace runs Prometheus.
	MonitoringNamespace = "monitoring"
	// httpsPort is the only port the backend may reach outside the VPC on
	// (OpenAI, Stripe, Sentry, S3 and STS for IRSA).
	httpsPort = 443
)

func peerNamespace(name string) networkingv1.NetworkPolicyPeerArgs {
	return networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
		MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(name)},
	}}
}

func tcp(port int) networkingv1.NetworkPolicyPortArgs {
	return networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}
}

func pods(labels map[string]string) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)}
}

func cidrPeers(cidrs []string) networkingv1.NetworkPolicyPeerArray {
	var out networkingv1.NetworkPolicyPeerArray
	for _, c := range cidrs {
		out = append(out, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}})
	}
	return out
}

func tcpPorts(ps ...int) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	for _, p := range ps {
		out = append(out, tcp(p))
	}
	return out
}

// ingress admits peers to TCP ports of the pods a selector picks.
func ingress(name string, sel map[string]string, from networkingv1.NetworkPolicyPeerArray, ps ...int) kit.NetworkPolicy {
	return kit.NetworkPolicy{Name: name, Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: pods(sel),
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress:     networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: tcpPorts(ps...)}},
	}}
}

// egress lets the selected pods reach peers on TCP ports.
func egress(name string, sel *metav1.LabelSelectorArgs, to networkingv1.NetworkPolicyPeerArray, ps ...int) kit.NetworkPolicy {
	return kit.NetworkPolicy{Name: name, Spec: &networkingv1.NetworkPolicySpecArgs{
		PodSelector: sel,
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{To: to, Ports: tcpPorts(ps...)}},
	}}
}

// allowIngress admits one namespace to one port of a component's pods.
func allowIngress(name, component, fromNamespace string, port int) kit.NetworkPolicy {
	return ingress(name, SelectorLabels(component), networkingv1.NetworkPolicyPeerArray{peerNamespace(fromNamespace)}, port)
}

// NetworkPolicies admit exactly, on top of the namespace's default deny and
// DNS (kit.BaselinePolicies): the gateway to frontend and backend,
// Prometheus to the backend's metrics, database clients (backend,
// migrations) to PostgreSQL and Redis, and the backend to HTTPS.
func NetworkPolicies(databaseCidrs, cacheCidrs []string) []kit.NetworkPolicy {
	dbClients := map[string]string{dbClientLabel: "true"}
	return []kit.NetworkPolicy{
		allowIngress("frontend-from-gateway", "frontend", GatewayNamespace, FrontendPort),
		allowIngress("backend-from-gateway", "backend", GatewayNamespace, BackendPort),
		allowIngress("backend-metrics-from-prometheus", "backend", MonitoringNamespace, MetricsPort),
		{Name: "db-clients-to-data", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: pods(dbClients),
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				networkingv1.NetworkPolicyEgressRuleArgs{To: cidrPeers(databaseCidrs), Ports: networkingv1.NetworkPolicyPortArray{tcp(postgresPort)}},
				networkingv1.NetworkPolicyEgressRuleArgs{To: cidrPeers(cacheCidrs), Ports: networkingv1.NetworkPolicyPortArray{tcp(redisPort)}},
			},
		}},
		{Name: "backend-to-https", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: pods(SelectorLabels("backend")),
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To:    networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String("0.0.0.0/0")}}},
				Ports: networkingv1.NetworkPolicyPortArray{tcp(httpsPort)},
			}},
		}},
	}
}

func networkPolicies(ctx *pulumi.Context, args Args, opts []pulumi.ResourceOption) error {
	return kit.NewNetworkPolicies(ctx, args.App.Namespace, PartOf, NetworkPolicies(args.DatabaseCidrs, args.CacheCidrs), opts...)
}
