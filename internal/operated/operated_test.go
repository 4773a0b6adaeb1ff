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
