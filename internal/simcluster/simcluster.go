// Package simcluster runs the real Kubernetes control plane over simulated
// nodes, so that where pods go is a tested behaviour rather than an
// argument: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler at the stacks' version (tools/kube), and KWOK
// (tools/kwok), which keeps the nodes it manages Ready and marks the pods
// the scheduler binds to them Running. There is no kubelet, no network
// and no image: it proves placement (requests, selectors, taints,
// affinity, spread, quotas, disruption budgets), not that a container
// starts.
package simcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/internal/apicheck"
)

// Binaries are the control plane's and KWOK's (kwok, and kwokstages,
// which prints the stages kwok runs).
type Binaries struct {
	Kube             apicheck.Binaries
	KWOK, KWOKStages string
}

// BinariesOf are the binaries among the paths of the tool cache's sets
// apicheck.Servers (kube) and toolcache.KWOK (kwok), by name.
func BinariesOf(kube, kwok map[string]string) Binaries {
	return Binaries{Kube: apicheck.BinariesOf(kube), KWOK: kwok["kwok"], KWOKStages: kwok["kwokstages"]}
}

// KWOKAnnotation marks the nodes KWOK manages (and only those).
const KWOKAnnotation = "kwok.x-k8s.io/node"

// Cluster is a running simulated cluster.
type Cluster struct {
	*apicheck.Server
	client *apicheck.Client
}

// Start starts the control plane and KWOK; extra are more API server
// flags. Call Stop when done.
func Start(ctx context.Context, bins Binaries, extra ...string) (c *Cluster, err error) {
	s, err := apicheck.Start(ctx, bins.Kube, extra...)
	if err != nil {
		return nil, err
	}
	c = &Cluster{Server: s, client: s.Client()}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w%s", err, s.LogTail())
			s.Stop()
			c = nil
		}
	}()
	kubeconfig, err := s.Kubeconfig()
	if err != nil {
		return c, err
	}
	// Both talk to the API server as its admin, alone (no election), and
	// serve nothing of their own.
	common := []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0",
	}
	if err := s.Spawn(bins.Kube.ControllerManager, "kube-controller-manager", append(common,
		// Service account tokens for the pods' accounts, as EKS's do.
		"--service-account-private-key-file="+s.ServiceAccountKey(),
		"--root-ca-file="+s.CertFile(),
		"--use-service-account-credentials=false",
		// No cloud: no node IPAM, routes or load balancers; the node
		// lifecycle controller (NotReady taints, evictions) stays. No
		// metrics either: the HPA controller is off, and the scenarios
		// set each HPA's target to its minimum or maximum themselves.
		"--controllers=*,-nodeipam,-service-lb-controller,-route,-cloud-node-lifecycle,-csrsigning,-bootstrapsigner,-tokencleaner,-horizontalpodautoscaling",
		// Longer than KWOK's heartbeat (every 20 s plus up to 25 s of
		// jitter): with less, the node controller would read a
		// heartbeat's gap as a lost node and mark its pods not ready.
		"--node-monitor-grace-period=90s",
		"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
	)...); err != nil {
		return c, err
	}
	if err := s.Spawn(bins.Kube.Scheduler, "kube-scheduler", common...); err != nil {
		return c, err
	}
	upstream, err := exec.CommandContext(ctx, bins.KWOKStages).Output()
	if err != nil {
		return c, fmt.Errorf("kwokstages: %w", err)
	}
	stages, err := adjustStages(upstream)
	if err != nil {
		return c, err
	}
	stagesFile := filepath.Join(filepath.Dir(kubeconfig), "kwok-stages.yaml")
	if err := os.WriteFile(stagesFile, stages, 0o644); err != nil {
		return c, err
	}
	if err := s.Spawn(bins.KWOK, "kwok",
		"--kubeconfig="+kubeconfig,
		"--config="+stagesFile,
		"--manage-nodes-with-annotation-selector="+KWOKAnnotation+"=fake",
		"--cidr=10.244.0.0/16",
		"--node-ip=10.0.0.1",
	); err != nil {
		return c, err
	}
	time.Sleep(500 * time.Millisecond)
	return c, s.Alive()
}

