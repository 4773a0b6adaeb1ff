package flows

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"
)

// What the EKS VPC CNI adds to the NetworkPolicy semantics, and the check
// relies on (each read in the sources named; the standard semantics
// themselves are cyclonus's, tools/netpol):
//
//  1. Egress is judged on the pod's host-side veth before kube-proxy
//     translates a Service's ClusterIP (aws-network-policy-agent v1.4.1
//     pkg/ebpf/bpf_client.go:848, the egress program on the veth's TC
//     ingress hook). A pod dialing a Service is judged against the
//     ClusterIP, so the network policy controller adds ClusterIPs to an
//     egress rule for the Services, in the namespaces the peer picks, whose
//     spec.selector the peer's podSelector matches, with the rule's ports
//     (target ports) translated to the Service's (amazon-network-policy-
//     controller-k8s v1.1.7 pkg/resolvers/endpoints.go:451-567, port lookup
//     pkg/k8s/service_utils.go:13-47). A Service port whose named target
//     port resolves to a port the rule does not allow is left out
//     (hasTargetPortBypass, endpoints.go:573-621). Headless Services get
//     nothing (their clients dial pod addresses). The kubernetes Service has
//     no selector: only an ipBlock, or a peer in its namespace whose
//     podSelector matches the empty label set (none, {}, or only
//     DoesNotExist/NotIn requirements), lets a pod reach the API server at
//     its ClusterIP. Egress rules' ipBlock peers, and rules with no peer,
//     drop named ports (there is no pod to resolve them on).
//     effectivePolicies applies this translation before cyclonus judges.
//  2. Ingress is judged after the translation, on the pod's address and
//     target port, from the client's own address: kube-proxy does not
//     rewrite the source of pod-to-ClusterIP traffic (masqueradeAll off).
//  3. Traffic from and to the pod's own node's primary address is always
//     allowed (agent pkg/fwruleprocessor/fw_rule_processor.go:80-84), which
//     is how kubelet probes pass; other nodes' addresses are not.
//  4. Pods with hostNetwork are never isolated (controller
//     endpoints.go:300-305, agent controllers/policyendpoints_controller.go:
//     622-626): they are judged as the node address they use.
//  5. ipBlock except is enforced (fw_rule_processor.go:90-141); a more
//     specific allow (a /32, a subnet) still wins by longest prefix.
//  6. EKS places the control plane's network interfaces in the cluster's
//     vpcConfig subnets (EKS User Guide, network requirements; Best
//     Practices Guide, subnets): its calls to admission webhooks come from
//     those subnets, and the kubernetes Service's endpoints are there.
//  7. In "standard" enforcing mode (the default, amazon-vpc-cni-k8s
//     v1.23.0 README:738-749) a new pod is allowed everything for the
//     seconds until its policies are attached: a flow that works in the
//     first seconds after a rollout proves nothing; this check does not
//     rely on it.

// effectivePolicies are the policies as the VPC CNI enforces them: each
// egress rule's pod peers also allow the ClusterIPs of the Services they
// match (fact 1), as extra ipBlock rules.
func effectivePolicies(inv *Inventory) ([]Object, error) {
	out := make([]Object, 0, len(inv.Policies))
	for _, p := range inv.Policies {
		p = withoutNamedCIDRPorts(p)
		ns := str(get(p, "metadata", "namespace"))
		var extra []any
		for _, rule := range list(get(p, "spec", "egress")) {
			to := list(get(rule, "to"))
			ports := list(get(rule, "ports"))
			for _, peer := range to {
				if get(peer, "ipBlock") != nil {
					continue
				}
				rules, err := clusterIPRules(inv, ns, peer, ports)
				if err != nil {
					return nil, fmt.Errorf("NetworkPolicy %s/%s: %w", ns, str(get(p, "metadata", "name")), err)
				}
				extra = append(extra, rules...)
			}
		}
		if len(extra) == 0 {
			out = append(out, p)
			continue
		}
		out = append(out, withEgress(p, extra))
	}
	return out, nil
}

// clusterIPRules are the egress rules the controller adds for one peer:
// per matching Service, its ClusterIP with the translated ports.
func clusterIPRules(inv *Inventory, policyNS string, peer any, ports []any) ([]any, error) {
	namespaces, err := inv.NamespacesMatching(policyNS, get(peer, "namespaceSelector"))
	if err != nil {
		return nil, err
	}
	sel, err := Selector(get(peer, "podSelector"))
	if err != nil {
		return nil, err
	}
	var out []any
	for _, s := range inv.Services {
		if !namespaces[s.Namespace] || s.ClusterIP == "" || !sel.Matches(labels.Set(s.Selector)) {
			continue
		}
		var translated []any
		for _, np := range ports {
			proto := protocol(get(np, "protocol"))
			want := portString(get(np, "port"))
			if want == "" { // protocol only: every port of it
				translated = append(translated, map[string]any{"protocol": proto})
				continue
			}
			sp, ok := servicePortFor(inv, s, want, proto)
			// The bypass rule applies to numeric policy ports only
			// (endpoints.go: `if npPort.Port.Type == intstr.Int`).
			if !ok || (isNumber(want) && bypasses(inv, s, sp, ports)) {
				continue
			}
			port := map[string]any{"protocol": proto, "port": sp.Port}
			if e := num(get(np, "endPort")); e > 0 { // kept as written: EndPort: npPort.EndPort
				port["endPort"] = e
			}
			translated = append(translated, port)
		}
		if len(ports) > 0 && len(translated) == 0 {
			continue
		}
		rule := map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": s.ClusterIP + "/32"}}}}
		if len(translated) > 0 {
			rule["ports"] = translated
		}
		out = append(out, rule)
	}
	return out, nil
}

