// Command e2e runs the program under the real Pulumi engine, end to end,
// per stack: the Pulumi CLI of .pulumi.version driven through the
// Automation API (an inline program: infra.Program, with the stack's
// file), the Kubernetes and random providers built from their sources,
// the policy pack as a binary, a file backend, and the simulated cluster
// of the placement check (the real API server, scheduler and controllers
// over KWOK nodes shaped like the stack's node groups) as the EKS
// cluster. Helm charts come from a chart repository served on 127.0.0.1
// from the chart mirror (cluster.chartRepository).
//
// Simulated, and reported so: AWS (cmd/pulumi-resource-aws answers from
// internal/simaws); the pods (KWOK marks them running; nothing runs
// them); admission webhooks (their servers would be KWOK pods, so the API
// server runs without webhook admission; their configurations are
// created).
//
//	go run ./cmd/e2e --stack staging --stack production
//
// It needs the tool cache (go run ./cmd/buildtools) and the synthesizer's
// output of each stack (build/synth/<stack>, for the node groups).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/apicheck"
	"github.com/scrolluniversity/platform/internal/charts"
	"github.com/scrolluniversity/platform/internal/simcluster"
	"github.com/scrolluniversity/platform/internal/stackfiles"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/internal/toolcache"
	"github.com/scrolluniversity/platform/internal/updateorder"
)

type stackList []string

