package flows

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/internal/toolcache"
)

// netpolcheck is the built tool, or ends the test as CI requires.
func netpolcheck(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return toolcache.Netpol(root).ForTest(t, "netpolcheck", "NETPOL_REQUIRED")["netpolcheck"]
}

var testAddresses = Addresses{
	VPC: "10.0.0.0/16", ServiceCIDR: "172.20.0.0/16",
	NodeSubnets: []string{"10.0.0.0/19"}, ControlPlaneSubnets: []string{"10.0.232.0/24"},
	DatabaseSubnets: []string{"10.0.224.0/24"}, CacheSubnets: []string{"10.0.0.0/19"},
}

// fixture is a small cluster: namespaces app (default deny) and tools, an
// api Deployment behind a Service with a named target port, a client, the
// kubernetes and kube-dns Services.
const fixture = `
- {apiVersion: v1, kind: Namespace, metadata: {name: app}}
- {apiVersion: v1, kind: Namespace, metadata: {name: tools}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: api, namespace: app}
  spec:
    template:
      metadata: {labels: {app: api, tier: web}}
      spec:
        containers:
        - name: api
          ports: [{name: http, containerPort: 8080}, {name: admin, containerPort: 9090}]
          readinessProbe: {httpGet: {port: http}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: client, namespace: app}
  spec:
    template:
      metadata: {labels: {app: client}}
      spec: {containers: [{name: c}]}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: tools}
  spec:
    template:
      metadata: {labels: {app: agent}}
      spec: {hostNetwork: true, containers: [{name: a, ports: [{name: metrics, containerPort: 9100}]}]}
- apiVersion: v1
  kind: Service
  metadata: {name: api, namespace: app}
  spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}
- apiVersion: v1
  kind: Service
  metadata: {name: kubernetes, namespace: default}
  spec: {clusterIP: 172.20.0.1, ports: [{name: https, port: 443, targetPort: 443}]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: default-deny, namespace: app}
  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: api-from-client, namespace: app}
  spec:
    podSelector: {matchLabels: {app: api}}
    policyTypes: [Ingress]
    ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]
`

func objects(t *testing.T, extra ...string) []Origin {
	t.Helper()
	var out []Origin
	for _, src := range append([]string{fixture}, extra...) {
		var objs []map[string]any
		if err := yaml.Unmarshal([]byte(src), &objs); err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			out = append(out, Origin{Object: o, From: "test"})
		}
	}
	return out
}

func check(t *testing.T, objs []Origin, required, forbidden []Flow) Report {
	t.Helper()
	inv, err := NewInventory(objs, testAddresses)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Check(inv, required, forbidden, netpolcheck(t))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func egressPolicy(name, selector, to, ports string) string {
	return `
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: ` + name + `, namespace: app}
  spec:
    podSelector: ` + selector + `
    policyTypes: [Egress]
    egress: [{to: [` + to + `], ports: [` + ports + `]}]`
}

var clientToAPI = Flow{Name: "client to api", From: End{Workload: "Deployment app/client"}, To: End{Service: "app/api"}, Port: "http"}

// A client dialing a Service is judged at egress against the ClusterIP:
// the VPC CNI adds it for a peer whose podSelector matches the Service's
// selector, with the target port translated to the Service's.
func TestServiceEgressIsTranslatedToItsClusterIP(t *testing.T) {
	cases := []struct {
		name    string
		peer    string
		ports   string
		allowed bool
	}{
		{"peer selects the Service's pods", "{podSelector: {matchLabels: {app: api}}}", "{port: 8080}", true},
		{"peer by the target port's name", "{podSelector: {matchLabels: {app: api}}}", "{port: http}", true},
		// The peer's selector must be within the Service's selector, not
		// merely match its pods (controller issue #224).
		{"peer with a label the Service does not select on", "{podSelector: {matchLabels: {app: api, tier: web}}}", "{port: 8080}", false},
		{"peer on another port", "{podSelector: {matchLabels: {app: api}}}", "{port: 9090}", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := check(t, objects(t, egressPolicy("client-out", "{matchLabels: {app: client}}", tc.peer, tc.ports)), []Flow{clientToAPI}, nil)
			var egress *Verdict
			for _, c := range rep.Required {
				if c.To == "Service app/api" {
					egress = c.Egress
				}
			}
			if egress == nil {
				t.Fatalf("no egress verdict for the ClusterIP in %+v", rep.Required)
			}
			if egress.Allowed != tc.allowed {
				t.Errorf("egress to the ClusterIP: want allowed=%v, got %+v", tc.allowed, egress)
			}
		})
	}
}

