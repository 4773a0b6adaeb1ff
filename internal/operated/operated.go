// Package operated declares the objects a running cluster of the stack
// holds that no manifest of it does: what EKS provides (the kubernetes and
// kube-dns Services, CoreDNS) and what the operators make from the stack's
// custom resources (ECK's Elasticsearch, Kibana, Logstash and Beat pods and
// Services; prometheus-operator's Prometheus and Alertmanager and its
// kubelet Service; NGINX Gateway Fabric's NGINX per Gateway; cert-manager's
// HTTP-01 solver). Each is derived from the custom resource as the
// operator's source at its pinned tag derives it, and names that source in
// its SourceAnnotation, so that the flow check and the policy rules can
// treat the workloads and Services as what they will be.
//
// The objects carry what those checks read (labels, selectors, ports,
// replicas, the resources and placement the custom resource gives); they
// are not complete enough to apply.
package operated

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/scrolluniversity/platform/policy/rules"
)

// SourceAnnotation on a derived object names what makes it and where that
// code is.
const SourceAnnotation = "scrolluniversity.io/made-by"

// Object is a Kubernetes object as a map, as the manifests hold them.
type Object = map[string]any

// Facts are the stack's values the derivation needs.
type Facts struct {
	// ServiceCIDR is the cluster's Service address range (EKS: the
	// kubernetes Service is its first address, kube-dns its tenth).
	ServiceCIDR string
}

// Sources of the derivations, at the versions the stacks pin.
const (
	srcKubernetesService = "kube-apiserver v1.36.3 (pkg/controlplane/controller/kubernetesservice/controller.go:230: labels provider=kubernetes, component=apiserver; port https 443); EKS sends it to the control plane's ENIs"
	srcCoreDNS           = "the EKS coredns add-on, as upstream cluster/addons/dns/coredns/coredns.yaml.base (k8s v1.36.3, lines 86-216) and nodeadm internal/api/net.go (kube-dns at the service range's .10)"
	srcECKES             = "ECK 3.5.0 pkg/controller/elasticsearch/label/label.go:144-208, nodespec/podspec.go:179-218, services/services.go:39-160, nodespec/statefulset.go:30-94"
	srcECKKibana         = "ECK 3.5.0 pkg/controller/kibana/driver.go:319-389, pod.go:135-151,272-274"
	srcECKLogstash       = "ECK 3.5.0 pkg/controller/logstash/reconcile.go:50-61, pod.go:108-143, service.go:37-109"
	srcECKBeat           = "ECK 3.5.0 pkg/controller/beat/common/name.go:18-20, pod.go:207-218, pkg/apis/beat/v1beta1/labels.go:12-17"
	srcPromPrometheus    = "prometheus-operator v0.93 pkg/prometheus/server/operator.go:1696-1704, statefulset.go:218-229, pkg/prometheus/common.go:449-525, pkg/operator/config_reloader.go:30,228-281"
	srcPromAlertmanager  = "prometheus-operator v0.93 pkg/alertmanager/operator.go:796-803, statefulset.go:183-228,398-455,745-766"
	srcPromKubelet       = "prometheus-operator v0.93 pkg/kubelet/controller.go:39-51,481-490,668-688 (--kubelet-service; endpoints are the nodes' addresses)"
	srcNGF               = "NGINX Gateway Fabric 2.4.0 internal/controller/provisioner/objects.go:92-122,538-598,850-903,1439-1448"
	srcACMESolver        = "cert-manager v1.19.1 pkg/issuer/acme/http/pod.go:36-49,207-232, service.go:106-141 (in the Certificate's namespace, the Gateway's for the gateway shim)"
)

