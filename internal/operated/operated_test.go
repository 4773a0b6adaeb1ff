package operated

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func parse(t *testing.T, src string) []Object {
	t.Helper()
	var out []Object
	if err := yaml.Unmarshal([]byte(src), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// expecter reports each value that is not the one wanted, by what it is.
func expecter(t *testing.T) func(what string, got, want any) {
	return func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: want %v, got %v", what, want, got)
		}
	}
}

func find(objs []Object, kind, ns, name string) Object {
	for _, o := range objs {
		if str(o["kind"]) == kind && str(get(o, "metadata", "namespace")) == ns && str(get(o, "metadata", "name")) == name {
			return o
		}
	}
	return nil
}

const crs = `
- apiVersion: elasticsearch.k8s.elastic.co/v1
  kind: Elasticsearch
  metadata: {name: logs, namespace: logging}
  spec:
    version: 9.4.3
    nodeSets: [{name: default, count: 3, podTemplate: {spec: {containers: [{name: elasticsearch, resources: {requests: {cpu: 500m}}}]}}}]
- apiVersion: logstash.k8s.elastic.co/v1alpha1
  kind: Logstash
  metadata: {name: logs, namespace: logging}
  spec:
    count: 2
    services:
    - {name: beats, service: {spec: {type: ClusterIP, ports: [{name: beats, port: 5044, targetPort: 5044}]}}}
    - {name: api, tls: {selfSignedCertificate: {disabled: true}}}
- apiVersion: gateway.networking.k8s.io/v1
  kind: GatewayClass
  metadata: {name: nginx}
  spec: {controllerName: gateway.nginx.org/nginx-gateway-controller}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: nginx-gateway-fabric, namespace: nginx-gateway}
  spec:
    template:
      metadata: {labels: {app.kubernetes.io/name: nginx-gateway-fabric, app.kubernetes.io/instance: nginx-gateway-fabric}}
      spec: {containers: [{name: nginx-gateway}]}
- apiVersion: gateway.nginx.org/v1alpha2
  kind: NginxProxy
  metadata: {name: proxy, namespace: nginx-gateway}
  spec: {kubernetes: {deployment: {replicas: 3, pod: {nodeSelector: {pool: workload}}}}}
- apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata: {name: public, namespace: nginx-gateway}
  spec:
    gatewayClassName: nginx
    listeners: [{name: http, port: 80}, {name: a, port: 443}, {name: b, port: 443}]
- apiVersion: cert-manager.io/v1
  kind: ClusterIssuer
  metadata: {name: letsencrypt}
  spec: {acme: {solvers: [{http01: {gatewayHTTPRoute: {serviceType: ClusterIP, parentRefs: [{name: public, namespace: nginx-gateway}]}}}]}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: kps-operator, namespace: monitoring}
  spec: {template: {spec: {containers: [{name: op, args: [--kubelet-service=kube-system/kps-kubelet]}]}}}
`

