package flows

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// Derived are the flows the stack declares elsewhere, one per target:
//
//   - Prometheus scrapes every target of every ServiceMonitor and
//     PodMonitor, on the pods' addresses (its service discovery reads
//     Endpoints), or the nodes' and the control plane's for the kubelet
//     and kubernetes Services, whose endpoints are those;
//   - the control plane calls every admission webhook, on its Service's
//     target port of the pods behind it;
//   - each pod's kubelet probes its probe ports;
//   - every pod resolves names through kube-dns (UDP and TCP 53).
//
// What it cannot derive is a problem, not a missing flow: a monitor that
// selects nothing or names a port its targets lack, a webhook without a
// Service, port or pod behind it, monitors and no Prometheus to run them.
func Derived(inv *Inventory) ([]Flow, []string) {
	var out []Flow
	scrapes, problems := inv.scrapes()
	calls, more := inv.webhookCalls()
	out = append(append(out, scrapes...), calls...)
	problems = append(problems, more...)
	for _, p := range inv.Pods {
		seen := map[string]bool{}
		for _, port := range p.ProbePorts {
			if seen[port] {
				continue
			}
			seen[port] = true
			out = append(out, Flow{
				Name: "probe " + p.ID + " " + port, Why: "the kubelet's liveness, readiness and startup probes",
				From: End{Address: Kubelet}, To: End{Workload: p.ID}, Port: port,
			})
		}
		if !p.HostNetwork {
			for _, proto := range []string{"UDP", "TCP"} {
				out = append(out, Flow{
					Name: "dns " + p.ID + " " + proto, Why: "every pod resolves Service and external names",
					From: End{Workload: p.ID}, To: End{Service: "kube-system/kube-dns"}, Port: "53", Protocol: proto,
				})
			}
		}
	}
	return out, problems
}

// prometheusPods are the Prometheus servers' pods (prometheus-operator's
// StatefulSets).
func (inv *Inventory) prometheusPods() []Pod {
	var out []Pod
	for _, p := range inv.Pods {
		if p.Labels["app.kubernetes.io/name"] == "prometheus" && p.Labels["app.kubernetes.io/managed-by"] == "prometheus-operator" {
			out = append(out, p)
		}
	}
	return out
}