// Objects derives the runtime objects from the stack's objects (its own
// and its rendered charts', namespaces filled in). The result is sorted by
// kind, namespace and name.
func Objects(objs []Object, f Facts) ([]Object, error) {
	apiserver, dns, err := serviceAddresses(f.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	out := eks(apiserver, dns)
	byKind := map[string][]Object{}
	for _, o := range objs {
		byKind[str(o["kind"])] = append(byKind[str(o["kind"])], o)
	}
	for _, o := range byKind["Elasticsearch"] {
		out = append(out, elasticsearch(o)...)
	}
	for _, o := range byKind["Kibana"] {
		out = append(out, kibana(o)...)
	}
	for _, o := range byKind["Logstash"] {
		out = append(out, logstash(o)...)
	}
	for _, o := range byKind["Beat"] {
		out = append(out, beat(o))
	}
	reloader := reloaderResources(byKind["Deployment"])
	for _, o := range byKind["Prometheus"] {
		if n := num(get(o, "spec", "shards"), 1); n != 1 {
			return nil, fmt.Errorf("Prometheus %s has %d shards: only one is modelled (operator.prometheus.io/shard 0)", key(o), n)
		}
		out = append(out, prometheus(o, reloader)...)
	}
	for _, o := range byKind["Alertmanager"] {
		out = append(out, alertmanager(o, reloader)...)
	}
	for _, d := range byKind["Deployment"] {
		if s := kubeletService(d); s != nil {
			out = append(out, s)
		}
	}
	gateways, err := nginxGateways(byKind)
	if err != nil {
		return nil, err
	}
	out = append(out, gateways...)
	out = append(out, acmeSolvers(byKind)...)
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out, nil
}

func key(o Object) string {
	return str(o["kind"]) + "/" + str(get(o, "metadata", "namespace")) + "/" + str(get(o, "metadata", "name"))
}

// serviceAddresses are the kubernetes and kube-dns Service addresses: the
// first and the tenth of the range, as EKS gives them.
func serviceAddresses(cidr string) (apiserver, dns string, err error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", "", fmt.Errorf("the Service range %q: %w", cidr, err)
	}
	a := p.Masked().Addr()
	first := a.Next()
	tenth := a
	for range 10 {
		tenth = tenth.Next()
	}
	return first.String(), tenth.String(), nil
}

func eks(apiserver, dns string) []Object {
	return []Object{
		service("default", "kubernetes", srcKubernetesService, map[string]string{"provider": "kubernetes", "component": "apiserver"}, nil, apiserver,
			port("https", 443, 443, "TCP")),
		service("kube-system", "kube-dns", srcCoreDNS, map[string]string{"k8s-app": "kube-dns"}, map[string]string{"k8s-app": "kube-dns"}, dns,
			port("dns", 53, 53, "UDP"), port("dns-tcp", 53, 53, "TCP"), port("metrics", 9153, 9153, "TCP")),
		workload("Deployment", "kube-system", "coredns", srcCoreDNS, 2, map[string]string{"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"},
			map[string]any{"containers": []any{withResources(container("coredns", cport("dns", 53, "UDP"), cport("dns-tcp", 53, "TCP"), cport("metrics", 9153, "TCP")),
				// coredns.yaml.base lines 138-143.
				requests("100m", "70Mi"))}}),
	}
}

// elasticsearch is one StatefulSet per node set, the cluster's HTTP,
// internal HTTP and transport Services, and a headless Service per node
// set. Our stacks set no node.roles, so every node has every role but
// voting_only, and ECK's TLS stays on (http-scheme https).
func elasticsearch(es Object) []Object {
	ns, name := meta(es)
	base := map[string]string{"common.k8s.elastic.co/type": "elasticsearch", "elasticsearch.k8s.elastic.co/cluster-name": name}
	var out []Object
	for _, set := range list(get(es, "spec", "nodeSets")) {
		sts := name + "-es-" + str(get(set, "name"))
		labels := merge(base, map[string]string{
			"elasticsearch.k8s.elastic.co/statefulset-name": sts,
			"elasticsearch.k8s.elastic.co/version":          str(get(es, "spec", "version")),
			"elasticsearch.k8s.elastic.co/http-scheme":      "https",
			"elasticsearch.k8s.elastic.co/node-voting_only": "false",
		})
		for _, role := range []string{"master", "data", "ingest", "ml", "transform", "remote_cluster_client", "data_content", "data_cold", "data_hot", "data_warm", "data_frozen"} {
			labels["elasticsearch.k8s.elastic.co/node-"+role] = "true"
		}
		spec := withMainContainer(podSpec(get(set, "podTemplate")), "elasticsearch", cport("https", 9200, "TCP"), cport("transport", 9300, "TCP"))
		if za, ok := get(set, "zoneAwareness").(map[string]any); ok {
			zoneAwareness(spec, za, map[string]any{"elasticsearch.k8s.elastic.co/cluster-name": name, "elasticsearch.k8s.elastic.co/statefulset-name": sts})
		}
		eckSecurity(spec, podSecurityECK, esContainerSecurity(str(get(es, "spec", "version"))))
		claims := list(get(set, "volumeClaimTemplates"))
		if len(claims) == 0 {
			// ECK's default data claim (pkg/controller/elasticsearch/volume/defaults.go).
			claims = []any{map[string]any{"metadata": map[string]any{"name": "elasticsearch-data"}, "spec": map[string]any{
				"accessModes": []any{"ReadWriteOnce"}, "resources": map[string]any{"requests": map[string]any{"storage": "1Gi"}}}}}
		}
		out = append(out,
			stateful(workload("StatefulSet", ns, sts, srcECKES, num(get(set, "count"), 1), eckLabels(get(set, "podTemplate"), labels), spec), sts, claims),
			headless(service(ns, sts, srcECKES, base, merge(base, map[string]string{"elasticsearch.k8s.elastic.co/statefulset-name": sts}), "", port("https", 9200, 9200, "TCP"))))
	}
	return append(out,
		service(ns, name+"-es-http", srcECKES, base, base, "", port("https", 9200, 9200, "TCP")),
		service(ns, name+"-es-internal-http", srcECKES, base, base, "", port("https", 9200, 9200, "TCP")),
		headless(service(ns, name+"-es-transport", srcECKES, base, base, "", port("tls-transport", 9300, 9300, "TCP"))),
	)
}