// The kubernetes Service has no selector: a pod peer never reaches it, an
// ipBlock of its address does, and so does a peer that names its
// namespace with no podSelector (the controller's empty selector matches
// the Service's empty one).
func TestTheAPIServerNeedsItsAddress(t *testing.T) {
	toAPI := Flow{Name: "client to the API server", From: End{Workload: "Deployment app/client"}, To: End{Service: "default/kubernetes"}, Port: "https"}
	cases := []struct {
		name, to string
		allowed  bool
	}{
		{"the VPC", "{ipBlock: {cidr: 10.0.0.0/16}}", false},
		{"its ClusterIP", "{ipBlock: {cidr: 172.20.0.1/32}}", true},
		{"the internet but the Service range", "{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/16, 172.20.0.0/16]}}", false},
		{"its namespace, no podSelector", "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}}", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := check(t, objects(t, egressPolicy("client-out", "{matchLabels: {app: client}}", tc.to, "{port: 443}")), []Flow{toAPI}, nil)
			if len(rep.Required) != 1 || rep.Required[0].Allowed != tc.allowed {
				t.Fatalf("want allowed=%v, got %+v", tc.allowed, rep.Required)
			}
		})
	}
}

// A denied required flow and an allowed forbidden one are failures that
// name the flow and the policies involved; the summary counts them.
func TestFailuresNameTheFlowAndPolicies(t *testing.T) {
	forbid := Flow{Name: "api to client", From: End{Workload: "Deployment app/api"}, To: End{Workload: "Deployment app/client"}, Port: "80"}
	out := egressPolicy("client-out", "{matchLabels: {app: client}}", "{podSelector: {matchLabels: {app: api}}}", "{port: 8080}")
	wideOpen := `
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: anything-goes, namespace: app}
  spec: {podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{}]}`
	rep := check(t, objects(t, out), []Flow{clientToAPI}, []Flow{forbid})
	if f := rep.Failures(); len(f) != 0 {
		t.Fatalf("want no failures, got %v", f)
	}
	if got := rep.Summary(); got != "2 connections required, 2 allowed; 1 forbidden, 1 denied; 0 policies inert (host network only)" {
		t.Errorf("summary: got %q", got)
	}

	// Without the client's egress, the ClusterIP is denied by default-deny.
	rep = check(t, objects(t), []Flow{clientToAPI}, nil)
	f := strings.Join(rep.Failures(), "\n")
	for _, want := range []string{"required flow denied: client to api: Deployment app/client -> Service app/api port 80 (http)/TCP", "egress denied: no rule of app/default-deny allows it"} {
		if !strings.Contains(f, want) {
			t.Errorf("failures: want %q in\n%s", want, f)
		}
	}
	rep = check(t, objects(t, out, wideOpen), nil, []Flow{forbid})
	f = strings.Join(rep.Failures(), "\n")
	if !strings.Contains(f, "forbidden flow allowed: api to client") || !strings.Contains(f, "allowed by app/anything-goes") {
		t.Errorf("an allowed forbidden flow: got\n%s", f)
	}
}

