package tests

// What the charts install and which packets get through: each stack's Helm
// releases rendered with their pinned charts and exactly the program's
// values (internal/charts), and the flow check (internal/flows) over every
// NetworkPolicy, ours and the charts'.

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/scrolluniversity/platform/internal/charts"
	"github.com/scrolluniversity/platform/internal/flows"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/internal/toolcache"
	"github.com/scrolluniversity/platform/policy/rules"
)

var (
	renderedMu sync.Mutex
	rendered   = map[string]*synth.Result{}
)

// renderedStack is a stack's result with its charts rendered (from the
// cache, the mirror in $SCROLLUNIVERSITY_CHART_MIRROR, or the network) and
// its runtime objects derived. It works on a copy: the shared result stays
// as the program registered it. A chart that cannot be had skips the test,
// or fails it under CHARTS_REQUIRED=1 (.ci/run).
func renderedStack(t *testing.T, name string) *synth.Result {
	t.Helper()
	res := synthesize(t, name)
	renderedMu.Lock()
	defer renderedMu.Unlock()
	if r, ok := rendered[name]; ok {
		return r
	}
	toolcache.Charts(repoRoot).ForTest(t, "chartrender", "CHARTS_REQUIRED")
	c := *res
	if err := synth.RenderCharts(&c, synth.ChartOptions{Dir: repoRoot, Mirror: os.Getenv(charts.MirrorEnv)}); err != nil {
		t.Fatal(err)
	}
	if err := synth.Unrendered(&c); err != nil {
		toolcache.Missing(t, "CHARTS_REQUIRED", err.Error(), "set "+charts.MirrorEnv+" to a folder of the pinned charts, or go online")
	}
	if err := synth.DeriveRuntime(&c); err != nil {
		t.Fatal(err)
	}
	rendered[name] = &c
	return &c
}

func netpolcheck(t *testing.T) string {
	t.Helper()
	return toolcache.Netpol(repoRoot).ForTest(t, "netpolcheck", "NETPOL_REQUIRED")["netpolcheck"]
}

// Every release renders, with the workloads its chart is installed for,
// and every namespaced object it renders goes to a namespace the program
// declares (or one EKS has): no chart creates a namespace of its own.
func TestEveryReleaseRendersIntoDeclaredNamespaces(t *testing.T) {
	for _, name := range stacks {
		t.Run(name, func(t *testing.T) {
			res := renderedStack(t, name)
			declared := map[string]bool{"kube-system": true, "default": true}
			for _, r := range res.ByType("kubernetes:core/v1:Namespace") {
				declared[path(r.Plain(), "metadata", "name").(string)] = true
			}
			releases := map[string]bool{}
			for _, r := range res.ByType(typeRelease) {
				releases[path(r.Plain(), "name").(string)] = true
			}
			workloads := map[string][]string{}
			for _, c := range res.Charts {
				delete(releases, c.Release.Name)
				if !declared[c.Release.Namespace] {
					t.Errorf("release %s installs into %s, which the program does not declare", c.Release.Name, c.Release.Namespace)
				}
			}
			if len(releases) > 0 {
				t.Errorf("releases not rendered: %v", releases)
			}
			for _, o := range synth.NamespacedObjects(res) {
				kind := o.Object["kind"].(string)
				if kind == "Namespace" {
					t.Errorf("release %s creates namespace %v", o.Release, path(o.Object, "metadata", "name"))
				}
				if ns, _ := path(o.Object, "metadata", "namespace").(string); ns != "" && !declared[ns] {
					t.Errorf("release %s: %s goes to namespace %s, which the program does not declare", o.Release, synth.Identity(o.Object), ns)
				}
				if slices.Contains([]string{"Deployment", "StatefulSet", "DaemonSet"}, kind) {
					workloads[o.Release] = append(workloads[o.Release], synth.Identity(o.Object))
				}
			}
			for _, release := range []string{"aws-load-balancer-controller", "cert-manager", "cluster-autoscaler", "eck-operator", "external-dns", "kube-prometheus-stack", "nginx-gateway-fabric"} {
				if len(workloads[release]) == 0 {
					t.Errorf("release %s renders no workload", release)
				}
			}
		})
	}
}