func kibana(kb Object) []Object {
	ns, name := meta(kb)
	sel := map[string]string{"common.k8s.elastic.co/type": "kibana", "kibana.k8s.elastic.co/name": name}
	labels := merge(sel, map[string]string{"kibana.k8s.elastic.co/version": str(get(kb, "spec", "version"))})
	spec := withMainContainer(podSpec(get(kb, "spec", "podTemplate")), "kibana", cport("https", 5601, "TCP"))
	eckSecurity(spec, podSecurityECK, map[string]any{
		"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}, "privileged": false,
		"readOnlyRootFilesystem": true, "runAsUser": 1000, "runAsGroup": 1000,
	})
	return []Object{
		workload("Deployment", ns, name+"-kb", srcECKKibana, num(get(kb, "spec", "count"), 1), eckLabels(get(kb, "spec", "podTemplate"), labels), spec),
		service(ns, name+"-kb-http", srcECKKibana, sel, sel, "", port("https", 5601, 5601, "TCP")),
	}
}

// logstash is the StatefulSet, the API Service (headless, unless the
// resource lists its own "api" service) and a Service per spec.services
// entry, selecting the Logstash pods.
func logstash(ls Object) []Object {
	ns, name := meta(ls)
	sel := map[string]string{"common.k8s.elastic.co/type": "logstash", "logstash.k8s.elastic.co/name": name}
	labels := merge(sel, map[string]string{
		"logstash.k8s.elastic.co/statefulset-name": name + "-ls",
		"logstash.k8s.elastic.co/version":          str(get(ls, "spec", "version")),
	})
	spec := withMainContainer(podSpec(get(ls, "spec", "podTemplate")), "logstash", cport("http", 9600, "TCP"))
	// ECK gives Logstash's pod its default and its containers none
	// (pod.go:59-64,127-129).
	eckSecurity(spec, podSecurityECK, nil)
	// ECK's init container keeps its own requests unless the template
	// sets some (initcontainer.go:92-101: 0.1 CPU, 50Mi).
	for _, ic := range list(spec["initContainers"]) {
		if c, ok := ic.(map[string]any); ok && str(c["name"]) == "logstash-internal-init-config" && c["resources"] == nil {
			c["resources"] = requests("100m", "50Mi")
		}
	}
	out := []Object{stateful(workload("StatefulSet", ns, name+"-ls", srcECKLogstash, num(get(ls, "spec", "count"), 1), eckLabels(get(ls, "spec", "podTemplate"), labels), spec),
		name+"-ls-api", list(get(ls, "spec", "volumeClaimTemplates")))}
	ownAPI := false
	for _, s := range list(get(ls, "spec", "services")) {
		svcName := str(get(s, "name"))
		ownAPI = ownAPI || svcName == "api"
		var ports []any
		for _, p := range list(get(s, "service", "spec", "ports")) {
			pm, _ := p.(map[string]any)
			ports = append(ports, pm)
		}
		if svcName == "api" && len(ports) == 0 {
			// ECK fills a user's API Service with its default port
			// (defaults.SetServiceDefaults, service.go:44-46).
			ports = []any{port("api", 9600, 9600, "TCP")}
		}
		svc := service(ns, name+"-ls-"+svcName, srcECKLogstash, sel, sel, "")
		set(svc, ports, "spec", "ports")
		if t := str(get(s, "service", "spec", "clusterIP")); t == "None" {
			headless(svc)
		}
		out = append(out, svc)
	}
	if !ownAPI {
		out = append(out, headless(service(ns, name+"-ls-api", srcECKLogstash, sel, sel, "", port("api", 9600, 9600, "TCP"))))
	}
	return out
}

