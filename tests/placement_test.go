package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/internal/flows"
	"github.com/scrolluniversity/platform/internal/simcluster"
	"github.com/scrolluniversity/platform/internal/synth"
)

// missingRequests names every container, ours, the charts' and the
// operators', that states no CPU or no memory request in a namespace
// whose LimitRange gives no default for it: the scheduler and the
// autoscaler cannot see it, and it is the first evicted (k8s F9).
func missingRequests(objs []flows.Origin) []string {
	defaults := map[string]map[string]bool{}
	for _, o := range objs {
		if o.Object["kind"] != "LimitRange" {
			continue
		}
		ns, _ := path(o.Object, "metadata", "namespace").(string)
		for _, l := range asList(path(o.Object, "spec", "limits")) {
			if dr, ok := path(l, "defaultRequest").(map[string]any); ok && path(l, "type") == "Container" {
				defaults[ns] = map[string]bool{"cpu": dr["cpu"] != nil, "memory": dr["memory"] != nil}
			}
		}
	}
	var out []string
	for _, o := range objs {
		kind, _ := o.Object["kind"].(string)
		p, ok := simcluster.PodSpecPath[kind]
		if !ok {
			continue
		}
		spec := path(o.Object, p...)
		ns, _ := path(o.Object, "metadata", "namespace").(string)
		name, _ := path(o.Object, "metadata", "name").(string)
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range asList(path(spec, field)) {
				for _, r := range []string{"cpu", "memory"} {
					if path(c, "resources", "requests", r) == nil && !defaults[ns][r] {
						out = append(out, fmt.Sprintf("%s %s/%s container %v (%s): no %s request", kind, ns, name, path(c, "name"), o.From, r))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// Scenario 7 of the placement check: every container of the stack, ours,
// the charts' and the operators', has CPU and memory requests (or gets
// them from its namespace's LimitRange at admission). The check fails on
// a planted container without them.
func TestEveryContainerRequestsCPUAndMemory(t *testing.T) {
	for _, name := range stacks {
		t.Run(name, func(t *testing.T) {
			objs := synth.FlowObjects(renderedStack(t, name))
			if missing := missingRequests(objs); len(missing) > 0 {
				t.Errorf("containers without requests:\n%s", strings.Join(missing, "\n"))
			}
			planted := map[string]any{"kind": "Deployment", "metadata": map[string]any{"name": "planted", "namespace": "monitoring"},
				"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "x", "resources": map[string]any{"requests": map[string]any{"cpu": "10m"}}}}}}}}
			if got := missingRequests(append(objs, flows.Origin{Object: planted, From: "planted"})); !slices.ContainsFunc(got, func(s string) bool {
				return strings.Contains(s, "monitoring/planted container x (planted): no memory request")
			}) {
				t.Errorf("a planted container without a memory request went unreported: %v", got)
			}
		})
	}
}

// The cluster's controllers run on the system pool, beside the autoscaler
// (the placement check found them on the workload nodes the autoscaler
// removes, and the system pool running the autoscaler alone): every pod
// template of the load balancer controller, external-dns and cert-manager
// releases, as the charts render them, selects the group tainted
// CriticalAddonsOnly and tolerates the taint.
func TestClusterControllersRunOnTheSystemPool(t *testing.T) {
	for _, name := range stacks {
		t.Run(name, func(t *testing.T) {
			cfg := stackConfig(t, name)
			var pool map[string]string
			for _, ng := range cfg.Cluster.NodeGroups {
				for _, taint := range ng.Taints {
					if taint.Key == "CriticalAddonsOnly" {
						pool = ng.Labels
					}
				}
			}
			if len(pool) == 0 {
				t.Fatal("no node group is tainted CriticalAddonsOnly")
			}
			checked := 0
			for _, c := range synth.NamespacedObjects(renderedStack(t, name)) {
				if c.Release != "aws-load-balancer-controller" && c.Release != "external-dns" && c.Release != "cert-manager" {
					continue
				}
				kind, _ := c.Object["kind"].(string)
				p, ok := simcluster.PodSpecPath[kind]
				if !ok {
					continue
				}
				spec := path(c.Object, p...)
				checked++
				for k, v := range pool {
					if path(spec, "nodeSelector", k) != v {
						t.Errorf("%s %s (%s): nodeSelector %v, want %s=%s", kind, path(c.Object, "metadata", "name"), c.Release, path(spec, "nodeSelector"), k, v)
					}
				}
				if !slices.ContainsFunc(asList(path(spec, "tolerations")), func(tol any) bool {
					return path(tol, "key") == "CriticalAddonsOnly" && path(tol, "operator") == "Exists"
				}) {
					t.Errorf("%s %s (%s) does not tolerate CriticalAddonsOnly: %v", kind, path(c.Object, "metadata", "name"), c.Release, path(spec, "tolerations"))
				}
			}
			// LBC, external-dns; cert-manager's controller, webhook,
			// cainjector and startupapicheck Job.
			if checked < 6 {
				t.Errorf("checked %d pod templates of the three releases, want at least 6", checked)
			}
		})
	}
}