func (s *stackList) String() string     { return strings.Join(*s, ",") }
func (s *stackList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var stacks stackList
	flag.Var(&stacks, "stack", "a stack to run (repeatable; default every stack file)")
	out := flag.String("out", filepath.Join("build", "e2e"), "where the report and the logs go")
	keep := flag.Bool("keep", false, "keep the work folder (state, logs, the cluster's data) after the run")
	flag.Parse()
	if len(stacks) == 0 {
		stacks = stackfiles.Names(".")
	}
	if err := run(stacks, *out, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

// tools are the binaries the run needs.
type tools struct {
	cli, kubernetes, random, aws, policy, chartrender string
	sim                                               simcluster.Binaries
}

func buildTools(work string) (tools, error) {
	var t tools
	cli, err := toolcache.PulumiCLI(".").Ensure(os.Stderr)
	if err != nil {
		return t, err
	}
	t.cli = cli["pulumi"]
	provs := toolcache.PulumiProviders()
	if t.kubernetes, err = provs[0].Ensure(".", os.Stderr); err != nil {
		return t, err
	}
	if t.random, err = provs[1].Ensure(".", os.Stderr); err != nil {
		return t, err
	}
	kube, err := apicheck.Servers(filepath.Join("tools", "kube")).Ensure(os.Stderr)
	if err != nil {
		return t, err
	}
	kwok, err := toolcache.KWOK(".").Ensure(os.Stderr)
	if err != nil {
		return t, err
	}
	t.sim = simcluster.BinariesOf(kube, kwok)
	ch, err := toolcache.Charts(".").Ensure(os.Stderr)
	if err != nil {
		return t, err
	}
	t.chartrender = ch["chartrender"]
	// Ours, built for the run: the simulated AWS provider and the policy
	// pack as a binary (the Go language host is not to be had here; the
	// CLI runs a pack with no language plugin as the analyzer plugin
	// policy-<runtime>).
	t.aws = filepath.Join(work, "plugins", "aws", "pulumi-resource-aws")
	t.policy = filepath.Join(work, "plugins", "policy", "scrolluniversity-policy")
	for bin, pkg := range map[string]string{t.aws: "./cmd/pulumi-resource-aws", t.policy: "./policy"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return t, fmt.Errorf("building %s: %w", pkg, err)
		}
	}
	return t, nil
}

func run(stacks []string, out string, keep bool) error {
	work, err := os.MkdirTemp("", "e2e-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintln(os.Stderr, "e2e: work folder", work)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	t, err := buildTools(work)
	if err != nil {
		return err
	}
	repo, stopRepo, err := serveCharts(work, t.chartrender, stacks)
	if err != nil {
		return err
	}
	defer stopRepo()

	var reports []stackReport
	var failed []string
	for _, stack := range stacks {
		r, err := runStack(work, out, stack, repo, t)
		reports = append(reports, r)
		if err != nil {
			failed = append(failed, fmt.Sprintf("stack %s: %v", stack, err))
		}
	}
	if err := writeReport(out, reports); err != nil {
		return err
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	return nil
}

// serveCharts serves the charts the stacks install as a Helm chart
// repository on 127.0.0.1: each release the synthesizer rendered
// (build/synth/<stack>/charts/releases.json), its archive from the chart
// cache that the synthesizer filled (from the mirror or the chart's own
// repository, as charts.Source does), and an index.yaml that Helm's own
// indexer (chartrender index) writes for the address.
func serveCharts(work, chartrender string, stacks []string) (string, func(), error) {
	dir := filepath.Join(work, "charts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	cache, err := charts.DefaultCache()
	if err != nil {
		return "", nil, err
	}
	src := charts.Source{Cache: cache, Mirror: os.Getenv(charts.MirrorEnv), Tool: chartrender}
	for _, stack := range stacks {
		releases, err := charts.ReadReleaseIndex(filepath.Join("build", "synth", stack, "charts"))
		if err != nil {
			return "", nil, fmt.Errorf("stack %s: %w", stack, err)
		}
		for _, rel := range releases {
			archive, err := src.Archive(rel.Release())
			if err != nil {
				return "", nil, err
			}
			b, err := os.ReadFile(archive)
			if err != nil {
				return "", nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(archive)), b, 0o644); err != nil {
				return "", nil, err
			}
		}
	}
	// The Gateway API's standard CRDs, as its release's standard-install.yaml
	// bundles them, from the module of the same release.
	if err := gatewayCRDs(dir); err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	url := "http://" + l.Addr().String()
	idx := exec.Command(chartrender, "index", "--dir", dir, "--url", url)
	idx.Stderr = os.Stderr
	if err := idx.Run(); err != nil {
		l.Close()
		return "", nil, fmt.Errorf("indexing the charts: %w", err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return url, func() { srv.Close() }, nil
}

func gatewayCRDs(dir string) error {
	for _, src := range apicheck.CRDSources {
		if src.Module != "sigs.k8s.io/gateway-api" {
			continue
		}
		files, err := apicheck.CRDFiles([]apicheck.CRDSource{src})
		if err != nil {
			return err
		}
		var all []string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			all = append(all, string(b))
		}
		return os.WriteFile(filepath.Join(dir, "gateway-api-"+src.Version+"-standard-install.yaml"), []byte(strings.Join(all, "\n---\n")), 0o644)
	}
	return errors.New("apicheck.CRDSources has no Gateway API release")
}

// step is one engine operation's outcome.
type step struct {
	Name    string         `json:"name"`
	Seconds float64        `json:"seconds"`
	Changes map[string]int `json:"changes"`
	// Detail is what the step showed besides its counts (a planted
	// failure's message).
	Detail   string   `json:"detail,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

type stackReport struct {
	Stack string `json:"stack"`
	Steps []step `json:"steps"`
	// Simulated says what in this run is not the real thing.
	Simulated []string `json:"simulated"`
}

var simulated = []string{
	"AWS: every aws resource and function answered by cmd/pulumi-resource-aws from internal/simaws (nothing created; changes are updates in place; refresh reads back the last update)",
	"the EKS cluster: the simulated cluster (real kube-apiserver, etcd, kube-scheduler, kube-controller-manager; KWOK nodes shaped like the stack's node groups; an EBS-like volume provisioner)",
	"pods: KWOK marks them Running and Ready and completes Jobs' pods; no container runs",
	"admission webhooks: off in the API server (their servers would be KWOK pods); their configurations are created",
	"the Kubernetes provider's schema: v4.25.0's schema.json labelled 4.32.0 (the v4.32.0 source lacks the generated file; the provider reads it for GetSchema only)",
}

func runStack(work, out, stack, repo string, t tools) (r stackReport, err error) {
	r = stackReport{Stack: stack, Simulated: simulated}
	ctx := context.Background()
	dir := filepath.Join(work, stack)
	if err := os.MkdirAll(filepath.Join(dir, "backend"), 0o755); err != nil {
		return r, err
	}
	log, err := os.Create(filepath.Join(out, stack+".log"))
	if err != nil {
		return r, err
	}
	defer log.Close()

	// The cluster, with the stack's node groups at their desired size.
	st, err := simcluster.LoadStack(filepath.Join("build", "synth"), stack)
	if err != nil {
		return r, err
	}
	c, err := simcluster.Start(ctx, t.sim, "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook")
	if err != nil {
		return r, err
	}
	defer c.Stop()
	vctx, stopVolumes := context.WithCancel(ctx)
	defer stopVolumes()
	go c.ProvisionVolumes(vctx)
	nodes := 0
	for _, g := range st.Groups {
		for _, n := range g.Nodes(max(g.Desired, 1)) {
			if err := c.AddNode(ctx, n); err != nil {
				return r, err
			}
			nodes++
		}
	}
	if err := c.WaitNodesReady(ctx, nodes, 2*time.Minute); err != nil {
		return r, err
	}
	ca, err := os.ReadFile(c.CertFile())
	if err != nil {
		return r, err
	}

	// `aws eks get-token`, as the stack's kubeconfig runs it: the
	// cluster's token.
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return r, err
	}
	// The policy pack as a binary: the CLI launches an executable given to
	// --policy-pack as the analyzer plugin (pkg/resource/plugin's
	// NewPolicyAnalyzer), reading the PulumiPolicy.yaml beside it; the Go
	// language host, which would build the pack, is not to be had here.
	pp, err := os.ReadFile(filepath.Join("policy", "PulumiPolicy.yaml"))
	if err != nil {
		return r, err
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(t.policy), "PulumiPolicy.yaml"), pp, 0o644); err != nil {
		return r, err
	}
	cred := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{},"status":{"token":%q}}`, c.Token())
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte("#!/bin/sh\n# simulated: the simulated cluster's token for `aws eks get-token`\ncat <<'EOF'\n"+cred+"\nEOF\n"), 0o755); err != nil {
		return r, err
	}

	sf, err := stackfiles.ReadOne(".", stack)
	if err != nil {
		return r, err
	}
	// The stack's config as the program reads it: which keys are secret
	// (Pulumi.yaml's, and any the stack file holds encrypted).
	loaded, err := synth.LoadStack(".", stack)
	if err != nil {
		return r, err
	}
	text, err := stackFile(stack)
	if err != nil {
		return r, err
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), text, 0o644); err != nil {
		return r, err
	}
	proj, err := workspace.LoadProject("Pulumi.yaml")
	if err != nil {
		return r, err
	}
	proj.Backend = &workspace.ProjectBackend{URL: "file://" + filepath.Join(dir, "backend")}
	proj.Plugins = &workspace.Plugins{
		Providers: []workspace.PluginOptions{
			{Name: "aws", Version: "6.83.4", Path: filepath.Dir(t.aws)},
			{Name: "kubernetes", Version: toolcache.KubernetesProviderVersion, Path: filepath.Dir(t.kubernetes)},
			{Name: "random", Version: toolcache.RandomProviderVersion, Path: filepath.Dir(t.random)},
		},
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: cliRoot(dir, t.cli)})
	if err != nil {
		return r, err
	}
	env := map[string]string{
		"PULUMI_CONFIG_PASSPHRASE":                    "e2e-simulated",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PATH":                bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"SIMAWS_EKS_ENDPOINT": c.URL,
		"SIMAWS_EKS_CA":       base64.StdEncoding.EncodeToString(ca),
		"SIMAWS_STATE":        filepath.Join(dir, "simaws.json"),
		"SIMAWS_DELETED":      filepath.Join(dir, "simaws-deleted"),
		"SIMAWS_ACCOUNT_ID":   simulatedAccount,
	}
	s, err := auto.UpsertStackInlineSource(ctx, stack, proj.Name.String(), infra.Program,
		auto.WorkDir(dir), auto.Project(*proj), auto.Pulumi(cmd), auto.PulumiHome(filepath.Join(dir, "home")),
		auto.EnvVars(env), auto.SecretsProvider("passphrase"))
	if err != nil {
		return r, err
	}
	// The stack's secrets: the synthesizer's stand-ins, as secrets.
	for _, key := range loaded.SecretKeys {
		if err := s.SetConfig(ctx, key, auto.ConfigValue{Value: synth.StandIn(key), Secret: true}); err != nil {
			return r, err
		}
	}
	// The charts from the local repository, set as a user of a private
	// mirror sets it.
	if err := s.SetConfigWithOptions(ctx, "scrolluniversity:cluster.chartRepository", auto.ConfigValue{Value: repo}, &auto.ConfigOptions{Path: true}); err != nil {
		return r, err
	}
	var packConfigs []string
	if sf.PolicyConfig != "" {
		packConfigs = []string{absPath(sf.PolicyConfig)}
	}
	previewOpts := func(extra ...optpreview.Option) []optpreview.Option {
		o := []optpreview.Option{optpreview.ProgressStreams(log), optpreview.ErrorProgressStreams(log), optpreview.PolicyPacks(t.policy), optpreview.PolicyPackConfigs(packConfigs...), optpreview.Diff()}
		return append(o, extra...)
	}
	upOpts := func() []optup.Option {
		return []optup.Option{optup.ProgressStreams(log), optup.ErrorProgressStreams(log), optup.PolicyPacks(t.policy), optup.PolicyPackConfigs(packConfigs...)}
	}
	recordDetail := func(name string, start time.Time, changes map[string]int, detail string, problems ...string) {
		r.Steps = append(r.Steps, step{Name: name, Seconds: time.Since(start).Seconds(), Changes: changes, Detail: detail, Problems: problems})
		fmt.Fprintf(os.Stderr, "e2e %s: %-36s %6.1fs %v %s %s\n", stack, name, time.Since(start).Seconds(), changes, detail, strings.Join(problems, "; "))
	}
	record := func(name string, start time.Time, changes map[string]int, problems ...string) {
		recordDetail(name, start, changes, "", problems...)
	}
	fail := func(name string, start time.Time, err error) (stackReport, error) {
		record(name, start, nil, err.Error())
		return r, fmt.Errorf("%s: %w (log: %s)", name, err, log.Name())
	}

	// 1. Preview of the empty stack, then up.
	start := time.Now()
	p, err := s.Preview(ctx, previewOpts()...)
	if err != nil {
		return fail("preview (empty stack)", start, err)
	}
	record("preview (empty stack)", start, opCounts(p.ChangeSummary))
	start = time.Now()
	upEvents := make(chan events.EngineEvent)
	var steps []updateorder.Step
	upDone := make(chan struct{})
	go func() {
		for e := range upEvents {
			switch {
			case e.ResourcePreEvent != nil:
				steps = append(steps, updateorder.Step{Started: true, URN: e.ResourcePreEvent.Metadata.URN})
			case e.ResOutputsEvent != nil:
				steps = append(steps, updateorder.Step{URN: e.ResOutputsEvent.Metadata.URN})
			}
		}
		close(upDone)
	}()
	up, err := s.Up(ctx, append(upOpts(), optup.EventStreams(upEvents))...)
	<-upDone
	if err != nil {
		return fail("up", start, err)
	}
	// The order the engine ran the CDN's switch in (with a CDN).
	order, problems := updateorder.CDN(steps)
	recordDetail("up", start, upCounts(up.Summary), order, problems...)
	if len(problems) > 0 {
		return r, fmt.Errorf("up: %v", problems)
	}

	// 2. Nothing to change.
	start = time.Now()
	p, err = s.Preview(ctx, previewOpts(optpreview.ExpectNoChanges())...)
	if err != nil {
		return fail("preview (no changes)", start, err)
	}
	record("preview (no changes)", start, opCounts(p.ChangeSummary), changedCounts(opCounts(p.ChangeSummary))...)

	// 3. A change users make: the backend's image tag. The preview shows
	// the app tier's backend objects and nothing else; the up applies it.
	if err := s.SetConfigWithOptions(ctx, "scrolluniversity:app.backend.imageTag", auto.ConfigValue{Value: "1.0.1"}, &auto.ConfigOptions{Path: true}); err != nil {
		return r, err
	}
	start = time.Now()
	evs := make(chan events.EngineEvent)
	var touched []string
	done := make(chan struct{})
	go func() {
		for e := range evs {
			if e.ResourcePreEvent != nil && e.ResourcePreEvent.Metadata.Op != apitype.OpSame && e.ResourcePreEvent.Metadata.Type != "pulumi:pulumi:Stack" {
				touched = append(touched, string(e.ResourcePreEvent.Metadata.Op)+" "+e.ResourcePreEvent.Metadata.URN)
			}
		}
		close(done)
	}()
	p, err = s.Preview(ctx, previewOpts(optpreview.EventStreams(evs))...)
	<-done
	if err != nil {
		return fail("preview (image tag)", start, err)
	}
	var stray, names []string
	rolled := false
	for _, t := range touched {
		op, urn, _ := strings.Cut(t, " ")
		names = append(names, op+" "+urn[strings.LastIndex(urn, "::")+2:])
		// The new image rolls the backend's Deployment out in place.
		if op == string(apitype.OpUpdate) && strings.HasSuffix(urn, "kubernetes:apps/v1:Deployment::backend") {
			rolled = true
		}
		// The backend's objects (its migration Job is named for the
		// release), and the backups' ConfigMap, which holds the whole
		// stack config (settings.json, what app-backup saves) and is
		// immutable: any config change replaces it, by design.
		if !strings.Contains(urn, "backend") && !strings.Contains(urn, "migrate") && !strings.HasSuffix(urn, "kubernetes:core/v1:ConfigMap::backup-scripts") {
			stray = append(stray, t)
		}
	}
	if !rolled {
		stray = append(stray, "the preview does not update the backend's Deployment for a new image tag")
	}
	slices.Sort(names)
	recordDetail("preview (image tag)", start, opCounts(p.ChangeSummary), strings.Join(slices.Compact(names), ", "), stray...)
	if len(stray) > 0 {
		return r, fmt.Errorf("preview (image tag): %v", stray)
	}
	start = time.Now()
	up, err = s.Up(ctx, upOpts()...)
	if err != nil {
		return fail("up (image tag)", start, err)
	}
	record("up (image tag)", start, upCounts(up.Summary))

	// The HPA's scale, by hand through the scale subresource: the next up
	// keeps it (replicas are the HPA's: ignoreChanges).
	deploy := "/apis/apps/v1/namespaces/scrolluniversity/deployments/backend"
	if err := c.Client().MergePatch(ctx, deploy+"/scale", map[string]any{"spec": map[string]any{"replicas": 3}}); err != nil {
		return r, fmt.Errorf("scaling the backend: %w", err)
	}
	start = time.Now()
	up, err = s.Up(ctx, upOpts()...)
	if err != nil {
		return fail("up (after the HPA's scale)", start, err)
	}
	var d struct {
		Spec struct{ Replicas int } `json:"spec"`
	}
	if err := c.Client().Get(ctx, deploy, nil, &d); err != nil {
		return r, err
	}
	var kept []string
	if d.Spec.Replicas != 3 {
		kept = append(kept, fmt.Sprintf("the backend has %d replicas after the up, not the 3 it was scaled to", d.Spec.Replicas))
	}
	record("up (after the HPA's scale)", start, upCounts(up.Summary), kept...)
	if len(kept) > 0 {
		return r, errors.New(kept[0])
	}

	// Planted failures: the program as it is, with one value changed by a
	// resource transform, as a user's mistake would change it.
	//
	// A custom resource with a value its CRD's schema refuses: the
	// preview fails with the API server's message (the provider's preview
	// of an update is a server-side dry run).
	start = time.Now()
	s.Workspace().SetProgram(plant("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "httproute-app", []string{"spec", "hostnames"}, pulumi.Array{pulumi.String("Not_A_Hostname")}))
	_, err = s.Preview(ctx, previewOpts()...)
	msg, problem := refused(err, "spec.hostnames[0]", "should match")
	recordDetail("planted: CR field refused", start, nil, msg, problem...)
	if len(problem) > 0 {
		return r, fmt.Errorf("planted CR field: %v", problem)
	}
	// A Helm value the chart's values.schema.json refuses (external-dns's
	// policy is one of three). The provider's Release does not render the
	// chart with its values at preview (helm_release.go: Check only loads
	// the chart, Diff compares inputs, Update returns at a preview before
	// helmUpdate), so the preview passes; the up fails with Helm's
	// message before the release is touched (helmUpdate lints the chart
	// with the values first), and the state is as before. The synthesizer
	// renders every release with its values before any preview (in CI and
	// cmd/synth), which is where a pull request meets this mistake first.
	start = time.Now()
	s.Workspace().SetProgram(plant("kubernetes:helm.sh/v3:Release", "external-dns", []string{"values", "policy"}, pulumi.String("everything")))
	p, err = s.Preview(ctx, previewOpts()...)
	if err != nil {
		return fail("planted: Helm value (preview)", start, err)
	}
	recordDetail("planted: Helm value (preview)", start, opCounts(p.ChangeSummary), "passes: the provider does not render a Release's values at preview")
	start = time.Now()
	_, err = s.Up(ctx, upOpts()...)
	msg, problem = refused(err, "values don't meet the specifications of the schema", "at '/policy'", "must be one of")
	recordDetail("planted: Helm value refused (up)", start, nil, msg, problem...)
	if len(problem) > 0 {
		return r, fmt.Errorf("planted Helm value: %v", problem)
	}
	// The program as it is again: nothing was changed by either.
	s.Workspace().SetProgram(infra.Program)
	start = time.Now()
	p, err = s.Preview(ctx, previewOpts(optpreview.ExpectNoChanges())...)
	if err != nil {
		return fail("preview (after the planted failures)", start, err)
	}
	record("preview (after the planted failures)", start, opCounts(p.ChangeSummary))

	// 4. Refresh: no drift.
	start = time.Now()
	ref, err := s.Refresh(ctx, optrefresh.ProgressStreams(log), optrefresh.ErrorProgressStreams(log))
	if err != nil {
		return fail("refresh", start, err)
	}
	drift := changedCounts(upCounts(ref.Summary))
	record("refresh", start, upCounts(ref.Summary), drift...)
	if len(drift) > 0 {
		return r, fmt.Errorf("refresh: drift %v", drift)
	}

	// 5. Destroy: everything goes, unless the stack guards its data, where
	// the engine refuses for the protected resources; what the program
	// retains on delete (keys, the audit trail's bucket) stays in AWS.
	before, err := stateResources(ctx, s)
	if err != nil {
		return r, err
	}
	guardedURNs, retained := guardsOf(before)
	// The destroy's preview (what `pulumi destroy` shows before it asks):
	// of a guarded stack it is refused for the protected resources before
	// anything is deleted.
	start = time.Now()
	pd, err := s.PreviewDestroy(ctx, optdestroy.ProgressStreams(log), optdestroy.ErrorProgressStreams(log))
	switch {
	case sf.Guarded:
		msg, problem := refused(err, "Preview failed: resource", "cannot be deleted", "because it is protected")
		recordDetail("preview of the destroy (guarded: refused)", start, nil, msg, problem...)
		if len(problem) > 0 {
			return r, fmt.Errorf("preview of the destroy: %v", problem)
		}
	case err != nil:
		return fail("preview of the destroy", start, err)
	default:
		record("preview of the destroy", start, opCounts(pd.ChangeSummary))
	}
	start = time.Now()
	des, err := s.Destroy(ctx, optdestroy.ProgressStreams(log), optdestroy.ErrorProgressStreams(log))
	// What the destroy asked AWS to delete, one URN a line.
	deletedLog, _ := os.ReadFile(env["SIMAWS_DELETED"])
	deleted := strings.FieldsFunc(string(deletedLog), func(r rune) bool { return r == '\n' })
	switch {
	case sf.Guarded && err == nil:
		record("destroy (guarded: refused)", start, upCounts(des.Summary), "the destroy of a guarded stack went through")
		return r, errors.New("destroy of a guarded stack went through")
	case sf.Guarded:
		if !strings.Contains(err.Error(), "protect") {
			return fail("destroy (guarded: refused)", start, err)
		}
		// What the stack guards is still there: in the state, and never
		// asked of AWS to delete. A destroy without its preview (`pulumi
		// destroy --yes --skip-preview`, what the Automation API runs)
		// deletes everything not protected before it reaches what is; the
		// preview above refused before deleting anything.
		after, err := stateURNs(ctx, s)
		if err != nil {
			return r, err
		}
		var problems []string
		for _, urn := range guardedURNs {
			if !slices.Contains(after, urn) || slices.Contains(deleted, urn) {
				problems = append(problems, "protected, yet deleted: "+urn)
			}
		}
		if len(guardedURNs) == 0 {
			problems = append(problems, "no protected resource in a guarded stack")
		}
		recordDetail("destroy (guarded: refused)", start, nil, fmt.Sprintf("%d protected resources kept; %d AWS resources deleted before the refusal", len(guardedURNs), len(deleted)), problems...)
		if len(problems) > 0 {
			return r, fmt.Errorf("destroy: %v", problems)
		}
	case err != nil:
		return fail("destroy", start, err)
	default:
		leftover, err := stateURNs(ctx, s)
		if err != nil {
			return r, err
		}
		// Retained: out of the state, and never asked of AWS to delete.
		var problems []string
		for _, urn := range leftover {
			problems = append(problems, "left in the state: "+urn)
		}
		for _, urn := range retained {
			if slices.Contains(deleted, urn) {
				problems = append(problems, "deleted, though retained on delete: "+urn)
			}
		}
		if len(retained) == 0 {
			problems = append(problems, "no resource retained on delete: the keys and the audit trail's bucket should be")
		}
		recordDetail("destroy", start, upCounts(des.Summary), fmt.Sprintf("%d AWS resources deleted; %d retained on delete, kept", len(deleted), len(retained)), problems...)
		if len(problems) > 0 {
			return r, fmt.Errorf("destroy: %v", problems)
		}
	}
	return r, nil
}

// stateResource is one resource of the stack's state, with its guards.
type stateResource struct {
	URN            string `json:"urn"`
	Protect        bool   `json:"protect"`
	RetainOnDelete bool   `json:"retainOnDelete"`
}

// stateResources are the resources of the stack's state.
func stateResources(ctx context.Context, s auto.Stack) ([]stateResource, error) {
	state, err := s.Export(ctx)
	if err != nil {
		return nil, err
	}
	var dep struct {
		Resources []stateResource `json:"resources"`
	}
	if err := json.Unmarshal(state.Deployment, &dep); err != nil {
		return nil, err
	}
	return dep.Resources, nil
}

// stateURNs are the URNs of the state's resources.
func stateURNs(ctx context.Context, s auto.Stack) ([]string, error) {
	res, err := stateResources(ctx, s)
	var out []string
	for _, r := range res {
		out = append(out, r.URN)
	}
	return out, err
}

// guardsOf are the URNs of the resources that are protected, and of those
// retained on delete.
func guardsOf(res []stateResource) (protected, retained []string) {
	for _, r := range res {
		if r.Protect {
			protected = append(protected, r.URN)
		}
		if r.RetainOnDelete {
			retained = append(retained, r.URN)
		}
	}
	return protected, retained
}

// plant is the program with the value at path of the resource of type
// typ and name set to value, by a resource transform.
func plant(typ, name string, path []string, value pulumi.Input) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		err := ctx.RegisterResourceTransform(func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
			if a.Type != typ || a.Name != name {
				return nil
			}
			return &pulumi.ResourceTransformResult{Props: setPath(a.Props, path, value), Opts: a.Opts}
		})
		if err != nil {
			return err
		}
		return infra.Program(ctx)
	}
}

