package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// WritableRootAnnotation on a pod template documents why its containers need
// a writable root filesystem; the read-only-root rule then stays quiet.
const WritableRootAnnotation = "scrolluniversity.io/writable-root-reason"

// secretLikeKey matches configuration keys that name a credential. The app
// tier refuses such keys in its ConfigMap with the same expression.
var secretLikeKey = regexp.MustCompile(`(?i)(^|[_.-])(PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIALS?|DSN)([_.-]|$)`)

// SecretLikeKey reports whether a configuration key names a credential
// (PASSWORD, SECRET, TOKEN, KEY, CREDENTIALS, DSN as a word of the key).
func SecretLikeKey(key string) bool { return secretLikeKey.MatchString(key) }

// workloadKinds are the types whose pods the container rules inspect, and
// where their pod spec lives.
var workloadKinds = map[string][]string{
	"kubernetes:apps/v1:Deployment":  {"spec", "template"},
	"kubernetes:apps/v1:StatefulSet": {"spec", "template"},
	"kubernetes:apps/v1:DaemonSet":   {"spec", "template"},
	"kubernetes:apps/v1:ReplicaSet":  {"spec", "template"},
	"kubernetes:batch/v1:Job":        {"spec", "template"},
	"kubernetes:batch/v1:CronJob":    {"spec", "jobTemplate", "spec", "template"},
	"kubernetes:core/v1:Pod":         {},
}

// longRunning workloads must have liveness and readiness probes.
var longRunning = map[string]bool{
	"kubernetes:apps/v1:Deployment":  true,
	"kubernetes:apps/v1:StatefulSet": true,
	"kubernetes:apps/v1:DaemonSet":   true,
}

// podTemplate returns a workload's pod template (metadata and spec).
func podTemplate(r Resource) (map[string]any, bool) {
	path, ok := workloadKinds[r.Type]
	if !ok {
		return nil, false
	}
	if len(path) == 0 {
		return r.Props, true
	}
	t, ok := Get(r.Props, path...).(map[string]any)
	return t, ok
}

// HostAccessExceptions are the workloads allowed host access by default,
// as Kind/namespace/name: Filebeat, which reads every container's log files
// from its node (the Logging component), and node-exporter, which
// kube-prometheus-stack's chart runs in its own privileged namespace to
// read each node's /proc, /sys and root filesystem in the host's network
// and PID namespaces (judged where the synthesizer renders the chart;
// CrossGuard under `pulumi up` never sees a chart's objects).
var HostAccessExceptions = []string{"Beat/filebeat/filebeat", "DaemonSet/node-exporter/kube-prometheus-stack-prometheus-node-exporter"}

// ContainerExceptions name, per policy, the chart containers whose refusal
// is accepted, as Kind/namespace/name/container, each with why: the chart
// at its pinned version has no value that would satisfy the rule. The
// policy's knob "exceptions" replaces a policy's list. Only charts'
// containers are here; the program's own never need one.
var ContainerExceptions = map[string]map[string]string{
	"k8s-probes": {
		// cert-manager v1.19.1's chart defines a liveness probe (/livez)
		// and no readiness probe for the controller, and neither for the
		// cainjector; both serve only metrics, so readiness gates nothing.
		"Deployment/cert-manager/cert-manager/cert-manager-controller":            "cert-manager v1.19.1's chart has no readiness probe for the controller, which serves only metrics",
		"Deployment/cert-manager/cert-manager-cainjector/cert-manager-cainjector": "cert-manager v1.19.1's chart has no probes for the cainjector, which serves only metrics",
		"Deployment/nginx-gateway/nginx-gateway-fabric/nginx-gateway":             "NGF 2.4.0's chart has only a readiness probe (/readyz) for the control plane",
		"StatefulSet/logging/elastic-operator/manager":                            "eck-operator 3.5.0's chart defines no probes",
		// The grafana chart takes one probe for all its k8s-sidecar
		// containers, but each listens on a health port of its own (8081,
		// 8082, ...), so no shared probe fits them.
		"Deployment/monitoring/grafana/grafana-sc-dashboard":                                      "grafana 12.11.1's chart takes one probe for every sidecar, each on its own health port",
		"Deployment/monitoring/grafana/grafana-sc-datasources":                                    "grafana 12.11.1's chart takes one probe for every sidecar, each on its own health port",
		"Deployment/kube-system/cluster-autoscaler-aws-cluster-autoscaler/aws-cluster-autoscaler": "cluster-autoscaler 9.52.1's chart has only a liveness probe; the autoscaler serves only metrics",
	},
	"k8s-resources": {
		"Job/nginx-gateway/nginx-gateway-fabric-cert-generator/cert-generator": "NGF 2.4.0's chart has no resources value for its install-time certificate Job, which runs for seconds",
	},
}

