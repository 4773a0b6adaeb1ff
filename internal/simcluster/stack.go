package simcluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/scrolluniversity/platform/internal/apicheck"
	"github.com/scrolluniversity/platform/policy/rules"
)

// Stack is a synthesized stack as the placement check reads it from the
// synthesizer's output (build/synth/<stack>/): every Kubernetes object it
// applies, its rendered charts' and the operators' (runtime.yaml), and its
// node groups from resources.json.
type Stack struct {
	Name string
	// CRDs are installed first: the charts' and the Gateway API's.
	CRDs []apicheck.Object
	// Objects are applied; Skipped are not (their kinds need a server that
	// does not run here), and are listed.
	Objects, Skipped []apicheck.Object
	Groups           []Group
}

// skippedKinds need a server of their own that the simulated cluster does
// not run: every admission webhook would refuse the objects it guards,
// and an APIService would answer discovery for an API nothing serves.
var skippedKinds = map[string]string{
	"ValidatingWebhookConfiguration": "its webhook server does not run here",
	"MutatingWebhookConfiguration":   "its webhook server does not run here",
	"APIService":                     "no aggregated API server runs here",
}

// Group is one node group as the stack registers it: for a zonal group
// one per zone, sized per zone.
type Group struct {
	// Name is the EKS node group name prefix.
	Name, InstanceType, CapacityType string
	Zones                            []string
	Min, Desired, Max                int
	Labels                           map[string]string
	Taints                           []map[string]any
}

// LoadStack reads build/synth/<stack>/ (dir is build/synth), and the CRDs
// the API server check installs.
func LoadStack(dir, stack string) (*Stack, error) {
	root := filepath.Join(dir, stack)
	st := &Stack{Name: stack}
	crdFiles, err := apicheck.CRDFiles(apicheck.CRDSources)
	if err != nil {
		return nil, err
	}
	if st.CRDs, err = apicheck.ReadObjects(crdFiles...); err != nil {
		return nil, err
	}
	files, err := apicheck.ManifestFiles(filepath.Join(root, "manifests"))
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w (run the synthesizer first)", stack, err)
	}
	objs, err := apicheck.ReadObjects(files...)
	if err != nil {
		return nil, err
	}
	chartCRDs, chartObjs, err := apicheck.ChartObjects(filepath.Join(root, "charts"))
	if err != nil {
		return nil, err
	}
	st.CRDs = append(st.CRDs, chartCRDs...)
	objs = append(objs, chartObjs...)
	runtime, err := apicheck.ReadObjects(filepath.Join(root, "runtime.yaml"))
	if err != nil {
		return nil, err
	}
	for _, o := range runtime {
		// What EKS and the operators make: their workloads are placed;
		// their Services are not needed for placement, and EKS's own
		// (kubernetes, kube-dns) hold addresses of the stack's Service
		// range, not the simulated cluster's.
		if _, ok := PodSpecPath[o.Kind()]; ok {
			objs = append(objs, Operated(o))
		}
	}
	for _, o := range objs {
		if _, skip := skippedKinds[o.Kind()]; skip {
			st.Skipped = append(st.Skipped, o)
		} else {
			st.Objects = append(st.Objects, o)
		}
	}
	if st.Groups, err = readGroups(filepath.Join(root, "resources.json")); err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	return st, nil
}

// SkipReason says why a skipped object is not applied.
func SkipReason(o apicheck.Object) string { return skippedKinds[o.Kind()] }

// PodSpecPath is where each workload kind keeps its pods' spec.
var PodSpecPath = map[string][]string{
	"Deployment": {"spec", "template", "spec"}, "StatefulSet": {"spec", "template", "spec"},
	"DaemonSet": {"spec", "template", "spec"}, "ReplicaSet": {"spec", "template", "spec"},
	"Job": {"spec", "template", "spec"}, "CronJob": {"spec", "jobTemplate", "spec", "template", "spec"},
	"Pod": {"spec"},
}

// SimulatedImage is the image of the containers the operators add: no
// image is pulled here, and the API requires one.
const SimulatedImage = "simulated.invalid/made-by-operator"

// Operated completes a workload internal/operated derives so that the API
// server takes it: every container gets SimulatedImage where it names
// none. Its placement (requests, selectors, spread, claims) is as derived.
func Operated(o apicheck.Object) apicheck.Object {
	spec, _ := dig(o.Body, PodSpecPath[o.Kind()]...).(map[string]any)
	for _, field := range []string{"initContainers", "containers"} {
		cs, _ := spec[field].([]any)
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok && m["image"] == nil {
				m["image"] = SimulatedImage
			}
		}
	}
	return o
}

// dig digs into plain values, as the policy rules read them.
var dig = rules.Get

// resource is one entry of resources.json.
type resource struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	ID     string         `json:"id"`
	Inputs map[string]any `json:"inputs"`
}

const (
	typeNodeGroup = "aws:eks/nodeGroup:NodeGroup"
	typeSubnet    = "aws:ec2/subnet:Subnet"
)

