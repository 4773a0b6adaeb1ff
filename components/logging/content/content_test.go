package content

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/internal/toolcache"
)

// The redaction rules, run in Go exactly as the pipeline runs them (one
// definition drives both), over sample lines.
func TestRedactionRemovesSecretsAndKeepsOrdinaryLines(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bearer token", `GET /api/me Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig`, `GET /api/me Authorization: [REDACTED] [REDACTED]`},
		{"bearer token alone", `calling upstream with Bearer abc.def-ghi`, `calling upstream with Bearer [REDACTED]`},
		{"password in a query string", `POST /login?user=ana&password=hunter2&next=/`, `POST /login?user=ana&password=[REDACTED]&next=/`},
		{"password in embedded JSON", `login failed {"password": "hunter2", "user": "ana"}`, `login failed {"password": "[REDACTED]", "user": "ana"}`},
		{"cookie header", `headers: cookie=session=abc123; path=/`, `headers: cookie=[REDACTED]; path=/`},
		{"card number with spaces", `charge 4111 1111 1111 1111 declined`, `charge [CARD] declined`},
		{"card number without separators", `card 5500005555555559 ok`, `card [CARD] ok`},
		{"email in a message", `reset link sent to ana.silva@example.com`, `reset link sent to [EMAIL]`},
		{"ordinary line", `GET /api/courses/42 200 12ms`, `GET /api/courses/42 200 12ms`},
		{"a millisecond timestamp is not a card", `job finished at 1764115200000 after 340ms`, `job finished at 1764115200000 after 340ms`},
		{"the word token alone", `token refreshed for session`, `token refreshed for session`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactEventRemovesCredentialFieldsAndKeepsUserEmail(t *testing.T) {
	var event map[string]any
	if err := json.Unmarshal([]byte(`{
		"message": "{...}",
		"app": {"msg": "sign-in by ana@example.com", "password": "hunter2", "token": "t",
			"headers": {"authorization": "Bearer x", "cookie": "s=1", "accept": "text/html"},
			"user": {"email": "ana@example.com"}, "status": 200}
	}`), &event); err != nil {
		t.Fatal(err)
	}
	RedactEvent(event)
	app := event["app"].(map[string]any)
	for _, gone := range []string{"password", "token"} {
		if _, ok := app[gone]; ok {
			t.Errorf("app.%s survived", gone)
		}
	}
	headers := app["headers"].(map[string]any)
	if _, ok := headers["authorization"]; ok || headers["cookie"] != nil || headers["accept"] != "text/html" {
		t.Errorf("headers = %v, want only accept", headers)
	}
	if app["msg"] != "sign-in by [EMAIL]" {
		t.Errorf("app.msg = %v", app["msg"])
	}
	if app["user"].(map[string]any)["email"] != "ana@example.com" || app["status"] != float64(200) {
		t.Errorf("fields meant to hold these were changed: %v", app)
	}
}

// The pipeline carries the same rules, and its stages come in order:
// beats in, JSON, date, GeoIP, user agent, redaction, Elasticsearch out.
func TestPipelineStagesInOrder(t *testing.T) {
	p, err := Pipeline(PipelineArgs{ESEnv: "LOGS", DataStreamNamespace: "production"})
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for _, stage := range []string{"beats {", "port => 5044", "json {", "date {", "geoip {", "useragent {", "remove_field", "gsub", "elasticsearch {", `data_stream_namespace => "production"`} {
		i := strings.Index(p, stage)
		if i < 0 || i < last {
			t.Fatalf("stage %q missing or out of order in\n%s", stage, p)
		}
		last = i
	}
	for _, r := range Patterns {
		if !strings.Contains(p, "'"+r.Regexp+"', '"+r.Replacement+"'") {
			t.Errorf("the pipeline lacks redaction %q", r.Name)
		}
	}
	for _, f := range RemovedFields {
		if !strings.Contains(p, `"`+f+`"`) {
			t.Errorf("the pipeline does not remove %s", f)
		}
	}
	if strings.Contains(p, "[[") {
		t.Errorf("an unrendered template action is left:\n%s", p)
	}
}

func TestRedactionFilterRefusesAQuote(t *testing.T) {
	saved := Patterns
	defer func() { Patterns = saved }()
	Patterns = append([]Pattern(nil), Pattern{"quoted", `it's`, `x`})
	if _, err := RedactionFilter(); err == nil {
		t.Error("a pattern with a single quote would end the Logstash string, want an error")
	}
}

func TestILMPolicyDeletesAfterTheRetention(t *testing.T) {
	b, err := ILMPolicyBody(Lifecycle{RetentionDays: 30, RolloverGiB: 30, RolloverHours: 24, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Policy struct {
			Phases struct {
				Hot struct {
					Actions struct {
						Rollover map[string]string `json:"rollover"`
					} `json:"actions"`
				} `json:"hot"`
				Delete struct {
					MinAge  string         `json:"min_age"`
					Actions map[string]any `json:"actions"`
				} `json:"delete"`
			} `json:"phases"`
		} `json:"policy"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Policy.Phases.Delete.MinAge != "30d" || p.Policy.Phases.Delete.Actions["delete"] == nil {
		t.Errorf("delete phase = %+v, want delete at 30d", p.Policy.Phases.Delete)
	}
	if r := p.Policy.Phases.Hot.Actions.Rollover; r["max_primary_shard_size"] != "30gb" || r["max_age"] != "24h" {
		t.Errorf("rollover = %v", r)
	}
	tmpl, _ := IndexTemplateBody(Lifecycle{Replicas: 0})
	if !strings.Contains(string(tmpl), `"index.lifecycle.name":"`+ILMPolicy+`"`) || !strings.Contains(string(tmpl), `"logs-kubernetes-*"`) {
		t.Errorf("the index template does not apply the policy to logs-kubernetes-*: %s", tmpl)
	}
}

// setup.sh passes shellcheck (skipped without it unless
// SHELLCHECK_REQUIRED=1, as in CI).
func TestSetupScriptPassesShellcheck(t *testing.T) {
	bin := toolcache.Installed(t, "shellcheck", "SHELLCHECK_REQUIRED", "apt-get install shellcheck")
	path, _ := filepath.Abs("setup.sh")
	if out, err := exec.Command(bin, "--shell=sh", "--severity=style", path).CombinedOutput(); err != nil {
		t.Errorf("shellcheck setup.sh: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.sh")
	os.WriteFile(bad, []byte("#!/bin/sh\nrm -rf $DIR/*\n"), 0o644)
	if _, err := exec.Command(bin, "--shell=sh", bad).CombinedOutput(); err == nil {
		t.Error("shellcheck passed an unquoted variable")
	}
}
