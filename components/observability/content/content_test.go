package content

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

const repoRoot = "../../.."

// TestThresholds are the thresholds testdata/rules_test.yaml is written
// for: the defaults, with a 2 GiB free-storage line (a 20 GiB database).
// TestWAF is the web ACL and limit testdata/rules_test.yaml is written for.
var TestWAF = &WAFAlert{WebACL: "su-edge", BlockedPerFiveMinutes: 500}

var TestThresholds = func() config.ThresholdsConfig {
	t := config.Defaults("scrolluniversity", "staging").Observability.Thresholds
	t.DatabaseFreeStorageGiB = 2
	return t
}()

// TestSLO are the objectives testdata/slo_test.yaml is written for (the
// defaults).
var TestSLO = config.Defaults("scrolluniversity", "staging").Observability.SLO

// TestDrillRtoMinutes is the RTO testdata/rules_test.yaml is written for
// (the default).
var TestDrillRtoMinutes = config.Defaults("scrolluniversity", "staging").Backups.DrillRtoMinutes

// tools returns promtool, amtool and promqlnames from the tool cache
// (go run ./cmd/buildtools builds them). Without them the test is skipped,
// unless PROMTOOLS_REQUIRED=1 (CI), where it fails.
func tools(t *testing.T) map[string]string {
	t.Helper()
	return toolcache.Prometheus(repoRoot).ForTest(t, "promtool, amtool and promqlnames are", "PROMTOOLS_REQUIRED")
}