// The pinned charts ask .Capabilities.APIVersions only for the API
// versions the renderer's comment names (chartrender renders with Helm's
// built-in list, so a chart that tested for a CRD the stack installs would
// render differently on the cluster): a chart bump that adds one fails
// here.
func TestChartsTestOnlyKnownCapabilities(t *testing.T) {
	known := []string{"autoscaling/v2", "autoscaling.k8s.io/v1", "autoscaling.k8s.io/v1/VerticalPodAutoscaler", "policy/v1beta1/PodSecurityPolicy", "security.openshift.io/v1/SecurityContextConstraints"}
	has := regexp.MustCompile(`Capabilities\.APIVersions\.Has\s+"([^"]+)"`)
	res := renderedStack(t, "production")
	cache, err := charts.DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	src := charts.Source{Cache: cache, Mirror: os.Getenv(charts.MirrorEnv)}
	for _, rel := range synth.Releases(res) {
		archive, err := src.Archive(rel)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range templateCapabilities(t, archive, has) {
			if !slices.Contains(known, v) {
				t.Errorf("%s tests .Capabilities.APIVersions.Has %q, which chartrender's built-in list may not answer as the cluster does", rel, v)
			}
		}
	}
}

func templateCapabilities(t *testing.T, archive string, re *regexp.Regexp) []string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(h.Name, "/templates/") {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Every flow the platform needs gets through and every forbidden one is
// denied, on every stack; no NetworkPolicy selects nothing.
func TestFlowsHoldOnEveryStack(t *testing.T) {
	tool := netpolcheck(t)
	for _, name := range stacks {
		t.Run(name, func(t *testing.T) {
			rep, err := synth.CheckFlows(renderedStack(t, name), tool)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Failures() {
				t.Error(f)
			}
			// The flows that matter most are among those checked.
			for _, want := range []string{"api StatefulSet logging/elastic-operator", "api Deployment cert-manager/cert-manager-webhook", "NGINX agent to NGF",
				"scrape ServiceMonitor monitoring/kps-operator -> Deployment monitoring/kps-operator", "scrape PodMonitor monitoring/gateway-nginx -> Deployment nginx-gateway/public-nginx",
				"webhook webhook.cert-manager.io -> Deployment cert-manager/cert-manager-webhook"} {
				if !slices.ContainsFunc(rep.Required, func(c flows.Connection) bool { return c.Flow == want }) {
					t.Errorf("flow %q was not checked", want)
				}
			}
			if len(rep.Forbidden) < 20 {
				t.Errorf("only %d forbidden connections checked", len(rep.Forbidden))
			}
		})
	}
}

// plant runs the flow check on the stack's objects with one
// NetworkPolicy changed (or removed, when change returns nil).
func plant(t *testing.T, name, policy string, change func(map[string]any) map[string]any) flows.Report {
	t.Helper()
	res := renderedStack(t, name)
	var objs []flows.Origin
	found := false
	for _, o := range synth.FlowObjects(res) {
		if o.Object["kind"] == "NetworkPolicy" && synth.Identity(o.Object) == "NetworkPolicy "+policy {
			found = true
			if o.Object = change(deepCopy(o.Object)); o.Object == nil {
				continue
			}
		}
		objs = append(objs, o)
	}
	if !found {
		t.Fatalf("no NetworkPolicy %s", policy)
	}
	rep, err := synth.CheckFlowObjects(res, objs, netpolcheck(t))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func deepCopy(v map[string]any) map[string]any { return rules.Copy(v).(map[string]any) }

func wantFailure(t *testing.T, rep flows.Report, wants ...string) {
	t.Helper()
	all := strings.Join(rep.Failures(), "\n")
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("want a failure naming %q, got:\n%s", w, all)
		}
	}
}

// The ECK operator's policy back on the selector only manifest-generated
// installs carry (review F2): its flows are denied, by name, and the
// policy selects nothing.
func TestAPlantedWrongSelectorFailsItsFlows(t *testing.T) {
	rep := plant(t, "staging", "logging/operator-to-api-server", func(p map[string]any) map[string]any {
		p["spec"].(map[string]any)["podSelector"] = map[string]any{"matchLabels": map[string]any{"control-plane": "elastic-operator"}}
		return p
	})
	wantFailure(t, rep,
		"required flow denied: api StatefulSet logging/elastic-operator: StatefulSet logging/elastic-operator -> Service default/kubernetes port 443 (https)/TCP; egress denied: no rule of logging/allow-dns, logging/default-deny, logging/operator-to-elasticsearch allows it",
		"NetworkPolicy logging/operator-to-api-server selects no pod")
}

// Without cert-manager's API server egress (review F1's shape: the rule
// gone, or naming the VPC the ClusterIP is not in), its controllers are
// cut off, each flow named.
func TestRemovingTheAPIServerEgressFailsItsFlows(t *testing.T) {
	rep := plant(t, "production", "cert-manager/controllers-to-api-server", func(map[string]any) map[string]any { return nil })
	for _, w := range []string{"cert-manager", "cert-manager-cainjector", "cert-manager-webhook"} {
		wantFailure(t, rep, "required flow denied: api Deployment cert-manager/"+w+": ")
	}
	rep = plant(t, "production", "cert-manager/controllers-to-api-server", func(p map[string]any) map[string]any {
		to := path(p, "spec", "egress").([]any)[0].(map[string]any)["to"].([]any)
		to[0] = map[string]any{"ipBlock": map[string]any{"cidr": stackConfig(t, "production").Network.VpcCidr}}
		return p
	})
	wantFailure(t, rep, "required flow denied: api Deployment cert-manager/cert-manager: Deployment cert-manager/cert-manager -> Service default/kubernetes port 443 (https)/TCP; egress denied: no rule of cert-manager/allow-dns, cert-manager/controller-to-acme, cert-manager/controllers-to-api-server, cert-manager/default-deny allows it")
}

