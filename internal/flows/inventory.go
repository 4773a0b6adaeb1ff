package flows

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/scrolluniversity/platform/policy/rules"
)

// Object is a Kubernetes object as a map, as the manifests hold them.
type Object = map[string]any

// Addresses are the stack's network ranges the check places peers in.
type Addresses struct {
	// VPC is the VPC's CIDR.
	VPC string
	// ServiceCIDR is the cluster's Service range.
	ServiceCIDR string
	// NodeSubnets hold the nodes and, under the VPC CNI, the pods: each
	// pod takes an address of its node's subnet.
	NodeSubnets []string
	// ControlPlaneSubnets hold the EKS control plane's network interfaces
	// (the cluster's vpcConfig subnets): its calls to webhooks come from
	// there, and the kubernetes Service's endpoints are there.
	ControlPlaneSubnets []string
	// DatabaseSubnets and CacheSubnets hold RDS and ElastiCache.
	DatabaseSubnets, CacheSubnets []string
}

// Port is one container port.
type Port struct {
	Name     string
	Number   int
	Protocol string
}

// Pod is what every pod of one workload has in common.
type Pod struct {
	// ID names the workload: "Deployment monitoring/grafana".
	ID          string
	Namespace   string
	Labels      map[string]string
	Ports       []Port
	ProbePorts  []string // the ports its kubelet probes use, as written (a name or a number)
	HostNetwork bool
	// Origin says where the pod comes from: "stack", "chart <release>", or
	// the operator source a derived object names.
	Origin string
	// IP is the address the check gives it: one of its node subnets',
	// or the node's own with hostNetwork.
	IP string
}

// ServicePort is one port of a Service.
type ServicePort struct {
	Name     string
	Port     int
	Protocol string
	// Target is the targetPort: a number, or a container port's name.
	Target string
}

// Service is one Service.
type Service struct {
	// ID is "namespace/name".
	ID        string
	Namespace string
	Name      string
	// Selector picks the backing pods; nil for a Service whose endpoints
	// something else keeps (the kubernetes Service, the kubelet Service).
	Selector map[string]string
	Ports    []ServicePort
	// ClusterIP is its virtual address; empty for a headless Service.
	ClusterIP string
	Labels    map[string]string
}

// Inventory is everything the check reasons about: namespaces and their
// labels, one pod per workload, Services, NetworkPolicies, monitors and
// webhooks.
type Inventory struct {
	Addresses  Addresses
	Namespaces map[string]map[string]string
	Pods       []Pod
	Services   []Service
	Policies   []Object
	Monitors   []Object
	Webhooks   []Object
	// NodeIP is the address of "a node" (the Kubelet end is the same
	// address, read as the pod's own node: see vpccni.go, fact 3);
	// ControlPlaneIP one of the control plane's network interfaces.
	NodeIP, ControlPlaneIP string
}

// Origin of an object, for messages.
type Origin struct {
	Object Object
	// From is "stack", "chart <release>" or "made by <source>" (a runtime
	// object, internal/operated).
	From string
}

// workloadSpecs are where each kind holds its pod template's metadata and spec.
var workloadSpecs = map[string][]string{
	"Deployment": {"spec", "template"}, "StatefulSet": {"spec", "template"}, "DaemonSet": {"spec", "template"},
	"ReplicaSet": {"spec", "template"}, "Job": {"spec", "template"}, "CronJob": {"spec", "jobTemplate", "spec", "template"},
	"Pod": {},
}

