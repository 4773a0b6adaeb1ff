package simcluster

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scrolluniversity/platform/internal/apicheck"
	"github.com/scrolluniversity/platform/policy/rules"
)

// Scenario is what one placement scenario found.
type Scenario struct {
	Number          int
	Title           string
	Pods, Scheduled int
	// Problems each name a pod or a workload and the reason (the
	// scheduler's, the controller's or the API server's own words); any
	// fails the scenario.
	Problems []string
	// Notes are what the scenario saw that is expected (pods a lost
	// zone's volumes hold, objects not applied).
	Notes []string
}

// OK is whether the scenario found no problem.
func (s Scenario) OK() bool { return len(s.Problems) == 0 }

// Line is the scenario's one-line summary.
func (s Scenario) Line() string {
	verdict := "ok"
	if !s.OK() {
		verdict = fmt.Sprintf("FAILED, %d problems", len(s.Problems))
	}
	return fmt.Sprintf("scenario %d, %s: %d pods, %d scheduled (%s)", s.Number, s.Title, s.Pods, s.Scheduled, verdict)
}

// Write prints the summary, then each problem and note indented.
func (s Scenario) Write(w io.Writer, prefix string) {
	fmt.Fprintf(w, "%s%s\n", prefix, s.Line())
	for _, p := range s.Problems {
		fmt.Fprintf(w, "%s  problem: %s\n", prefix, p)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "%s  note: %s\n", prefix, n)
	}
}

// Simulation is one stack applied to one simulated cluster.
type Simulation struct {
	c     *Cluster
	st    *Stack
	nodes []Node
	lost  map[string]bool
	// down are the lost zones: nothing is added there.
	down   map[string]bool
	stop   context.CancelFunc
	failed map[string]bool // FailedCreate events already reported
}

// settleQuiet is how long pods must stay as they are before a scenario
// that has not converged is read as it stands; settleTimeout bounds one
// settling.
const (
	settleQuiet   = 15 * time.Second
	settleTimeout = 3 * time.Minute
)

