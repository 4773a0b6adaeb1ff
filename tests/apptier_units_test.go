package tests

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/components/apptier"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

func TestImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	cases := map[string]string{
		"1.4.2": "ghcr.io/scrolluniversity/backend:1.4.2",
		digest:  "ghcr.io/scrolluniversity/backend@" + digest,
	}
	for tag, want := range cases {
		if got := apptier.Image(apptier.BackendRepository, tag); got != want {
			t.Errorf("apptier.Image(%s): want %s, got %s", tag, want, got)
		}
	}
}

func TestMigrationJobName(t *testing.T) {
	cases := map[string]string{
		"1.4.2":                              "backend-migrate-1-4-2",
		"2025_11_rc1":                        "backend-migrate-2025-11-rc1",
		"v2.0.0-beta.1":                      "backend-migrate-v2-0-0-beta-1",
		"sha256:" + strings.Repeat("0f", 32): "backend-migrate-sha256-0f0f0f0f0f0f",
		"Release.With.Caps":                  "backend-migrate-release-with-caps",
		strings.Repeat("a", 128):             "backend-migrate-" + strings.Repeat("a", 47),
	}
	for tag, want := range cases {
		got := apptier.MigrationJobName(tag)
		if got != want {
			t.Errorf("apptier.MigrationJobName(%q): want %s, got %s", tag, want, got)
		}
		if len(got) > 63 {
			t.Errorf("apptier.MigrationJobName(%q) is %d characters", tag, len(got))
		}
	}
	if apptier.MigrationJobName("1.0.0") == apptier.MigrationJobName("1.0.1") {
		t.Errorf("two releases share a migration Job name")
	}
}

func TestLabelsAndSelectors(t *testing.T) {
	l := apptier.Labels("backend", "sha256:abc")
	for k, v := range apptier.SelectorLabels("backend") {
		if l[k] != v {
			t.Errorf("label %s: selector has %s, labels %s", k, v, l[k])
		}
	}
	if _, ok := apptier.SelectorLabels("backend")["app.kubernetes.io/version"]; ok {
		t.Errorf("the version is in the selector: every release would orphan the old pods")
	}
	if l["app.kubernetes.io/version"] != "sha256-abc" {
		t.Errorf("version label: got %q", l["app.kubernetes.io/version"])
	}
}

func TestWaitCommand(t *testing.T) {
	got := apptier.WaitCommand([]apptier.HostPort{{HostEnv: "DATABASE_HOST", PortEnv: "DATABASE_PORT"}, {HostEnv: "REDIS_HOST", PortEnv: "REDIS_PORT"}})
	want := `until nc -z -w 3 "$DATABASE_HOST" "$DATABASE_PORT" && nc -z -w 3 "$REDIS_HOST" "$REDIS_PORT"; do echo "waiting for dependencies"; sleep 3; done`
	if got != want {
		t.Errorf("want %s\ngot  %s", want, got)
	}
}

func testApp() config.AppConfig {
	cfg := config.Defaults("scrolluniversity", "test")
	cfg.App.Hostnames = []string{"app.example.com"}
	cfg.App.CorsOrigins = []string{"https://app.example.com"}
	return cfg.App
}

func testSettings() apptier.Settings {
	return apptier.DefaultSettings(testApp(), apptier.DatabaseSettings{Name: "scrolluniversity", Pool: config.PoolConfig{Min: 10, Max: 50}}, "us-east-1")
}

