package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

// alertmanager is the Alertmanager server from the tool cache (go run
// ./cmd/buildtools builds it); as tools, skipped without it unless
// PROMTOOLS_REQUIRED=1.
func alertmanager(t *testing.T) string {
	t.Helper()
	return toolcache.Alertmanager(repoRoot).ForTest(t, "the Alertmanager server is", "PROMTOOLS_REQUIRED")["alertmanager"]
}

// heartbeatRoute is the Watchdog's route of a rendered configuration.
func heartbeatRoute(t *testing.T, cfg map[string]any) map[string]any {
	t.Helper()
	for _, r := range cfg["route"].(map[string]any)["routes"].([]any) {
		if r := r.(map[string]any); r["receiver"] == ReceiverHeartbeat {
			return r
		}
	}
	t.Fatal("the configuration has no route to the heartbeat receiver")
	return nil
}

// heartbeats runs the Alertmanager server (built like amtool, from
// tools/prom) with cfg, its receivers' credentials written where the
// configuration reads them and the heartbeat URL pointing at a local
// server, fires the Watchdog as Prometheus does, and returns the gaps
// between the first n heartbeats it receives.
func heartbeats(t *testing.T, bin string, cfg map[string]any, secretsDir string, n int, timeout time.Duration) []time.Duration {
	t.Helper()
	var mu sync.Mutex
	var got []time.Time
	arrived := make(chan struct{}, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Status string `json:"status"`
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err == nil && msg.Status == "firing" && len(msg.Alerts) == 1 && msg.Alerts[0].Labels["alertname"] == "Watchdog" {
			mu.Lock()
			got = append(got, time.Now())
			mu.Unlock()
			arrived <- struct{}{}
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer hook.Close()

	dir := filepath.Join(secretsDir, ReceiversSecret)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range config.AlertingSecrets {
		value := "test-" + s.File
		if s.File == config.HeartbeatURLFile || s.File == config.SlackWebhookFile {
			value = hook.URL + "/" + s.File
		}
		if err := os.WriteFile(filepath.Join(dir, s.File), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	body, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "alertmanager.yaml")
	if err := os.WriteFile(cfgFile, body, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--storage.path="+t.TempDir(),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=debug")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager's log:\n%s", log.String())
		}
	}()
	base := "http://" + addr
	ready := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			t.Fatalf("alertmanager did not become ready at %s: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Prometheus re-sends a firing alert every minute with an end a few
	// evaluations ahead; one post with a far end is the same to the
	// dispatcher.
	now := time.Now().UTC()
	alerts, _ := json.Marshal([]map[string]any{{
		"labels":   map[string]string{"alertname": "Watchdog", "severity": "none", "environment": "production", "cluster": "scrolluniversity-production"},
		"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339),
	}})
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(alerts))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting the Watchdog: %s", resp.Status)
	}

	deadline := time.After(timeout)
	for i := 0; i < n; i++ {
		select {
		case <-arrived:
		case <-deadline:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%d of %d heartbeats arrived within %s", len(got), n, timeout)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var gaps []time.Duration
	for i := 1; i < n; i++ {
		gaps = append(gaps, got[i].Sub(got[i-1]))
	}
	return gaps
}

func within(d, want, slack time.Duration) bool { return d > want-slack && d < want+slack }

// TestHeartbeatArrivesEveryPeriod measures the heartbeat through a real
// Alertmanager with the rendered configuration, unchanged: it must arrive
// every HeartbeatPeriod, well inside the heartbeat service's grace (ops
// F1: with 5m and 5m it came every 10 minutes). Two periods: two minutes.
func TestHeartbeatArrivesEveryPeriod(t *testing.T) {
	bin := alertmanager(t)
	t.Parallel()
	secrets := t.TempDir()
	cfg := AlertmanagerConfig(testReceivers(true), secrets)
	gaps := heartbeats(t, bin, cfg, secrets, 3, 2*HeartbeatPeriod+time.Minute)
	for i, g := range gaps {
		if !within(g, HeartbeatPeriod, 5*time.Second) {
			t.Errorf("heartbeat %d came %s after the one before, want %s (±5s)", i+2, g.Round(time.Millisecond), HeartbeatPeriod)
		}
		if g >= HeartbeatGrace {
			t.Errorf("heartbeat %d came %s after the one before, past the heartbeat service's grace of %s", i+2, g, HeartbeatGrace)
		}
	}
	t.Logf("heartbeat gaps: %v", gaps)
}

// TestHeartbeatCheckCatchesEqualIntervals is the planted regression, in
// seconds rather than minutes: with the repeat interval equal to the group
// interval (the old configuration's shape), the real Alertmanager sends
// every second flush, so the check above would fail; with the repeat
// interval below it, at every flush.
func TestHeartbeatCheckCatchesEqualIntervals(t *testing.T) {
	bin := alertmanager(t)
	t.Parallel()
	const group = 2 * time.Second
	for _, tc := range []struct {
		repeat string
		want   time.Duration
	}{
		{"2s", 2 * group},
		{"1600ms", group},
	} {
		t.Run("repeat="+tc.repeat, func(t *testing.T) {
			secrets := t.TempDir()
			cfg := AlertmanagerConfig(testReceivers(true), secrets)
			route := heartbeatRoute(t, cfg)
			route["group_interval"], route["repeat_interval"] = fmt.Sprintf("%ds", int(group.Seconds())), tc.repeat
			gaps := heartbeats(t, bin, cfg, secrets, 4, 30*time.Second)
			for i, g := range gaps {
				if !within(g, tc.want, 700*time.Millisecond) {
					t.Errorf("group_interval %s, repeat_interval %s: heartbeat %d came %s after the one before, want %s", group, tc.repeat, i+2, g.Round(time.Millisecond), tc.want)
				}
			}
		})
	}
}