// NewSimulation starts a cluster, installs the stack's CRDs and runs the
// volume provisioner. Call Stop when done.
func NewSimulation(ctx context.Context, bins Binaries, st *Stack) (*Simulation, error) {
	c, err := Start(ctx, bins)
	if err != nil {
		return nil, err
	}
	vctx, stop := context.WithCancel(context.Background())
	s := &Simulation{c: c, st: st, lost: map[string]bool{}, down: map[string]bool{}, stop: stop, failed: map[string]bool{}}
	go c.ProvisionVolumes(vctx)
	if err := c.Client().InstallCRDs(ctx, st.CRDs); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops the provisioner and the cluster.
func (s *Simulation) Stop() {
	s.stop()
	s.c.Stop()
}

// Cluster is the simulation's cluster.
func (s *Simulation) Cluster() *Cluster { return s.c }

// nodeCount is the nodes per group at a size.
func (s *Simulation) grow(ctx context.Context, size func(Group) int) error {
	have := map[string]bool{}
	for _, n := range s.nodes {
		have[n.Name] = true
	}
	for _, g := range s.st.Groups {
		for _, n := range g.Nodes(size(g)) {
			if have[n.Name] {
				continue
			}
			if err := s.c.AddNode(ctx, n); err != nil {
				return err
			}
			s.nodes = append(s.nodes, n)
		}
	}
	return s.c.WaitNodesReady(ctx, s.healthy(), 2*time.Minute)
}

func (s *Simulation) healthy() int {
	n := 0
	for _, node := range s.nodes {
		if !s.lost[node.Name] {
			n++
		}
	}
	return n
}

// kindRank orders the apply as an engine that knows the dependencies
// would: namespaces, then what pods need at admission (priority classes,
// storage classes, limits, quotas, service accounts, configuration),
// then the rest, the workloads last.
func kindRank(kind string) int {
	switch kind {
	case "Namespace":
		return 0
	case "PriorityClass", "StorageClass", "ClusterRole", "ClusterRoleBinding", "RuntimeClass":
		return 1
	case "LimitRange", "ResourceQuota", "ServiceAccount", "ConfigMap", "Secret", "Role", "RoleBinding", "PersistentVolumeClaim":
		return 2
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet":
		return 4
	}
	return 3
}

// apply applies every object, in rounds while some are refused for want
// of another (a namespace's service account, a CRD's kind); what is still
// refused after three rounds is a problem.
func (s *Simulation) apply(ctx context.Context, objs []apicheck.Object) ([]string, error) {
	pending := slices.Clone(objs)
	sort.SliceStable(pending, func(i, j int) bool { return kindRank(pending[i].Kind()) < kindRank(pending[j].Kind()) })
	var refused []string
	for round := 0; round < 3 && len(pending) > 0; round++ {
		var again []apicheck.Object
		refused = nil
		for _, o := range pending {
			msg, _, err := s.c.Client().Apply(ctx, o)
			if err != nil {
				return nil, fmt.Errorf("applying %s: %w", o.ID(), err)
			}
			if msg != "" {
				again = append(again, o)
				refused = append(refused, fmt.Sprintf("%s (%s) refused: %s", o.ID(), o.Source, msg))
			}
		}
		pending = again
		if len(pending) > 0 {
			time.Sleep(2 * time.Second)
		}
	}
	return refused, nil
}

// hpa is a HorizontalPodAutoscaler's target and bounds.
type hpa struct {
	kind, namespace, name string
	min, max              int
}

func (s *Simulation) hpas() []hpa {
	var out []hpa
	for _, o := range s.st.Objects {
		if o.Kind() != "HorizontalPodAutoscaler" {
			continue
		}
		ns := o.Namespace()
		if ns == "" {
			ns = o.DefaultNamespace
		}
		h := hpa{namespace: ns, min: 1, max: intOf(dig(o.Body, "spec", "maxReplicas"))}
		h.kind, _ = dig(o.Body, "spec", "scaleTargetRef", "kind").(string)
		h.name, _ = dig(o.Body, "spec", "scaleTargetRef", "name").(string)
		if m := intOf(dig(o.Body, "spec", "minReplicas")); m > 0 {
			h.min = m
		}
		out = append(out, h)
	}
	return out
}

var plural = map[string]string{"Deployment": "deployments", "StatefulSet": "statefulsets"}

// scale sets every HPA's target to its minimum or maximum, as the HPA
// would (the HPA controller does not run here: there are no metrics).
func (s *Simulation) scale(ctx context.Context, atMax bool) error {
	for _, h := range s.hpas() {
		res, ok := plural[h.kind]
		if !ok {
			return fmt.Errorf("HPA target %s %s/%s: only Deployments and StatefulSets are scaled here", h.kind, h.namespace, h.name)
		}
		n := h.min
		if atMax {
			n = h.max
		}
		if err := s.c.Client().MergePatch(ctx, "/apis/apps/v1/namespaces/"+h.namespace+"/"+res+"/"+h.name+"/scale", map[string]any{"spec": map[string]any{"replicas": n}}); err != nil {
			return err
		}
	}
	return nil
}

// Start applies the stack on the groups' nodes at the size given.
func (s *Simulation) start(ctx context.Context, size func(Group) int, atMax bool) (refused []string, err error) {
	if err := s.grow(ctx, size); err != nil {
		return nil, err
	}
	if refused, err = s.apply(ctx, s.st.Objects); err != nil {
		return nil, err
	}
	return refused, s.scale(ctx, atMax)
}

func (s *Simulation) nodeSummary() string {
	per := map[string]int{}
	var names []string
	for _, n := range s.nodes {
		if s.lost[n.Name] {
			continue
		}
		g := n.Labels["eks.amazonaws.com/nodegroup"]
		if per[g] == 0 {
			names = append(names, g)
		}
		per[g]++
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, g := range names {
		parts[i] = fmt.Sprintf("%s %d", g, per[g])
	}
	return fmt.Sprintf("%d nodes: %s", s.healthy(), strings.Join(parts, ", "))
}

// observe settles the cluster, lets the autoscaler add the nodes its
// pending pods need (settleScaled), and reports it as scenario n.
func (s *Simulation) observe(ctx context.Context, n int, title string) (Scenario, []Pod, error) {
	pods, short, added, err := s.settleScaled(ctx)
	if err != nil {
		return Scenario{}, nil, err
	}
	sc := Scenario{Number: n, Title: title + s.grown(added), Pods: len(pods)}
	for _, p := range pods {
		if p.Node != "" {
			sc.Scheduled++
		} else {
			sc.Problems = append(sc.Problems, fmt.Sprintf("pod %s/%s is not scheduled: %s", p.Namespace, p.Name, orUnknown(p.Reason)))
		}
	}
	sc.Problems = append(sc.Problems, strs(short)...)
	return sc, pods, nil
}

func orUnknown(reason string) string {
	if reason == "" {
		return "no scheduling event yet"
	}
	return reason
}

// settle waits until every pod runs (or has completed) and every workload
// has what it asks for, or until nothing changes for settleQuiet; it
// returns the pods and each workload still short, with the controller's
// reason.
func (s *Simulation) settle(ctx context.Context) ([]Pod, []shortfall, error) {
	var short []shortfall
	pods, err := s.c.waitSettled(ctx, settleQuiet, settleTimeout, s.lost, func(ctx context.Context) (string, bool, error) {
		var err error
		if short, err = s.shortfalls(ctx); err != nil {
			return "", false, err
		}
		var b strings.Builder
		for _, w := range short {
			// The workload and what it lacks; not the controller's
			// message, which names a new pod at every retry.
			b.WriteString(w.workload + ": " + w.lack + ";")
		}
		return b.String(), len(short) > 0, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return pods, short, nil
}

// workloadStatus is what settle reads of a Deployment, StatefulSet,
// DaemonSet or Job.
type workloadStatus struct {
	Metadata struct {
		Namespace, Name string
		Generation      int
	} `json:"metadata"`
	Spec struct {
		Replicas       *int `json:"replicas"`
		Completions    *int `json:"completions"`
		UpdateStrategy struct {
			Type string `json:"type"`
		} `json:"updateStrategy"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration                           int `json:"observedGeneration"`
		Replicas, UpdatedReplicas, AvailableReplicas int
		ReadyReplicas                                int `json:"readyReplicas"`
		DesiredNumberScheduled, NumberReady          int
		UpdatedNumberScheduled                       int
		Active, Succeeded, Failed                    int
		CurrentRevision, UpdateRevision              string
	} `json:"status"`
}

// shortfall is a workload without what it asks for.
type shortfall struct {
	kind, workload, lack string
	// why is its controller's last FailedCreate message (a quota, an
	// admission refusal), if any.
	why string
}

func (w shortfall) String() string {
	s := w.kind + " " + w.workload + ": " + w.lack
	if w.why != "" {
		s += ": " + w.why
	}
	return s
}

func strs(ws []shortfall) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

// shortfalls are the workloads without what they ask for: too few pods
// created, ready or updated.
func (s *Simulation) shortfalls(ctx context.Context) ([]shortfall, error) {
	why, err := s.failedCreates(ctx)
	if err != nil {
		return nil, err
	}
	var out []shortfall
	for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet", "Job"} {
		group := "/apis/apps/v1/"
		if kind == "Job" {
			group = "/apis/batch/v1/"
		}
		var list struct {
			Items []workloadStatus `json:"items"`
		}
		if err := s.c.Client().Get(ctx, group+strings.ToLower(kind)+"s", nil, &list); err != nil {
			return nil, err
		}
		for _, w := range list.Items {
			want := 1
			if w.Spec.Replicas != nil {
				want = *w.Spec.Replicas
			}
			st := w.Status
			var lack string
			switch {
			case kind != "Job" && st.ObservedGeneration < w.Metadata.Generation:
				lack = "not yet observed by its controller"
			case kind == "Deployment" && (st.UpdatedReplicas < want || st.AvailableReplicas < want || st.Replicas > want):
				lack = fmt.Sprintf("%d of %d replicas updated, %d available, %d in all", st.UpdatedReplicas, want, st.AvailableReplicas, st.Replicas)
			case kind == "StatefulSet" && (st.ReadyReplicas < want || (w.Spec.UpdateStrategy.Type != "OnDelete" && st.UpdatedReplicas < want)):
				lack = fmt.Sprintf("%d of %d replicas ready, %d updated", st.ReadyReplicas, want, st.UpdatedReplicas)
			case kind == "DaemonSet" && st.NumberReady < st.DesiredNumberScheduled:
				lack = fmt.Sprintf("%d of %d pods ready", st.NumberReady, st.DesiredNumberScheduled)
			case kind == "Job" && st.Succeeded == 0 && st.Active == 0 && st.Failed == 0:
				lack = "no pod created"
			case kind == "Job" && st.Failed > 0 && st.Succeeded == 0:
				lack = fmt.Sprintf("%d pods failed", st.Failed)
			}
			if lack == "" {
				continue
			}
			sf := shortfall{kind: kind, workload: w.Metadata.Namespace + "/" + w.Metadata.Name, lack: lack}
			// The controller's refusal, where pods are missing (not when
			// they exist and wait for a node: a refusal then is stale).
			if kind == "DaemonSet" || kind == "Job" || st.Replicas < want {
				sf.why = why[kind+"/"+sf.workload]
			}
			out = append(out, sf)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// failedCreates are the controllers' FailedCreate messages, keyed by the
// workload (a ReplicaSet's by its Deployment's name).
func (s *Simulation) failedCreates(ctx context.Context) (map[string]string, error) {
	var events struct {
		Items []struct {
			InvolvedObject struct{ Kind, Namespace, Name string } `json:"involvedObject"`
			Message        string                                 `json:"message"`
		} `json:"items"`
	}
	if err := s.c.Client().Get(ctx, "/api/v1/events", url.Values{"fieldSelector": {"reason=FailedCreate"}}, &events); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range events.Items {
		o := e.InvolvedObject
		kind, name := o.Kind, o.Name
		if kind == "ReplicaSet" {
			// <deployment>-<pod-template-hash>
			if i := strings.LastIndex(name, "-"); i > 0 {
				kind, name = "Deployment", name[:i]
			}
		}
		out[kind+"/"+o.Namespace+"/"+name] = e.Message
	}
	return out, nil
}

// Minimum runs, on the groups' desired sizes (the nodes a first `up`
// starts) with every HPA at its minimum: scenario 1 (every pod
// schedules), 5 (one node per pool replaced and drained through the
// eviction API, its pods placed again) and 4 (a zone lost).
func (s *Simulation) Minimum(ctx context.Context) ([]Scenario, error) {
	refused, err := s.start(ctx, func(g Group) int { return g.Desired }, false)
	if err != nil {
		return nil, err
	}
	s1, _, err := s.observe(ctx, 1, "minimum scale, "+s.nodeSummary())
	if err != nil {
		return nil, err
	}
	s1.Problems = append(refused, s1.Problems...)
	where, err := s.workloadsPerGroup(ctx)
	if err != nil {
		return nil, err
	}
	s1.Notes = append(s1.Notes, where...)
	for _, o := range s.st.Skipped {
		s1.Notes = append(s1.Notes, fmt.Sprintf("not applied: %s (%s): %s", o.ID(), o.Source, SkipReason(o)))
	}
	if crs := s.customResources(); len(crs) > 0 {
		s1.Notes = append(s1.Notes, fmt.Sprintf("applied, their operators not running here (their workloads are derived): %s", strings.Join(crs, ", ")))
	}
	s5, err := s.DrainOnePerPool(ctx)
	if err != nil {
		return nil, err
	}
	s4, err := s.LoseZone(ctx, s.zones()[0])
	if err != nil {
		return nil, err
	}
	return []Scenario{s1, s5, s4}, nil
}

// Maximum runs, on the groups at their maximum size with every HPA at
// its maximum: scenario 2 (every pod schedules), 7 (every container of
// every pod, as admitted, requests CPU and memory), 6 (the Jobs and the
// CronJobs' Jobs at once, within the namespaces' quotas) and 3 (a
// rolling update of every Deployment and StatefulSet).
func (s *Simulation) Maximum(ctx context.Context) ([]Scenario, error) {
	s2, pods, err := s.AtMaximum(ctx)
	if err != nil {
		return nil, err
	}
	s7, err := s.requests(ctx, len(pods))
	if err != nil {
		return nil, err
	}
	s6, err := s.JobsAtMaximum(ctx)
	if err != nil {
		return nil, err
	}
	s3, err := s.RollingUpdate(ctx)
	if err != nil {
		return nil, err
	}
	return []Scenario{s2, s7, s6, s3}, nil
}

// AtMaximum applies the stack at maximum scale (scenario 2).
func (s *Simulation) AtMaximum(ctx context.Context) (Scenario, []Pod, error) {
	refused, err := s.start(ctx, func(g Group) int { return g.Max }, true)
	if err != nil {
		return Scenario{}, nil, err
	}
	sc, pods, err := s.observe(ctx, 2, "every HPA at its maximum, "+s.nodeSummary())
	sc.Problems = append(refused, sc.Problems...)
	return sc, pods, err
}

func (s *Simulation) zones() []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range s.st.Groups {
		for _, z := range g.Zones {
			if !seen[z] {
				seen[z] = true
				out = append(out, z)
			}
		}
	}
	sort.Strings(out)
	return out
}

// podView is what the scenarios read of a pod beyond Pod.
type podView struct {
	Metadata struct {
		Namespace, Name string
		OwnerReferences []struct{ Kind, Name string } `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		NodeName     string            `json:"nodeName"`
		NodeSelector map[string]string `json:"nodeSelector"`
		Tolerations  []struct {
			Key, Operator, Value, Effect string
		} `json:"tolerations"`
		Volumes []struct {
			PersistentVolumeClaim *struct {
				ClaimName string `json:"claimName"`
			} `json:"persistentVolumeClaim"`
		} `json:"volumes"`
		InitContainers, Containers []struct {
			Name      string `json:"name"`
			Resources struct {
				Requests map[string]string `json:"requests"`
			} `json:"resources"`
		}
	} `json:"spec"`
}

func (s *Simulation) podViews(ctx context.Context) ([]podView, error) {
	var list struct {
		Items []podView `json:"items"`
	}
	err := s.c.Client().Get(ctx, "/api/v1/pods", nil, &list)
	return list.Items, err
}

// requests is scenario 7 on the pods as the API server admitted them
// (LimitRange defaults applied): every container requests CPU and memory.
func (s *Simulation) requests(ctx context.Context, scheduled int) (Scenario, error) {
	pods, err := s.podViews(ctx)
	if err != nil {
		return Scenario{}, err
	}
	sc := Scenario{Number: 7, Title: "every container requests CPU and memory", Pods: len(pods), Scheduled: scheduled}
	for _, p := range pods {
		for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
			for _, r := range []string{"cpu", "memory"} {
				if c.Resources.Requests[r] == "" {
					sc.Problems = append(sc.Problems, fmt.Sprintf("pod %s/%s container %s requests no %s", p.Metadata.Namespace, p.Metadata.Name, c.Name, r))
				}
			}
		}
	}
	return sc, nil
}

// HoldLabel on a pod keeps it Running: KWOK's stage that completes a
// Job's pods leaves it alone, so that Jobs run side by side.
const HoldLabel = "simcluster.scrolluniversity.io/hold"

// atMaxSuffix names the Jobs scenario 6 starts.
const atMaxSuffix = "-at-max"

// JobsAtMaximum is scenario 6: a Job of each Job and CronJob of the
// stack, all at once and kept running, beside the app at maximum; each
// must get its pod (within its namespace's quota) and place it. The Jobs
// are deleted afterwards.
func (s *Simulation) JobsAtMaximum(ctx context.Context) (Scenario, error) {
	var jobs []apicheck.Object
	for _, o := range s.st.Objects {
		var spec any
		switch o.Kind() {
		case "Job":
			spec = dig(o.Body, "spec")
		case "CronJob":
			spec = dig(o.Body, "spec", "jobTemplate", "spec")
		default:
			continue
		}
		spec = rules.Copy(spec)
		sm, _ := spec.(map[string]any)
		delete(sm, "selector")
		tmeta, _ := dig(sm, "template", "metadata").(map[string]any)
		if tmeta == nil {
			tmeta = map[string]any{}
			if t, ok := sm["template"].(map[string]any); ok {
				t["metadata"] = tmeta
			}
		}
		labels, _ := tmeta["labels"].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
			tmeta["labels"] = labels
		}
		labels[HoldLabel] = "true"
		name := o.Name()
		if len(name)+len(atMaxSuffix) > 63 {
			name = name[:63-len(atMaxSuffix)]
		}
		ns := o.Namespace()
		if ns == "" {
			ns = o.DefaultNamespace
		}
		jobs = append(jobs, apicheck.Object{Source: o.Source, Body: map[string]any{
			"apiVersion": "batch/v1", "kind": "Job",
			"metadata": map[string]any{"name": name + atMaxSuffix, "namespace": ns},
			"spec":     sm,
		}})
	}
	refused, err := s.apply(ctx, jobs)
	if err != nil {
		return Scenario{}, err
	}
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Namespace() + "/" + j.Name()
	}
	sc, _, err := s.observe(ctx, 6, fmt.Sprintf("%d Jobs at once beside the app at maximum", len(jobs)))
	if err != nil {
		return Scenario{}, err
	}
	sc.Problems = append(refused, sc.Problems...)
	sc.Notes = append(sc.Notes, "Jobs: "+strings.Join(names, ", "))
	for _, j := range jobs {
		if err := s.c.Client().Delete(ctx, "/apis/batch/v1/namespaces/"+j.Namespace()+"/jobs/"+j.Name()); err != nil {
			return Scenario{}, err
		}
	}
	return sc, nil
}

// RollingUpdate is scenario 3: every Deployment and StatefulSet gets a new
// pod template at once and must complete its rollout (surge,
// anti-affinity, spread and disruption budgets together).
func (s *Simulation) RollingUpdate(ctx context.Context) (Scenario, error) {
	rolled := 0
	for _, kind := range []string{"Deployment", "StatefulSet"} {
		var list struct {
			Items []workloadStatus `json:"items"`
		}
		if err := s.c.Client().Get(ctx, "/apis/apps/v1/"+plural[kind], nil, &list); err != nil {
			return Scenario{}, err
		}
		for _, w := range list.Items {
			path := "/apis/apps/v1/namespaces/" + w.Metadata.Namespace + "/" + plural[kind] + "/" + w.Metadata.Name
			if err := s.c.Client().MergePatch(ctx, path, map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
				"annotations": map[string]any{"simcluster.scrolluniversity.io/rollout": "1"},
			}}}}); err != nil {
				return Scenario{}, err
			}
			rolled++
		}
	}
	time.Sleep(2 * time.Second)
	sc, _, err := s.observe(ctx, 3, fmt.Sprintf("a rolling update of %d Deployments and StatefulSets at maximum", rolled))
	return sc, err
}

