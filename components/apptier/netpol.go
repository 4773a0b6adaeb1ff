package apptier

import (
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

// allowIngress admits one namespace to one port of a component's pods.
func allowIngress(name, component, fromNamespace string, port int) kit.NetworkPolicy {
	return kit.Ingress(name, SelectorLabels(component), networkingv1.NetworkPolicyPeerArray{kit.PeerNamespace(fromNamespace)}, port)
}

// NetworkPolicies admit exactly, on top of the namespace's default deny and
// DNS (kit.BaselinePolicies): the gateway to frontend and backend,
// Prometheus to the backend's metrics, database clients (backend,
// migrations) to PostgreSQL and Redis, and the backend to HTTPS outside the
// VPC and the Service range (never the API server).
func NetworkPolicies(net kit.Addresses) []kit.NetworkPolicy {
	dbClients := map[string]string{dbClientLabel: "true"}
	return []kit.NetworkPolicy{
		allowIngress("frontend-from-gateway", "frontend", GatewayNamespace, FrontendPort),
		allowIngress("backend-from-gateway", "backend", GatewayNamespace, BackendPort),
		allowIngress("backend-metrics-from-prometheus", "backend", MonitoringNamespace, MetricsPort),
		{Name: "db-clients-to-data", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: kit.Pods(dbClients),
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				networkingv1.NetworkPolicyEgressRuleArgs{To: net.DatabasePeers(), Ports: networkingv1.NetworkPolicyPortArray{kit.TCP(postgresPort)}},
				networkingv1.NetworkPolicyEgressRuleArgs{To: net.CachePeers(), Ports: networkingv1.NetworkPolicyPortArray{kit.TCP(redisPort)}},
			},
		}},
		kit.Egress("backend-to-https", kit.Pods(SelectorLabels("backend")), net.InternetPeers(), httpsPort),
	}
}