func beat(b Object) Object {
	ns, name := meta(b)
	typ := str(get(b, "spec", "type"))
	labels := map[string]string{"common.k8s.elastic.co/type": "beat", "beat.k8s.elastic.co/name": name, "beat.k8s.elastic.co/version": str(get(b, "spec", "version"))}
	spec := withMainContainer(podSpec(get(b, "spec", "daemonSet", "podTemplate")), typ)
	return workload("DaemonSet", ns, name+"-beat-"+typ, srcECKBeat, 0, eckLabels(get(b, "spec", "daemonSet", "podTemplate"), labels), spec)
}

func prometheus(p Object, reloader any) []Object {
	ns, name := meta(p)
	web := portName(p)
	// spec.podMetadata.labels, then the operator's over them
	// (statefulset.go:218-229: maps.Copy(podLabels, podSelectorLabels)).
	labels := merge(strMap(get(p, "spec", "podMetadata", "labels")), map[string]string{
		"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator",
		"app.kubernetes.io/instance": name, "operator.prometheus.io/name": name, "prometheus": name,
		"operator.prometheus.io/shard": "0",
	})
	spec := podSpecOf(p)
	spec["containers"] = []any{
		withSecurity(withResources(container("prometheus", cport(web, 9090, "TCP")), get(p, "spec", "resources")), promContainerSecurity()),
		withSecurity(withResources(container("config-reloader", cport("reloader-web", 8080, "TCP")), reloader), promContainerSecurity()),
	}
	return []Object{
		stateful(workload("StatefulSet", ns, "prometheus-"+name, srcPromPrometheus, num(get(p, "spec", "replicas"), 1), labels, spec),
			"prometheus-operated", storageClaims(p, "prometheus-"+name+"-db")),
		headless(service(ns, "prometheus-operated", srcPromPrometheus, map[string]string{"operated-prometheus": "true"}, map[string]string{"app.kubernetes.io/name": "prometheus"}, "",
			namedPort(web, 9090, web, "TCP"))),
	}
}

// portName is a Prometheus's or Alertmanager's spec.portName, "web" unless
// set (prometheus-operator's DefaultPortName; kube-prometheus-stack sets
// http-web).
func portName(cr Object) string {
	if n := str(get(cr, "spec", "portName")); n != "" {
		return n
	}
	return "web"
}

func alertmanager(a Object, reloader any) []Object {
	ns, name := meta(a)
	web := portName(a)
	labels := merge(strMap(get(a, "spec", "podMetadata", "labels")), map[string]string{
		"app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/managed-by": "prometheus-operator",
		"app.kubernetes.io/instance": name, "alertmanager": name,
	})
	spec := podSpecOf(a)
	spec["containers"] = []any{
		withSecurity(withResources(container("alertmanager", cport(web, 9093, "TCP"), cport("mesh-tcp", 9094, "TCP"), cport("mesh-udp", 9094, "UDP")), get(a, "spec", "resources")), promContainerSecurity()),
		withSecurity(withResources(container("config-reloader", cport("reloader-web", 8080, "TCP")), reloader), promContainerSecurity()),
	}
	return []Object{
		stateful(workload("StatefulSet", ns, "alertmanager-"+name, srcPromAlertmanager, num(get(a, "spec", "replicas"), 1), labels, spec),
			"alertmanager-operated", storageClaims(a, "alertmanager-"+name+"-db")),
		headless(service(ns, "alertmanager-operated", srcPromAlertmanager, map[string]string{"operated-alertmanager": "true"}, map[string]string{"app.kubernetes.io/name": "alertmanager"}, "",
			namedPort(web, 9093, web, "TCP"), namedPort("tcp-mesh", 9094, "mesh-tcp", "TCP"), namedPort("udp-mesh", 9094, "mesh-udp", "UDP"))),
	}
}