func run(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func renderRules(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := RuleFiles(RuleParams{Thresholds: TestThresholds, SLO: TestSLO, AppNamespace: "scrolluniversity", DrillRtoMinutes: TestDrillRtoMinutes, WAF: TestWAF})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func testReceivers(page bool) config.ReceiversConfig {
	return config.ReceiversConfig{
		SlackChannel: "#platform-alerts", EmailTo: "platform@example.com", EmailFrom: "alertmanager@example.com",
		SmtpSmarthost: "email-smtp.us-east-1.amazonaws.com:587", SmtpUsername: "AKIAEXAMPLE", Page: page,
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func parseRules(t *testing.T, files map[string][]byte) map[string]ruleFile {
	t.Helper()
	out := map[string]ruleFile{}
	for name, b := range files {
		var f ruleFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = f
	}
	return out
}

// TestRulesPassPromtool checks every rendered rule file with promtool
// check rules, then runs testdata/*_test.yaml's cases with promtool test
// rules against copies without annotations.
func TestRulesPassPromtool(t *testing.T) {
	bins := tools(t)
	t.Parallel()
	dir := t.TempDir()
	files := renderRules(t)
	for name, b := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := run(t, bins["promtool"], "check", "rules", "--lint=all", "--lint-fatal", path); err != nil {
			t.Errorf("promtool check rules %s: %v\n%s", name, err, out)
		}
	}

	for name, out := range promtoolTest(t, bins["promtool"], files, "") {
		t.Errorf("promtool test rules %s:\n%s", name, out)
	}
}

// promtoolTest runs testdata/*_test.yaml (or only the named ones) against
// files without their annotations, and returns promtool's output for each
// test file that fails. groups is promtool's --run: only the test groups
// whose names match it run ("" for all).
func promtoolTest(t *testing.T, promtool string, files map[string][]byte, groups string, only ...string) map[string]string {
	t.Helper()
	failed := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	testDir := t.TempDir()
	for name, b := range files {
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, g := range doc["groups"].([]any) {
			for _, r := range g.(map[string]any)["rules"].([]any) {
				delete(r.(map[string]any), "annotations")
			}
		}
		out, _ := yaml.Marshal(doc)
		if err := os.WriteFile(filepath.Join(testDir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range testFiles(t) {
		if len(only) > 0 && !slices.Contains(only, filepath.Base(name)) {
			continue
		}
		cases, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		testFile := filepath.Join(testDir, filepath.Base(name))
		if err := os.WriteFile(testFile, cases, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"test", "rules", testFile}
		if groups != "" {
			args = append(args, "--run="+groups)
		}
		// The files run side by side: rules_test.yaml alone takes most of
		// a core for a minute.
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
				mu.Lock()
				failed[filepath.Base(name)] = string(out)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// TestPromtoolCatchesPlantedRegressions breaks the rules the ways the ops
// review found them broken, one at a time, and shows that the cases fail:
// an SLO page 10 times too loose, no traffic floor, a ticket without its
// short window, a Late alert without its missing-series guard, Failed
// pods back in PodNotRunning, and more (the table). The heartbeat's
// regression is TestHeartbeatCheckCatchesEqualIntervals's.
func TestPromtoolCatchesPlantedRegressions(t *testing.T) {
	bins := tools(t)
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		edits      [][2]string
		// failing is the test file and cases the test groups (promtool's
		// --run) that must fail.
		failing, cases string
	}{
		{"page 10 times looser", "slo.yaml", [][2]string{{"> 0.0144\n", "> 0.144\n"}, {"> 0.006\n", "> 0.06\n"}}, "slo_test.yaml", "BackendErrorBudgetBurn pages"},
		{"no traffic floor", "slo.yaml", [][2]string{{"slo:backend_requests:rate1h > 1\n", "slo:backend_requests:rate1h > 0\n"}, {"slo:backend_requests:rate6h > 1\n", "slo:backend_requests:rate6h > 0\n"}}, "slo_test.yaml", "floor"},
		{"route alert without its floor", "slo.yaml", [][2]string{{"slo:backend_route_requests:rate5m > 0.05", "slo:backend_route_requests:rate5m > 0"}}, "slo_test.yaml", "BackendRouteFailing"},
		{"ticket without its short window", "slo.yaml", [][2]string{{"and on (namespace) slo:backend_errors:ratio_rate2h > 0.003", "or on (namespace) slo:backend_errors:ratio_rate2h > 0.003"}}, "slo_day_test.yaml", "blip"},
		{"backup late without the missing-series case", "platform.yaml", [][2]string{{"absent(kube_cronjob_created{namespace=\"scrolluniversity\", cronjob=\"database-backup\"})", "absent(nothing_at_all)"}}, "rules_test.yaml", "DatabaseBackupLate"},
		{"failed pods not running", "kubernetes.yaml", [][2]string{{`phase=~"Pending|Unknown"`, `phase=~"Pending|Unknown|Failed"`}}, "rules_test.yaml", "PodNotRunning"},
		{"Elasticsearch health without health_up", "logging.yaml", [][2]string{{"max by (namespace, cluster) (elasticsearch_cluster_health_up) == 0", "max by (namespace, cluster) (elasticsearch_cluster_health_up) == 2"}}, "signals_test.yaml", "ElasticsearchUnreachable"},
		{"traffic compared with nothing", "backend.yaml", [][2]string{{"< 0.1 * sum by (namespace)", "< 0 * sum by (namespace)"}}, "history_test.yaml", "TrafficVanished"},
		{"pool page on any timeout", "backend.yaml", [][2]string{{"> 0.01\n        for: 10m", "> 0\n        for: 10m"}}, "rules_test.yaml", "DatabasePoolExhausted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := renderRules(t)
			for _, e := range tc.edits {
				if !bytes.Contains(files[tc.file], []byte(e[0])) {
					t.Fatalf("%s does not contain %q: the planted regression no longer applies", tc.file, e[0])
				}
				files[tc.file] = bytes.ReplaceAll(files[tc.file], []byte(e[0]), []byte(e[1]))
			}
			if failed := promtoolTest(t, bins["promtool"], files, tc.cases, tc.failing); failed[tc.failing] == "" {
				t.Errorf("with %q in %s, the cases %q of %s still pass", tc.edits, tc.file, tc.cases, tc.failing)
			}
			// The same cases pass on the rules as they are.
			if failed := promtoolTest(t, bins["promtool"], renderRules(t), tc.cases, tc.failing); len(failed) > 0 {
				t.Errorf("the cases %q of %s fail on the rules as rendered:\n%s", tc.cases, tc.failing, failed[tc.failing])
			}
		})
	}
}

// TestPromtoolCatchesABrokenRule shows the check above can fail.
func TestPromtoolCatchesABrokenRule(t *testing.T) {
	bins := tools(t)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := "groups:\n  - name: bad\n    rules:\n      - alert: Bad\n        expr: sum(rate(x[5m]) > \n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, bins["promtool"], "check", "rules", path); err == nil {
		t.Fatalf("promtool accepted a rule with a PromQL syntax error:\n%s", out)
	}
}

// TestEveryAlertFamilyIsTested: every alert has a promtool case that fires
// it and one that does not (the Watchdog always fires, by design).
func TestEveryAlertFamilyIsTested(t *testing.T) {
	var doc struct {
		Tests []struct {
			Name  string `yaml:"name"`
			Cases []struct {
				Alert string `yaml:"alertname"`
				Exp   []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	var all []struct {
		Name  string `yaml:"name"`
		Cases []struct {
			Alert string `yaml:"alertname"`
			Exp   []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	}
	for _, name := range testFiles(t) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		doc.Tests = nil
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		all = append(all, doc.Tests...)
	}
	for _, tc := range all {
		for _, c := range tc.Cases {
			if len(c.Exp) > 0 {
				fires[c.Alert] = true
			} else {
				quiet[c.Alert] = true
			}
		}
	}
	for _, f := range parseRules(t, renderRules(t)) {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				if !fires[r.Alert] {
					t.Errorf("alert %s has no promtool case that fires it", r.Alert)
				}
				if !quiet[r.Alert] && r.Alert != "Watchdog" {
					t.Errorf("alert %s has no promtool case where it stays quiet", r.Alert)
				}
			}
		}
	}
}

// testFiles are promtool's test files.
func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*_test.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool test files: %v", err)
	}
	return files
}

// anchors are the GitHub anchors of docs/RUNBOOK.md's headings.
func anchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "RUNBOOK.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			slug := strings.ToLower(strings.TrimSpace(h))
			slug = regexp.MustCompile(`[^a-z0-9 -]`).ReplaceAllString(slug, "")
			out[strings.ReplaceAll(slug, " ", "-")] = true
		}
	}
	return out
}

// TestEveryAlertHasSeverityAnnotationsAndRunbook checks what the policy
// pack checks too, on the files, and that each runbook section exists.
func TestEveryAlertHasSeverityAnnotationsAndRunbook(t *testing.T) {
	sections := anchors(t)
	severities := []string{"critical", "warning", "info", "none"}
	alerts := 0
	names := map[string]bool{}
	for name, f := range parseRules(t, renderRules(t)) {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				alerts++
				names[RunbookAnchor(r.Alert)] = true
				if !slices.Contains(severities, r.Labels["severity"]) {
					t.Errorf("%s: alert %s has severity %q, want one of %v", name, r.Alert, r.Labels["severity"], severities)
				}
				for _, a := range []string{"summary", "description", "runbook_url"} {
					if r.Annotations[a] == "" {
						t.Errorf("%s: alert %s has no %s", name, r.Alert, a)
					}
				}
				want := RunbookURL + "#" + RunbookAnchor(r.Alert)
				if r.Annotations["runbook_url"] != want {
					t.Errorf("%s: alert %s runbook_url = %q, want %q", name, r.Alert, r.Annotations["runbook_url"], want)
				}
				if !sections[RunbookAnchor(r.Alert)] {
					t.Errorf("docs/RUNBOOK.md has no section %q for alert %s", "## "+r.Alert, r.Alert)
				}
			}
		}
	}
	// And the other way: every section named like an alert is one, so
	// that a renamed or removed alert leaves no stale section behind.
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "RUNBOOK.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^## ([A-Z][A-Za-z0-9]+)$`).FindAllStringSubmatch(string(b), -1) {
		if !names[RunbookAnchor(m[1])] {
			t.Errorf("docs/RUNBOOK.md has a section %q, but no rule has that alert", m[0])
		}
	}
	if alerts < 25 {
		t.Errorf("found %d alerts, want the families of the issue (at least 25 rules)", alerts)
	}
}

