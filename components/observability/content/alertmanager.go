package content

import (
	"path"
	"time"

	"github.com/scrolluniversity/platform/infra/config"
)

// Receivers. Critical alerts go to ReceiverPage in a stack that pages
// (observability.receivers.page, production's default) and to Slack in
// one that does not; warnings to Slack, info to email.
const (
	ReceiverPage      = "pagerduty-and-slack"
	ReceiverSlack     = "slack"
	ReceiverEmail     = "email"
	ReceiverHeartbeat = "heartbeat" // the dead man's switch
)

// ReceiversSecret is the Secret whose keys (config.AlertingSecrets' files)
// hold the receivers' credentials; the Alertmanager pods mount it at
// SecretsDir/ReceiversSecret.
const ReceiversSecret = "alertmanager-receivers"

// SecretsDir is where the prometheus-operator mounts each Secret listed in
// alertmanagerSpec.secrets, one folder per Secret.
const SecretsDir = "/etc/alertmanager/secrets"

// Timings of notification: a new group waits groupWait for more of its
// alerts, a changed group groupInterval, and an unchanged firing group is
// sent again after repeatInterval (pages sooner, email once a day).
const (
	groupWait              = "30s"
	groupInterval          = "5m"
	repeatInterval         = "4h"
	criticalRepeatInterval = "1h"
	infoRepeatInterval     = "24h"
)

// HeartbeatPeriod is how often the heartbeat service receives the
// Watchdog; it should alarm when none has come for HeartbeatGrace.
const (
	HeartbeatPeriod = time.Minute
	HeartbeatGrace  = 5 * time.Minute
)

// The Watchdog's route flushes every HeartbeatPeriod (its group interval)
// and re-sends when the last send is older than heartbeatRepeat. With the
// two equal, the notification log's entry (stamped after the webhook
// answers) is a few milliseconds too young at the next flush, and the
// heartbeat goes out every second one (alertmanager#676): the repeat
// interval is kept below the group interval, so it goes out at each.
const heartbeatRepeat = HeartbeatPeriod - 10*time.Second

// inhibitEqual are the labels an inhibiting alert must share with the one
// it silences: its name and every label that tells one object from
// another, so that one volume's critical hides that volume's warning, not
// another's. A label missing on both sides counts as equal.
var inhibitEqual = []any{
	"alertname", "namespace", "pod", "container", "persistentvolumeclaim", "name", "cluster",
	"dbinstance_identifier", "job_name", "cronjob", "daemonset", "deployment", "statefulset",
	"node", "instance", "mountpoint", "route", "slo", "integration",
	"db_client_connection_pool_name", "owner_name", "horizontalpodautoscaler", "condition", "pipeline", "rule_group",
}

// AlertmanagerConfig is Alertmanager's configuration: routes by severity,
// grouped by alert name and namespace, a critical alert silencing the
// warning of the same alert and object, and the Watchdog to the
// heartbeat. Criticals page only where r.Page is set. Every title names
// the environment (Prometheus's external label). Credentials are read
// from files under secretsDir/<Secret>/; none is in the configuration
// itself.
func AlertmanagerConfig(r config.ReceiversConfig, secretsDir string) map[string]any {
	file := func(name string) string { return path.Join(secretsDir, ReceiversSecret, name) }
	slack := map[string]any{
		"channel":       r.SlackChannel,
		"send_resolved": true,
		"title":         `[{{ .CommonLabels.environment }}] [{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }}, {{ .CommonLabels.namespace }})`,
		"text":          `{{ range .Alerts }}*{{ .Annotations.summary }}*` + "\n" + `{{ .Annotations.description }}` + "\n" + `Runbook: {{ .Annotations.runbook_url }}` + "\n" + `{{ end }}`,
	}
	receivers := []any{
		map[string]any{"name": ReceiverSlack, "slack_configs": []any{slack}},
		map[string]any{"name": ReceiverEmail, "email_configs": []any{map[string]any{
			"to": r.EmailTo, "send_resolved": false,
			"headers": map[string]any{"Subject": `[{{ .CommonLabels.environment }}] {{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`},
		}}},
		map[string]any{"name": ReceiverHeartbeat, "webhook_configs": []any{map[string]any{
			"url_file": file(config.HeartbeatURLFile), "send_resolved": false,
		}}},
	}
	critical := ReceiverSlack
	if r.Page {
		critical = ReceiverPage
		receivers = append(receivers, map[string]any{
			"name": ReceiverPage,
			"pagerduty_configs": []any{map[string]any{
				"routing_key_file": file(config.PagerDutyKeyFile),
				"send_resolved":    true,
				"description":      `[{{ .CommonLabels.environment }}] {{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`,
				"links":            []any{map[string]any{"href": `{{ .CommonAnnotations.runbook_url }}`, "text": "Runbook"}},
			}},
			"slack_configs": []any{slack},
		})
	}
	return map[string]any{
		// Replaces the chart's default template glob: no custom templates.
		"templates": []any{},
		"global": map[string]any{
			"resolve_timeout":         "5m",
			"slack_api_url_file":      file(config.SlackWebhookFile),
			"smtp_smarthost":          r.SmtpSmarthost,
			"smtp_from":               r.EmailFrom,
			"smtp_auth_username":      r.SmtpUsername,
			"smtp_auth_password_file": file(config.SMTPPasswordFile),
			"smtp_require_tls":        true,
		},
		"route": map[string]any{
			"receiver":        ReceiverSlack,
			"group_by":        []any{"alertname", "namespace"},
			"group_wait":      groupWait,
			"group_interval":  groupInterval,
			"repeat_interval": repeatInterval,
			"routes": []any{
				map[string]any{
					"matchers": []any{`alertname="Watchdog"`}, "receiver": ReceiverHeartbeat,
					"group_wait": "0s", "group_interval": HeartbeatPeriod.String(), "repeat_interval": heartbeatRepeat.String(),
				},
				map[string]any{"matchers": []any{`severity="critical"`}, "receiver": critical, "repeat_interval": criticalRepeatInterval},
				map[string]any{"matchers": []any{`severity="warning"`}, "receiver": ReceiverSlack},
				map[string]any{"matchers": []any{`severity="info"`}, "receiver": ReceiverEmail, "repeat_interval": infoRepeatInterval},
			},
		},
		"inhibit_rules": []any{
			map[string]any{
				"source_matchers": []any{`severity="critical"`},
				"target_matchers": []any{`severity=~"warning|info"`},
				"equal":           inhibitEqual,
			},
			map[string]any{
				"source_matchers": []any{`severity="warning"`},
				"target_matchers": []any{`severity="info"`},
				"equal":           inhibitEqual,
			},
		},
		"receivers": receivers,
	}
}