// DrainOnePerPool is scenario 5: in each group with nodes, the node with
// the most pods is replaced as a node group update replaces it (a new
// node in its zone, the old one cordoned, each of its pods but the
// DaemonSets' evicted through the eviction API, which refuses what a
// disruption budget forbids, then the node removed), and the evicted pods
// must be placed again. An eviction refused for a minute blocks the drain
// and fails the scenario with the pod named.
func (s *Simulation) DrainOnePerPool(ctx context.Context) (Scenario, error) {
	var problems, drained []string
	for _, g := range s.st.Groups {
		views, err := s.podViews(ctx)
		if err != nil {
			return Scenario{}, err
		}
		perNode := map[string][]podView{}
		for _, p := range views {
			if !ownedBy(p, "DaemonSet") && p.Spec.NodeName != "" {
				perNode[p.Spec.NodeName] = append(perNode[p.Spec.NodeName], p)
			}
		}
		var victim *Node
		for i := range s.nodes {
			n := &s.nodes[i]
			if n.Labels["eks.amazonaws.com/nodegroup"] != g.Name || s.lost[n.Name] {
				continue
			}
			if victim == nil || len(perNode[n.Name]) > len(perNode[victim.Name]) {
				victim = n
			}
		}
		if victim == nil {
			continue
		}
		zone := victim.Labels["topology.kubernetes.io/zone"]
		replacement := g.NodeIn(zone, s.nextIndex(g, zone))
		if err := s.c.AddNode(ctx, replacement); err != nil {
			return Scenario{}, err
		}
		s.nodes = append(s.nodes, replacement)
		if err := s.c.WaitNodesReady(ctx, s.healthy(), 2*time.Minute); err != nil {
			return Scenario{}, err
		}
		if err := s.c.Client().MergePatch(ctx, "/api/v1/nodes/"+victim.Name, map[string]any{"spec": map[string]any{"unschedulable": true}}); err != nil {
			return Scenario{}, err
		}
		evicted := 0
		for _, p := range perNode[victim.Name] {
			msg, err := s.evict(ctx, p.Metadata.Namespace, p.Metadata.Name)
			if err != nil {
				return Scenario{}, err
			}
			if msg != "" {
				problems = append(problems, fmt.Sprintf("drain of %s blocked: pod %s/%s: %s", victim.Name, p.Metadata.Namespace, p.Metadata.Name, msg))
				continue
			}
			evicted++
		}
		drained = append(drained, fmt.Sprintf("%s (%d pods evicted, replaced by %s)", victim.Name, evicted, replacement.Name))
		// Placed again before the next pool's drain, as a node group
		// update waits for its nodes.
		if _, _, err := s.settle(ctx); err != nil {
			return Scenario{}, err
		}
		if err := s.c.Client().Delete(ctx, "/api/v1/nodes/"+victim.Name); err != nil {
			return Scenario{}, err
		}
		s.removeNode(victim.Name)
	}
	sc, _, err := s.observe(ctx, 5, fmt.Sprintf("a drain of one node per pool (%d nodes)", len(drained)))
	if err != nil {
		return Scenario{}, err
	}
	sc.Problems = append(problems, sc.Problems...)
	sc.Notes = append(sc.Notes, "drained: "+strings.Join(drained, "; "))
	return sc, nil
}