// setPath is m with the value at path set, the maps on the way copied.
func setPath(m pulumi.Map, path []string, value pulumi.Input) pulumi.Map {
	out := pulumi.Map{}
	maps.Copy(out, m)
	if len(path) == 1 {
		out[path[0]] = value
		return out
	}
	inner, _ := m[path[0]].(pulumi.Map)
	out[path[0]] = setPath(inner, path[1:], value)
	return out
}

// refused is the provider's message in err: the first run of at most four
// lines that starts with want[0] and holds every one of want; or the
// problem: no error, or not that one.
func refused(err error, want ...string) (string, []string) {
	if err == nil {
		return "", []string{"went through; want it refused with " + strings.Join(want, " ... ")}
	}
	lines := strings.Split(err.Error(), "\n")
	for i, line := range lines {
		if !strings.Contains(line, want[0]) {
			continue
		}
		for j := i; j < min(i+4, len(lines)); j++ {
			msg := strings.Join(trimAll(lines[i:j+1]), " ")
			if containsAll(msg, want) {
				return msg, nil
			}
		}
	}
	return "", []string{fmt.Sprintf("refused, but not with %q: %.2000s", strings.Join(want, " ... "), err)}
}

func trimAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// changedCounts are the operations other than same in an operation's
// counts (opCounts, upCounts).
func changedCounts(c map[string]int) []string {
	var out []string
	for op, n := range c {
		if op != string(apitype.OpSame) && n > 0 {
			out = append(out, fmt.Sprintf("%d %s", n, op))
		}
	}
	slices.Sort(out)
	return out
}

