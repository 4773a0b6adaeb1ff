package content

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/infra/config"
)

// ruleFiles are the alert rules, Prometheus rule files with the stack's
// thresholds as Go template actions between [[ and ]], so that Prometheus's
// own {{ }} templates pass through untouched.
//
//go:embed rules/*.yaml
var ruleFiles embed.FS

// RunbookURL is docs/RUNBOOK.md on the default branch; each alert's
// runbook_url is its section there.
const RunbookURL = "https://github.com/scrolluniversity/platform/blob/main/docs/RUNBOOK.md"

// RunbookAnchor is the section of docs/RUNBOOK.md about an alert: its
// heading is the alert's name, and GitHub's anchor is that name lowercased.
func RunbookAnchor(alert string) string { return strings.ToLower(alert) }

const gib = 1 << 30

// ruleData is what the rule templates see.
type ruleData struct {
	config.ThresholdsConfig
	AppNamespace                string
	SLO                         config.SLOConfig
	AIBudgetWarning             float64
	DatabaseFreeStorageBytes    int64
	DatabaseFreeStorageCritical int64
	CertificateExpirySeconds    int
	BackupMaxAgeSeconds         int
	BackupPageAgeHours          int
	BackupPageAgeSeconds        int
	LogstashQueueEvents         int
	FilebeatDaemonSet           string
	ElasticsearchStatefulSet    string
	AppBackupMaxAgeSeconds      int
	DrillMaxAgeSeconds          int
	DrillRtoSeconds             int
	DrillRtoMinutes             int
	GatewayNamespace            string
	MonitoringNamespace         string
	ProbeJob                    string
	GatewayDataPlane            string
	GatewayControlPlane         string
	WAF                         *WAFAlert
}

// WAFAlert is what the WafBlockedRequestsSpike alert watches: the CDN's
// web ACL (its WebACL dimension) and the blocked requests in five minutes
// above which it fires (cdn.blockedRequestsAlert).
type WAFAlert struct {
	WebACL                string
	BlockedPerFiveMinutes int
}

// MonitoringNamespace is the Observability component's namespace, where
// Prometheus and Alertmanager run.
const MonitoringNamespace = "monitoring"

// The public Gateway's Deployments: the NGINX data plane NGF's
// provisioner names <gateway>-<class> ("public" of class "nginx"), and the
// chart's control plane (release nginx-gateway-fabric), in the
// components/apptier edge's namespace.
const (
	GatewayNamespace    = "nginx-gateway"
	GatewayDataPlane    = "public-nginx"
	GatewayControlPlane = "nginx-gateway-fabric"
)

// backupScheduleHours is the database backup's period: one more missed
// run after the warning pages.
const backupScheduleHours = 6

// The app backup runs daily and the drill weekly: a missed run plus two
// hours, and a missed week plus a day, are late.
const (
	appBackupMaxAgeHours = 26
	drillMaxAgeDays      = 8
)

// logstashQueueEvents: a queue this long that still grows is a backlog,
// not a burst.
const logstashQueueEvents = 10000

// FilebeatDaemonSet is the DaemonSet ECK makes for the Logging
// component's Beat "filebeat".
const FilebeatDaemonSet = "filebeat-beat-filebeat"

// ElasticsearchStatefulSet is the StatefulSet ECK makes for the node set
// "default" of the Logging component's Elasticsearch "logs".
const ElasticsearchStatefulSet = "logs-es-default"

// aiBudgetWarningShare of the AI budget spent warns before it is all.
const aiBudgetWarningShare = 0.8

// RuleParams are what the rules are rendered from.
type RuleParams struct {
	Thresholds      config.ThresholdsConfig
	SLO             config.SLOConfig
	AppNamespace    string
	DrillRtoMinutes int
	// WAF adds the WAF's alert; nil without a CDN.
	WAF *WAFAlert
}

// RuleFiles renders the alert rule files with the stack's thresholds, by
// file name, and generates slo.yaml from its objectives. The result is
// what Prometheus loads and what CI checks with promtool.
func RuleFiles(p RuleParams) (map[string][]byte, error) {
	t, appNamespace, drillRtoMinutes := p.Thresholds, p.AppNamespace, p.DrillRtoMinutes
	data := ruleData{
		ThresholdsConfig:            t,
		AppNamespace:                appNamespace,
		SLO:                         p.SLO,
		AIBudgetWarning:             round(t.AIDailyBudgetUsd * aiBudgetWarningShare),
		DatabaseFreeStorageBytes:    int64(t.DatabaseFreeStorageGiB) * gib,
		DatabaseFreeStorageCritical: int64(t.DatabaseFreeStorageGiB) * gib / 2,
		CertificateExpirySeconds:    t.CertificateExpiryDays * 86400,
		BackupMaxAgeSeconds:         t.BackupMaxAgeHours * 3600,
		BackupPageAgeHours:          t.BackupMaxAgeHours + backupScheduleHours,
		BackupPageAgeSeconds:        (t.BackupMaxAgeHours + backupScheduleHours) * 3600,
		LogstashQueueEvents:         logstashQueueEvents,
		FilebeatDaemonSet:           FilebeatDaemonSet,
		ElasticsearchStatefulSet:    ElasticsearchStatefulSet,
		AppBackupMaxAgeSeconds:      appBackupMaxAgeHours * 3600,
		DrillMaxAgeSeconds:          drillMaxAgeDays * 86400,
		DrillRtoSeconds:             drillRtoMinutes * 60,
		DrillRtoMinutes:             drillRtoMinutes,
		GatewayNamespace:            GatewayNamespace,
		MonitoringNamespace:         MonitoringNamespace,
		ProbeJob:                    ProbeJob,
		GatewayDataPlane:            GatewayDataPlane,
		GatewayControlPlane:         GatewayControlPlane,
		WAF:                         p.WAF,
	}
	funcs := template.FuncMap{
		"runbook": func(alert string) string { return RunbookURL + "#" + RunbookAnchor(alert) },
		"percent": percent,
	}
	names, err := fs.Glob(ruleFiles, "rules/*.yaml")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, name := range names {
		src, err := ruleFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(name).Delims("[[", "]]").Funcs(funcs).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("parsing rule template %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			return nil, fmt.Errorf("rendering rule template %s: %w", name, err)
		}
		out[path.Base(name)] = buf.Bytes()
	}
	slo, err := sloRules(p.SLO, appNamespace)
	if err != nil {
		return nil, err
	}
	out["slo.yaml"] = slo
	return out, nil
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

// RuleGroups are the rendered files' groups, in file order, as the
// PrometheusRule resource's spec.groups takes them.
func RuleGroups(files map[string][]byte) ([]any, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var groups []any
	for _, n := range names {
		var f struct {
			Groups []map[string]any `yaml:"groups"`
		}
		if err := yaml.Unmarshal(files[n], &f); err != nil {
			return nil, fmt.Errorf("reading rule file %s: %w", n, err)
		}
		for _, g := range f.Groups {
			groups = append(groups, g)
		}
	}
	return groups, nil
}