func ownedBy(p podView, kind string) bool {
	for _, o := range p.Metadata.OwnerReferences {
		if o.Kind == kind {
			return true
		}
	}
	return false
}

func (s *Simulation) nextIndex(g Group, zone string) int {
	for i := 0; ; i++ {
		name := g.NodeIn(zone, i).Name
		if !slices.ContainsFunc(s.nodes, func(n Node) bool { return n.Name == name }) {
			return i
		}
	}
}

func (s *Simulation) removeNode(name string) {
	s.nodes = slices.DeleteFunc(s.nodes, func(n Node) bool { return n.Name == name })
}

// evictionRetry is how long a refused eviction is retried (kubectl
// drain retries every 5 s until its timeout).
const evictionRetry = time.Minute

// evict asks the eviction API to evict a pod, again while a disruption
// budget refuses (HTTP 429), and returns the last refusal if it never
// gives way.
func (s *Simulation) evict(ctx context.Context, ns, name string) (string, error) {
	deadline := time.Now().Add(evictionRetry)
	for {
		status, msg, err := s.c.Client().Post(ctx, "/api/v1/namespaces/"+ns+"/pods/"+name+"/eviction", map[string]any{
			"apiVersion": "policy/v1", "kind": "Eviction", "metadata": map[string]any{"name": name, "namespace": ns},
		})
		if err != nil {
			return "", err
		}
		switch {
		case status < 300 || status == 404:
			return "", nil
		case status != 429 || time.Now().After(deadline):
			return fmt.Sprintf("HTTP %d: %s", status, msg), nil
		}
		time.Sleep(3 * time.Second)
	}
}

