package synth

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/scrolluniversity/platform/internal/flows"
	"github.com/scrolluniversity/platform/internal/operated"
	"github.com/scrolluniversity/platform/internal/toolcache"
	"github.com/scrolluniversity/platform/policy/rules"
)

// DeriveRuntime records in res.Runtime the objects EKS and the operators
// will create from what the stack applies (internal/operated). It needs the
// rendered charts (the Prometheus and Alertmanager resources come from one).
func DeriveRuntime(res *Result) error {
	addrs, err := FlowAddresses(res)
	if err != nil {
		return err
	}
	var objs []map[string]any
	for _, m := range Manifests(res) {
		objs = append(objs, m.Object)
	}
	for _, c := range NamespacedObjects(res) {
		objs = append(objs, c.Object)
	}
	res.Runtime, err = operated.Objects(objs, operated.Facts{ServiceCIDR: addrs.ServiceCIDR})
	return err
}

// FlowObjects are every object the flow check reads, each with where it
// comes from: the stack's own, each rendered chart's, and the runtime
// objects.
func FlowObjects(res *Result) []flows.Origin {
	var out []flows.Origin
	for _, m := range Manifests(res) {
		out = append(out, flows.Origin{Object: m.Object, From: "stack"})
	}
	for _, c := range NamespacedObjects(res) {
		out = append(out, flows.Origin{Object: c.Object, From: "chart " + c.Release})
	}
	for _, o := range res.Runtime {
		meta, _ := o["metadata"].(map[string]any)
		ann, _ := meta["annotations"].(map[string]any)
		out = append(out, flows.Origin{Object: o, From: "made by " + str(ann[operated.SourceAnnotation])})
	}
	return out
}

// FlowAddresses reads the stack's network ranges from what the program
// registered: the VPC, the cluster's Service range and control-plane
// subnets, the node groups', database's and cache's subnets.
func FlowAddresses(res *Result) (flows.Addresses, error) {
	var a flows.Addresses
	cidrByID := map[string]string{}
	for _, r := range res.ByType("aws:ec2/subnet:Subnet") {
		cidrByID[r.ID] = str(r.Plain()["cidrBlock"])
	}
	cidrs := func(ids any) []string {
		set := map[string]bool{}
		for _, id := range asList(ids) {
			if c := cidrByID[str(id)]; c != "" {
				set[c] = true
			}
		}
		var out []string
		for c := range set {
			out = append(out, c)
		}
		sort.Strings(out)
		return out
	}
	for _, r := range res.ByType("aws:ec2/vpc:Vpc") {
		a.VPC = str(r.Plain()["cidrBlock"])
	}
	for _, r := range res.ByType("aws:eks/cluster:Cluster") {
		in := r.Plain()
		a.ServiceCIDR = str(rules.Get(in, "kubernetesNetworkConfig", "serviceIpv4Cidr"))
		a.ControlPlaneSubnets = cidrs(rules.Get(in, "vpcConfig", "subnetIds"))
	}
	var nodeIDs []any
	for _, r := range res.ByType("aws:eks/nodeGroup:NodeGroup") {
		nodeIDs = append(nodeIDs, asList(r.Plain()["subnetIds"])...)
	}
	a.NodeSubnets = cidrs(nodeIDs)
	for _, r := range res.ByType("aws:rds/subnetGroup:SubnetGroup") {
		a.DatabaseSubnets = cidrs(r.Plain()["subnetIds"])
	}
	for _, r := range res.ByType("aws:elasticache/subnetGroup:SubnetGroup") {
		a.CacheSubnets = cidrs(r.Plain()["subnetIds"])
	}
	var missing []string
	for name, v := range map[string]bool{"the VPC": a.VPC != "", "the Service range": a.ServiceCIDR != "", "node subnets": len(a.NodeSubnets) > 0, "control-plane subnets": len(a.ControlPlaneSubnets) > 0} {
		if !v {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return a, fmt.Errorf("the stack registers no %v", missing)
	}
	return a, nil
}

// NetpolTool is netpolcheck, built from dir's tools/netpol if it is not
// cached yet (log gets the build's progress).
func NetpolTool(dir string, log io.Writer) (string, error) {
	tools, err := toolcache.Netpol(dir).Ensure(log)
	if err != nil {
		return "", fmt.Errorf("building netpolcheck: %w", err)
	}
	return tools["netpolcheck"], nil
}

// CheckFlows runs the flow check over the stack's objects (FlowObjects)
// with netpolcheck at tool: the platform's declared flows (flows.Platform)
// and those derived from its monitors, webhooks, probes and pods.
func CheckFlows(res *Result, tool string) (flows.Report, error) {
	return CheckFlowObjects(res, FlowObjects(res), tool)
}

// CheckFlowObjects is CheckFlows over a given set of the stack's objects
// (a test plants a change in them).
func CheckFlowObjects(res *Result, objs []flows.Origin, tool string) (flows.Report, error) {
	if res.Config == nil {
		return flows.Report{}, errors.New("no config: run the program with Run")
	}
	addrs, err := FlowAddresses(res)
	if err != nil {
		return flows.Report{}, err
	}
	inv, err := flows.NewInventory(objs, addrs)
	if err != nil {
		return flows.Report{}, err
	}
	required, forbidden := flows.Platform(res.Config.App.Namespace)
	derived, problems := flows.Derived(inv)
	rep, err := flows.Check(inv, append(required, derived...), forbidden, tool)
	rep.AddProblems(problems...)
	return rep, err
}

// WriteFlows writes flows.json: every connection with its verdict, and
// the problems.
func WriteFlows(rep flows.Report, dir string) error {
	return writeJSON(filepath.Join(dir, "flows.json"), rep)
}