// LostLabel marks a node of a lost zone: KWOK's node stages leave it
// alone, so that its Ready Unknown stays as the node controller set it
// (KWOK's node-initialize stage would make any node not Ready Ready).
const LostLabel = "simcluster.scrolluniversity.io/lost"

// adjustStages is KWOK's stages with every node stage's selector also
// requiring the node not to carry LostLabel, and the stage that completes
// a Job's pods requiring the pod not to carry HoldLabel.
func adjustStages(upstream []byte) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(upstream))
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	held := false
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading KWOK's stages: %w", err)
		}
		spec, _ := doc["spec"].(map[string]any)
		ref, _ := spec["resourceRef"].(map[string]any)
		name, _ := dig(doc, "metadata", "name").(string)
		var sparing string
		switch {
		case ref["kind"] == "Node":
			sparing = LostLabel
		case ref["kind"] == "Pod" && name == "pod-complete":
			sparing, held = HoldLabel, true
		}
		if sparing != "" {
			sel, _ := spec["selector"].(map[string]any)
			if sel == nil {
				sel = map[string]any{}
				spec["selector"] = sel
			}
			exprs, _ := sel["matchExpressions"].([]any)
			sel["matchExpressions"] = append(exprs, map[string]any{"key": `.metadata.labels["` + sparing + `"]`, "operator": "DoesNotExist"})
		}
		if err := enc.Encode(doc); err != nil {
			return nil, err
		}
	}
	if !held {
		return nil, errors.New("KWOK's stages have no pod-complete stage to hold Jobs' pods back from")
	}
	return out.Bytes(), enc.Close()
}

// Client is the cluster's API client.
func (c *Cluster) Client() *apicheck.Client { return c.client }

// Node is one simulated node.
type Node struct {
	Name   string
	Labels map[string]string
	Taints []map[string]any
	// CPU and Memory are allocatable ("3920m", "15Gi"); Pods the max pods.
	CPU, Memory string
	Pods        int
}

// AddNode registers a node KWOK manages.
func (c *Cluster) AddNode(ctx context.Context, n Node) error { return c.applyNode(ctx, n, false) }