func opCounts(summary map[apitype.OpType]int) map[string]int {
	out := map[string]int{}
	for op, n := range summary {
		out[string(op)] = n
	}
	return out
}

func upCounts(s auto.UpdateSummary) map[string]int {
	if s.ResourceChanges == nil {
		return nil
	}
	return maps.Clone(*s.ResourceChanges)
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// cliRoot is a folder with bin/pulumi, as the Automation API looks for it.
func cliRoot(dir, cli string) string {
	root := filepath.Join(dir, "cli")
	_ = os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	_ = os.Symlink(cli, filepath.Join(root, "bin", "pulumi"))
	return root
}

// simulatedAccount is the account the run's simulated AWS answers for: not
// the documentation's example, which `pulumi up` refuses in role ARNs.
const simulatedAccount = "210987654321"

// stackFile is the stack's file as the run deploys it: without its
// secrets (stackfiles.WithoutSecrets; the run sets stand-ins), and with
// the placeholders `pulumi up` refuses (infra/config's placeholder check)
// replaced by simulated values of the same shape.
func stackFile(stack string) ([]byte, error) {
	file := "Pulumi." + stack + ".yaml"
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	b, _, err = stackfiles.WithoutSecrets(file, b)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(b), config.ExampleAccountID, simulatedAccount)
	text = strings.ReplaceAll(text, "Z0123456789", "Z0SIMULATED")
	text = strings.ReplaceAll(text, "EXAMPLE", "SIMULAT")
	return []byte(text), nil
}

func writeReport(out string, reports []stackReport) error {
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "report.json"), b, 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintln(&md, "# End-to-end run: the real Pulumi engine")
	for _, r := range reports {
		fmt.Fprintf(&md, "\n## %s\n\n| step | seconds | changes | detail | problems |\n|---|---|---|---|---|\n", r.Stack)
		for _, s := range r.Steps {
			fmt.Fprintf(&md, "| %s | %.1f | %v | %s | %s |\n", s.Name, s.Seconds, s.Changes, strings.ReplaceAll(s.Detail, "|", "\\|"), strings.Join(s.Problems, "; "))
		}
	}
	if len(reports) > 0 {
		fmt.Fprintln(&md, "\nSimulated:")
		for _, s := range reports[0].Simulated {
			fmt.Fprintln(&md, "- "+s)
		}
	}
	return os.WriteFile(filepath.Join(out, "report.md"), []byte(md.String()), 0o644)
}