// LoseZone is scenario 4: every node of zone stops answering (Cluster
// LoseZone); the groups replace the lost nodes in the zones left (an Auto
// Scaling group over several zones launches in the healthy ones; for
// zonal groups the Cluster Autoscaler grows the other zones' groups),
// within each group's maximum. Every pod must be placed again but those a
// volume in the lost zone holds (EBS volumes are zonal: noted, not a
// problem), and every disruption budget must keep its minimum.
func (s *Simulation) LoseZone(ctx context.Context, zone string) (Scenario, error) {
	if err := s.c.LoseZone(ctx, s.nodes, zone); err != nil {
		return Scenario{}, err
	}
	s.down[zone] = true
	groupOf := map[string]Group{}
	for _, g := range s.st.Groups {
		groupOf[g.Name] = g
	}
	// Lost nodes are counted per pool (the groups' labels): the zonal
	// groups of one pool replace each other's.
	lostPerPool := map[string]int{}
	for _, n := range s.nodes {
		if n.Labels["topology.kubernetes.io/zone"] == zone {
			s.lost[n.Name] = true
			lostPerPool[poolKey(groupOf[n.Labels["eks.amazonaws.com/nodegroup"]].Labels)]++
		}
	}
	// One node per group and pass, in the group's emptiest zone left,
	// so that the replacements spread as an Auto Scaling group balances.
	for progress := true; progress; {
		progress = false
		for _, g := range s.st.Groups {
			key := poolKey(g.Labels)
			z := s.emptiestZone(g)
			if lostPerPool[key] == 0 || z == "" || s.healthyIn(g, "") >= g.Max {
				continue
			}
			n := g.NodeIn(z, s.nextIndex(g, z))
			if err := s.c.AddNode(ctx, n); err != nil {
				return Scenario{}, err
			}
			s.nodes = append(s.nodes, n)
			lostPerPool[key]--
			progress = true
		}
	}
	if err := s.c.WaitNodesReady(ctx, s.healthy(), 2*time.Minute); err != nil {
		return Scenario{}, err
	}
	time.Sleep(2 * time.Second)
	title := fmt.Sprintf("zone %s lost, its nodes replaced in the zones left, %s", zone, s.nodeSummary())
	pods, short, added, err := s.settleScaled(ctx)
	if err != nil {
		return Scenario{}, err
	}
	sc := Scenario{Number: 4, Title: title + s.grown(added), Pods: len(pods)}
	held := 0
	for _, p := range pods {
		switch {
		case p.Node != "":
			sc.Scheduled++
		case strings.Contains(p.Reason, volumeZoneReason):
			held++
			sc.Notes = append(sc.Notes, fmt.Sprintf("pod %s/%s waits for its volume in %s", p.Namespace, p.Name, zone))
		default:
			sc.Problems = append(sc.Problems, fmt.Sprintf("pod %s/%s is not scheduled: %s", p.Namespace, p.Name, orUnknown(p.Reason)))
		}
	}
	for _, w := range short {
		// DaemonSets count the lost nodes, StatefulSets the pods their
		// volumes hold; their pods are judged above and by the budgets.
		if w.kind == "Deployment" || w.kind == "Job" {
			sc.Problems = append(sc.Problems, w.String())
		}
	}
	budgets, err := s.budgetsBelowMinimum(ctx)
	if err != nil {
		return Scenario{}, err
	}
	sc.Problems = append(sc.Problems, budgets...)
	return sc, nil
}

func poolKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k, v := range labels {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// healthyIn is the group's nodes not lost, in zone ("" for every zone).
// Against its maximum a group counts all its nodes: a zonal group is one
// group per zone, and an Auto Scaling group over several zones may put
// its whole maximum in one.
func (s *Simulation) healthyIn(g Group, zone string) int {
	n := 0
	for _, node := range s.nodes {
		if node.Labels["eks.amazonaws.com/nodegroup"] == g.Name && !s.lost[node.Name] &&
			(zone == "" || node.Labels["topology.kubernetes.io/zone"] == zone) {
			n++
		}
	}
	return n
}

// budgetsBelowMinimum are the disruption budgets whose healthy pods are
// fewer than they require, as the disruption controller counts them.
func (s *Simulation) budgetsBelowMinimum(ctx context.Context) ([]string, error) {
	var list struct {
		Items []struct {
			Metadata struct{ Namespace, Name string } `json:"metadata"`
			Status   struct {
				CurrentHealthy, DesiredHealthy, ExpectedPods int
			} `json:"status"`
		} `json:"items"`
	}
	if err := s.c.Client().Get(ctx, "/apis/policy/v1/poddisruptionbudgets", nil, &list); err != nil {
		return nil, err
	}
	var out []string
	for _, b := range list.Items {
		if b.Status.CurrentHealthy < b.Status.DesiredHealthy {
			out = append(out, fmt.Sprintf("PodDisruptionBudget %s/%s: %d healthy of %d expected, below its minimum %d",
				b.Metadata.Namespace, b.Metadata.Name, b.Status.CurrentHealthy, b.Status.ExpectedPods, b.Status.DesiredHealthy))
		}
	}
	return out, nil
}

// volumeZoneReason is the scheduler's word for a node in another zone
// than the pod's volume.
const volumeZoneReason = "didn't match PersistentVolume's node affinity"

// roomReasons are the scheduler's words for a pod a new node could take.
var roomReasons = []string{"Insufficient ", "Too many pods", "didn't match pod topology spread constraints", "didn't match pod anti-affinity rules", volumeZoneReason}

func (s *Simulation) grown(added []string) string {
	if len(added) == 0 {
		return ""
	}
	return fmt.Sprintf(" (the autoscaler added %d: %s)", len(added), strings.Join(added, ", "))
}

// settleScaled settles the cluster, then does what the Cluster Autoscaler
// does for the pods the scheduler left Pending for want of room (scaleUp),
// settling again after each round, for up to ten rounds. It returns the
// pods and shortfalls as they finally stand, and the nodes it added.
func (s *Simulation) settleScaled(ctx context.Context) ([]Pod, []shortfall, []string, error) {
	pods, short, err := s.settle(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var added []string
	for round := 0; round < 10; round++ {
		grew, err := s.scaleUp(ctx, pods)
		if err != nil {
			return nil, nil, nil, err
		}
		if len(grew) == 0 {
			break
		}
		added = append(added, grew...)
		if err := s.c.WaitNodesReady(ctx, s.healthy(), 2*time.Minute); err != nil {
			return nil, nil, nil, err
		}
		if pods, short, err = s.settle(ctx); err != nil {
			return nil, nil, nil, err
		}
	}
	return pods, short, added, nil
}

// scaleUp is one round of the autoscaler: for each pod Pending for want
// of room it adds a node, within the group's maximum, to a group whose
// nodes the pod may use (its nodeSelector matched by the group's labels,
// every NoSchedule and NoExecute taint tolerated), in the zone of the
// pod's volume if it has one, else in the group's zone with the fewest
// nodes; at most one node per group and zone. It returns the nodes it
// added. (The autoscaler also reads affinities and spread; the stacks
// select pools by label and taint, and a pod a new node does not help
// stays Pending and is reported.)
func (s *Simulation) scaleUp(ctx context.Context, pods []Pod) ([]string, error) {
	pending := map[string]bool{}
	for _, p := range Unscheduled(pods) {
		if slices.ContainsFunc(roomReasons, func(r string) bool { return strings.Contains(p.Reason, r) }) {
			pending[p.Namespace+"/"+p.Name] = true
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	views, err := s.podViews(ctx)
	if err != nil {
		return nil, err
	}
	grew := map[string]bool{}
	var added []string
	for _, p := range views {
		if !pending[p.Metadata.Namespace+"/"+p.Metadata.Name] {
			continue
		}
		zone, err := s.volumeZone(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, g := range s.st.Groups {
			if !g.accepts(p) || (zone != "" && !slices.Contains(g.Zones, zone)) {
				continue
			}
			z := zone
			if z == "" {
				z = s.emptiestZone(g)
			}
			if z == "" || s.down[z] || s.healthyIn(g, "") >= g.Max || grew[g.Name+"/"+z] {
				continue
			}
			n := g.NodeIn(z, s.nextIndex(g, z))
			if err := s.c.AddNode(ctx, n); err != nil {
				return nil, err
			}
			s.nodes = append(s.nodes, n)
			grew[g.Name+"/"+z] = true
			added = append(added, n.Name)
			break
		}
	}
	return added, nil
}

// accepts is whether a node of the group may take the pod: its labels
// match the pod's nodeSelector and the pod tolerates its taints.
func (g Group) accepts(p podView) bool {
	for k, v := range p.Spec.NodeSelector {
		if k == "topology.kubernetes.io/zone" {
			if !slices.Contains(g.Zones, v) {
				return false
			}
			continue
		}
		if g.Labels[k] != v && !(k == "kubernetes.io/os" && v == "linux") && !(k == "eks.amazonaws.com/capacityType" && v == g.CapacityType) {
			return false
		}
	}
	for _, t := range g.Taints {
		effect, _ := t["effect"].(string)
		if effect == "PreferNoSchedule" {
			continue
		}
		key, _ := t["key"].(string)
		value, _ := t["value"].(string)
		if !slices.ContainsFunc(p.Spec.Tolerations, func(tol struct{ Key, Operator, Value, Effect string }) bool {
			if tol.Effect != "" && tol.Effect != effect {
				return false
			}
			if tol.Operator == "Exists" {
				return tol.Key == "" || tol.Key == key
			}
			return tol.Key == key && tol.Value == value
		}) {
			return false
		}
	}
	return true
}

func (s *Simulation) emptiestZone(g Group) string {
	best, least := "", -1
	for _, z := range g.Zones {
		if s.down[z] {
			continue
		}
		if n := s.healthyIn(g, z); least < 0 || n < least {
			best, least = z, n
		}
	}
	return best
}

// volumeZone is the zone of the pod's bound volumes, if any.
func (s *Simulation) volumeZone(ctx context.Context, p podView) (string, error) {
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		var pvc struct {
			Spec struct {
				VolumeName string `json:"volumeName"`
			} `json:"spec"`
		}
		if err := s.c.Client().Get(ctx, "/api/v1/namespaces/"+p.Metadata.Namespace+"/persistentvolumeclaims/"+v.PersistentVolumeClaim.ClaimName, nil, &pvc); err != nil || pvc.Spec.VolumeName == "" {
			continue
		}
		var pv struct {
			Spec struct {
				NodeAffinity struct {
					Required struct {
						NodeSelectorTerms []struct {
							MatchExpressions []struct {
								Key    string   `json:"key"`
								Values []string `json:"values"`
							} `json:"matchExpressions"`
						} `json:"nodeSelectorTerms"`
					} `json:"required"`
				} `json:"nodeAffinity"`
			} `json:"spec"`
		}
		if err := s.c.Client().Get(ctx, "/api/v1/persistentvolumes/"+pvc.Spec.VolumeName, nil, &pv); err != nil {
			return "", err
		}
		for _, t := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
			for _, e := range t.MatchExpressions {
				if e.Key == "topology.kubernetes.io/zone" && len(e.Values) == 1 {
					return e.Values[0], nil
				}
			}
		}
	}
	return "", nil
}

// workloadsPerGroup says which workloads' pods (DaemonSets aside) each
// node group runs: where the controllers went (the autoscaler on the
// system pool, the k8s review's F15) is read here.
func (s *Simulation) workloadsPerGroup(ctx context.Context) ([]string, error) {
	views, err := s.podViews(ctx)
	if err != nil {
		return nil, err
	}
	groupOf := map[string]string{}
	for _, n := range s.nodes {
		groupOf[n.Name] = n.Labels["eks.amazonaws.com/nodegroup"]
	}
	per := map[string]map[string]int{}
	for _, p := range views {
		if p.Spec.NodeName == "" || ownedBy(p, "DaemonSet") {
			continue
		}
		g := groupOf[p.Spec.NodeName]
		if per[g] == nil {
			per[g] = map[string]int{}
		}
		per[g][p.Metadata.Namespace+"/"+workloadName(p)]++
	}
	var out []string
	for _, g := range slices.Sorted(maps.Keys(per)) {
		var ws []string
		for _, w := range slices.Sorted(maps.Keys(per[g])) {
			ws = append(ws, fmt.Sprintf("%s ×%d", w, per[g][w]))
		}
		out = append(out, fmt.Sprintf("on %s: %s", g, strings.Join(ws, ", ")))
	}
	return out, nil
}

// workloadName is the pod's owning workload: a ReplicaSet's Deployment
// (its name less the template hash), else the owner, else the pod.
func workloadName(p podView) string {
	for _, o := range p.Metadata.OwnerReferences {
		if o.Kind == "ReplicaSet" {
			if i := strings.LastIndex(o.Name, "-"); i > 0 {
				return o.Name[:i]
			}
		}
		return o.Name
	}
	return p.Metadata.Name
}

// customResources are the applied objects of kinds the stack's CRDs serve.
func (s *Simulation) customResources() []string {
	kinds := map[string]bool{}
	for _, crd := range s.st.CRDs {
		group, _ := dig(crd.Body, "spec", "group").(string)
		kind, _ := dig(crd.Body, "spec", "names", "kind").(string)
		kinds[group+"/"+kind] = true
	}
	var out []string
	for _, o := range s.st.Objects {
		group, _, _ := strings.Cut(o.APIVersion(), "/")
		if kinds[group+"/"+o.Kind()] {
			out = append(out, o.ID())
		}
	}
	sort.Strings(out)
	return out
}
