package apptier

import (
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/infra/config"
)

func TestImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	cases := map[string]string{
		"1.4.2": "ghcr.io/scrolluniversity/backend:1.4.2",
		digest:  "ghcr.io/scrolluniversity/backend@" + digest,
	}
	for tag, want := range cases {
		if got := Image(BackendRepository, tag); got != want {
			t.Errorf("Image(%s): want %s, got %s", tag, want, got)
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
		got := MigrationJobName(tag)
		if got != want {
			t.Errorf("MigrationJobName(%q): want %s, got %s", tag, want, got)
		}
		if len(got) > 63 {
			t.Errorf("MigrationJobName(%q) is %d characters", tag, len(got))
		}
	}
	if MigrationJobName("1.0.0") == MigrationJobName("1.0.1") {
		t.Errorf("two releases share a migration Job name")
	}
}

func TestLabelsAndSelectors(t *testing.T) {
	l := Labels("backend", "sha256:abc")
	for k, v := range SelectorLabels("backend") {
		if l[k] != v {
			t.Errorf("label %s: selector has %s, labels %s", k, v, l[k])
		}
	}
	if _, ok := SelectorLabels("backend")["app.kubernetes.io/version"]; ok {
		t.Errorf("the version is in the selector: every release would orphan the old pods")
	}
	if l["app.kubernetes.io/version"] != "sha256-abc" {
		t.Errorf("version label: got %q", l["app.kubernetes.io/version"])
	}
}

func TestWaitCommand(t *testing.T) {
	got := WaitCommand([]HostPort{{"DATABASE_HOST", "DATABASE_PORT"}, {"REDIS_HOST", "REDIS_PORT"}})
	want := `until nc -z -w 3 "$DATABASE_HOST" "$DATABASE_PORT" && nc -z -w 3 "$REDIS_HOST" "$REDIS_PORT"; do echo "waiting for dependencies"; sleep 3; done`
	if got != want {
		t.Errorf("want %s\ngot  %s", want, got)
	}
}

func testConfig() *config.Config {
	cfg := config.Defaults("scrolluniversity", "test")
	cfg.Region = "us-east-1"
	cfg.App.Hostnames = []string{"app.example.com"}
	cfg.App.CorsOrigins = []string{"https://app.example.com"}
	return cfg
}

func TestSettingsRender(t *testing.T) {
	env, err := DefaultSettings(testConfig()).Render(map[string]string{"LOG_LEVEL": "debug", "EXTRA_FLAG": "on"})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"LOG_LEVEL": "debug", "EXTRA_FLAG": "on", "DB_POOL_MIN": "10", "DB_POOL_MAX": "50", "PUBLIC_URL": "https://app.example.com", "FEATURE_AI_TUTOR": "true"} {
		if env[k] != v {
			t.Errorf("%s: want %q, got %q", k, v, env[k])
		}
	}
	for _, bad := range []string{"DB_PASSWORD", "OPENAI_API_KEY", "JWT_SECRET", "GITHUB_TOKEN"} {
		if _, err := DefaultSettings(testConfig()).Render(map[string]string{bad: "x"}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("override %s: want an error naming it, got %v", bad, err)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders([]string{"app.example.com"})
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
	spec := AppRouteSpec([]string{"a.example.com", "b.example.com"}, "/socket.io", 60)
	rules := spec["rules"].([]any)
	var order []string
	for _, r := range rules {
		m := r.(obj)["matches"].([]any)[0].(obj)["path"].(obj)["value"].(string)
		svc := r.(obj)["backendRefs"].([]any)[0].(obj)["name"].(string)
		order = append(order, m+"->"+svc)
	}
	if strings.Join(order, " ") != "/api->backend /socket.io->backend /->frontend" {
		t.Errorf("route rules: got %v", order)
	}
	if len(spec["parentRefs"].([]any)) != 2 {
		t.Errorf("want one parent ref per HTTPS listener")
	}
	if _, ok := rules[1].(obj)["timeouts"]; ok {
		t.Errorf("the WebSocket rule must not time out long-lived connections")
	}
}

func TestNetworkPoliciesStartWithDefaultDeny(t *testing.T) {
	ps := NetworkPolicies([]string{"10.0.224.0/24"}, []string{"10.0.0.0/19"})
	if ps[0].Name != "default-deny" || ps[0].Args.Ingress != nil || ps[0].Args.Egress != nil {
		t.Errorf("the first policy must deny everything: %+v", ps[0])
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Name] {
			t.Errorf("policy %s twice", p.Name)
		}
		seen[p.Name] = true
	}
}
