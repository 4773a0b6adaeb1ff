// Package flows proves the network flows the platform needs, and those it
// must never allow, against every NetworkPolicy of a stack: the program's
// own, its rendered charts' and none that operators add at runtime (they
// add none). Flows are declared in one place (platform.go) or derived from
// what the stack declares elsewhere (every ServiceMonitor and PodMonitor
// target, every webhook the control plane calls, every probe, DNS for
// every pod). Each flow is resolved to concrete connections between the
// pods of the inventory (ours, the charts', and the runtime objects of
// internal/operated) and the stack's addresses, the VPC CNI's additions to
// the semantics are applied (vpccni.go), and cyclonus judges each
// connection (tools/netpol's netpolcheck).
package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// End is one end of a flow: exactly one field is set.
type End struct {
	// Workload names the pods of one workload: "Deployment monitoring/grafana".
	Workload string
	// Pods are every pod of these namespaces (and with these labels, when
	// set), each a connection of its own.
	Pods *PodSet
	// Service is a Service the client dials by name ("namespace/name"): its
	// ClusterIP at egress, its backing pods' target port at ingress; a
	// headless Service's clients dial the pods.
	Service string
	// Address is a place outside the pod network, by name: Internet, Node,
	// Kubelet, ControlPlane, Database, Cache.
	Address string
}

// PodSet picks pods by namespace and, optionally, labels.
type PodSet struct {
	Namespaces []string
	Labels     map[string]string
}

// Named addresses.
const (
	// Internet is any public address: an ACME server, Slack, AWS's public
	// endpoints through the NAT gateway (represented by 192.0.2.10,
	// TEST-NET-1, which can never be a real peer).
	Internet = "internet"
	// Node is another node's address (node-exporter, the kubelet's metrics).
	Node = "node"
	// Kubelet is the pod's own node, where its kubelet probes come from.
	Kubelet = "kubelet"
	// ControlPlane is an EKS control-plane network interface.
	ControlPlane = "control-plane"
	// Database and Cache are RDS's and ElastiCache's subnets.
	Database = "database"
	Cache    = "cache"
)

// internetIP stands for any public address.
const internetIP = "192.0.2.10"

// Flow is a connection the platform needs, or must never allow.
type Flow struct {
	// Name identifies it in reports.
	Name string
	// Why the platform needs it (or must not have it).
	Why      string
	From, To End
	// Port is the destination port: a Service's port (a number or its
	// name) for a Service, a container port (a number or its name) for
	// pods, a number for an address.
	Port string
	// Protocol is TCP unless set.
	Protocol string
}