func TestObjectsAsTheOperatorsMakeThem(t *testing.T) {
	objs, err := Objects(parse(t, crs), Facts{ServiceCIDR: "172.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(o Object, what string, got, want any) {
		t.Helper()
		if o == nil {
			t.Fatalf("%s: no such object", what)
		}
		if got != want {
			t.Errorf("%s: want %v, got %v", what, want, got)
		}
	}
	k := find(objs, "Service", "default", "kubernetes")
	check(k, "the kubernetes Service's address", get(k, "spec", "clusterIP"), "172.20.0.1")
	check(k, "the kubernetes Service's selector", get(k, "spec", "selector"), nil)
	dns := find(objs, "Service", "kube-system", "kube-dns")
	check(dns, "kube-dns's address", get(dns, "spec", "clusterIP"), "172.20.0.10")

	es := find(objs, "StatefulSet", "logging", "logs-es-default")
	check(es, "ES replicas", get(es, "spec", "replicas"), 3)
	check(es, "ES cluster label", get(es, "spec", "template", "metadata", "labels", "elasticsearch.k8s.elastic.co/cluster-name"), "logs")
	check(es, "ES keeps the template's resources", get(list(get(es, "spec", "template", "spec", "containers"))[0], "resources", "requests", "cpu"), "500m")
	http := find(objs, "Service", "logging", "logs-es-http")
	check(http, "logs-es-http's selector", len(get(http, "spec", "selector").(map[string]any)), 2)
	check(find(objs, "Service", "logging", "logs-es-transport"), "transport is headless", get(find(objs, "Service", "logging", "logs-es-transport"), "spec", "clusterIP"), "None")

	// The resource's own api service replaces ECK's headless default.
	api := find(objs, "Service", "logging", "logs-ls-api")
	check(api, "Logstash's own api Service has a ClusterIP", get(api, "spec", "clusterIP"), nil)
	check(find(objs, "Service", "logging", "logs-ls-beats"), "beats port", get(list(get(find(objs, "Service", "logging", "logs-ls-beats"), "spec", "ports"))[0], "port"), 5044)

	nginx := find(objs, "Deployment", "nginx-gateway", "public-nginx")
	check(nginx, "NGINX replicas from the NginxProxy", get(nginx, "spec", "replicas"), 3)
	check(nginx, "NGINX managed-by", get(nginx, "spec", "template", "metadata", "labels", "app.kubernetes.io/managed-by"), "nginx-gateway-fabric-nginx")
	check(nginx, "NGINX placement", get(nginx, "spec", "template", "spec", "nodeSelector", "pool"), "workload")
	if ports := list(get(list(get(nginx, "spec", "template", "spec", "containers"))[0], "ports")); len(ports) != 3 {
		t.Errorf("NGINX ports: want 80, 443 (once) and metrics, got %v", ports)
	}
	solver := find(objs, "Service", "nginx-gateway", "cm-acme-http-solver")
	check(solver, "solver Service type", get(solver, "spec", "type"), "ClusterIP")
	kubelet := find(objs, "Service", "kube-system", "kps-kubelet")
	check(kubelet, "kubelet Service label", get(kubelet, "metadata", "labels", "k8s-app"), "kubelet")

	for _, o := range objs {
		if !strings.Contains(str(get(o, "metadata", "annotations", SourceAnnotation)), ".go") {
			t.Errorf("%s names no source: %v", key(o), get(o, "metadata", "annotations"))
		}
	}
}

// A Gateway of NGF's class without NGF's control plane rendered is an
// error, not a silent gap.
func TestAGatewayWithoutItsControllerIsAnError(t *testing.T) {
	objs := parse(t, crs)
	var without []Object
	for _, o := range objs {
		if str(get(o, "metadata", "name")) != "nginx-gateway-fabric" {
			without = append(without, o)
		}
	}
	if _, err := Objects(without, Facts{ServiceCIDR: "172.20.0.0/16"}); err == nil || !strings.Contains(err.Error(), "Gateway/nginx-gateway/public") {
		t.Fatalf("want an error naming the Gateway, got %v", err)
	}
	if _, err := Objects(objs, Facts{ServiceCIDR: "not a range"}); err == nil {
		t.Error("a Service range that does not parse was accepted")
	}
}

// What the operators take from the resource rather than fix: NGF names
// and labels NGINX after the GatewayClass, prometheus-operator uses
// spec.portName ("web" unless set) and spec.podMetadata's labels under its
// own, ECK keeps the podTemplate's labels and ports and adds its own, and
// the kubelet Service has http-metrics unless the operator is told not to.
func TestObjectsFollowTheResource(t *testing.T) {
	src := strings.NewReplacer("name: nginx}", "name: edge}", "gatewayClassName: nginx", "gatewayClassName: edge").Replace(crs) + `
- apiVersion: monitoring.coreos.com/v1
  kind: Prometheus
  metadata: {name: k8s, namespace: monitoring}
  spec: {replicas: 2, podMetadata: {labels: {team: sre, app.kubernetes.io/name: mine}}}
- apiVersion: monitoring.coreos.com/v1
  kind: Alertmanager
  metadata: {name: main, namespace: monitoring}
  spec: {portName: http-web}
- apiVersion: kibana.k8s.elastic.co/v1
  kind: Kibana
  metadata: {name: logs, namespace: logging}
  spec:
    version: 9.4.3
    podTemplate:
      metadata: {labels: {team: search, kibana.k8s.elastic.co/name: mine}}
      spec: {containers: [{name: kibana, ports: [{name: https, containerPort: 5602}, {name: extra, containerPort: 7000}]}]}
`
	objs, err := Objects(parse(t, src), Facts{ServiceCIDR: "172.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	expect := expecter(t)
	nginx := find(objs, "Deployment", "nginx-gateway", "public-edge")
	expect("NGINX named after its class", nginx != nil, true)
	expect("NGINX managed-by after its class", get(nginx, "spec", "template", "metadata", "labels", "app.kubernetes.io/managed-by"), "nginx-gateway-fabric-edge")

	prom := find(objs, "StatefulSet", "monitoring", "prometheus-k8s")
	labels := get(prom, "spec", "template", "metadata", "labels")
	expect("Prometheus keeps podMetadata's labels", get(labels, "team"), "sre")
	expect("the operator's labels win over podMetadata's", get(labels, "app.kubernetes.io/name"), "prometheus")
	expect("Prometheus's port is web by default", get(list(get(list(get(prom, "spec", "template", "spec", "containers"))[0], "ports"))[0], "name"), "web")
	expect("prometheus-operated's target is web", get(list(get(find(objs, "Service", "monitoring", "prometheus-operated"), "spec", "ports"))[0], "targetPort"), "web")
	am := find(objs, "Service", "monitoring", "alertmanager-operated")
	expect("Alertmanager's port is its portName", get(list(get(am, "spec", "ports"))[0], "name"), "http-web")

	kb := find(objs, "Deployment", "logging", "logs-kb")
	kl := get(kb, "spec", "template", "metadata", "labels")
	expect("Kibana keeps the template's labels", get(kl, "team"), "search")
	expect("the template's labels win over ECK's", get(kl, "kibana.k8s.elastic.co/name"), "mine")
	ports := list(get(list(get(kb, "spec", "template", "spec", "containers"))[0], "ports"))
	expect("Kibana keeps the template's ports (https as given, extra)", len(ports), 2)
	expect("the template's https port wins", get(ports[0], "containerPort"), 5602)

	kubelet := find(objs, "Service", "kube-system", "kps-kubelet")
	expect("kubelet Service ports with http-metrics", len(list(get(kubelet, "spec", "ports"))), 3)
	off := strings.Replace(src, "args: [--kubelet-service=kube-system/kps-kubelet]", "args: [--kubelet-service=kube-system/kps-kubelet, --kubelet-http-metrics=false]", 1)
	objs, err = Objects(parse(t, off), Facts{ServiceCIDR: "172.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	expect("kubelet Service ports without http-metrics", len(list(get(find(objs, "Service", "kube-system", "kps-kubelet"), "spec", "ports"))), 2)

	sharded := strings.Replace(src, "spec: {replicas: 2,", "spec: {replicas: 2, shards: 2,", 1)
	if _, err := Objects(parse(t, sharded), Facts{ServiceCIDR: "172.20.0.0/16"}); err == nil || !strings.Contains(err.Error(), "2 shards") {
		t.Errorf("a sharded Prometheus: want an error, got %v", err)
	}
}

// What placement and admission read of the operators' pods: their claims
// and governing Services, ECK's zone awareness, and the securityContexts
// each operator sets, the template's kept where it sets one.
func TestPlacementAndSecurityAsTheOperatorsSetThem(t *testing.T) {
	src := `
- apiVersion: elasticsearch.k8s.elastic.co/v1
  kind: Elasticsearch
  metadata: {name: logs, namespace: logging}
  spec:
    version: 9.4.3
    nodeSets:
    - name: default
      count: 3
      zoneAwareness: {}
      volumeClaimTemplates: [{metadata: {name: elasticsearch-data}, spec: {resources: {requests: {storage: 50Gi}}}}]
      podTemplate: {spec: {nodeSelector: {pool: logging}, containers: [{name: elasticsearch}]}}
    - name: cold
      podTemplate: {spec: {securityContext: {runAsUser: 1000}, containers: [{name: elasticsearch, securityContext: {privileged: false}}]}}
- apiVersion: monitoring.coreos.com/v1
  kind: Prometheus
  metadata: {name: k8s, namespace: monitoring}
  spec:
    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
    storage: {volumeClaimTemplate: {spec: {storageClassName: gp3, resources: {requests: {storage: 20Gi}}}}}
- apiVersion: monitoring.coreos.com/v1
  kind: Alertmanager
  metadata: {name: main, namespace: monitoring}
  spec: {}
`
	objs, err := Objects(parse(t, src), Facts{ServiceCIDR: "172.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	expect := expecter(t)
	es := find(objs, "StatefulSet", "logging", "logs-es-default")
	expect("ES governed by its headless Service", get(es, "spec", "serviceName"), "logs-es-default")
	expect("ES claims as the node set says", get(list(get(es, "spec", "volumeClaimTemplates"))[0], "spec", "resources", "requests", "storage"), "50Gi")
	spec := get(es, "spec", "template", "spec")
	spread := list(get(spec, "topologySpreadConstraints"))
	expect("zone awareness spreads the node set over zones", len(spread), 1)
	expect("ECK's spread is hard", get(spread[0], "whenUnsatisfiable"), "DoNotSchedule")
	expect("ECK's spread leaves nodeTaintsPolicy to the API's default", get(spread[0], "nodeTaintsPolicy"), nil)
	expect("ECK's spread selects the node set", get(spread[0], "labelSelector", "matchLabels", "elasticsearch.k8s.elastic.co/statefulset-name"), "logs-es-default")
	term := list(get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"))
	expect("zone awareness requires the zone label", get(list(get(term[0], "matchExpressions"))[0], "operator"), "Exists")
	expect("ECK's pod default", get(spec, "securityContext", "fsGroup"), 1000)
	c := list(get(spec, "containers"))[0]
	expect("ES 9 drops every capability", get(list(get(c, "securityContext", "capabilities", "drop"))[0]), "ALL")
	expect("ES 8.8 and later run as non-root", get(c, "securityContext", "runAsNonRoot"), true)

	cold := get(find(objs, "StatefulSet", "logging", "logs-es-cold"), "spec", "template", "spec")
	expect("a template's pod securityContext is kept whole", get(cold, "securityContext", "fsGroup"), nil)
	expect("a template's container securityContext is kept whole", get(list(get(cold, "containers"))[0], "securityContext", "runAsNonRoot"), nil)
	expect("ECK's default claim", get(list(get(find(objs, "StatefulSet", "logging", "logs-es-cold"), "spec", "volumeClaimTemplates"))[0], "metadata", "name"), "elasticsearch-data")

	prom := find(objs, "StatefulSet", "monitoring", "prometheus-k8s")
	expect("Prometheus governed by prometheus-operated", get(prom, "spec", "serviceName"), "prometheus-operated")
	expect("Prometheus's claim named as the operator names it", get(list(get(prom, "spec", "volumeClaimTemplates"))[0], "metadata", "name"), "prometheus-k8s-db")
	for _, c := range list(get(prom, "spec", "template", "spec", "containers")) {
		expect("prometheus-operator's containers cannot escalate: "+str(get(c, "name")), get(c, "securityContext", "allowPrivilegeEscalation"), false)
	}
	expect("the pod's securityContext is the resource's", get(prom, "spec", "template", "spec", "securityContext", "runAsNonRoot"), true)
	am := find(objs, "StatefulSet", "monitoring", "alertmanager-main")
	expect("Alertmanager without storage has no claim", get(am, "spec", "volumeClaimTemplates"), nil)
}