func TestSettingsRender(t *testing.T) {
	env, err := testSettings().Render(map[string]string{"LOG_LEVEL": "debug", "EXTRA_FLAG": "on"})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"LOG_LEVEL": "debug", "EXTRA_FLAG": "on", "DB_POOL_MIN": "10", "DB_POOL_MAX": "50", "PUBLIC_URL": "https://app.example.com", "FEATURE_AI_TUTOR": "true",
		// The API enforces its own request timeout: NGF ignores route timeouts.
		"REQUEST_TIMEOUT_SECONDS": "60", "AWS_REGION": "us-east-1",
	} {
		if env[k] != v {
			t.Errorf("%s: want %q, got %q", k, v, env[k])
		}
	}
	for _, bad := range []string{"DB_PASSWORD", "OPENAI_API_KEY", "JWT_SECRET", "GITHUB_TOKEN"} {
		if _, err := testSettings().Render(map[string]string{bad: "x"}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("override %s: want an error naming it, got %v", bad, err)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := apptier.SecurityHeaders([]string{"app.example.com"})
	for k, want := range map[string]string{
		"Strict-Transport-Security": "preload",
		"X-Frame-Options":           "DENY",
		"X-Content-Type-Options":    "nosniff",
		"Content-Security-Policy":   "wss://app.example.com",
		"Referrer-Policy":           "strict-origin",
		"Permissions-Policy":        "camera=()",
	} {
		if !strings.Contains(h[k], want) {
			t.Errorf("%s: want it to contain %q, got %q", k, want, h[k])
		}
	}
}

func TestAppRouteOrder(t *testing.T) {
	spec := apptier.AppRouteSpec([]string{"a.example.com", "b.example.com"}, "/socket.io")
	rules := spec["rules"].([]any)
	var order []string
	for _, r := range rules {
		m := r.(map[string]any)["matches"].([]any)[0].(map[string]any)["path"].(map[string]any)["value"].(string)
		svc := r.(map[string]any)["backendRefs"].([]any)[0].(map[string]any)["name"].(string)
		order = append(order, m+"->"+svc)
	}
	if strings.Join(order, " ") != "/api->backend /socket.io->backend /->frontend" {
		t.Errorf("route rules: got %v", order)
	}
	if len(spec["parentRefs"].([]any)) != 2 {
		t.Errorf("want one parent ref per HTTPS listener")
	}
	for i, r := range rules {
		// NGF 2.4.0 ignores route timeouts (UnsupportedField): none may
		// suggest a bound that is not enforced.
		if _, ok := r.(map[string]any)["timeouts"]; ok {
			t.Errorf("rule %d sets timeouts, which NGF 2.4.0 ignores", i)
		}
	}
}

func TestRateLimitRejectCodeIsPolicyWide(t *testing.T) {
	spec := apptier.RateLimitSpec(config.RateLimitConfig{RequestsPerSecond: 20, Burst: 40})
	rl := spec["rateLimit"].(map[string]any)
	if rl["rejectCode"] != 429 {
		t.Errorf("spec.rateLimit.rejectCode: want 429, got %v", rl["rejectCode"])
	}
	rule := rl["local"].(map[string]any)["rules"].([]any)[0].(map[string]any)
	if _, ok := rule["rejectCode"]; ok {
		t.Errorf("rules[].rejectCode does not exist in NGF 2.4.0's RateLimitPolicy")
	}
	for k, want := range map[string]any{"rate": "20r/s", "burst": 40, "key": "$binary_remote_addr", "noDelay": true} {
		if rule[k] != want {
			t.Errorf("rule %s: want %v, got %v", k, want, rule[k])
		}
	}
}

func TestProbes(t *testing.T) {
	backend, frontend := apptier.Workloads(testApp())
	for _, tc := range []struct {
		w                   apptier.Workload
		liveness, readiness string
	}{
		{backend, "http:/api/health/live", "http:/api/health/ready"},
		// The frontend's liveness must not fail on what readiness is for.
		{frontend, "tcp:http", "http:/healthz"},
	} {
		c := apptier.DeploymentArgs(tc.w).Spec.(*appsv1.DeploymentSpecArgs).Template.(*corev1.PodTemplateSpecArgs).Spec.(*corev1.PodSpecArgs).Containers.(corev1.ContainerArray)[0].(corev1.ContainerArgs)
		if got := describeProbe(c.LivenessProbe.(*corev1.ProbeArgs)); got != tc.liveness {
			t.Errorf("%s liveness: want %s, got %s", tc.w.Component, tc.liveness, got)
		}
		if got := describeProbe(c.ReadinessProbe.(*corev1.ProbeArgs)); got != tc.readiness {
			t.Errorf("%s readiness: want %s, got %s", tc.w.Component, tc.readiness, got)
		}
		req := c.Resources.(*corev1.ResourceRequirementsArgs)
		for what, m := range map[string]pulumi.StringMapInput{"requests": req.Requests, "limits": req.Limits} {
			if _, ok := m.(pulumi.StringMap)["ephemeral-storage"]; !ok {
				t.Errorf("%s %s: no ephemeral-storage", tc.w.Component, what)
			}
		}
	}
}

func describeProbe(p *corev1.ProbeArgs) string {
	if p.HttpGet != nil {
		return "http:" + string(p.HttpGet.(*corev1.HTTPGetActionArgs).Path.(pulumi.String))
	}
	return "tcp:" + string(p.TcpSocket.(*corev1.TCPSocketActionArgs).Port.(pulumi.String))
}

func TestGatewayFabricValues(t *testing.T) {
	app := testApp()
	app.Gateway.Replicas = 3
	v := apptier.GatewayFabricValues(app)
	nginx := v["nginx"].(pulumi.Map)
	if nginx["replicas"] != pulumi.Int(3) {
		t.Errorf("nginx.replicas: want 3 from app.gateway.replicas, got %v", nginx["replicas"])
	}
	pod := nginx["pod"].(pulumi.Map)
	spread := pod["topologySpreadConstraints"].(pulumi.Array)[0].(pulumi.Map)
	if spread["topologyKey"] != pulumi.String("topology.kubernetes.io/zone") || spread["whenUnsatisfiable"] != pulumi.String("DoNotSchedule") {
		t.Errorf("nginx pods must spread over zones: %v", spread)
	}
	sel := spread["labelSelector"].(pulumi.Map)["matchLabels"].(pulumi.StringMap)
	if sel["app.kubernetes.io/name"] != pulumi.String("public-nginx") {
		t.Errorf("the spread must select the NGINX pods NGF provisions for Gateway public, got %v", sel)
	}
	if pod["nodeSelector"].(pulumi.StringMap)["scrolluniversity.io/pool"] != pulumi.String(app.NodePool) {
		t.Errorf("nginx pods must run on the app's zonal pool")
	}
	pdbs := map[string]map[string]string{}
	for _, p := range apptier.GatewayPDBs() {
		pdbs[p.Name] = p.Selector
	}
	if pdbs["public-nginx"]["app.kubernetes.io/name"] != "public-nginx" || pdbs["nginx-gateway-fabric"]["app.kubernetes.io/instance"] != "nginx-gateway-fabric" {
		t.Errorf("want PDBs for the data and control plane, got %v", pdbs)
	}
}

func TestEdgeNamespaces(t *testing.T) {
	byName := map[string]apptier.EdgeNamespace{}
	for _, ns := range apptier.EdgeNamespaces("10.20.0.0/16", "scrolluniversity") {
		byName[ns.Namespace.Name] = ns
		if ns.Namespace.PodSecurity != kit.Restricted {
			t.Errorf("%s: want the restricted profile, got %s", ns.Namespace.Name, ns.Namespace.PodSecurity)
		}
	}
	gw, ok := byName[apptier.GatewayNamespace]
	if !ok || gw.Namespace.Labels[apptier.LBReadinessGateLabel] != "enabled" {
		t.Errorf("%s: want the load balancer controller's readiness gate label, got %v", apptier.GatewayNamespace, gw.Namespace.Labels)
	}
	if _, ok := byName[apptier.CertManagerNamespace]; !ok {
		t.Errorf("want the %s namespace declared", apptier.CertManagerNamespace)
	}
	for name, want := range map[string][]string{
		apptier.GatewayNamespace:     {"nginx-from-clients", "nginx-to-app", "nginx-to-control-plane", "control-plane-from-nginx", "controllers-to-api-server", "nginx-to-acme-solver", "acme-solver-from-nginx"},
		apptier.CertManagerNamespace: {"controllers-to-api-server", "controller-to-acme", "webhook-from-api-server"},
	} {
		got := map[string]bool{}
		for _, p := range byName[name].Policies {
			got[p.Name] = true
		}
		for _, w := range want {
			if !got[w] {
				t.Errorf("%s: no policy %s (have %v)", name, w, got)
			}
		}
	}
}

// Certificates come through the Gateway (HTTP-01): NGINX must reach the
// solver pod cert-manager starts in the Gateway's namespace, on 8089.
func TestACMESolverIsReachableThroughTheGateway(t *testing.T) {
	var policies []kit.NetworkPolicy
	for _, ns := range apptier.EdgeNamespaces("10.20.0.0/16", "scrolluniversity") {
		if ns.Namespace.Name == apptier.GatewayNamespace {
			policies = ns.Policies
		}
	}
	flows := map[string]string{}
	for _, p := range policies {
		sel, _ := p.Spec.PodSelector.(*metav1.LabelSelectorArgs).MatchLabels.(pulumi.StringMap)
		egress, _ := p.Spec.Egress.(networkingv1.NetworkPolicyEgressRuleArray)
		ingress, _ := p.Spec.Ingress.(networkingv1.NetworkPolicyIngressRuleArray)
		for _, r := range egress {
			rule := r.(networkingv1.NetworkPolicyEgressRuleArgs)
			to := rule.To.(networkingv1.NetworkPolicyPeerArray)[0].(networkingv1.NetworkPolicyPeerArgs)
			if to.PodSelector == nil {
				continue
			}
			peer, _ := to.PodSelector.(*metav1.LabelSelectorArgs).MatchLabels.(pulumi.StringMap)
			port := rule.Ports.(networkingv1.NetworkPolicyPortArray)[0].(networkingv1.NetworkPolicyPortArgs).Port.(pulumi.Int)
			flows[fmt.Sprintf("egress %v -> %v:%d", sel["app.kubernetes.io/name"], peer["acme.cert-manager.io/http01-solver"], port)] = p.Name
		}
		for _, r := range ingress {
			rule := r.(networkingv1.NetworkPolicyIngressRuleArgs)
			from := rule.From.(networkingv1.NetworkPolicyPeerArray)[0].(networkingv1.NetworkPolicyPeerArgs)
			if from.PodSelector == nil {
				continue
			}
			peer, _ := from.PodSelector.(*metav1.LabelSelectorArgs).MatchLabels.(pulumi.StringMap)
			port := rule.Ports.(networkingv1.NetworkPolicyPortArray)[0].(networkingv1.NetworkPolicyPortArgs).Port.(pulumi.Int)
			flows[fmt.Sprintf("ingress %v <- %v:%d", sel["acme.cert-manager.io/http01-solver"], peer["app.kubernetes.io/name"], port)] = p.Name
		}
	}
	for _, want := range []string{"egress public-nginx -> true:8089", "ingress true <- public-nginx:8089"} {
		if _, ok := flows[want]; !ok {
			t.Errorf("no policy allows %s; flows: %v", want, flows)
		}
	}
}

func TestConfigChecksumFollowsTheData(t *testing.T) {
	// apptier.ConfigChecksum's hashing: a change of any value changes it, moving a
	// key from the ConfigMap to the Secret changes it, and the order in
	// which keys were written does not.
	a := apptier.Checksum(map[string]string{"A": "1", "B": "2"}, map[string]string{"S": "x"})
	for what, other := range map[string]string{
		"a secret value":          apptier.Checksum(map[string]string{"A": "1", "B": "2"}, map[string]string{"S": "y"}),
		"a setting":               apptier.Checksum(map[string]string{"A": "1", "B": "3"}, map[string]string{"S": "x"}),
		"a key moved to a Secret": apptier.Checksum(map[string]string{"A": "1"}, map[string]string{"B": "2", "S": "x"}),
	} {
		if other == a {
			t.Errorf("changing %s left the checksum at %s", what, a)
		}
	}
	if b := apptier.Checksum(map[string]string{"B": "2", "A": "1"}, map[string]string{"S": "x"}); b != a {
		t.Errorf("the same data gave two checksums: %s and %s", a, b)
	}
}

func TestNetworkPolicyNamesAreUnique(t *testing.T) {
	ps := append(kit.BaselinePolicies(), apptier.NetworkPolicies([]string{"10.0.224.0/24"}, []string{"10.0.0.0/19"})...)
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Name] {
			t.Errorf("policy %s twice", p.Name)
		}
		seen[p.Name] = true
	}
}