// reloaderResources are the config-reloader sidecar's resources, from the
// operator Deployment's --config-reloader-{cpu,memory}-{request,limit}
// flags (pkg/operator/config_reloader.go: "0" sets none; the
// kube-prometheus-stack chart passes 0 unless
// prometheusOperator.prometheusConfigReloader.resources says otherwise).
func reloaderResources(deployments []Object) any {
	for _, d := range deployments {
		for _, c := range list(get(d, "spec", "template", "spec", "containers")) {
			r := map[string]map[string]any{"requests": {}, "limits": {}}
			found := false
			for _, a := range list(get(c, "args")) {
				for _, f := range []struct{ flag, kind, res string }{
					{"--config-reloader-cpu-request=", "requests", "cpu"}, {"--config-reloader-memory-request=", "requests", "memory"},
					{"--config-reloader-cpu-limit=", "limits", "cpu"}, {"--config-reloader-memory-limit=", "limits", "memory"},
				} {
					if v, ok := strings.CutPrefix(str(a), f.flag); ok {
						found = true
						if v != "0" && v != "" {
							r[f.kind][f.res] = v
						}
					}
				}
			}
			if found {
				out := map[string]any{}
				for k, v := range r {
					if len(v) > 0 {
						out[k] = v
					}
				}
				if len(out) == 0 {
					return nil
				}
				return out
			}
		}
	}
	return nil
}

// requests is a container's resources with only requests.
func requests(cpu, memory string) map[string]any {
	return map[string]any{"requests": map[string]any{"cpu": cpu, "memory": memory}}
}

// kubeletService is the headless Service the operator keeps for the
// kubelets when its Deployment runs with --kubelet-service=<ns>/<name>.
// Its ports are https-metrics and cadvisor, and http-metrics (10255)
// unless --kubelet-http-metrics=false (servicePorts, controller.go).
func kubeletService(d Object) Object {
	for _, c := range list(get(d, "spec", "template", "spec", "containers")) {
		ref, httpMetrics := "", true
		for _, a := range list(get(c, "args")) {
			if r, ok := strings.CutPrefix(str(a), "--kubelet-service="); ok {
				ref = r
			}
			if str(a) == "--kubelet-http-metrics=false" {
				httpMetrics = false
			}
		}
		if ref == "" {
			continue
		}
		ns, name, _ := strings.Cut(ref, "/")
		labels := map[string]string{"k8s-app": "kubelet", "app.kubernetes.io/name": "kubelet", "app.kubernetes.io/managed-by": "prometheus-operator"}
		ports := []any{port("https-metrics", 10250, 10250, "TCP"), port("cadvisor", 4194, 4194, "TCP")}
		if httpMetrics {
			ports = append(ports, port("http-metrics", 10255, 10255, "TCP"))
		}
		return headless(service(ns, name, srcPromKubelet, labels, nil, "", ports...))
	}
	return nil
}