// LoseZone does to every node of zone what the node lifecycle controller
// does to nodes that stop answering: KWOK's stages leave them (LostLabel),
// they carry
// the unreachable taints (NoSchedule by condition, NoExecute for
// eviction), and their pods are gone as the eviction would take them,
// so that their controllers make replacements.
func (c *Cluster) LoseZone(ctx context.Context, nodes []Node, zone string) error {
	lost := map[string]bool{}
	var lostNodes []Node
	for _, n := range nodes {
		if n.Labels["topology.kubernetes.io/zone"] != zone {
			continue
		}
		// KWOK's node stages let go of it first (LostLabel): its
		// initialisation would make a node that is not Ready Ready again,
		// and the node controller lifts the taints from a Ready node.
		if err := c.applyNode(ctx, n, true); err != nil {
			return err
		}
		time.Sleep(time.Second)
		tainted := n
		tainted.Taints = append(append([]map[string]any(nil), n.Taints...),
			map[string]any{"key": unreachableTaint, "effect": "NoSchedule"},
			map[string]any{"key": unreachableTaint, "effect": "NoExecute"},
		)
		if err := c.markUnreachable(ctx, tainted); err != nil {
			return err
		}
		lost[n.Name] = true
		lostNodes = append(lostNodes, tainted)
	}
	// A heartbeat KWOK had already scheduled (its stage waits 20 to 45
	// seconds) still posts Ready once after the node left its stages:
	// the status is put back until no such heartbeat can be pending.
	if err := c.holdUnreachable(ctx, lostNodes, heartbeatHorizon); err != nil {
		return err
	}
	pods, err := c.Pods(ctx)
	if err != nil {
		return err
	}
	for _, p := range pods {
		if lost[p.Node] {
			if err := c.client.Delete(ctx, "/api/v1/namespaces/"+p.Namespace+"/pods/"+p.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// unreachableTaint is the node controller's taint for a node that stopped
// answering.
const unreachableTaint = "node.kubernetes.io/unreachable"

// nodeView is what the checks here read of a node.
type nodeView struct {
	Spec struct {
		Taints []struct{ Key, Effect string } `json:"taints"`
	} `json:"spec"`
	Status struct {
		Conditions []struct{ Type, Status string } `json:"conditions"`
	} `json:"status"`
}

func (n nodeView) tainted(key, effect string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key && (effect == "" || t.Effect == effect) {
			return true
		}
	}
	return false
}

func (n nodeView) ready() bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

func (c *Cluster) node(ctx context.Context, name string) (nodeView, error) {
	var n nodeView
	err := c.client.Get(ctx, "/api/v1/nodes/"+name, nil, &n)
	return n, err
}

// heartbeatHorizon outlasts the longest delay of KWOK's node-heartbeat
// stage (20 s plus up to 25 s of jitter).
const heartbeatHorizon = 50 * time.Second

// holdUnreachable keeps the nodes Ready Unknown and tainted for d.
func (c *Cluster) holdUnreachable(ctx context.Context, nodes []Node, d time.Duration) error {
	until := time.Now().Add(d)
	for time.Now().Before(until) {
		for _, n := range nodes {
			node, err := c.node(ctx, n.Name)
			if err != nil {
				return err
			}
			if node.ready() || !node.tainted(unreachableTaint, "NoSchedule") {
				if err := c.markUnreachable(ctx, n); err != nil {
					return err
				}
			}
		}
		time.Sleep(time.Second)
	}
	return nil
}

// markUnreachable gives a node that no longer posts the status the node
// controller leaves it (Ready Unknown) and its taints, until the node
// keeps the unreachable NoSchedule taint: on a busy machine the
// controller's own pass can land in between, so it is done again until
// it holds.
func (c *Cluster) markUnreachable(ctx context.Context, n Node) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		stale := time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
		if err := c.client.MergePatch(ctx, "/api/v1/nodes/"+n.Name+"/status", map[string]any{"status": map[string]any{"conditions": []any{map[string]any{
			"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status.",
			"lastHeartbeatTime": stale, "lastTransitionTime": stale,
		}}}}); err != nil {
			return err
		}
		if err := c.applyNode(ctx, n, true); err != nil {
			return err
		}
		err := c.waitTainted(ctx, n.Name, unreachableTaint, "NoSchedule", 15*time.Second)
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}

// waitTainted waits until node carries the taint and keeps it three
// seconds running (the node controller settles on it).
func (c *Cluster) waitTainted(ctx context.Context, node, key, effect string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	held := 0
	for {
		n, err := c.node(ctx, node)
		if err != nil {
			return err
		}
		if n.tainted(key, effect) {
			if held++; held >= 3 {
				return nil
			}
		} else {
			held = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s never kept the taint %s:%s", node, key, effect)
		}
		time.Sleep(time.Second)
	}
}

func (c *Cluster) applyNode(ctx context.Context, n Node, lost bool) error {
	labels := map[string]any{"kubernetes.io/hostname": n.Name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"}
	for k, v := range n.Labels {
		labels[k] = v
	}
	taints := make([]any, len(n.Taints))
	for i, t := range n.Taints {
		taints[i] = t
	}
	capacity := map[string]any{"cpu": n.CPU, "memory": n.Memory, "pods": fmt.Sprint(n.Pods), "ephemeral-storage": "80Gi"}
	if lost {
		labels[LostLabel] = "true"
	}
	msg, _, err := c.client.Apply(ctx, apicheck.Object{Source: "simcluster", Body: map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": n.Name, "labels": labels, "annotations": map[string]any{KWOKAnnotation: "fake"}},
		"spec":     map[string]any{"taints": taints},
		"status":   map[string]any{"capacity": capacity, "allocatable": capacity},
	}})
	if err != nil {
		return err
	}
	if msg != "" {
		return fmt.Errorf("node %s: %s", n.Name, msg)
	}
	return nil
}

// WaitNodesReady waits until want nodes are Ready and free of the node
// controller's taints (node.kubernetes.io/not-ready lingers a moment after
// Ready), then a moment more for the scheduler's cache: a pod placed
// before would see fewer zones than there are.
func (c *Cluster) WaitNodesReady(ctx context.Context, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var list struct {
			Items []nodeView `json:"items"`
		}
		if err := c.client.Get(ctx, "/api/v1/nodes", nil, &list); err != nil {
			return err
		}
		ready := 0
		for _, n := range list.Items {
			if n.ready() && !slices.ContainsFunc(n.Spec.Taints, func(t struct{ Key, Effect string }) bool {
				return strings.HasPrefix(t.Key, "node.kubernetes.io/")
			}) {
				ready++
			}
		}
		if ready >= want {
			time.Sleep(2 * time.Second)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d nodes Ready and untainted after %s", ready, want, timeout)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Pod is what the placement report says of one pod.
type Pod struct {
	Namespace, Name, Node, Phase string
	// Reason is the scheduler's last word on a pod it could not place
	// (its FailedScheduling event).
	Reason string
}

// Pods lists every pod with where it went.
func (c *Cluster) Pods(ctx context.Context) ([]Pod, error) {
	var list struct {
		Items []struct {
			Metadata struct{ Namespace, Name string } `json:"metadata"`
			Spec     struct {
				NodeName string `json:"nodeName"`
			} `json:"spec"`
			Status struct {
				Phase string `json:"phase"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := c.client.Get(ctx, "/api/v1/pods", nil, &list); err != nil {
		return nil, err
	}
	var events struct {
		Items []struct {
			InvolvedObject struct{ Namespace, Name string } `json:"involvedObject"`
			Reason         string                           `json:"reason"`
			Message        string                           `json:"message"`
		} `json:"items"`
	}
	if err := c.client.Get(ctx, "/api/v1/events", url.Values{"fieldSelector": {"reason=FailedScheduling"}}, &events); err != nil {
		return nil, err
	}
	why := map[string]string{}
	for _, e := range events.Items {
		why[e.InvolvedObject.Namespace+"/"+e.InvolvedObject.Name] = e.Message
	}
	out := make([]Pod, 0, len(list.Items))
	for _, p := range list.Items {
		pod := Pod{Namespace: p.Metadata.Namespace, Name: p.Metadata.Name, Node: p.Spec.NodeName, Phase: p.Status.Phase}
		if pod.Node == "" {
			pod.Reason = why[pod.Namespace+"/"+pod.Name]
		}
		out = append(out, pod)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out, nil
}

// WaitSettled waits until every pod is Running (or has completed), or
// until pods stop changing for quiet (the unplaceable ones then carry
// their reason), and returns them.
func (c *Cluster) WaitSettled(ctx context.Context, quiet, timeout time.Duration) ([]Pod, error) {
	return c.waitSettled(ctx, quiet, timeout, nil, nil)
}

// waitSettled is WaitSettled that leaves out the pods of the nodes in
// ignore, and that also waits on more: it reports what else is still
// outstanding (state, which counts as a change when it differs) and
// whether anything is.
func (c *Cluster) waitSettled(ctx context.Context, quiet, timeout time.Duration, ignore map[string]bool, more func(context.Context) (state string, outstanding bool, err error)) ([]Pod, error) {
	deadline := time.Now().Add(timeout)
	var last string
	stable := time.Now()
	for {
		pods, err := c.Pods(ctx)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		done := len(pods) > 0
		for _, p := range pods {
			fmt.Fprintf(&b, "%s/%s@%s:%s;", p.Namespace, p.Name, p.Node, p.Phase)
			if p.Phase != "Running" && p.Phase != "Succeeded" && !ignore[p.Node] {
				done = false
			}
		}
		if more != nil {
			state, outstanding, err := more(ctx)
			if err != nil {
				return nil, err
			}
			b.WriteString(state)
			done = done && !outstanding
		}
		if done {
			return pods, nil
		}
		if b.String() != last {
			last, stable = b.String(), time.Now()
		}
		if time.Since(stable) > quiet || time.Now().After(deadline) {
			return pods, nil
		}
		if err := c.Alive(); err != nil {
			return nil, fmt.Errorf("%w%s", err, c.LogTail())
		}
		time.Sleep(time.Second)
	}
}

// Unscheduled are the pods no node took, each with the scheduler's reason.
func Unscheduled(pods []Pod) []Pod {
	var out []Pod
	for _, p := range pods {
		if p.Node == "" {
			out = append(out, p)
		}
	}
	return out
}