func TestThresholdsReachTheRules(t *testing.T) {
	th := TestThresholds
	th.AIDailyBudgetUsd = 40
	slo := TestSLO
	slo.Availability, slo.LatencyObjective, slo.LatencySeconds = 0.995, 0.9, 1
	slo.MinRequestsPerSecond, slo.RouteErrorRatio = 5, 0.125
	slo.Routes = map[string]string{"enrol": `/api/enrollments/.*`}
	files, err := RuleFiles(RuleParams{Thresholds: th, SLO: slo, AppNamespace: "school", DrillRtoMinutes: TestDrillRtoMinutes})
	if err != nil {
		t.Fatal(err)
	}
	backend := string(files["backend.yaml"])
	for _, want := range []string{`namespace="school"`, `> 40` + "\n", `> 32` + "\n", `vector(40)`} {
		if !strings.Contains(backend, want) {
			t.Errorf("backend.yaml rendered with budget 40, namespace school lacks %q", want)
		}
	}
	// 14.4 and 6 times a 0.5% budget, 3 and 1 times; 14.4 times 10%; the
	// 1-second boundary as Prometheus 3 stores it; the floor; the route.
	sloFile := string(files["slo.yaml"])
	for _, want := range []string{
		"> 0.072\n", "> 0.03\n", "> 0.015\n", "> 0.005\n", "> 1.44\n", `le="1.0"`, "rate1h > 5\n",
		"vector(0.995)", "http_route=~`/api/enrollments/.*`", "route: enrol", "> 0.125\n", `namespace="school"`,
	} {
		if !strings.Contains(sloFile, want) {
			t.Errorf("slo.yaml rendered with availability 0.995, latency 90%% within 1 s, floor 5, route enrol lacks %q", want)
		}
	}
	if strings.Contains(sloFile, "login") {
		t.Error("slo.yaml keeps the default route login when the stack sets its own routes")
	}
}