// The kubelet's probes pass whatever the policies (the node's own address
// is always allowed), and a pod in the host network is not isolated.
func TestVPCCNIExemptions(t *testing.T) {
	inv, err := NewInventory(objects(t), testAddresses)
	if err != nil {
		t.Fatal(err)
	}
	flows, _ := Derived(inv)
	var probe *Flow
	for i := range flows {
		if strings.HasPrefix(flows[i].Name, "probe Deployment app/api") {
			probe = &flows[i]
		}
	}
	if probe == nil {
		t.Fatalf("no probe flow derived from api's readiness probe; got %v", flows)
	}
	scrapeAgent := Flow{Name: "client to the agent", From: End{Workload: "Deployment app/client"}, To: End{Workload: "DaemonSet tools/agent"}, Port: "metrics"}
	rep := check(t, objects(t, egressPolicy("client-out", "{matchLabels: {app: client}}", "{ipBlock: {cidr: 10.0.0.0/19}}", "{port: 9100}")), []Flow{*probe, scrapeAgent}, nil)
	for _, c := range rep.Required {
		if !c.Allowed {
			t.Errorf("%s: want allowed, got %s", c.Flow, c.String())
		}
		if c.Flow == probe.Name && c.Ingress != nil {
			t.Errorf("the probe was judged at ingress; the node's address is exempt: %+v", c)
		}
	}
}

// A policy that selects no pod, a peer that matches none, and a NotIn
// selector (which cyclonus reads differently from Kubernetes) are
// problems; a flow to a workload or port that does not exist too.
func TestProblems(t *testing.T) {
	stale := `
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: stale, namespace: app}
  spec:
    podSelector: {matchLabels: {control-plane: api}}
    policyTypes: [Ingress]
    ingress: [{from: [{podSelector: {matchLabels: {app: gone}}}]}]
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: not-in, namespace: app}
  spec:
    podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [client]}]}
    policyTypes: [Egress]`
	missing := []Flow{
		{Name: "to nothing", From: End{Workload: "Deployment app/client"}, To: End{Workload: "Deployment app/nothing"}, Port: "80"},
		{Name: "to a port api lacks", From: End{Workload: "Deployment app/client"}, To: End{Workload: "Deployment app/api"}, Port: "grpc"},
	}
	rep := check(t, objects(t, stale), missing, nil)
	got := strings.Join(rep.Problems, "\n")
	for _, want := range []string{
		"NetworkPolicy app/stale selects no pod",
		`NetworkPolicy app/stale: an ingress peer matches no pod: {"podSelector":{"matchLabels":{"app":"gone"}}}`,
		"NetworkPolicy app/not-in uses a NotIn selector",
		"flow to nothing: to: no workload Deployment app/nothing",
		"flow to a port api lacks: Deployment app/api has no TCP port grpc",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems: want %q in\n%s", want, got)
		}
	}
	if !slices.Contains(rep.Failures(), rep.Problems[0]) {
		t.Error("problems are not failures")
	}
}

// A Service port whose named target resolves to a port the rule does not
// allow matches no policy port (getMatchingServicePort finds none), so its
// ClusterIP is left out; TestTargetPortBypassLeavesTheServiceOut is the
// bypass rule itself.
func TestNamedTargetPortWithoutAMatchIsLeftOut(t *testing.T) {
	admin := `
- apiVersion: v1
  kind: Service
  metadata: {name: api-admin, namespace: app}
  spec: {selector: {app: api}, ports: [{name: admin, port: 8080, targetPort: admin}]}`
	inv, err := NewInventory(objects(t, admin, egressPolicy("client-out", "{matchLabels: {app: client}}", "{podSelector: {matchLabels: {app: api}}}", "{port: 8080}")), testAddresses)
	if err != nil {
		t.Fatal(err)
	}
	policies, err := effectivePolicies(inv)
	if err != nil {
		t.Fatal(err)
	}
	admitted := map[string]bool{}
	for _, p := range policies {
		for _, r := range list(get(p, "spec", "egress")) {
			for _, to := range list(get(r, "to")) {
				if c := str(get(to, "ipBlock", "cidr")); c != "" {
					admitted[c] = true
				}
			}
		}
	}
	api, _ := inv.Service("app/api")
	adminSvc, _ := inv.Service("app/api-admin")
	if !admitted[api.ClusterIP+"/32"] {
		t.Errorf("app/api (8080 by name http -> 8080) must be translated: %v", admitted)
	}
	if admitted[adminSvc.ClusterIP+"/32"] {
		t.Errorf("app/api-admin (8080 -> admin, 9090) must be left out: %v", admitted)
	}
}