// nginxGateways are NGF's NGINX Deployment and Service per Gateway of a
// class an NGF release of the stack serves: named <gateway>-<class>,
// labelled with the release's instance, sized and placed from the
// release's NginxProxy, listening on the Gateway's listener ports.
func nginxGateways(byKind map[string][]Object) ([]Object, error) {
	const controllerName = "gateway.nginx.org/nginx-gateway-controller"
	classes := map[string]bool{}
	for _, c := range byKind["GatewayClass"] {
		if str(get(c, "spec", "controllerName")) == controllerName {
			_, name := meta(c)
			classes[name] = true
		}
	}
	var instance string
	for _, d := range byKind["Deployment"] {
		if str(get(d, "spec", "template", "metadata", "labels", "app.kubernetes.io/name")) == "nginx-gateway-fabric" {
			instance = str(get(d, "spec", "template", "metadata", "labels", "app.kubernetes.io/instance"))
		}
	}
	var proxy Object
	for _, p := range byKind["NginxProxy"] {
		proxy = p
	}
	var out []Object
	for _, gw := range byKind["Gateway"] {
		class := str(get(gw, "spec", "gatewayClassName"))
		if !classes[class] {
			continue
		}
		if instance == "" {
			return nil, fmt.Errorf("Gateway %s uses class %s, but no NGINX Gateway Fabric control plane Deployment is rendered", key(gw), class)
		}
		ns, name := meta(gw)
		resName := name + "-" + class
		sel := map[string]string{
			// CreateNginxResourceName(InstanceName, GCName), provisioner.go:128-134.
			"app.kubernetes.io/instance": instance, "app.kubernetes.io/managed-by": instance + "-" + class,
			"app.kubernetes.io/name": resName, "gateway.networking.k8s.io/gateway-name": name,
		}
		seen := map[int]bool{}
		var ports []any
		var svcPorts []any
		for _, l := range list(get(gw, "spec", "listeners")) {
			p := num(get(l, "port"), 0)
			if p == 0 || seen[p] {
				continue
			}
			seen[p] = true
			ports = append(ports, cport(fmt.Sprintf("port-%d", p), p, "TCP"))
			svcPorts = append(svcPorts, port(fmt.Sprintf("port-%d", p), p, p, "TCP"))
		}
		ports = append(ports, cport("metrics", 9113, "TCP"))
		c := container("nginx", ports...)
		c["readinessProbe"] = map[string]any{"httpGet": map[string]any{"path": "/readyz", "port": 8081}}
		// objects.go:899-916 and 986-995: fixed, whatever the NginxProxy says.
		withSecurity(c, map[string]any{
			"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}, "readOnlyRootFilesystem": true,
			"runAsUser": 101, "runAsGroup": 1001, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
		})
		spec := map[string]any{
			"containers": []any{withResources(c, get(proxy, "spec", "kubernetes", "deployment", "container", "resources"))},
			"securityContext": map[string]any{"fsGroup": 1001, "runAsNonRoot": true, "sysctls": []any{
				map[string]any{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"},
			}},
		}
		for _, k := range []string{"nodeSelector", "topologySpreadConstraints", "tolerations", "affinity"} {
			if v := get(proxy, "spec", "kubernetes", "deployment", "pod", k); v != nil {
				spec[k] = v
			}
		}
		svc := service(ns, resName, srcNGF, sel, sel, "")
		set(svc, svcPorts, "spec", "ports")
		set(svc, "LoadBalancer", "spec", "type")
		out = append(out, workload("Deployment", ns, resName, srcNGF, num(get(proxy, "spec", "kubernetes", "deployment", "replicas"), 1), sel, spec), svc)
	}
	return out, nil
}

// acmeSolvers are the pod and Service cert-manager runs for an HTTP-01
// challenge through a Gateway: in the Gateway's namespace, where the
// gateway shim makes the Certificates. The domain and token labels vary
// per challenge; these carry placeholders of the same keys.
func acmeSolvers(byKind map[string][]Object) []Object {
	var out []Object
	seen := map[string]bool{}
	for _, issuer := range append(byKind["ClusterIssuer"], byKind["Issuer"]...) {
		for _, s := range list(get(issuer, "spec", "acme", "solvers")) {
			route := get(s, "http01", "gatewayHTTPRoute")
			if route == nil {
				continue
			}
			for _, ref := range list(get(route, "parentRefs")) {
				ns := str(get(ref, "namespace"))
				if ns == "" || seen[ns] {
					continue
				}
				seen[ns] = true
				sel := map[string]string{"acme.cert-manager.io/http01-solver": "true", "acme.cert-manager.io/http-domain": "challenge", "acme.cert-manager.io/http-token": "challenge"}
				svc := service(ns, "cm-acme-http-solver", srcACMESolver, sel, sel, "", port("http", 8089, 8089, "TCP"))
				typ := str(get(route, "serviceType"))
				if typ == "" {
					typ = "NodePort" // cert-manager's default (pkg/issuer/acme/http/http.go:99-107)
				}
				set(svc, typ, "spec", "type")
				out = append(out, workload("Pod", ns, "cm-acme-http-solver", srcACMESolver, 1, sel,
					// The controller's --acme-http01-solver-resource-request-cpu
					// and -memory defaults (10m, 64Mi), which the stack leaves.
					// pod.go:199-240: the pod non-root (the solver's
					// --acme-http01-solver-run-as-non-root default) with
					// RuntimeDefault seccomp, the container locked down.
					map[string]any{
						"securityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
						"containers": []any{withSecurity(withResources(container("acmesolver", cport("http", 8089, "TCP")), requests("10m", "64Mi")), map[string]any{
							"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}},
						})},
					}), svc)
			}
		}
	}
	return out
}

// workload builds a Deployment, StatefulSet or DaemonSet (replicas 0 means
// none set), or a bare Pod.
func workload(kind, ns, name, source string, replicas int, labels map[string]string, spec map[string]any) Object {
	md := metadata(ns, name, source, labels)
	if kind == "Pod" {
		return Object{"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}
	}
	s := map[string]any{
		"selector": map[string]any{"matchLabels": anyMap(labels)},
		"template": map[string]any{"metadata": map[string]any{"labels": anyMap(labels)}, "spec": spec},
	}
	if replicas > 0 {
		s["replicas"] = replicas
	}
	return Object{"apiVersion": "apps/v1", "kind": kind, "metadata": md, "spec": s}
}

// podSecurityECK is the pod securityContext ECK gives Elasticsearch
// (8.0 and later), Kibana (7.10 and later) and Logstash pods whose
// podTemplate sets none, under its --set-default-security-context default
// (auto-detect: on, but on OpenShift): ECK 3.5.0
// pkg/controller/elasticsearch/nodespec/podspec.go:98-105, kibana/pod.go:178-181,
// logstash/pod.go:59-64.
var podSecurityECK = map[string]any{"fsGroup": 1000, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}

// esContainerSecurity is ECK's securityContext for the Elasticsearch
// containers that set none (pkg/controller/elasticsearch/securitycontext/
// securitycontext.go:17-42; the data volume makes the root file system
// read-only): capabilities dropped from 8.0, non-root from 8.8.
func esContainerSecurity(version string) map[string]any {
	sc := map[string]any{"privileged": false, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true}
	var major, minor int
	fmt.Sscanf(version, "%d.%d", &major, &minor)
	if major >= 8 {
		sc["capabilities"] = map[string]any{"drop": []any{"ALL"}}
	}
	if major > 8 || (major == 8 && minor >= 8) {
		sc["runAsNonRoot"] = true
	}
	return sc
}

// eckSecurity applies ECK's defaults as its PodTemplateBuilder does: the
// pod's only where the template sets none, each container's only where
// that container sets none (pod_template.go:482-503).
func eckSecurity(spec map[string]any, pod, containers map[string]any) {
	if spec["securityContext"] == nil && pod != nil {
		spec["securityContext"] = rules.Copy(pod)
	}
	if containers == nil {
		return
	}
	for _, field := range []string{"initContainers", "containers"} {
		for _, c := range list(spec[field]) {
			if m, ok := c.(map[string]any); ok && m["securityContext"] == nil {
				m["securityContext"] = rules.Copy(containers)
			}
		}
	}
}

// promContainerSecurity is what prometheus-operator v0.93.0 gives every
// container it builds (pkg/prometheus/server/statefulset.go:333-362,
// pkg/alertmanager/statefulset.go:705-766, pkg/operator/config_reloader.go:357-375);
// the pod's is the resource's spec.securityContext as it stands.
func promContainerSecurity() map[string]any {
	return map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": map[string]any{"drop": []any{"ALL"}}}
}

func withSecurity(c map[string]any, sc map[string]any) map[string]any {
	c["securityContext"] = sc
	return c
}

// stateful gives a StatefulSet its governing Service and its claims.
func stateful(sts Object, serviceName string, claims []any) Object {
	set(sts, serviceName, "spec", "serviceName")
	if len(claims) > 0 {
		set(sts, claims, "spec", "volumeClaimTemplates")
	}
	return sts
}

// storageClaims is a Prometheus's or Alertmanager's spec.storage as the
// StatefulSet's claim: the volumeClaimTemplate, named <def> unless it
// names itself (prometheus-operator pkg/prometheus/statefulset.go and
// pkg/alertmanager/statefulset.go, volumeName and the storage switch);
// none for emptyDir or no storage.
func storageClaims(cr Object, def string) []any {
	tmpl, ok := get(cr, "spec", "storage", "volumeClaimTemplate").(map[string]any)
	if !ok {
		return nil
	}
	name := str(get(tmpl, "metadata", "name"))
	if name == "" {
		name = def
	}
	return []any{map[string]any{"metadata": map[string]any{"name": name}, "spec": get(tmpl, "spec")}}
}

// zoneAwareness is what ECK adds to a node set's pods for its
// zoneAwareness (nodespec/podspec.go:306-358): a hard zone spread of
// the node set (kept as the template's if it spreads on the same key
// already, with the API's default nodeTaintsPolicy), and a required node
// affinity on the key (In the listed zones, else Exists).
func zoneAwareness(spec map[string]any, za map[string]any, selector map[string]any) {
	key := str(za["topologyKey"])
	if key == "" {
		key = "topology.kubernetes.io/zone"
	}
	spreads := list(spec["topologySpreadConstraints"])
	own := false
	for _, c := range spreads {
		own = own || str(get(c, "topologyKey")) == key
	}
	if !own {
		spec["topologySpreadConstraints"] = append(spreads, map[string]any{
			"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
			"labelSelector": map[string]any{"matchLabels": selector},
		})
	}
	req := map[string]any{"key": key, "operator": "Exists"}
	if zones := list(za["zones"]); len(zones) > 0 {
		req = map[string]any{"key": key, "operator": "In", "values": zones}
	}
	affinity, _ := spec["affinity"].(map[string]any)
	if affinity == nil {
		affinity = map[string]any{}
		spec["affinity"] = affinity
	}
	na, _ := affinity["nodeAffinity"].(map[string]any)
	if na == nil {
		na = map[string]any{}
		affinity["nodeAffinity"] = na
	}
	required, _ := na["requiredDuringSchedulingIgnoredDuringExecution"].(map[string]any)
	if required == nil {
		required = map[string]any{}
		na["requiredDuringSchedulingIgnoredDuringExecution"] = required
	}
	terms := list(required["nodeSelectorTerms"])
	if len(terms) == 0 {
		terms = []any{map[string]any{}}
	}
	for _, t := range terms {
		if tm, ok := t.(map[string]any); ok {
			tm["matchExpressions"] = append(list(tm["matchExpressions"]), req)
		}
	}
	required["nodeSelectorTerms"] = terms
}

func service(ns, name, source string, labels, selector map[string]string, clusterIP string, ports ...any) Object {
	spec := map[string]any{"type": "ClusterIP", "ports": ports}
	if selector != nil {
		spec["selector"] = anyMap(selector)
	}
	if clusterIP != "" {
		spec["clusterIP"] = clusterIP
	}
	return Object{"apiVersion": "v1", "kind": "Service", "metadata": metadata(ns, name, source, labels), "spec": spec}
}

func headless(svc Object) Object {
	set(svc, "None", "spec", "clusterIP")
	return svc
}

func metadata(ns, name, source string, labels map[string]string) map[string]any {
	return map[string]any{"name": name, "namespace": ns, "labels": anyMap(labels), "annotations": map[string]any{SourceAnnotation: source}}
}

func port(name string, p, target int, protocol string) any {
	return map[string]any{"name": name, "port": p, "targetPort": target, "protocol": protocol}
}

func namedPort(name string, p int, target, protocol string) any {
	return map[string]any{"name": name, "port": p, "targetPort": target, "protocol": protocol}
}

func cport(name string, p int, protocol string) any {
	return map[string]any{"name": name, "containerPort": p, "protocol": protocol}
}

func container(name string, ports ...any) map[string]any {
	c := map[string]any{"name": name}
	if len(ports) > 0 {
		c["ports"] = ports
	}
	return c
}

func withResources(c map[string]any, r any) map[string]any {
	if r != nil {
		c["resources"] = r
	}
	return c
}

// podSpec is a custom resource's podTemplate spec, copied.
func podSpec(tmpl any) map[string]any {
	spec, _ := get(tmpl, "spec").(map[string]any)
	out := map[string]any{}
	for k, v := range spec {
		out[k] = v
	}
	return out
}

// podSpecOf is the placement a prometheus-operator resource gives its pods.
func podSpecOf(cr Object) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"nodeSelector", "affinity", "tolerations", "topologySpreadConstraints", "securityContext"} {
		if v := get(cr, "spec", k); v != nil {
			out[k] = v
		}
	}
	return out
}