// The webhook admits the control plane's subnets only (review F11): an
// ipBlock of the VPC would admit every pod, and the forbidden flow says so.
func TestTheWebhookAdmitsOnlyTheControlPlane(t *testing.T) {
	rep := plant(t, "staging", "cert-manager/webhook-from-api-server", func(p map[string]any) map[string]any {
		from := path(p, "spec", "ingress").([]any)[0].(map[string]any)["from"].([]any)
		from[0] = map[string]any{"ipBlock": map[string]any{"cidr": stackConfig(t, "staging").Network.VpcCidr}}
		return p
	})
	wantFailure(t, rep, "forbidden flow allowed: platform pods to the cert-manager webhook: ", "ingress allowed by cert-manager/webhook-from-api-server")
}

// The rendered charts and the flow report land where docs/BUILD.md says.
func TestSynthesizerWritesChartsAndFlows(t *testing.T) {
	res := renderedStack(t, "staging")
	dir := t.TempDir()
	if err := synth.Write(res, dir); err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Charts {
		b, err := os.ReadFile(filepath.Join(dir, "charts", c.Release.Name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(c.Manifest) {
			t.Errorf("charts/%s.yaml is not the rendered manifest", c.Release.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "charts", "releases.json")); err != nil {
		t.Error(err)
	}
}

// Without the charts (an empty mirror here; offline without one alike)
// the run goes on and names every release it could not render, with the
// chart and where it looked; the flow check is then not run.
func TestAMissingChartIsNamedNotSkipped(t *testing.T) {
	c := *synthesize(t, "staging")
	toolcache.Charts(repoRoot).ForTest(t, "chartrender", "CHARTS_REQUIRED")
	mirror := t.TempDir()
	if err := synth.RenderCharts(&c, synth.ChartOptions{Dir: repoRoot, Mirror: mirror, Cache: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	err := synth.Unrendered(&c)
	if err == nil {
		t.Fatal("no release was reported unrendered")
	}
	for _, rel := range synth.Releases(&c) {
		if want := "release " + rel.Name + " not rendered: " + rel.String() + ": not in the chart mirror " + mirror; !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in\n%v", want, err)
		}
	}
	summary := synth.Summary(&c, rules.Report{}, "out")
	if !strings.Contains(summary, "Helm releases: 0 of 7 rendered") || !strings.Contains(summary, "cert-manager                   NOT RENDERED: chart cert-manager v1.19.1 from https://charts.jetstack.io") {
		t.Errorf("summary does not name the unrendered releases:\n%s", summary)
	}
}

// The policy pack judges what the charts render: clean as shipped, and a
// chart container without requests (review F9's shape) is a violation
// that names the release and the object.
func TestThePolicyPackJudgesChartWorkloads(t *testing.T) {
	res := renderedStack(t, "production")
	rep, err := synth.CheckPolicies(res, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rules.MandatoryOnly(rep.Violations) {
		t.Errorf("%s: %s: %s", v.Policy, v.URN, v.Message)
	}
	planted := *res
	planted.Charts = slices.Clone(res.Charts)
	for i, c := range planted.Charts {
		if c.Release.Name != "nginx-gateway-fabric" {
			continue
		}
		c.Objects = slices.Clone(c.Objects)
		for j, o := range c.Objects {
			if o["kind"] == "Deployment" {
				o = deepCopy(o)
				for _, ct := range path(o, "spec", "template", "spec", "containers").([]any) {
					delete(ct.(map[string]any), "resources")
				}
				c.Objects[j] = o
			}
		}
		planted.Charts[i] = c
	}
	rep, err = synth.CheckPolicies(&planted, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range rep.Violations {
		if v.Policy == "k8s-resources" && strings.Contains(v.URN, "kubernetes:helm.sh/v3:Release::nginx-gateway-fabric$kubernetes:apps/v1:Deployment::nginx-gateway-fabric") &&
			strings.Contains(v.Message, "container nginx-gateway of Deployment nginx-gateway-fabric has no requests.cpu") {
			found = true
		}
	}
	if !found {
		t.Errorf("a chart container without resources passed k8s-resources: %v", rep.Violations)
	}
}