// exceptedContainer reports whether the policy's exceptions (its knob, or
// ContainerExceptions) name this container.
func exceptedContainer(policy string, cfg Config, r Resource, c container) bool {
	def := slices.Sorted(maps.Keys(ContainerExceptions[policy]))
	return contains(cfg.Strings("exceptions", def), kindOf(r.Type)+"/"+namespaceOf(r)+"/"+nameOf(r)+"/"+c.name)
}

// exceptionsKnob is the knob of a policy with container exceptions.
func exceptionsKnob(policy string) map[string]map[string]any {
	return map[string]map[string]any{
		"exceptions": {"type": "array", "items": map[string]any{"type": "string"}, "default": stringsToAny(slices.Sorted(maps.Keys(ContainerExceptions[policy]))),
			"description": "Kind/namespace/name/container of each chart container the policy accepts"},
	}
}

// eckTemplates are where ECK's custom resources hold pod templates.
var eckTemplates = map[string][][]string{
	"kubernetes:beat.k8s.elastic.co/v1beta1:Beat":              {{"spec", "daemonSet", "podTemplate"}, {"spec", "deployment", "podTemplate"}},
	"kubernetes:kibana.k8s.elastic.co/v1:Kibana":               {{"spec", "podTemplate"}},
	"kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash":     {{"spec", "podTemplate"}},
	"kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch": nil, // one per node set
}