// eckLabels are an ECK pod's labels: the podTemplate's, with the
// operator's added where the template has no such key
// (PodTemplateBuilder.WithLabels: maps.MergePreservingExistingKeys).
func eckLabels(tmpl any, operator map[string]string) map[string]string {
	return merge(operator, strMap(get(tmpl, "metadata", "labels")))
}

// withMainContainer makes sure the pod's main container (the one the
// operator names) exists and carries the operator's ports, keeping what the
// podTemplate gave it (resources, env, ports of its own: the builder's
// WithPorts adds a port only where none of that name is) and its other
// containers.
func withMainContainer(spec map[string]any, name string, ports ...any) map[string]any {
	var cs []any
	found := false
	for _, c := range list(spec["containers"]) {
		m, _ := c.(map[string]any)
		copied := map[string]any{}
		for k, v := range m {
			copied[k] = v
		}
		if str(copied["name"]) == name {
			found = true
			own := list(copied["ports"])
			merged := append([]any{}, own...)
			for _, p := range ports {
				dup := false
				for _, o := range own {
					dup = dup || str(get(o, "name")) == str(get(p, "name"))
				}
				if !dup {
					merged = append(merged, p)
				}
			}
			if len(merged) > 0 {
				copied["ports"] = merged
			}
		}
		cs = append(cs, copied)
	}
	if !found {
		cs = append([]any{container(name, ports...)}, cs...)
	}
	spec["containers"] = cs
	return spec
}

func meta(o Object) (ns, name string) {
	return str(get(o, "metadata", "namespace")), str(get(o, "metadata", "name"))
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func anyMap(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func set(o Object, v any, path ...string) {
	m := map[string]any(o)
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// The plain-value readers the policy rules use.
var (
	list   = rules.List
	str    = rules.Str
	strMap = rules.StrMap
)

func num(v any, def int) int {
	if n, ok := rules.Int(v); ok {
		return n
	}
	return def
}

// get digs into plain values, as the policy rules read them.
var get = rules.Get