// NewInventory builds the inventory of the stack's objects (its own, its
// rendered charts' and the derived runtime objects, namespaces filled in).
func NewInventory(objs []Origin, a Addresses) (*Inventory, error) {
	inv := &Inventory{Addresses: a, Namespaces: map[string]map[string]string{}}
	var err error
	if inv.NodeIP, err = host(a.NodeSubnets, 10); err != nil {
		return nil, fmt.Errorf("node subnets: %w", err)
	}
	if inv.ControlPlaneIP, err = host(a.ControlPlaneSubnets, 5); err != nil {
		return nil, fmt.Errorf("control-plane subnets: %w", err)
	}
	addNS := func(name string, l map[string]string) {
		if inv.Namespaces[name] == nil {
			inv.Namespaces[name] = map[string]string{}
		}
		for k, v := range l {
			inv.Namespaces[name][k] = v
		}
		// The API server sets it on every namespace.
		inv.Namespaces[name]["kubernetes.io/metadata.name"] = name
	}
	clusterIPs := newIPs(a.ServiceCIDR, 20)
	podIPs := newIPs(firstOr(a.NodeSubnets), 100)
	for _, o := range objs {
		obj := o.Object
		kind, ns, name := str(obj["kind"]), str(get(obj, "metadata", "namespace")), str(get(obj, "metadata", "name"))
		if ns != "" {
			addNS(ns, nil)
		}
		switch kind {
		case "Namespace":
			addNS(name, strMap(get(obj, "metadata", "labels")))
		case "NetworkPolicy":
			inv.Policies = append(inv.Policies, obj)
		case "ServiceMonitor", "PodMonitor":
			inv.Monitors = append(inv.Monitors, obj)
		case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
			inv.Webhooks = append(inv.Webhooks, obj)
		case "Service":
			s := Service{ID: ns + "/" + name, Namespace: ns, Name: name, Labels: strMap(get(obj, "metadata", "labels"))}
			if sel, ok := get(obj, "spec", "selector").(map[string]any); ok {
				s.Selector = strMap(sel)
			}
			for _, p := range list(get(obj, "spec", "ports")) {
				sp := ServicePort{Name: str(get(p, "name")), Port: num(get(p, "port")), Protocol: protocol(get(p, "protocol"))}
				sp.Target = portString(get(p, "targetPort"))
				if sp.Target == "" {
					sp.Target = strconv.Itoa(sp.Port)
				}
				s.Ports = append(s.Ports, sp)
			}
			switch ip := str(get(obj, "spec", "clusterIP")); ip {
			case "None":
			case "":
				s.ClusterIP = clusterIPs.next()
			default:
				s.ClusterIP = ip
			}
			inv.Services = append(inv.Services, s)
		}
		path, ok := workloadSpecs[kind]
		if !ok {
			continue
		}
		tmpl := any(obj)
		if len(path) > 0 {
			tmpl = get(obj, path...)
		}
		p := Pod{ID: kind + " " + ns + "/" + name, Namespace: ns, Labels: strMap(get(tmpl, "metadata", "labels")), Origin: o.From}
		controllerLabels(kind, name, p.Labels)
		spec := get(tmpl, "spec")
		p.HostNetwork = get(spec, "hostNetwork") == true
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range list(get(spec, field)) {
				// Ports are the main containers' only: the controller
				// resolves ports on spec.containers (LookupContainerPortAndName,
				// firstNamedPort), so a port an init container declares
				// does not resolve there.
				for _, cp := range list(get(c, "ports")) {
					if field == "containers" {
						p.Ports = append(p.Ports, Port{Name: str(get(cp, "name")), Number: num(get(cp, "containerPort")), Protocol: protocol(get(cp, "protocol"))})
					}
				}
				for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
					for _, handler := range []string{"httpGet", "tcpSocket", "grpc"} {
						if port := portString(get(c, probe, handler, "port")); port != "" {
							p.ProbePorts = append(p.ProbePorts, port)
						}
					}
				}
			}
		}
		if p.HostNetwork {
			p.IP = inv.NodeIP
		} else {
			p.IP = podIPs.next()
		}
		inv.Pods = append(inv.Pods, p)
	}
	sort.SliceStable(inv.Pods, func(i, j int) bool { return inv.Pods[i].ID < inv.Pods[j].ID })
	return inv, nil
}

// Pod returns a workload's pod by its ID.
func (inv *Inventory) Pod(id string) (Pod, bool) {
	for _, p := range inv.Pods {
		if p.ID == id {
			return p, true
		}
	}
	return Pod{}, false
}

