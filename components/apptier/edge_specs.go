package apptier

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Ports and labels of the edge's charts, as NGINX Gateway Fabric 2.4.0 and
// cert-manager v1.19.1 set them (their charts and NGF's provisioner).
const (
	// ngfAgentPort is the control plane's gRPC port that each NGINX pod's
	// agent connects to for its configuration.
	ngfAgentPort = 8443
	// ngfMetricsPort is where the control plane and NGINX serve Prometheus
	// metrics.
	ngfMetricsPort = 9113
	// certManagerWebhookPort is the webhook's HTTPS port, called by the API
	// server for every cert-manager object.
	certManagerWebhookPort = 10250
	// certManagerMetricsPort is the controller's Prometheus port.
	certManagerMetricsPort = 9402
	// httpPort is plain HTTP: the redirect to HTTPS, ACME HTTP-01.
	httpPort = 80
	// acmeSolverPort is where cert-manager's HTTP-01 solver pods answer
	// the ACME server's challenge, behind the Gateway's HTTP listener.
	acmeSolverPort = 8089

	// jobNameLabel is the label the Job controller puts on a Job's pods
	// (Kubernetes 1.27 and later), with the Job's name.
	jobNameLabel = "batch.kubernetes.io/job-name"
	// ngfCertGeneratorJob is NGF 2.4.0's install Job (templates/certs-job.yaml).
	ngfCertGeneratorJob = "nginx-gateway-fabric-cert-generator"

	// LBReadinessGateLabel makes the load balancer controller inject a
	// readiness gate into pods that are NLB targets in the namespace: a
	// rolling NGINX pod counts as ready only once the NLB sees it healthy.
	LBReadinessGateLabel = "elbv2.k8s.aws/pod-readiness-gate-inject"
)

// CertManagerMetricsPortName is the port of the cert-manager controller's
// Service (chart v1.19.1, prometheus.enabled by default) that serves
// metrics on certManagerMetricsPort.
const CertManagerMetricsPortName = "tcp-prometheus-servicemonitor"

// CertManagerServiceLabels select the controller's metrics Service.
func CertManagerServiceLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/component": "controller"}
}

// ngfControlPlane and ngfDataPlane select NGF's pods: the chart's selector
// labels (release "nginx-gateway-fabric"), and the labels NGF's provisioner
// puts on the NGINX pods of Gateway "public" with class "nginx".
func ngfControlPlane() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "nginx-gateway-fabric", "app.kubernetes.io/instance": "nginx-gateway-fabric"}
}

// GatewayControlPlaneLabels and GatewayDataPlaneLabels select NGF's
// control plane and the public Gateway's NGINX pods, for their PodMonitors.
func GatewayControlPlaneLabels() map[string]string { return ngfControlPlane() }
func GatewayDataPlaneLabels() map[string]string    { return ngfDataPlane() }

// GatewayMetricsPortName is the container port both serve Prometheus
// metrics on (9113): the chart's control plane Deployment and NGF's
// provisioner (internal/controller/provisioner/objects.go:869-871) name it
// so.
const GatewayMetricsPortName = "metrics"

// acmeSolver selects the HTTP-01 solver pods cert-manager starts, for a
// challenge, in the namespace of the Certificate: the Gateway's.
func acmeSolver() map[string]string {
	return map[string]string{"acme.cert-manager.io/http01-solver": "true"}
}

func ngfDataPlane() map[string]string {
	return map[string]string{"app.kubernetes.io/name": gatewayName + "-" + gatewayClass, "gateway.networking.k8s.io/gateway-name": gatewayName}
}