// eksTaintEffects are EKS's taint effects as Kubernetes spells them.
var eksTaintEffects = map[string]string{"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}

func readGroups(path string) ([]Group, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []resource
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	zoneOf := map[string]string{}
	for _, r := range rs {
		if r.Type == typeSubnet {
			zoneOf[r.ID], _ = r.Inputs["availabilityZone"].(string)
		}
	}
	var groups []Group
	for _, r := range rs {
		if r.Type != typeNodeGroup {
			continue
		}
		g := Group{Labels: map[string]string{}}
		g.Name, _ = r.Inputs["nodeGroupNamePrefix"].(string)
		g.Name = strings.TrimSuffix(g.Name, "-")
		g.CapacityType, _ = r.Inputs["capacityType"].(string)
		types, _ := r.Inputs["instanceTypes"].([]any)
		if len(types) == 0 {
			return nil, fmt.Errorf("node group %s has no instance types", r.Name)
		}
		// The smallest of a SPOT group's types: the scheduler must fit on
		// whichever EC2 gives.
		var smallest string
		var least int
		for _, t := range types {
			_, mem, _, err := Allocatable(fmt.Sprint(t))
			if err != nil {
				return nil, fmt.Errorf("node group %s: %w", r.Name, err)
			}
			if n := mebibytes(mem); smallest == "" || n < least {
				smallest, least = fmt.Sprint(t), n
			}
		}
		g.InstanceType = smallest
		scaling, _ := r.Inputs["scalingConfig"].(map[string]any)
		g.Min, g.Desired, g.Max = intOf(scaling["minSize"]), intOf(scaling["desiredSize"]), intOf(scaling["maxSize"])
		labels, _ := r.Inputs["labels"].(map[string]any)
		for k, v := range labels {
			g.Labels[k] = fmt.Sprint(v)
		}
		taints, _ := r.Inputs["taints"].([]any)
		for _, t := range taints {
			m, _ := t.(map[string]any)
			effect, ok := eksTaintEffects[fmt.Sprint(m["effect"])]
			if !ok {
				return nil, fmt.Errorf("node group %s: taint effect %v is not EKS's", r.Name, m["effect"])
			}
			taint := map[string]any{"key": m["key"], "effect": effect}
			if v, ok := m["value"].(string); ok && v != "" {
				taint["value"] = v
			}
			g.Taints = append(g.Taints, taint)
		}
		subnets, _ := r.Inputs["subnetIds"].([]any)
		for _, s := range subnets {
			z := zoneOf[fmt.Sprint(s)]
			if z == "" {
				return nil, fmt.Errorf("node group %s: subnet %v has no zone in resources.json", r.Name, s)
			}
			if !slices.Contains(g.Zones, z) {
				g.Zones = append(g.Zones, z)
			}
		}
		sort.Strings(g.Zones)
		if len(g.Zones) == 0 {
			return nil, fmt.Errorf("node group %s has no subnets", r.Name)
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("%s holds no node group", path)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return groups, nil
}

// intOf is a plain number as an int (0 if none), as the rules read it.
func intOf(v any) int {
	n, _ := rules.Int(v)
	return n
}

// mebibytes reads "123Mi".
func mebibytes(q string) int {
	var n int
	fmt.Sscanf(strings.TrimSuffix(q, "Mi"), "%d", &n)
	return n
}

// Pool is the nodes of a group's pool label.
func (g Group) Pool(poolLabel string) string { return g.Labels[poolLabel] }

// Nodes are the group's nodes at size (per group; an EKS group over
// several zones is an Auto Scaling group that balances its instances over
// them), numbered from first in each zone.
func (g Group) Nodes(size int) []Node {
	cpu, mem, pods, err := Allocatable(g.InstanceType)
	if err != nil {
		panic(err) // readGroups checked every type
	}
	var out []Node
	for i := 0; i < size; i++ {
		zone := g.Zones[i%len(g.Zones)]
		out = append(out, g.node(zone, i/len(g.Zones), cpu, mem, pods))
	}
	return out
}

func (g Group) node(zone string, i int, cpu, mem string, pods int) Node {
	labels := map[string]string{
		"topology.kubernetes.io/zone":      zone,
		"topology.kubernetes.io/region":    zone[:len(zone)-1],
		"node.kubernetes.io/instance-type": g.InstanceType,
		"eks.amazonaws.com/capacityType":   g.CapacityType,
		"eks.amazonaws.com/nodegroup":      g.Name,
	}
	for k, v := range g.Labels {
		labels[k] = v
	}
	return Node{
		Name:   fmt.Sprintf("%s-%s-%d", g.Name, zone, i),
		Labels: labels, Taints: g.Taints, CPU: cpu, Memory: mem, Pods: pods,
	}
}

// NodeIn is the group's i-th node (from 0) in zone.
func (g Group) NodeIn(zone string, i int) Node {
	cpu, mem, pods, _ := Allocatable(g.InstanceType)
	return g.node(zone, i, cpu, mem, pods)
}