// servicePortFor is the Service port a policy port (a target port, a
// number or a name) reaches: first a port whose targetPort is written the
// same way, then through a backing pod's container port
// (LookupServiceListenPort, LookupListenPortFromPodSpec).
func servicePortFor(inv *Inventory, s Service, want, proto string) (ServicePort, bool) {
	for _, sp := range s.Ports {
		if sp.Target == want && sp.Protocol == proto {
			return sp, true
		}
	}
	for _, pod := range inv.controllerBackends(s) {
		number, name := containerPort(pod, want, proto)
		for _, sp := range s.Ports {
			if sp.Protocol != proto {
				continue
			}
			if (isNumber(sp.Target) && sp.Target == strconv.Itoa(number)) || (!isNumber(sp.Target) && name != "" && sp.Target == name) {
				return sp, true
			}
		}
	}
	return ServicePort{}, false
}

// bypasses reports a Service port whose named target port resolves, on a
// backing pod, to a number the rule's numeric ports do not allow
// (hasTargetPortBypass).
func bypasses(inv *Inventory, s Service, sp ServicePort, ports []any) bool {
	if isNumber(sp.Target) {
		return false
	}
	for _, pod := range inv.controllerBackends(s) {
		number, _ := containerPort(pod, sp.Target, sp.Protocol)
		if number == 0 {
			continue
		}
		allowed := false
		for _, np := range ports {
			if protocol(get(np, "protocol")) != sp.Protocol {
				continue
			}
			p := portString(get(np, "port"))
			if p == "" {
				allowed = true
				break
			}
			if !isNumber(p) {
				continue
			}
			lo, _ := strconv.Atoi(p)
			hi := lo
			if e := num(get(np, "endPort")); e > 0 {
				hi = e
			}
			if number >= lo && number <= hi {
				allowed = true
				break
			}
		}
		if !allowed {
			return true
		}
	}
	return false
}

// containerPort resolves a port (a number or a name) on a pod: the number,
// and the name of the container port it is, if any. A number no container
// declares is still that number (LookupContainerPortAndName).
func containerPort(p Pod, port, proto string) (int, string) {
	for _, cp := range p.Ports {
		if cp.Protocol != proto {
			continue
		}
		if cp.Name == port || strconv.Itoa(cp.Number) == port {
			return cp.Number, cp.Name
		}
	}
	if n, err := strconv.Atoi(port); err == nil {
		return n, ""
	}
	return 0, ""
}

// controllerBackends are the pods the controller looks a Service's ports
// up on: labels.Set(svc.Spec.Selector).AsSelector() over the namespace's
// pods, which for a Service without a selector is every one of them
// (endpoints.go, hasTargetPortBypass and getMatchingServicePort). Traffic
// goes to Backends; this is only where ports are resolved.
func (inv *Inventory) controllerBackends(s Service) []Pod {
	var out []Pod
	for _, p := range inv.Pods {
		if p.Namespace == s.Namespace && labels.SelectorFromSet(s.Selector).Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// withoutNamedCIDRPorts is an egress rule's ipBlock peers, and a rule
// with no peers, as the controller resolves them: a named port has no pod
// to be resolved on and is dropped, and a peer left with none of the
// rule's ports is skipped (convertToPolicyInfoPortForCIDRs and
// computeEgressEndpoints, endpoints.go). Pod peers keep the named ports.
func withoutNamedCIDRPorts(p Object) Object {
	var rules []any
	changed := false
	for _, rule := range list(get(p, "spec", "egress")) {
		ports := list(get(rule, "ports"))
		var numeric []any
		for _, np := range ports {
			if port := portString(get(np, "port")); port == "" || isNumber(port) {
				numeric = append(numeric, np)
			}
		}
		if len(numeric) == len(ports) {
			rules = append(rules, rule)
			continue
		}
		changed = true
		to, hasTo := get(rule, "to").([]any)
		var cidrs, pods []any
		for _, peer := range to {
			if get(peer, "ipBlock") != nil {
				cidrs = append(cidrs, peer)
			} else {
				pods = append(pods, peer)
			}
		}
		if len(pods) > 0 {
			rules = append(rules, map[string]any{"to": pods, "ports": ports})
		}
		if len(numeric) == 0 || (hasTo && len(cidrs) == 0) {
			continue
		}
		r := map[string]any{"ports": numeric}
		if hasTo {
			r["to"] = cidrs
		}
		rules = append(rules, r)
	}
	if !changed {
		return p
	}
	if rules == nil {
		rules = []any{}
	}
	return withEgressRules(p, rules)
}

// withEgress copies a policy with more egress rules.
func withEgress(p Object, extra []any) Object {
	return withEgressRules(p, append(append([]any{}, list(get(p, "spec", "egress"))...), extra...))
}

// withEgressRules copies a policy with these egress rules.
func withEgressRules(p Object, rules []any) Object {
	out := Object{}
	for k, v := range p {
		out[k] = v
	}
	spec := map[string]any{}
	for k, v := range get(p, "spec").(map[string]any) {
		spec[k] = v
	}
	spec["egress"] = rules
	out["spec"] = spec
	return out
}