// TestHistogramBoundariesAreTheContract: docs/METRICS.md states the
// request histogram's boundaries, config.HistogramBoundaries is what
// observability.slo.latencySeconds is checked against; they are one list,
// and it holds the seed's 200 ms.
func TestHistogramBoundariesAreTheContract(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "METRICS.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("buckets \x60\\[([0-9., ]+)\\]\x60").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/METRICS.md does not state the request histogram's buckets as `[a, b, …]`")
	}
	var stated []float64
	if err := json.Unmarshal([]byte("["+string(m[1])+"]"), &stated); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stated, config.HistogramBoundaries) {
		t.Errorf("docs/METRICS.md states buckets %v, config.HistogramBoundaries is %v", stated, config.HistogramBoundaries)
	}
	if !slices.Contains(stated, TestSLO.LatencySeconds) {
		t.Errorf("the default latency threshold %v s is not a bucket boundary", TestSLO.LatencySeconds)
	}
}

// contract is every metric name in the first column of docs/METRICS.md's
// tables.
func contract(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "METRICS.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	name := regexp.MustCompile("`([a-zA-Z_:][a-zA-Z0-9_:]*)`")
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			out[m[1]] = true
		}
	}
	return out
}

func inContract(c map[string]bool, metric string) bool {
	if c[metric] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(metric, suffix); ok && c[base] {
			return true
		}
	}
	return false
}

