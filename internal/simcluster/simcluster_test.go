package simcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, testBinaries(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// testBinaries are the cached control plane and KWOK; the test is skipped
// without them unless SIMCLUSTER_REQUIRED=1 (CI).
func testBinaries(t *testing.T) Binaries {
	t.Helper()
	kube := apicheck.Servers(repoRoot+"/tools/kube").ForTest(t, "kube-apiserver, etcd, kube-scheduler and kube-controller-manager are", "SIMCLUSTER_REQUIRED")
	kwok := toolcache.KWOK(repoRoot).ForTest(t, "kwok is", "SIMCLUSTER_REQUIRED")
	return BinariesOf(kube, kwok)
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

// planted is a small stack with two planted regressions: the api's HPA
// maximum (4) exceeds the nodes (3) its required one-per-node
// anti-affinity allows, and the namespace's quota (2 CPUs) is filled by
// the api at its maximum, so the migration Job's pod is refused.
func planted() *Stack {
	obj := func(body map[string]any) apicheck.Object { return apicheck.Object{Source: "planted", Body: body} }
	selector := map[string]any{"matchLabels": map[string]any{"app": "api"}}
	return &Stack{
		Name: "planted",
		Groups: []Group{{
			Name: "workload", InstanceType: "m6i.large", CapacityType: "ON_DEMAND",
			Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}, Min: 3, Desired: 3, Max: 3,
			Labels: map[string]string{"scrolluniversity.io/pool": "workload"},
		}},
		Objects: []apicheck.Object{
			obj(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "app"}}),
			obj(map[string]any{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": map[string]any{"name": "app", "namespace": "app"},
				"spec": map[string]any{"hard": map[string]any{"requests.cpu": "2"}}}),
			obj(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "api", "namespace": "app"},
				"spec": map[string]any{"replicas": 2, "selector": selector, "template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": "api"}},
					"spec": map[string]any{
						"affinity": map[string]any{"podAntiAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": []any{
							map[string]any{"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"},
						}}},
						"containers": []any{map[string]any{"name": "api", "image": "api:1", "resources": map[string]any{"requests": map[string]any{"cpu": "500m", "memory": "256Mi"}}}},
					},
				}}}),
			obj(map[string]any{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": map[string]any{"name": "api", "namespace": "app"},
				"spec": map[string]any{"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}, "minReplicas": 2, "maxReplicas": 4,
					"metrics": []any{map[string]any{"type": "Resource", "resource": map[string]any{"name": "cpu", "target": map[string]any{"type": "Utilization", "averageUtilization": 70}}}}}}),
			obj(map[string]any{"apiVersion": "batch/v1", "kind": "Job", "metadata": map[string]any{"name": "migrate", "namespace": "app"},
				"spec": map[string]any{"backoffLimit": 0, "template": map[string]any{"spec": map[string]any{"restartPolicy": "Never",
					"containers": []any{map[string]any{"name": "migrate", "image": "api:1", "resources": map[string]any{"requests": map[string]any{"cpu": "1", "memory": "256Mi"}}}}}}}}),
		},
	}
}

// The scenarios name the planted regressions: scenario 2 the api pod the
// anti-affinity leaves Pending at the HPA's maximum, with the scheduler's
// reason; scenario 6 the migration Job the quota refuses, with the
// quota's message.
func TestScenariosNamePlantedRegressions(t *testing.T) {
	ctx := context.Background()
	sim, err := NewSimulation(ctx, testBinaries(t), planted())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	s2, _, err := sim.AtMaximum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s2.Write(testWriter{t}, "")
	if s2.Pods != 5 || s2.Scheduled != 4 {
		t.Errorf("scenario 2: %d pods, %d scheduled; want 5 (4 api, the migration) and 4", s2.Pods, s2.Scheduled)
	}
	if !slices.ContainsFunc(s2.Problems, func(p string) bool {
		return strings.HasPrefix(p, "pod app/api-") && strings.Contains(p, "didn't match pod anti-affinity rules")
	}) {
		t.Errorf("scenario 2 does not name the api pod its anti-affinity leaves Pending: %q", s2.Problems)
	}
	s6, err := sim.JobsAtMaximum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s6.Write(testWriter{t}, "")
	if !slices.ContainsFunc(s6.Problems, func(p string) bool {
		return strings.HasPrefix(p, "Job app/migrate-at-max: no pod created") && strings.Contains(p, "exceeded quota: app")
	}) {
		t.Errorf("scenario 6 does not name the migration Job the quota refuses: %q", s6.Problems)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// The node table gives what nodeadm gives an EKS node: max pods from the
// ENIs, CPU less kube-reserved, memory less kube-reserved and eviction.
func TestAllocatableIsWhatNodeadmLeaves(t *testing.T) {
	for _, tc := range []struct {
		typ, cpu, memory string
		pods             int
	}{
		// 4 ENIs × 14 + 2 = 58 pods; 60+10+5+5 = 80m reserved;
		// 16384 × 0.925 = 15155 MiB, less 11 × 58 + 255 = 893 and 100.
		{"m6i.xlarge", "3920m", "14162Mi", 58},
		// 3 × 9 + 2 = 29; 70m; 7577 − 574 − 100.
		{"m6i.large", "1930m", "6903Mi", 29},
		// t3.large: 3 ENIs of 12 addresses, 35 pods.
		{"t3.large", "1930m", "6837Mi", 35},
	} {
		cpu, mem, pods, err := Allocatable(tc.typ)
		if err != nil || cpu != tc.cpu || mem != tc.memory || pods != tc.pods {
			t.Errorf("%s: %s %s %d pods (%v), want %s %s %d", tc.typ, cpu, mem, pods, err, tc.cpu, tc.memory, tc.pods)
		}
	}
	if _, _, _, err := Allocatable("m7x.huge"); err == nil || !strings.Contains(err.Error(), `"m7x.huge"`) {
		t.Errorf("an unknown type must be refused by name, got %v", err)
	}
}

// The node table and the price table know the same EC2 instance types, so
// that a type the cost model prices can be placed and the other way round.
func TestNodeTableCoversThePricedInstanceTypes(t *testing.T) {
	b, err := os.ReadFile(repoRoot + "/internal/cost/prices.json")
	if err != nil {
		t.Fatal(err)
	}
	var prices struct {
		Hourly map[string]float64 `json:"hourly"`
	}
	if err := json.Unmarshal(b, &prices); err != nil {
		t.Fatal(err)
	}
	var priced []string
	for k := range prices.Hourly {
		if typ, ok := strings.CutPrefix(k, "ec2:"); ok && typ != "natGateway" && typ != "publicIPv4" {
			priced = append(priced, typ)
		}
	}
	slices.Sort(priced)
	if got := InstanceTypes(); !slices.Equal(got, priced) {
		t.Errorf("node table %v, price table %v: keep internal/simcluster/instances.go and internal/cost/prices.json in step", got, priced)
	}
}
