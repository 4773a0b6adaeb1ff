package observability

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/components/observability/content"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Namespaces of the component.
const (
	// Namespace runs everything but node-exporter, under the restricted
	// Pod Security profile.
	Namespace = content.MonitoringNamespace
	// NodeExporterNamespace runs only node-exporter, the one exception to
	// the restricted profile: it reads each node's /proc, /sys and root
	// filesystem from hostPath volumes, in the host's network and PID
	// namespaces. Pod Security is per namespace, so the exception gets a
	// namespace of its own rather than loosening the monitoring one.
	NodeExporterNamespace = "node-exporter"
)

// scrapePorts are the ports Prometheus scrapes in-cluster pods on: its own
// and Alertmanager's servers and reloaders, Grafana, kube-state-metrics,
// the operator, the exporters (blackbox_exporter's probes too), the backend (9464), cert-manager (9402),
// NGINX Gateway Fabric (9113) and CoreDNS.
var scrapePorts = []int{
	PrometheusPort, AlertmanagerPort, reloaderPort, GrafanaPort, kubeStateMetricsPort, operatorPort,
	postgresExporterPort, redisExporterPort, cloudwatchExporterPort, blackboxExporterPort,
	9464, 9402, 9113, coreDNSMetricsPort, 9114, 9198,
}

// smtpSubmissionPort is SMTP with STARTTLS (Amazon SES and most relays).
const smtpSubmissionPort = 587

func udp(port int) networkingv1.NetworkPolicyPortArgs {
	return networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(port)}
}

// NetworkPolicies are the monitoring namespace's flows on top of its
// default deny and DNS. The API server is reached at its ClusterIP (and,
// for Prometheus's own scrape of it, at the control plane's subnets); the
// kubelets and node-exporter on the nodes' addresses; PostgreSQL and Redis
// in their subnets, by their exporters only; receivers and AWS outside the
// VPC.
func NetworkPolicies(net kit.Addresses) []kit.NetworkPolicy {
	anywhere := net.InternetPeers()
	prometheus := kit.PodPeers(prometheusPods)
	everyPod := networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{}}}
	apiClients := &metav1.LabelSelectorArgs{MatchExpressions: metav1.LabelSelectorRequirementArray{metav1.LabelSelectorRequirementArgs{
		Key: pulumi.String("app.kubernetes.io/name"), Operator: pulumi.String("In"),
		Values: pulumi.ToStringArray([]string{"prometheus", "grafana", "kube-state-metrics", operatorName}),
	}}}
	return []kit.NetworkPolicy{
		// Prometheus scrapes pods in every namespace, the kubelets
		// (cAdvisor) and node-exporter on the nodes, and sends alerts.
		{Name: "prometheus-scrapes", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: kit.Pods(prometheusPods),
			PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				networkingv1.NetworkPolicyEgressRuleArgs{To: everyPod, Ports: kit.TCPPorts(scrapePorts...)},
				networkingv1.NetworkPolicyEgressRuleArgs{To: net.NodePeers(), Ports: kit.TCPPorts(kubeletPort, nodeExporterPort)},
				networkingv1.NetworkPolicyEgressRuleArgs{To: net.ControlPlanePeers(), Ports: kit.TCPPorts(kubernetesAPIPort)},
			},
		}},
		// Service discovery, the sidecars and the operator read the API.
		kit.Egress("api-clients-to-api-server", apiClients, net.APIServerPeers(), kubernetesAPIPort),
		kit.Ingress("prometheus-from-grafana-and-itself", prometheusPods, append(kit.PodPeers(grafanaPods), prometheus...), PrometheusPort, reloaderPort),
		kit.Ingress("alertmanager-from-prometheus-and-grafana", alertmanagerPods, append(kit.PodPeers(grafanaPods), prometheus...), AlertmanagerPort, reloaderPort),
		// Alertmanager replicas gossip (TCP and UDP) to share silences and
		// de-duplicate notifications.
		{Name: "alertmanager-mesh", Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: kit.Pods(alertmanagerPods),
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: kit.PodPeers(alertmanagerPods), Ports: networkingv1.NetworkPolicyPortArray{kit.TCP(alertmanagerMeshPort), udp(alertmanagerMeshPort)},
			}},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: kit.PodPeers(alertmanagerPods), Ports: networkingv1.NetworkPolicyPortArray{kit.TCP(alertmanagerMeshPort), udp(alertmanagerMeshPort)},
			}},
		}},
		// Slack, PagerDuty and the heartbeat over HTTPS; email by SMTP.
		kit.Egress("alertmanager-to-receivers", kit.Pods(alertmanagerPods), anywhere, 443, smtpSubmissionPort),
		kit.Egress("grafana-to-datasources", kit.Pods(grafanaPods), append(prometheus, kit.PodPeers(alertmanagerPods)...), PrometheusPort, AlertmanagerPort),
		kit.Ingress("grafana-from-prometheus", grafanaPods, prometheus, GrafanaPort),
		kit.Ingress("kube-state-metrics-from-prometheus", kubeStateMetricsPods, prometheus, kubeStateMetricsPort),
		kit.Ingress("operator-from-prometheus", operatorPods, prometheus, operatorPort),
		kit.Ingress("postgres-exporter-from-prometheus", SelectorLabels(PostgresExporter), prometheus, postgresExporterPort),
		kit.Ingress("redis-exporter-from-prometheus", SelectorLabels(RedisExporter), prometheus, redisExporterPort),
		kit.Ingress("cloudwatch-exporter-from-prometheus", SelectorLabels(CloudWatchExporter), prometheus, cloudwatchExporterPort),
		kit.Ingress("blackbox-exporter-from-prometheus", SelectorLabels(BlackboxExporter), prometheus, blackboxExporterPort),
		// Exactly the exporter and the Job that creates its role reach
		// PostgreSQL; exactly redis_exporter reaches Redis.
		kit.Egress("postgres-exporter-to-database", kit.Pods(SelectorLabels(PostgresExporter)), net.DatabasePeers(), postgresPort),
		kit.Egress("monitoring-user-job-to-database", kit.Pods(SelectorLabels(monitoringUserJob)), net.DatabasePeers(), postgresPort),
		kit.Egress("redis-exporter-to-cache", kit.Pods(SelectorLabels(RedisExporter)), net.CachePeers(), redisPort),
		// CloudWatch and STS (IRSA) are public AWS endpoints.
		kit.Egress("cloudwatch-exporter-to-aws", kit.Pods(SelectorLabels(CloudWatchExporter)), anywhere, 443),
		// The public hostnames resolve to the internet-facing NLB: the
		// probes leave through the NAT gateway and come back in as users'
		// requests do.
		kit.Egress("blackbox-exporter-to-public-hostnames", kit.Pods(SelectorLabels(BlackboxExporter)), anywhere, 443),
	}
}