// metricNames parses expressions with Prometheus's parser (promqlnames).
func metricNames(t *testing.T, bin string, exprs []string) [][]string {
	t.Helper()
	in, _ := json.Marshal(exprs)
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("promqlnames: %v", err)
	}
	var res []struct {
		Metrics []string `json:"metrics"`
		Error   string   `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	names := make([][]string, len(res))
	for i, r := range res {
		if r.Error != "" {
			t.Errorf("%q does not parse as PromQL: %s", exprs[i], r.Error)
		}
		names[i] = r.Metrics
	}
	return names
}

type panel struct {
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// TestDashboardsQueryTheContract: each dashboard is JSON, each panel
// queries the provisioned Prometheus data source, each query parses as
// PromQL and names only metrics of docs/METRICS.md.
func TestDashboardsQueryTheContract(t *testing.T) {
	bins := tools(t)
	c := contract(t)
	dashboards, err := Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	if len(dashboards) != 6 {
		t.Errorf("%d dashboards, want overview, SLOs, AI, database, Redis and workloads", len(dashboards))
	}
	for file, body := range dashboards {
		var d struct {
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var exprs []string
		for _, p := range d.Panels {
			if p.Datasource.UID != DataSourceUID {
				t.Errorf("%s: panel %q queries data source %q, want %q", file, p.Title, p.Datasource.UID, DataSourceUID)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
		}
		for i, names := range metricNames(t, bins["promqlnames"], exprs) {
			for _, m := range names {
				if !inContract(c, m) {
					t.Errorf("%s: %q reads %s, which docs/METRICS.md does not list", file, exprs[i], m)
				}
			}
		}
	}
}

// TestRulesUseTheContract: the same for every rule expression.
func TestRulesUseTheContract(t *testing.T) {
	bins := tools(t)
	c := contract(t)
	var exprs []string
	for _, f := range parseRules(t, renderRules(t)) {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				exprs = append(exprs, r.Expr)
			}
		}
	}
	for i, names := range metricNames(t, bins["promqlnames"], exprs) {
		for _, m := range names {
			if !inContract(c, m) {
				t.Errorf("rule %q reads %s, which docs/METRICS.md does not list", strings.TrimSpace(exprs[i]), m)
			}
		}
	}
}

// TestContractCheckCatchesAnUnknownMetric shows the two tests above fail
// on a metric outside the contract.
func TestContractCheckCatchesAnUnknownMetric(t *testing.T) {
	bins := tools(t)
	c := contract(t)
	names := metricNames(t, bins["promqlnames"], []string{`sum(rate(http_requests_total{job="backend"}[5m])) / sum(up)`})
	if want := []string{"http_requests_total", "up"}; !slices.Equal(names[0], want) {
		t.Fatalf("promqlnames = %v, want %v", names[0], want)
	}
	if inContract(c, "http_requests_total") || !inContract(c, "up") || !inContract(c, "http_server_request_duration_seconds_bucket") {
		t.Error("the contract should refuse http_requests_total and accept up and the request histogram's buckets")
	}
}

// TestContractListsEveryCloudWatchMetric keeps docs/METRICS.md and the
// exporter's configuration in step.
func TestContractListsEveryCloudWatchMetric(t *testing.T) {
	c := contract(t)
	for _, m := range CloudWatchMetrics {
		for _, s := range m.Statistics {
			if name := CloudWatchMetricName(m.Namespace, m.Name, s); !c[name] {
				t.Errorf("docs/METRICS.md does not list %s (%s %s %s)", name, m.Namespace, m.Name, s)
			}
		}
	}
}

func TestCloudWatchMetricName(t *testing.T) {
	for _, tc := range []struct{ ns, metric, stat, want string }{
		{"AWS/RDS", "CPUUtilization", "Average", "aws_rds_cpuutilization_average"},
		{"AWS/RDS", "FreeStorageSpace", "Minimum", "aws_rds_free_storage_space_minimum"},
		{"AWS/ElastiCache", "EngineCPUUtilization", "Maximum", "aws_elasticache_engine_cpuutilization_maximum"},
		{"AWS/ElastiCache", "Evictions", "Sum", "aws_elasticache_evictions_sum"},
	} {
		if got := CloudWatchMetricName(tc.ns, tc.metric, tc.stat); got != tc.want {
			t.Errorf("CloudWatchMetricName(%s, %s, %s) = %s, want %s", tc.ns, tc.metric, tc.stat, got, tc.want)
		}
	}
}

func TestCloudWatchConfigListsEveryDimensionValue(t *testing.T) {
	out, err := CloudWatchConfig("us-east-1", CloudWatchTargets{DBInstanceIdentifier: []string{"su-postgres", "su-postgres-replica"}, CacheClusterId: []string{"su-redis-001", "su-redis-002"}})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Region  string `yaml:"region"`
		Metrics []struct {
			Namespace  string              `yaml:"aws_namespace"`
			Dimensions []string            `yaml:"aws_dimensions"`
			Select     map[string][]string `yaml:"aws_dimension_select"`
		} `yaml:"metrics"`
	}
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" || len(cfg.Metrics) != len(CloudWatchMetrics) {
		t.Fatalf("region %q, %d metrics; want us-east-1 and %d", cfg.Region, len(cfg.Metrics), len(CloudWatchMetrics))
	}
	for _, m := range cfg.Metrics {
		// Every dimension selected by value: no ListMetrics calls.
		for _, d := range m.Dimensions {
			if len(m.Select[d]) == 0 {
				t.Errorf("%s: dimension %s has no selected values", m.Namespace, d)
			}
		}
	}
}

// TestAlertmanagerRoutesBySeverity checks the rendered configuration of
// a paging stack (production) and of one that does not page (staging)
// with amtool check-config, then sends a critical, a warning, an info
// alert and the Watchdog through amtool config routes test.
func TestAlertmanagerRoutesBySeverity(t *testing.T) {
	bins := tools(t)
	for _, stack := range []struct {
		name     string
		page     bool
		critical string
	}{
		{"production", true, ReceiverPage},
		{"staging", false, ReceiverSlack},
	} {
		t.Run(stack.name, func(t *testing.T) {
			out, err := yaml.Marshal(AlertmanagerConfig(testReceivers(stack.page), SecretsDir))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "alertmanager.yaml")
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			if res, err := run(t, bins["amtool"], "check-config", path); err != nil {
				t.Fatalf("amtool check-config: %v\n%s", err, res)
			}
			env := "environment=" + stack.name
			for _, tc := range []struct {
				labels   []string
				receiver string
			}{
				{[]string{"alertname=BackendErrorBudgetBurn", "severity=critical", "namespace=scrolluniversity", env}, stack.critical},
				{[]string{"alertname=BackendLatencyBudgetBurn", "severity=warning", "namespace=scrolluniversity", env}, ReceiverSlack},
				{[]string{"alertname=AISpendProjectedOverBudget", "severity=info", "namespace=scrolluniversity", env}, ReceiverEmail},
				{[]string{"alertname=Watchdog", "severity=none", env}, ReceiverHeartbeat},
				// Anything unrouted goes to Slack.
				{[]string{"alertname=Unknown", env}, ReceiverSlack},
			} {
				args := append([]string{"config", "routes", "test", "--config.file=" + path, "--verify.receivers=" + tc.receiver}, tc.labels...)
				if res, err := run(t, bins["amtool"], args...); err != nil {
					t.Errorf("%v: want receiver %s: %v\n%s", tc.labels, tc.receiver, err, res)
				}
			}
			// The check can fail: a critical alert does not go to email.
			if res, err := run(t, bins["amtool"], "config", "routes", "test", "--config.file="+path, "--verify.receivers="+ReceiverEmail, "severity=critical"); err == nil {
				t.Errorf("amtool routed a critical alert to email:\n%s", res)
			}
			// Only the paging stack knows PagerDuty at all.
			if got := strings.Contains(string(out), "pagerduty_configs"); got != stack.page {
				t.Errorf("%s: pagerduty_configs present = %v, want %v", stack.name, got, stack.page)
			}
			// No credential is inline: each is read from the receivers' Secret.
			for _, key := range []string{"api_url:", "routing_key:", "auth_password:", "url:", "service_key:"} {
				if strings.Contains(string(out), " "+key) {
					t.Errorf("the configuration sets %s inline; credentials belong in *_file fields", key)
				}
			}
			for _, s := range config.AlertingSecrets {
				if s.File == config.PagerDutyKeyFile && !stack.page {
					continue
				}
				if !strings.Contains(string(out), filepath.Join(SecretsDir, ReceiversSecret, s.File)) {
					t.Errorf("the configuration never reads %s", s.File)
				}
			}
			// The environment is in every title.
			for _, field := range []string{"title:", "description:", "Subject:"} {
				for _, line := range strings.Split(string(out), "\n") {
					if strings.Contains(line, " "+field) && !strings.Contains(line, "{{ .CommonLabels.environment }}") {
						t.Errorf("%s does not name the environment: %s", field, strings.TrimSpace(line))
					}
				}
			}
		})
	}
}

// TestInhibitionIsPerObject runs the inhibition through the Alertmanager
// server's matching (amtool cannot): a critical alert silences the
// warning of the same alert and object, not another object's (ops m1).
func TestInhibitionIsPerObject(t *testing.T) {
	cfg := AlertmanagerConfig(config.ReceiversConfig{}, SecretsDir)
	rule := cfg["inhibit_rules"].([]any)[0].(map[string]any)
	if !slices.Equal(rule["source_matchers"].([]any), []any{`severity="critical"`}) {
		t.Fatalf("first inhibit rule = %v, want critical alerts to inhibit", rule)
	}
	equal := map[string]bool{}
	for _, l := range rule["equal"].([]any) {
		equal[l.(string)] = true
	}
	// Every label the rules split an alert by must be compared, or one
	// object's critical hides another's warning.
	for _, f := range parseRules(t, renderRules(t)) {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				for _, l := range regexp.MustCompile(`\b(?:by|on) \(([^)]*)\)`).FindAllStringSubmatch(r.Expr, -1) {
					for _, name := range strings.Split(l[1], ",") {
						if name = strings.TrimSpace(name); name != "" && name != "le" && !equal[name] {
							t.Errorf("alert %s is split by %s, which the inhibition does not compare", r.Alert, name)
						}
					}
				}
			}
		}
	}
}
