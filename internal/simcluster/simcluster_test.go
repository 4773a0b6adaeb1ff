package simcluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scrolluniversity/platform/internal/apicheck"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

const repoRoot = "../.."

// start runs a cluster from the tool cache (go run ./cmd/buildtools);
// skipped without it unless SIMCLUSTER_REQUIRED=1 (CI).
func start(t *testing.T) *Cluster {
	t.Helper()
	kube := apicheck.Servers(repoRoot+"/tools/kube").ForTest(t, "kube-apiserver, etcd, kube-scheduler and kube-controller-manager are", "SIMCLUSTER_REQUIRED")
	kwok := toolcache.KWOK(repoRoot).ForTest(t, "kwok is", "SIMCLUSTER_REQUIRED")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Binaries{
		Kube: apicheck.Binaries{APIServer: kube["kube-apiserver"], Etcd: kube["etcd"], Scheduler: kube["kube-scheduler"], ControllerManager: kube["kube-controller-manager"]},
		KWOK: kwok["kwok"], KWOKStages: kwok["kwokstages"],
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

func apply(t *testing.T, c *Cluster, body map[string]any) {
	t.Helper()
	msg, _, err := c.Client().Apply(context.Background(), apicheck.Object{Source: "test", Body: body})
	if err != nil || msg != "" {
		t.Fatalf("applying %v: %v %s", body["kind"], err, msg)
	}
}

// startThreeZones starts a cluster with threeZones' nodes, all Ready, and
// the namespace app.
func startThreeZones(t *testing.T) (*Cluster, []Node) {
	t.Helper()
	c := start(t)
	ctx := context.Background()
	nodes := threeZones()
	for _, n := range nodes {
		if err := c.AddNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitNodesReady(ctx, len(nodes), time.Minute); err != nil {
		t.Fatal(err)
	}
	apply(t, c, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "app"}})
	return c, nodes
}

// threeZones are two 4-vCPU workload nodes in each of three zones.
func threeZones() []Node {
	var nodes []Node
	for i, zone := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		for j := 0; j < 2; j++ {
			nodes = append(nodes, Node{
				Name:   fmt.Sprintf("workload-%d-%d", i, j),
				Labels: map[string]string{"topology.kubernetes.io/zone": zone, "scrolluniversity.io/pool": "workload"},
				CPU:    "3920m", Memory: "14Gi", Pods: 58,
			})
		}
	}
	return nodes
}

// spreadDeployment is three replicas, one per node, spread over the zones
// with a hard constraint; taintsPolicy is its nodeTaintsPolicy ("" for
// the API's default, Ignore).
func spreadDeployment(name, taintsPolicy string) map[string]any {
	selector := map[string]any{"matchLabels": map[string]any{"app": name}}
	spread := map[string]any{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector}
	if taintsPolicy != "" {
		spread["nodeTaintsPolicy"] = taintsPolicy
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": name, "namespace": "app"},
		"spec": map[string]any{
			"replicas": 3, "selector": selector,
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec": map[string]any{
					"nodeSelector": map[string]any{"scrolluniversity.io/pool": "workload"},
					"affinity": map[string]any{"podAntiAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": []any{
						map[string]any{"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"},
					}}},
					"topologySpreadConstraints": []any{spread},
					"containers":                []any{map[string]any{"name": name, "image": "nginx:1.29", "resources": map[string]any{"requests": map[string]any{"cpu": "1", "memory": "1Gi"}}}},
				},
			},
		},
	}
}

// After a zone is lost, a hard zone spread that honours node taints
// places its replacements in the zones left; the same spread with the
// API's default (Ignore) counts the lost zone's tainted nodes, holds its
// skew at 0 pods there, and leaves the replacement Pending, named, with
// the scheduler's reason (the k8s review's F7, the planted regression).
func TestZoneLossNeedsNodeTaintsPolicyHonor(t *testing.T) {
	c, nodes := startThreeZones(t)
	ctx := context.Background()
	apply(t, c, spreadDeployment("honor", "Honor"))
	apply(t, c, spreadDeployment("ignore", ""))
	pods, err := c.WaitSettled(ctx, 20*time.Second, 90*time.Second)
	if err != nil || len(Unscheduled(pods)) > 0 || len(pods) != 6 {
		t.Fatalf("before the loss: %v, %+v", err, pods)
	}
	perZone := map[string]int{}
	for _, p := range pods {
		perZone[p.Node[:len("workload-0")]]++
	}
	if perZone["workload-0"] != 2 || perZone["workload-1"] != 2 || perZone["workload-2"] != 2 {
		t.Fatalf("before the loss, pods per zone %v, want 2 each (one of each Deployment)", perZone)
	}
	if err := c.LoseZone(ctx, nodes, "us-east-1a"); err != nil {
		t.Fatal(err)
	}
	// The ReplicaSets replace the evicted pods within seconds; the
	// scheduler then settles.
	time.Sleep(2 * time.Second)
	pods, err = c.WaitSettled(ctx, 20*time.Second, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if strings.HasPrefix(p.Node, "workload-0-") {
			t.Errorf("%s/%s is still on a lost node %s", p.Namespace, p.Name, p.Node)
		}
	}
	un := Unscheduled(pods)
	if len(un) != 1 || !strings.HasPrefix(un[0].Name, "ignore-") || !strings.Contains(un[0].Reason, "topology spread constraints") {
		t.Errorf("unscheduled after the loss = %+v, want exactly one ignore- pod, refused for its topology spread", un)
	}
	for _, p := range un {
		t.Logf("unscheduled %s/%s: %s", p.Namespace, p.Name, p.Reason)
	}
}

// The real scheduler, the Deployment and ReplicaSet controllers and KWOK
// together: three replicas with one-per-node anti-affinity and a hard zone
// spread land on three nodes in three zones and run; a pod asking for more
// CPU than any node has stays Pending with the scheduler's own reason.
func TestPodsArePlacedByTheRealScheduler(t *testing.T) {
	c, _ := startThreeZones(t)
	ctx := context.Background()
	apply(t, c, spreadDeployment("web", "Honor"))
	apply(t, c, map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "too-big", "namespace": "app"},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "x", "image": "busybox", "resources": map[string]any{"requests": map[string]any{"cpu": "8"}}}}},
	})
	pods, err := c.WaitSettled(ctx, 20*time.Second, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	used := map[string]bool{}
	running := 0
	for _, p := range pods {
		if strings.HasPrefix(p.Name, "web-") && p.Phase == "Running" {
			running++
			used[p.Node] = true
			zones[p.Node[len("workload-"):len("workload-")+1]] = true
		}
	}
	if running != 3 || len(used) != 3 || len(zones) != 3 {
		t.Errorf("web: %d running on %d nodes in %d zones, want 3, 3 and 3: %+v", running, len(used), len(zones), pods)
	}
	un := Unscheduled(pods)
	if len(un) != 1 || un[0].Name != "too-big" || !strings.Contains(un[0].Reason, "Insufficient cpu") {
		t.Errorf("unscheduled = %+v, want too-big with the scheduler's reason (Insufficient cpu)", un)
	}
	t.Logf("%d pods, %d scheduled; too-big: %s", len(pods), len(pods)-len(un), un[0].Reason)
}