// allPodTemplates are a workload's pod template, or the pod templates an
// ECK resource gives its operator.
func allPodTemplates(r Resource) []map[string]any {
	if t, ok := podTemplate(r); ok {
		return []map[string]any{t}
	}
	paths, ok := eckTemplates[r.Type]
	if !ok {
		return nil
	}
	var out []map[string]any
	for _, p := range paths {
		if t, ok := Get(r.Props, p...).(map[string]any); ok {
			out = append(out, t)
		}
	}
	for _, ns := range list(Get(r.Props, "spec", "nodeSets")) {
		if t, ok := Get(ns, "podTemplate").(map[string]any); ok {
			out = append(out, t)
		}
	}
	return out
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

type container struct {
	name string
	init bool
	spec map[string]any
}

func containers(podSpec any) []container {
	var out []container
	for _, field := range []string{"initContainers", "containers"} {
		for _, c := range list(Get(podSpec, field)) {
			m, _ := c.(map[string]any)
			out = append(out, container{name: str(m["name"]), init: field == "initContainers", spec: m})
		}
	}
	return out
}

// containerRule applies a check to every container of a workload's pod.
func containerRule(check func(r Resource, pod map[string]any, c container) string) func(Resource, Config) []string {
	return exceptingRule("", check)
}

// exceptingRule is containerRule for a policy whose exceptions name
// containers it accepts (ContainerExceptions).
func exceptingRule(policy string, check func(r Resource, pod map[string]any, c container) string) func(Resource, Config) []string {
	return func(r Resource, cfg Config) []string {
		tmpl, ok := podTemplate(r)
		if !ok {
			return nil
		}
		var msgs []string
		for _, c := range containers(tmpl["spec"]) {
			if policy != "" && exceptedContainer(policy, cfg, r, c) {
				continue
			}
			if m := check(r, tmpl, c); m != "" {
				msgs = append(msgs, m)
			}
		}
		return msgs
	}
}

func where(r Resource, c container) string {
	return fmt.Sprintf("container %s of %s %s", c.name, kindOf(r.Type), shortName(r))
}

func kindOf(typ string) string {
	return typ[strings.LastIndex(typ, ":")+1:]
}

func kubernetesRules() []ResourceRule {
	return []ResourceRule{
		{Policy{"k8s-run-as-non-root", "containers run as a non-root user", Mandatory, nil}, containerRule(func(r Resource, pod map[string]any, c container) string {
			if v := Get(c.spec, "securityContext", "runAsNonRoot"); v == true || (v == nil && Get(pod, "spec", "securityContext", "runAsNonRoot") == true) {
				return ""
			}
			return where(r, c) + " may run as root; set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser"
		})},
		{Policy{"k8s-no-privileged", "containers are not privileged", Mandatory, nil}, containerRule(func(r Resource, _ map[string]any, c container) string {
			if Get(c.spec, "securityContext", "privileged") == true {
				return where(r, c) + " is privileged; remove securityContext.privileged"
			}
			return ""
		})},
		{Policy{"k8s-no-privilege-escalation", "containers cannot gain privileges", Mandatory, nil}, containerRule(func(r Resource, _ map[string]any, c container) string {
			if Get(c.spec, "securityContext", "allowPrivilegeEscalation") == false {
				return ""
			}
			return where(r, c) + " may escalate privileges; set securityContext.allowPrivilegeEscalation: false"
		})},
		{Policy{"k8s-drop-capabilities", "containers drop every Linux capability", Mandatory, nil}, containerRule(func(r Resource, _ map[string]any, c container) string {
			if contains(strList(Get(c.spec, "securityContext", "capabilities", "drop")), "ALL") {
				return ""
			}
			return where(r, c) + " keeps Linux capabilities; set securityContext.capabilities.drop: [ALL]"
		})},
		{Policy{"k8s-read-only-root-filesystem", "containers have a read-only root filesystem unless the pod documents why not (annotation " + WritableRootAnnotation + ")", Advisory, nil}, containerRule(func(r Resource, pod map[string]any, c container) string {
			if Get(c.spec, "securityContext", "readOnlyRootFilesystem") == true || str(Get(pod, "metadata", "annotations", WritableRootAnnotation)) != "" {
				return ""
			}
			return where(r, c) + " can write its root filesystem; set securityContext.readOnlyRootFilesystem: true with emptyDir mounts for scratch paths, or annotate the pod with " + WritableRootAnnotation
		})},
		{Policy{"k8s-resources", "containers request and limit CPU and memory", Mandatory, exceptionsKnob("k8s-resources")}, exceptingRule("k8s-resources", func(r Resource, _ map[string]any, c container) string {
			var missing []string
			for _, kind := range []string{"requests", "limits"} {
				for _, res := range []string{"cpu", "memory"} {
					if Get(c.spec, "resources", kind, res) == nil {
						missing = append(missing, kind+"."+res)
					}
				}
			}
			if len(missing) == 0 {
				return ""
			}
			return where(r, c) + " has no " + strings.Join(missing, ", ") + "; set resources so the scheduler and the quota can account for it"
		})},
		{Policy{"k8s-probes", "long-running containers have liveness and readiness probes", Mandatory, exceptionsKnob("k8s-probes")}, exceptingRule("k8s-probes", func(r Resource, _ map[string]any, c container) string {
			if !longRunning[r.Type] || c.init {
				return ""
			}
			var missing []string
			for _, p := range []string{"livenessProbe", "readinessProbe"} {
				if c.spec[p] == nil {
					missing = append(missing, p)
				}
			}
			if len(missing) == 0 {
				return ""
			}
			return where(r, c) + " has no " + strings.Join(missing, " or ") + "; add them so that broken pods are restarted and taken out of the Service"
		})},
		{Policy{"k8s-image-pinned", "images are pinned by a release tag or digest, never latest", Mandatory, nil}, containerRule(func(r Resource, _ map[string]any, c container) string {
			image := str(c.spec["image"])
			if image == "" || unknown(image) || strings.Contains(image, "@sha256:") {
				return ""
			}
			name := image[strings.LastIndex(image, "/")+1:]
			i := strings.LastIndex(name, ":")
			if i < 0 || name[i+1:] == "latest" {
				return fmt.Sprintf("%s runs image %q; pin a release tag or digest", where(r, c), image)
			}
			return ""
		})},
		{Policy{"k8s-no-host-access", "pods use no host network, PID or IPC namespace and no hostPath volume, ECK's resources' pod templates included; exceptions are named one by one", Mandatory, map[string]map[string]any{
			"exceptions": {"type": "array", "items": map[string]any{"type": "string"}, "default": stringsToAny(HostAccessExceptions),
				"description": "Kind/namespace/name of each workload allowed host access, such as Beat/filebeat/filebeat"},
		}}, func(r Resource, cfg Config) []string {
			if contains(cfg.Strings("exceptions", HostAccessExceptions), kindOf(r.Type)+"/"+namespaceOf(r)+"/"+nameOf(r)) {
				return nil
			}
			var msgs []string
			for _, tmpl := range allPodTemplates(r) {
				spec := tmpl["spec"]
				for _, f := range []string{"hostNetwork", "hostPID", "hostIPC"} {
					if Get(spec, f) == true {
						msgs = append(msgs, fmt.Sprintf("%s %s sets %s; remove it", kindOf(r.Type), shortName(r), f))
					}
				}
				for _, v := range list(Get(spec, "volumes")) {
					if Get(v, "hostPath") != nil {
						msgs = append(msgs, fmt.Sprintf("%s %s mounts hostPath volume %s; use an emptyDir or a PersistentVolumeClaim, or name the workload in the policy's exceptions", kindOf(r.Type), shortName(r), str(Get(v, "name"))))
					}
				}
			}
			return msgs
		}},
		{Policy{"k8s-configmap-no-secrets", "ConfigMaps hold no secret-looking keys", Mandatory, nil}, func(r Resource, _ Config) []string {
			if r.Type != "kubernetes:core/v1:ConfigMap" {
				return nil
			}
			var msgs []string
			for _, field := range []string{"data", "binaryData"} {
				m, _ := r.Props[field].(map[string]any)
				for _, k := range sortedKeys(m) {
					if SecretLikeKey(k) {
						msgs = append(msgs, fmt.Sprintf("ConfigMap %s has key %s, which looks like a credential; move it to a Secret", shortName(r), k))
					}
				}
			}
			return msgs
		}},
		{Policy{"k8s-load-balancer-services", "Services of type LoadBalancer only in allowed namespaces", Mandatory, map[string]map[string]any{
			"allowedNamespaces": {"type": "array", "items": map[string]any{"type": "string"}, "default": []any{"nginx-gateway"}, "description": "namespaces whose Services may be LoadBalancers"},
		}}, func(r Resource, cfg Config) []string {
			if r.Type != "kubernetes:core/v1:Service" || Get(r.Props, "spec", "type") != "LoadBalancer" {
				return nil
			}
			ns := str(Get(r.Props, "metadata", "namespace"))
			if contains(cfg.Strings("allowedNamespaces", []string{"nginx-gateway"}), ns) {
				return nil
			}
			return []string{fmt.Sprintf("Service %s in namespace %q is a LoadBalancer; expose it through the Gateway instead", shortName(r), ns)}
		}},
	}
}