// scrapes are Prometheus's connections to every monitor's targets.
func (inv *Inventory) scrapes() ([]Flow, []string) {
	var out []Flow
	var problems []string
	proms := inv.prometheusPods()
	if len(proms) == 0 && len(inv.Monitors) > 0 {
		problems = append(problems, fmt.Sprintf("%d monitors and no Prometheus pod to scrape them", len(inv.Monitors)))
	}
	add := func(monitor string, to End, port string) {
		for _, prom := range proms {
			out = append(out, Flow{
				Name: fmt.Sprintf("scrape %s -> %s", monitor, endName(to)), Why: "Prometheus scrapes every target its monitors name",
				From: End{Workload: prom.ID}, To: to, Port: port,
			})
		}
	}
	for _, m := range inv.Monitors {
		ns, name, kind := str(get(m, "metadata", "namespace")), str(get(m, "metadata", "name")), str(m["kind"])
		id := kind + " " + ns + "/" + name
		namespaces := monitorNamespaces(inv, ns, get(m, "spec", "namespaceSelector"))
		sel, err := Selector(get(m, "spec", "selector"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: selector: %v", id, err))
			continue
		}
		selected := 0
		if kind == "PodMonitor" {
			for _, p := range inv.Pods {
				if !namespaces[p.Namespace] || !sel.Matches(labels.Set(p.Labels)) {
					continue
				}
				selected++
				for _, ep := range list(get(m, "spec", "podMetricsEndpoints")) {
					port := str(get(ep, "port"))
					if port == "" {
						port = portString(get(ep, "portNumber"))
					}
					if n, _ := containerPort(p, port, "TCP"); n == 0 {
						problems = append(problems, fmt.Sprintf("%s: %s has no TCP port %q", id, p.ID, port))
						continue
					}
					add(id, End{Workload: p.ID}, port)
				}
			}
			if selected == 0 {
				problems = append(problems, fmt.Sprintf("%s selects no pod: %s in %v", id, compact(get(m, "spec", "selector")), sortedKeys(namespaces)))
			}
			continue
		}
		for _, s := range inv.Services {
			if !namespaces[s.Namespace] || !sel.Matches(labels.Set(s.Labels)) {
				continue
			}
			selected++
			for _, ep := range list(get(m, "spec", "endpoints")) {
				sp, ok := findServicePort(s, str(get(ep, "port")), "TCP")
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: Service %s has no port %q", id, s.ID, str(get(ep, "port"))))
					continue
				}
				switch {
				case s.Selector != nil:
					for _, b := range inv.Backends(s) {
						add(id, End{Workload: b.ID}, sp.Target)
					}
				case s.Name == "kubernetes" && s.Namespace == "default":
					add(id, End{Address: ControlPlane}, sp.Target)
				case s.Labels["app.kubernetes.io/name"] == "kubelet" && s.Labels["app.kubernetes.io/managed-by"] == "prometheus-operator":
					// The operator's kubelet Service (--kubelet-service):
					// it keeps its endpoints at the nodes.
					add(id, End{Address: Node}, sp.Target)
				default:
					problems = append(problems, fmt.Sprintf("%s: Service %s has no selector, so the check cannot tell where its endpoints are", id, s.ID))
				}
			}
		}
		if selected == 0 {
			problems = append(problems, fmt.Sprintf("%s selects no Service: %s in %v", id, compact(get(m, "spec", "selector")), sortedKeys(namespaces)))
		}
	}
	return dedupe(out), problems
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// monitorNamespaces are the namespaces a monitor's namespaceSelector
// names: any, a list, or its own.
func monitorNamespaces(inv *Inventory, own string, sel any) map[string]bool {
	out := map[string]bool{}
	if get(sel, "any") == true {
		for ns := range inv.Namespaces {
			out[ns] = true
		}
		return out
	}
	names := list(get(sel, "matchNames"))
	if len(names) == 0 {
		return map[string]bool{own: true}
	}
	for _, n := range names {
		out[str(n)] = true
	}
	return out
}

// webhookCalls are the control plane's calls to every admission webhook.
func (inv *Inventory) webhookCalls() ([]Flow, []string) {
	var out []Flow
	var problems []string
	for _, w := range inv.Webhooks {
		for _, hook := range list(get(w, "webhooks")) {
			id := fmt.Sprintf("%s %s webhook %s", str(w["kind"]), str(get(w, "metadata", "name")), str(get(hook, "name")))
			svc := get(hook, "clientConfig", "service")
			if svc == nil {
				continue // a URL: outside the cluster, not a flow of its policies
			}
			s, ok := inv.Service(str(get(svc, "namespace")) + "/" + str(get(svc, "name")))
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: no Service %s/%s", id, str(get(svc, "namespace")), str(get(svc, "name"))))
				continue
			}
			port := portString(get(svc, "port"))
			if port == "" {
				port = "443"
			}
			sp, ok := findServicePort(s, port, "TCP")
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: Service %s has no TCP port %s", id, s.ID, port))
				continue
			}
			backends := inv.Backends(s)
			if len(backends) == 0 {
				problems = append(problems, fmt.Sprintf("%s: Service %s selects no pod, so every call fails", id, s.ID))
			}
			for _, b := range backends {
				out = append(out, Flow{
					Name: fmt.Sprintf("webhook %s -> %s", str(get(hook, "name")), b.ID), Why: "the API server calls admission webhooks from its network interfaces",
					From: End{Address: ControlPlane}, To: End{Workload: b.ID}, Port: sp.Target,
				})
			}
		}
	}
	return dedupe(out), problems
}

func endName(e End) string {
	switch {
	case e.Workload != "":
		return e.Workload
	case e.Service != "":
		return "Service " + e.Service
	case e.Address != "":
		return e.Address
	case e.Pods != nil:
		return "pods of " + strings.Join(e.Pods.Namespaces, ", ")
	}
	return "?"
}

// dedupe drops flows with the same name, port and protocol (a monitor
// with several endpoints on one port).
func dedupe(fs []Flow) []Flow {
	seen := map[string]bool{}
	var out []Flow
	for _, f := range fs {
		k := f.Name + "|" + f.Port + "|" + f.Protocol
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