// What the check cannot derive is a problem, never a flow quietly left
// out: a monitor that selects nothing or names a missing port, monitors
// with no Prometheus, a webhook whose Service, port or pods are missing.
func TestDerivedReportsWhatItCannotDerive(t *testing.T) {
	broken := `
- apiVersion: monitoring.coreos.com/v1
  kind: ServiceMonitor
  metadata: {name: nothing, namespace: app}
  spec: {selector: {matchLabels: {app: gone}}, endpoints: [{port: http}]}
- apiVersion: monitoring.coreos.com/v1
  kind: ServiceMonitor
  metadata: {name: wrong-port, namespace: app}
  spec: {selector: {matchLabels: {}}, endpoints: [{port: metrics}]}
- apiVersion: monitoring.coreos.com/v1
  kind: PodMonitor
  metadata: {name: pods, namespace: app}
  spec: {selector: {matchLabels: {app: api}}, podMetricsEndpoints: [{port: metrics}]}
- apiVersion: admissionregistration.k8s.io/v1
  kind: ValidatingWebhookConfiguration
  metadata: {name: hooks}
  webhooks:
  - {name: no-service.example.com, clientConfig: {service: {namespace: app, name: gone}}}
  - {name: no-port.example.com, clientConfig: {service: {namespace: app, name: api, port: 8443}}}
  - {name: no-pods.example.com, clientConfig: {service: {namespace: app, name: idle}}}
- apiVersion: v1
  kind: Service
  metadata: {name: idle, namespace: app}
  spec: {selector: {app: nobody}, ports: [{name: https, port: 443, targetPort: 9443}]}`
	inv, err := NewInventory(objects(t, broken), testAddresses)
	if err != nil {
		t.Fatal(err)
	}
	_, problems := Derived(inv)
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		"3 monitors and no Prometheus pod to scrape them",
		`ServiceMonitor app/nothing selects no Service: {"matchLabels":{"app":"gone"}} in [app]`,
		`ServiceMonitor app/wrong-port: Service app/api has no port "metrics"`,
		`PodMonitor app/pods: Deployment app/api has no TCP port "metrics"`,
		"ValidatingWebhookConfiguration hooks webhook no-service.example.com: no Service app/gone",
		"ValidatingWebhookConfiguration hooks webhook no-port.example.com: Service app/api has no TCP port 8443",
		"ValidatingWebhookConfiguration hooks webhook no-pods.example.com: Service app/idle selects no pod, so every call fails",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems: want %q in\n%s", want, got)
		}
	}
	// And the fixture alone derives its probes and DNS without a problem.
	inv, err = NewInventory(objects(t), testAddresses)
	if err != nil {
		t.Fatal(err)
	}
	if _, problems := Derived(inv); len(problems) != 0 {
		t.Errorf("the fixture: want no problems, got %v", problems)
	}
}

// A policy that selects only host-network pods has no effect under the
// VPC CNI: it is reported as inert, not counted as selecting a pod.
func TestHostNetworkOnlyPoliciesAreInert(t *testing.T) {
	deny := `
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: default-deny, namespace: tools}
  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`
	rep := check(t, objects(t, deny), nil, nil)
	if len(rep.Inert) != 1 || !strings.Contains(rep.Inert[0], "NetworkPolicy tools/default-deny selects only pods in the host network (DaemonSet tools/agent)") {
		t.Errorf("inert: want tools/default-deny, got %v", rep.Inert)
	}
	if len(rep.Failures()) != 0 {
		t.Errorf("an inert policy is not a failure: %v", rep.Failures())
	}
	if !strings.HasSuffix(rep.Summary(), "1 policies inert (host network only)") {
		t.Errorf("summary: %q", rep.Summary())
	}
}

