package tests

import (
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/components/apptier"
	"github.com/scrolluniversity/platform/infra/config"
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
	spec := apptier.AppRouteSpec([]string{"a.example.com", "b.example.com"}, "/socket.io", nil)
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
