package logging

import (
	"github.com/scrolluniversity/platform/components/logging/content"
	"github.com/scrolluniversity/platform/infra/kit"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
)

// NetworkPolicies are the logging namespace's flows on top of its default
// deny and DNS: the operator to the API server and to each Elasticsearch
// node (ECK calls nodes directly, and never Kibana's or Logstash's API);
// Elasticsearch's clients (Kibana, Logstash, the setup Job, the exporter)
// to 9200 and its nodes to each other on 9300; Filebeat to Logstash's
// beats input; Logstash to the internet for the GeoIP database; Prometheus
// to the exporters.
func NetworkPolicies(net kit.Addresses, monitoringNamespace string) []kit.NetworkPolicy {
	setup := SelectorLabels(setupJob)
	exporter := SelectorLabels(esExporterName)
	monitoring := networkingv1.NetworkPolicyPeerArray{kit.PeerNamespace(monitoringNamespace)}
	policies := []kit.NetworkPolicy{
		kit.Egress("operator-to-api-server", kit.Pods(operatorPods), net.APIServerPeers(), kubernetesAPIPort),
		kit.Egress("operator-to-elasticsearch", kit.Pods(operatorPods), kit.PodPeers(esPods), esHTTPPort),
		kit.Ingress("elasticsearch-from-clients", esPods, kit.PodPeers(operatorPods, kibanaPods, logstashPods, setup, exporter), esHTTPPort),
		kit.Ingress("elasticsearch-transport", esPods, kit.PodPeers(esPods), esTransportPort),
		kit.Egress("elasticsearch-to-transport", kit.Pods(esPods), kit.PodPeers(esPods), esTransportPort),
		kit.Ingress("kibana-from-setup", kibanaPods, kit.PodPeers(setup), kibanaPort),
		kit.Egress("setup-to-kibana", kit.Pods(setup), kit.PodPeers(kibanaPods), kibanaPort),
		kit.Ingress("logstash-from-filebeat", logstashPods, networkingv1.NetworkPolicyPeerArray{kit.PeerPods(FilebeatNamespace, filebeatPods)}, content.BeatsPort),
		// Logstash's GeoIP filter downloads its database from Elastic.
		kit.Egress("logstash-to-geoip-updates", kit.Pods(logstashPods), net.InternetPeers(), httpsPort),
		kit.Ingress("elasticsearch-exporter-from-prometheus", exporter, monitoring, esExporterPort),
		kit.Ingress("logstash-exporter-from-prometheus", logstashPods, monitoring, logstashExporterPort),
	}
	for _, c := range []struct {
		name string
		pods map[string]string
	}{{"kibana", kibanaPods}, {"logstash", logstashPods}, {"setup", setup}, {"exporter", exporter}} {
		policies = append(policies, kit.Egress(c.name+"-to-elasticsearch", kit.Pods(c.pods), kit.PodPeers(esPods), esHTTPPort))
	}
	return policies
}

// FilebeatPolicies are the filebeat namespace's flows: to Logstash and to
// the API server (autodiscover).
func FilebeatPolicies(net kit.Addresses) []kit.NetworkPolicy {
	return []kit.NetworkPolicy{
		kit.Egress("filebeat-to-logstash", kit.Pods(filebeatPods), networkingv1.NetworkPolicyPeerArray{kit.PeerPods(Namespace, logstashPods)}, content.BeatsPort),
		kit.Egress("filebeat-to-api-server", kit.Pods(filebeatPods), net.APIServerPeers(), kubernetesAPIPort),
	}
}