// Service returns a Service by "namespace/name".
func (inv *Inventory) Service(id string) (Service, bool) {
	for _, s := range inv.Services {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// Backends are the pods a Service selects.
func (inv *Inventory) Backends(s Service) []Pod {
	if s.Selector == nil {
		return nil
	}
	var out []Pod
	for _, p := range inv.Pods {
		if p.Namespace == s.Namespace && labels.SelectorFromSet(s.Selector).Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// PodsMatching are the pods in the namespaces a selector's namespace part
// picks (nil: the policy's own) whose labels its pod part matches (nil:
// every pod).
func (inv *Inventory) PodsMatching(ownNS string, nsSel, podSel any) ([]Pod, error) {
	namespaces, err := inv.NamespacesMatching(ownNS, nsSel)
	if err != nil {
		return nil, err
	}
	sel, err := Selector(podSel)
	if err != nil {
		return nil, err
	}
	var out []Pod
	for _, p := range inv.Pods {
		if namespaces[p.Namespace] && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// NamespacesMatching are the namespaces a namespaceSelector picks; a nil
// one picks ownNS only.
func (inv *Inventory) NamespacesMatching(ownNS string, nsSel any) (map[string]bool, error) {
	if nsSel == nil {
		return map[string]bool{ownNS: true}, nil
	}
	sel, err := Selector(nsSel)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for name, l := range inv.Namespaces {
		if sel.Matches(labels.Set(l)) {
			out[name] = true
		}
	}
	return out, nil
}

// Selector parses a label selector as the API server does (matchLabels and
// matchExpressions; nil matches everything), with apimachinery's code.
func Selector(v any) (labels.Selector, error) {
	if v == nil {
		return labels.Everything(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var ls metav1.LabelSelector
	if err := json.Unmarshal(b, &ls); err != nil {
		return nil, fmt.Errorf("label selector %s: %w", b, err)
	}
	return metav1.LabelSelectorAsSelector(&ls)
}

// controllerLabels adds the labels a workload's controller gives its pods
// whatever the template says, which policies may select: the Job's name
// (set on a Job's template by the API server, k8s v1.36.3
// pkg/registry/batch/job/strategy.go:232-255), a StatefulSet pod's name and
// index (pkg/controller/statefulset/stateful_set_utils.go:443-456, here for
// its first pod). A CronJob's Job names change every run, so none is given.
func controllerLabels(kind, name string, l map[string]string) {
	switch kind {
	case "Job":
		l["batch.kubernetes.io/job-name"], l["job-name"] = name, name
	case "StatefulSet":
		l["statefulset.kubernetes.io/pod-name"], l["apps.kubernetes.io/pod-index"] = name+"-0", "0"
	}
}

// ips hands out addresses of a range, from an offset on.
type ips struct {
	base netip.Addr
	n    int
}

func newIPs(cidr string, offset int) *ips {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return &ips{}
	}
	return &ips{base: p.Masked().Addr(), n: offset}
}

func (g *ips) next() string {
	if !g.base.IsValid() {
		return ""
	}
	a := g.base
	for range g.n {
		a = a.Next()
	}
	g.n++
	return a.String()
}

// host is the n-th address of the first subnet.
func host(subnets []string, n int) (string, error) {
	if len(subnets) == 0 {
		return "", fmt.Errorf("none given")
	}
	if _, err := netip.ParsePrefix(subnets[0]); err != nil {
		return "", err
	}
	return newIPs(subnets[0], n).next(), nil
}

func firstOr(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func protocol(v any) string {
	if s := str(v); s != "" {
		return s
	}
	return "TCP"
}

// portString is a port as written: a number or a name.
func portString(v any) string {
	switch p := v.(type) {
	case string:
		return p
	case int, int64, float64:
		return strconv.Itoa(num(p))
	}
	return ""
}

func num(v any) int {
	if s, ok := v.(string); ok { // a port written as text
		i, _ := strconv.Atoi(s)
		return i
	}
	n, _ := rules.Int(v)
	return n
}

// The plain-value readers the policy rules use.
var (
	get    = rules.Get
	list   = rules.List
	str    = rules.Str
	strMap = rules.StrMap
)