// Connection is one concrete connection a flow resolves to, and its verdict.
type Connection struct {
	Flow    string `json:"flow"`
	From    string `json:"from"`
	To      string `json:"to"`
	Port    string `json:"port"`
	Allowed bool   `json:"allowed"`
	// Egress and Ingress are the verdicts at each end; nil where that end
	// is outside the pod network or exempt (Note says why).
	Egress  *Verdict `json:"egress,omitempty"`
	Ingress *Verdict `json:"ingress,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Verdict is one direction's verdict, with the policies behind it.
type Verdict struct {
	Allowed   bool     `json:"allowed"`
	Selecting []string `json:"selecting"`
	Allowing  []string `json:"allowing"`
}

// Report is the check's outcome.
type Report struct {
	Required  []Connection `json:"required"`
	Forbidden []Connection `json:"forbidden"`
	// Problems are flows that cannot be resolved (a workload or port that
	// does not exist) and NetworkPolicies that select no pod.
	Problems []string `json:"problems"`
	// Inert are NetworkPolicies that select only pods in the host network,
	// which the VPC CNI never isolates (fact 4): they have no effect. Not
	// a failure (a namespace's baseline is kept for any pod that joins it
	// without the host network), but reported so that nobody relies on
	// them.
	Inert []string `json:"inert"`
}

// Failures are the report's failures, each a line: a required connection
// denied, a forbidden one allowed, a problem.
func (r Report) Failures() []string {
	var out []string
	for _, c := range r.Required {
		if !c.Allowed {
			out = append(out, "required flow denied: "+c.String())
		}
	}
	for _, c := range r.Forbidden {
		if c.Allowed {
			out = append(out, "forbidden flow allowed: "+c.String())
		}
	}
	return append(out, r.Problems...)
}

// AddProblems adds problems, keeping them sorted and unique.
func (r *Report) AddProblems(p ...string) {
	r.Problems = append(r.Problems, p...)
	sort.Strings(r.Problems)
	r.Problems = slices.Compact(r.Problems)
}

// Summary is the last line: "N connections required, N allowed; M
// forbidden, M denied; K policies inert". A flow is one or more
// connections (to each pod behind a Service, from each matching pod).
func (r Report) Summary() string {
	allowed, denied := 0, 0
	for _, c := range r.Required {
		if c.Allowed {
			allowed++
		}
	}
	for _, c := range r.Forbidden {
		if !c.Allowed {
			denied++
		}
	}
	return fmt.Sprintf("%d connections required, %d allowed; %d forbidden, %d denied; %d policies inert (host network only)", len(r.Required), allowed, len(r.Forbidden), denied, len(r.Inert))
}

// String names a connection with the policies that decided it.
func (c Connection) String() string {
	s := fmt.Sprintf("%s: %s -> %s port %s", c.Flow, c.From, c.To, c.Port)
	for _, d := range []struct {
		name string
		v    *Verdict
	}{{"egress", c.Egress}, {"ingress", c.Ingress}} {
		if d.v == nil {
			continue
		}
		switch {
		case d.v.Allowed && len(d.v.Allowing) > 0:
			s += fmt.Sprintf("; %s allowed by %s", d.name, strings.Join(d.v.Allowing, ", "))
		case d.v.Allowed:
			s += fmt.Sprintf("; %s not isolated", d.name)
		default:
			s += fmt.Sprintf("; %s denied: no rule of %s allows it", d.name, strings.Join(d.v.Selecting, ", "))
		}
	}
	if c.Note != "" {
		s += "; " + c.Note
	}
	return s
}

// query is one connection for netpolcheck, with its report entry.
type query struct {
	conn       *Connection
	src, dst   peer
	port       int
	portName   string
	proto      string
	skipEgress bool // the source is outside the pod network or exempt
	skipIngr   bool
}

type peer struct {
	IP              string            `json:"ip"`
	Namespace       string            `json:"namespace,omitempty"`
	NamespaceLabels map[string]string `json:"namespaceLabels,omitempty"`
	PodLabels       map[string]string `json:"podLabels,omitempty"`
}

// Check resolves every flow, judges every connection with netpolcheck
// (the tool's path) and reports.
func Check(inv *Inventory, required, forbidden []Flow, tool string) (Report, error) {
	rep := Report{Required: []Connection{}, Forbidden: []Connection{}, Problems: []string{}, Inert: []string{}}
	type item struct {
		q        *query
		required bool
	}
	var items []item
	for _, set := range []struct {
		flows    []Flow
		required bool
	}{{required, true}, {forbidden, false}} {
		for _, f := range set.flows {
			got, problems := inv.resolve(f)
			rep.Problems = append(rep.Problems, problems...)
			for _, q := range got {
				items = append(items, item{q, set.required})
			}
		}
	}
	problems, inert := inv.unselecting()
	rep.AddProblems(problems...)
	rep.Inert = inert

	policies, err := effectivePolicies(inv)
	if err != nil {
		return rep, err
	}
	qs := make([]*query, len(items))
	for k, it := range items {
		qs[k] = it.q
	}
	answers, err := ask(tool, policies, qs)
	if err != nil {
		return rep, err
	}
	for k, it := range items {
		a, q, c := answers[k], it.q, it.q.conn
		c.Allowed = true
		if !q.skipEgress {
			c.Egress = &Verdict{Allowed: a.Egress.Allowed, Selecting: a.Egress.Selecting, Allowing: a.Egress.Allowing}
			c.Allowed = c.Allowed && a.Egress.Allowed
		}
		if !q.skipIngr {
			c.Ingress = &Verdict{Allowed: a.Ingress.Allowed, Selecting: a.Ingress.Selecting, Allowing: a.Ingress.Allowing}
			c.Allowed = c.Allowed && a.Ingress.Allowed
		}
		if it.required {
			rep.Required = append(rep.Required, *c)
		} else {
			rep.Forbidden = append(rep.Forbidden, *c)
		}
	}
	return rep, nil
}

type answer struct {
	Egress, Ingress struct {
		Allowed   bool     `json:"allowed"`
		Selecting []string `json:"selecting"`
		Allowing  []string `json:"allowing"`
	}
}

// ask sends every query to netpolcheck at once.
func ask(tool string, policies []Object, qs []*query) ([]answer, error) {
	type q struct {
		Source      peer   `json:"source"`
		Destination peer   `json:"destination"`
		Port        int    `json:"port"`
		PortName    string `json:"portName,omitempty"`
		Protocol    string `json:"protocol"`
	}
	req := struct {
		Policies []Object `json:"policies"`
		Queries  []q      `json:"queries"`
	}{Policies: policies, Queries: []q{}}
	for _, x := range qs {
		req.Queries = append(req.Queries, q{Source: x.src, Destination: x.dst, Port: x.port, PortName: x.portName, Protocol: x.proto})
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(tool)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("netpolcheck: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var answers []answer
	if err := json.Unmarshal(out, &answers); err != nil {
		return nil, fmt.Errorf("netpolcheck's answer: %w", err)
	}
	if len(answers) != len(qs) {
		return nil, errors.New("netpolcheck answered a different number of queries")
	}
	return answers, nil
}

// resolve turns a flow into its concrete connections; what cannot be
// resolved is a problem.
func (inv *Inventory) resolve(f Flow) ([]*query, []string) {
	proto := f.Protocol
	if proto == "" {
		proto = "TCP"
	}
	bad := func(format string, args ...any) []string {
		return []string{fmt.Sprintf("flow %s: ", f.Name) + fmt.Sprintf(format, args...)}
	}
	srcs, err := inv.ends(f.From)
	if err != nil {
		return nil, bad("from: %v", err)
	}
	var out []*query
	var problems []string
	for _, src := range srcs {
		switch {
		case f.To.Service != "":
			s, ok := inv.Service(f.To.Service)
			if !ok {
				return nil, bad("no Service %s", f.To.Service)
			}
			sp, ok := findServicePort(s, f.Port, proto)
			if !ok {
				return nil, bad("Service %s has no %s port %s", s.ID, proto, f.Port)
			}
			backends := inv.Backends(s)
			if s.Selector != nil && len(backends) == 0 {
				return nil, bad("Service %s selects no pod", s.ID)
			}
			if s.ClusterIP == "" { // headless: the client dials the pods
				if s.Selector == nil {
					return nil, bad("headless Service %s has no selector, so the check cannot tell where its endpoints are", s.ID)
				}
				for _, b := range backends {
					n, name := containerPort(b, sp.Target, proto)
					if n == 0 {
						problems = append(problems, bad("Service %s target port %s is no port of %s", s.ID, sp.Target, b.ID)...)
						continue
					}
					out = append(out, inv.connect(f, src, podEnd(b), n, name, proto, "via headless Service "+s.ID))
				}
				continue
			}
			// Egress to the ClusterIP; ingress at each backing pod's
			// target port, from the client.
			out = append(out, inv.connect(f, src, end{name: "Service " + s.ID, ip: s.ClusterIP}, sp.Port, sp.Name, proto, "", ingressOff))
			for _, b := range backends {
				n, name := containerPort(b, sp.Target, proto)
				if n == 0 {
					problems = append(problems, bad("Service %s target port %s is no port of %s", s.ID, sp.Target, b.ID)...)
					continue
				}
				out = append(out, inv.connect(f, src, podEnd(b), n, name, proto, "behind Service "+s.ID, egressOff))
			}
		default:
			dsts, err := inv.ends(f.To)
			if err != nil {
				return nil, bad("to: %v", err)
			}
			for _, dst := range dsts {
				n, name := 0, ""
				if dst.pod != nil {
					n, name = containerPort(*dst.pod, f.Port, proto)
					if n == 0 {
						problems = append(problems, bad("%s has no %s port %s", dst.name, proto, f.Port)...)
						continue
					}
				} else if n, err = strconv.Atoi(f.Port); err != nil {
					return nil, bad("port %q: an address takes a number", f.Port)
				}
				out = append(out, inv.connect(f, src, dst, n, name, proto, ""))
			}
		}
	}
	return out, problems
}

type option int

const (
	egressOff option = iota + 1
	ingressOff
)

// end is a resolved end: a pod (judged by policies) or an address.
type end struct {
	name string
	ip   string
	pod  *Pod
	// kubelet is the pod's own node (exempt from policies, fact 3).
	kubelet bool
}

func podEnd(p Pod) end { return end{name: p.ID, ip: p.IP, pod: &p} }

func (inv *Inventory) connect(f Flow, src, dst end, port int, portName, proto, note string, opts ...option) *query {
	q := &query{
		conn: &Connection{Flow: f.Name, From: src.name, To: dst.name, Port: fmt.Sprintf("%d/%s", port, proto), Note: note},
		src:  inv.peerOf(src),
		dst:  inv.peerOf(dst),
		port: port, portName: portName, proto: proto,
	}
	if portName != "" {
		q.conn.Port = fmt.Sprintf("%d (%s)/%s", port, portName, proto)
	}
	// Addresses outside the pod network and hostNetwork pods are not
	// isolated at their end (fact 4).
	q.skipEgress = src.pod == nil || src.pod.HostNetwork
	q.skipIngr = dst.pod == nil || dst.pod.HostNetwork
	if src.kubelet {
		q.skipIngr = true
		q.conn.Note = "the pod's own node: always allowed by the VPC CNI (fact 3)"
	}
	for _, o := range opts {
		switch o {
		case egressOff:
			q.skipEgress = true
		case ingressOff:
			q.skipIngr = true
		}
	}
	return q
}

// peerOf is how netpolcheck sees an end: a pod with its labels, or an
// address outside the pod network (hostNetwork pods are their node).
func (inv *Inventory) peerOf(e end) peer {
	if e.pod == nil || e.pod.HostNetwork {
		return peer{IP: e.ip}
	}
	return peer{IP: e.ip, Namespace: e.pod.Namespace, NamespaceLabels: inv.Namespaces[e.pod.Namespace], PodLabels: e.pod.Labels}
}

// ends resolves a source or a pod or address destination.
func (inv *Inventory) ends(e End) ([]end, error) {
	switch {
	case e.Workload != "":
		p, ok := inv.Pod(e.Workload)
		if !ok {
			return nil, fmt.Errorf("no workload %s", e.Workload)
		}
		return []end{podEnd(p)}, nil
	case e.Pods != nil:
		var out []end
		for _, p := range inv.Pods {
			if !slices.Contains(e.Pods.Namespaces, p.Namespace) || p.HostNetwork {
				continue
			}
			match := true
			for k, v := range e.Pods.Labels {
				match = match && p.Labels[k] == v
			}
			if match {
				out = append(out, podEnd(p))
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no pod in %v with labels %v", e.Pods.Namespaces, e.Pods.Labels)
		}
		return out, nil
	case e.Address != "":
		a := inv.Addresses
		switch e.Address {
		case Internet:
			return []end{{name: "the internet", ip: internetIP}}, nil
		case Node:
			return []end{{name: "a node", ip: inv.NodeIP}}, nil
		case Kubelet:
			return []end{{name: "its kubelet", ip: inv.NodeIP, kubelet: true}}, nil
		case ControlPlane:
			return []end{{name: "the EKS control plane", ip: inv.ControlPlaneIP}}, nil
		case Database, Cache:
			subnets := a.DatabaseSubnets
			if e.Address == Cache {
				subnets = a.CacheSubnets
			}
			var out []end
			for _, s := range subnets {
				ip, err := host([]string{s}, 10)
				if err != nil {
					return nil, err
				}
				out = append(out, end{name: e.Address + " " + s, ip: ip})
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("no %s subnets", e.Address)
			}
			return out, nil
		}
		return nil, fmt.Errorf("unknown address %q", e.Address)
	case e.Service != "":
		return nil, fmt.Errorf("a Service is a destination only")
	}
	return nil, errors.New("empty end")
}

// findServicePort finds a Service's port by number or name.
func findServicePort(s Service, port, proto string) (ServicePort, bool) {
	for _, sp := range s.Ports {
		if sp.Protocol == proto && (sp.Name == port || strconv.Itoa(sp.Port) == port) {
			return sp, true
		}
	}
	return ServicePort{}, false
}

// unselecting are the NetworkPolicies whose podSelector selects no pod of
// their namespace, and those with a peer that matches no pod anywhere;
// and, apart, those that select only pods in the host network (inert).
func (inv *Inventory) unselecting() (out, inert []string) {
	inert = []string{}
	for _, p := range inv.Policies {
		ns, name := str(get(p, "metadata", "namespace")), str(get(p, "metadata", "name"))
		pods, err := inv.PodsMatching(ns, nil, get(p, "spec", "podSelector"))
		if err != nil {
			out = append(out, fmt.Sprintf("NetworkPolicy %s/%s: %v", ns, name, err))
			continue
		}
		isolated := slices.DeleteFunc(slices.Clone(pods), func(p Pod) bool { return p.HostNetwork })
		switch {
		case len(pods) == 0:
			out = append(out, fmt.Sprintf("NetworkPolicy %s/%s selects no pod: its podSelector %s matches nothing in %s", ns, name, compact(get(p, "spec", "podSelector")), ns))
		case len(isolated) == 0:
			ids := make([]string, len(pods))
			for k, pod := range pods {
				ids[k] = pod.ID
			}
			inert = append(inert, fmt.Sprintf("NetworkPolicy %s/%s selects only pods in the host network (%s), which the VPC CNI never isolates", ns, name, strings.Join(ids, ", ")))
		}
		if usesNotIn(p) {
			// Kubernetes (apimachinery's labels.Requirement) lets NotIn
			// match a pod without the key; cyclonus v0.5.6 does not
			// (pkg/kube/labelselector.go:38-44), so its verdicts on such
			// a policy cannot be trusted.
			out = append(out, fmt.Sprintf("NetworkPolicy %s/%s uses a NotIn selector, which the check cannot judge (cyclonus v0.5.6 reads NotIn as requiring the key); select the pods with matchLabels or In", ns, name))
		}
		for _, dir := range []struct{ rules, peers string }{{"ingress", "from"}, {"egress", "to"}} {
			for _, rule := range list(get(p, "spec", dir.rules)) {
				for _, pe := range list(get(rule, dir.peers)) {
					if get(pe, "ipBlock") != nil || get(pe, "podSelector") == nil {
						continue
					}
					matched, err := inv.PodsMatching(ns, get(pe, "namespaceSelector"), get(pe, "podSelector"))
					if err == nil && len(matched) == 0 {
						out = append(out, fmt.Sprintf("NetworkPolicy %s/%s: an %s peer matches no pod: %s", ns, name, dir.rules, compact(pe)))
					}
				}
			}
		}
	}
	return out, inert
}

// usesNotIn reports a NotIn requirement anywhere in a policy.
func usesNotIn(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if x["operator"] == "NotIn" {
			return true
		}
		for _, e := range x {
			if usesNotIn(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if usesNotIn(e) {
				return true
			}
		}
	}
	return false
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