// hasTargetPortBypass: a Service whose named target port resolves to
// different numbers on its pods, one of which the rule's numeric port does
// not allow, gets no ClusterIP entry; a port range through the
// translation keeps its endPort.
func TestTargetPortBypassLeavesTheServiceOut(t *testing.T) {
	web := `
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web-a, namespace: app}
  spec: {template: {metadata: {labels: {app: web, v: a}}, spec: {containers: [{name: w, ports: [{name: http, containerPort: 8080}]}]}}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web-b, namespace: app}
  spec: {template: {metadata: {labels: {app: web, v: b}}, spec: {containers: [{name: w, ports: [{name: http, containerPort: 9090}]}]}}}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: app}
  spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}`
	admitted := func(t *testing.T, ports string) map[string]any {
		t.Helper()
		inv, err := NewInventory(objects(t, web, egressPolicy("client-out", "{matchLabels: {app: client}}", "{podSelector: {matchLabels: {app: web}}}", ports)), testAddresses)
		if err != nil {
			t.Fatal(err)
		}
		policies, err := effectivePolicies(inv)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := inv.Service("app/web")
		out := map[string]any{}
		for _, p := range policies {
			for _, r := range list(get(p, "spec", "egress")) {
				for _, to := range list(get(r, "to")) {
					if str(get(to, "ipBlock", "cidr")) == s.ClusterIP+"/32" {
						out["ports"] = get(r, "ports")
					}
				}
			}
		}
		return out
	}
	if got := admitted(t, "{port: 8080}"); got["ports"] != nil {
		t.Errorf("8080 only, web-b's http is 9090: want the ClusterIP left out, got %v", got)
	}
	got := admitted(t, "{port: 8080, endPort: 9090}")
	ports := list(got["ports"])
	if len(ports) != 1 || num(get(ports[0], "port")) != 80 || num(get(ports[0], "endPort")) != 9090 {
		t.Errorf("8080-9090 allows both: want the ClusterIP on port 80 with endPort 9090 kept, got %v", got)
	}
}

// An egress ipBlock peer cannot take a named port: the controller drops
// the name, and skips the peer when no port is left; a pod peer in the
// same rule keeps it.
func TestNamedPortsOnIPBlocksAreDropped(t *testing.T) {
	toPod := Flow{Name: "client to api's pod", From: End{Workload: "Deployment app/client"}, To: End{Workload: "Deployment app/api"}, Port: "http"}
	for _, tc := range []struct {
		name, ports string
		allowed     bool
	}{
		{"by number", "{port: 8080}", true},
		{"by name only", "{port: http}", false},
		{"by name and number", "{port: http}, {port: 8080}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := check(t, objects(t, egressPolicy("client-out", "{matchLabels: {app: client}}", "{ipBlock: {cidr: 10.0.0.0/19}}", tc.ports)), []Flow{toPod}, nil)
			if len(rep.Required) != 1 || rep.Required[0].Allowed != tc.allowed {
				t.Errorf("want allowed=%v, got %+v", tc.allowed, rep.Required)
			}
		})
	}
}

// A flow to a headless Service without a selector cannot be resolved.
func TestHeadlessServiceWithoutSelectorIsAProblem(t *testing.T) {
	svc := `
- apiVersion: v1
  kind: Service
  metadata: {name: external, namespace: app}
  spec: {clusterIP: None, ports: [{name: https, port: 443}]}`
	rep := check(t, objects(t, svc), []Flow{{Name: "to external", From: End{Workload: "Deployment app/client"}, To: End{Service: "app/external"}, Port: "https"}}, nil)
	if got := strings.Join(rep.Problems, "\n"); !strings.Contains(got, "flow to external: headless Service app/external has no selector") {
		t.Errorf("problems: %s", got)
	}
}