// EdgeNamespaces are the gateway's and cert-manager's namespaces. Their
// controllers reach the API server at its ClusterIP; its webhook calls come
// from the control plane's subnets; clients (and the NLB's health checks)
// come from anywhere.
func EdgeNamespaces(net kit.Addresses, appNamespace string) []kit.NamespaceArgs {
	anywhere := kit.CIDRPeers("0.0.0.0/0")
	monitoring := networkingv1.NetworkPolicyPeerArray{kit.PeerNamespace(MonitoringNamespace)}
	all := &metav1.LabelSelectorArgs{}
	certManager := map[string]string{"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/instance": "cert-manager"}
	webhook := map[string]string{"app.kubernetes.io/name": "webhook", "app.kubernetes.io/instance": "cert-manager"}
	return []kit.NamespaceArgs{
		{
			Name: GatewayNamespace, PodSecurity: kit.Restricted, PartOf: PartOf, Labels: map[string]string{LBReadinessGateLabel: "enabled"},
			Policies: []kit.NetworkPolicy{
				// Client IPs are preserved through the NLB, so the public
				// listeners admit any source; health checks come from the VPC.
				kit.Ingress("nginx-from-clients", ngfDataPlane(), anywhere, httpPort, httpsPort),
				kit.Egress("nginx-to-app", kit.Pods(ngfDataPlane()), networkingv1.NetworkPolicyPeerArray{kit.PeerNamespace(appNamespace)}, BackendPort, FrontendPort),
				kit.Egress("nginx-to-control-plane", kit.Pods(ngfDataPlane()), kit.PodPeers(ngfControlPlane()), ngfAgentPort),
				// Certificates are issued through the Gateway (HTTP-01): the
				// ACME server reaches NGINX on 80, NGINX the solver pod.
				kit.Egress("nginx-to-acme-solver", kit.Pods(ngfDataPlane()), kit.PodPeers(acmeSolver()), acmeSolverPort),
				kit.Ingress("acme-solver-from-nginx", acmeSolver(), kit.PodPeers(ngfDataPlane()), acmeSolverPort),
				kit.Ingress("control-plane-from-nginx", ngfControlPlane(), kit.PodPeers(ngfDataPlane()), ngfAgentPort),
				kit.Egress("control-plane-to-api-server", kit.Pods(ngfControlPlane()), net.APIServerPeers(), httpsPort),
				// The chart's install Job writes NGINX's and the control
				// plane's TLS Secrets; its pods carry no labels of the
				// chart's, only the Job controller's.
				kit.Egress("cert-generator-to-api-server", kit.Pods(map[string]string{jobNameLabel: ngfCertGeneratorJob}), net.APIServerPeers(), httpsPort),
				kit.Ingress("control-plane-metrics-from-prometheus", ngfControlPlane(), monitoring, ngfMetricsPort),
				kit.Ingress("nginx-metrics-from-prometheus", ngfDataPlane(), monitoring, ngfMetricsPort),
			},
		},
		{
			Name: CertManagerNamespace, PodSecurity: kit.Restricted, PartOf: PartOf,
			Policies: []kit.NetworkPolicy{
				kit.Egress("controllers-to-api-server", all, net.APIServerPeers(), httpsPort),
				// The ACME directory over HTTPS, and the HTTP-01 self check
				// against the public hostname before asking for validation.
				kit.Egress("controller-to-acme", kit.Pods(certManager), net.InternetPeers(), httpsPort, httpPort),
				kit.Ingress("webhook-from-api-server", webhook, net.ControlPlanePeers(), certManagerWebhookPort),
				kit.Ingress("controller-metrics-from-prometheus", certManager, monitoring, certManagerMetricsPort),
			},
		},
	}
}

// GatewayFabricValues configure NGINX Gateway Fabric 2.4.0's chart (every
// key is in its values.yaml at v2.4.0): a redundant control plane, and the
// NGINX data plane it provisions per Gateway sized from config, spread
// evenly over the zones on the app's zonal node groups (the autoscaler can
// then add a node in the zone a pod needs).
//
// Behind a CDN, NGINX takes the client's address from the last entry of
// X-Forwarded-For, the one the CDN appends (the viewer's address as the
// CDN saw it), so that the per-IP rate limit and the logs see viewers, not
// CDN edge servers. Any peer is trusted to set it: only the CDN's requests
// (with the origin header) reach a route that serves, and a forged
// X-Forwarded-For on others changes no more than a log line.
func GatewayFabricValues(app config.AppConfig, behindCDN bool) pulumi.Map {
	spread := func(labels map[string]string) pulumi.Array {
		return pulumi.Array{pulumi.Map{
			"maxSkew":           pulumi.Int(1),
			"topologyKey":       pulumi.String("topology.kubernetes.io/zone"),
			"whenUnsatisfiable": pulumi.String("DoNotSchedule"),
			"labelSelector":     pulumi.Map{"matchLabels": pulumi.ToStringMap(labels)},
			// Nodes of a lost zone, tainted, do not count (k8s F7).
			"nodeTaintsPolicy": pulumi.String("Honor"),
		}}
	}
	nginx := pulumi.Map{
		"replicas":  pulumi.Int(app.Gateway.Replicas),
		"container": pulumi.Map{"resources": resources(app.Gateway.Resources)},
		"pod": pulumi.Map{
			"nodeSelector":              pulumi.StringMap{config.PoolLabel: pulumi.String(app.NodePool)},
			"topologySpreadConstraints": spread(ngfDataPlane()),
		},
	}
	if behindCDN {
		// The chart renders nginx.config as the NginxProxy's spec
		// (templates/nginxproxy.yaml, v2.4.0).
		nginx["config"] = pulumi.Map{"rewriteClientIP": pulumi.Map{
			"mode":             pulumi.String("XForwardedFor"),
			"setIPRecursively": pulumi.Bool(false),
			"trustedAddresses": pulumi.Array{pulumi.Map{"type": pulumi.String("CIDR"), "value": pulumi.String("0.0.0.0/0")}},
		}}
	}
	return pulumi.Map{
		"nginxGateway": pulumi.Map{
			"gatewayClassName":          pulumi.String(gatewayClass),
			"replicas":                  pulumi.Int(controllerReplicas),
			"topologySpreadConstraints": spread(ngfControlPlane()),
			"resources":                 resources(app.Controllers[config.ControllerGatewayFabric]),
			// The chart's default reports usage to F5 every day; nothing in
			// the platform needs it, and its egress is not allowed.
			"productTelemetry": pulumi.Map{"enable": pulumi.Bool(false)},
		},
		"nginx": nginx,
	}
}

// PDBSpec is a PodDisruptionBudget the program makes for a chart's pods.
type PDBSpec struct {
	Name     string
	Selector map[string]string
}

// GatewayPDBs keep all but one NGINX pod, and one control plane pod,
// through a drain.
func GatewayPDBs() []PDBSpec {
	return []PDBSpec{
		{Name: fmt.Sprintf("%s-%s", gatewayName, gatewayClass), Selector: ngfDataPlane()},
		{Name: "nginx-gateway-fabric", Selector: ngfControlPlane()},
	}
}
