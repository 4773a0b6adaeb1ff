package content

import (
	"path"

	"github.com/scrolluniversity/platform/infra/config"
)

// Receivers, by the severity they take.
const (
	receiverCritical  = "critical"  // PagerDuty and Slack
	receiverWarning   = "warning"   // Slack
	receiverInfo      = "info"      // email
	receiverHeartbeat = "heartbeat" // the dead man's switch
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
	// heartbeatInterval: the Watchdog is re-sent this often; the heartbeat
	// service alarms when it stops.
	heartbeatInterval = "5m"
)

// AlertmanagerConfig is Alertmanager's configuration: routes by severity,
// grouped by alert name and namespace, a critical alert silencing the
// warning of the same name and namespace, and the Watchdog to the
// heartbeat. Credentials are read from files under secretsDir/<Secret>/;
// none is in the configuration itself.
func AlertmanagerConfig(r config.ReceiversConfig, secretsDir string) map[string]any {
	file := func(name string) string { return path.Join(secretsDir, ReceiversSecret, name) }
	slack := map[string]any{
		"channel":       r.SlackChannel,
		"send_resolved": true,
		"title":         `[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})`,
		"text":          `{{ range .Alerts }}*{{ .Annotations.summary }}*` + "\n" + `{{ .Annotations.description }}` + "\n" + `Runbook: {{ .Annotations.runbook_url }}` + "\n" + `{{ end }}`,
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
			"receiver":        receiverWarning,
			"group_by":        []any{"alertname", "namespace"},
			"group_wait":      groupWait,
			"group_interval":  groupInterval,
			"repeat_interval": repeatInterval,
			"routes": []any{
				map[string]any{
					"matchers": []any{`alertname="Watchdog"`}, "receiver": receiverHeartbeat,
					"group_wait": "0s", "group_interval": heartbeatInterval, "repeat_interval": heartbeatInterval,
				},
				map[string]any{"matchers": []any{`severity="critical"`}, "receiver": receiverCritical, "repeat_interval": criticalRepeatInterval},
				map[string]any{"matchers": []any{`severity="warning"`}, "receiver": receiverWarning},
				map[string]any{"matchers": []any{`severity="info"`}, "receiver": receiverInfo, "repeat_interval": infoRepeatInterval},
			},
		},
		"inhibit_rules": []any{
			map[string]any{
				"source_matchers": []any{`severity="critical"`},
				"target_matchers": []any{`severity=~"warning|info"`},
				"equal":           []any{"alertname", "namespace"},
			},
			map[string]any{
				"source_matchers": []any{`severity="warning"`},
				"target_matchers": []any{`severity="info"`},
				"equal":           []any{"alertname", "namespace"},
			},
		},
		"receivers": []any{
			map[string]any{
				"name": receiverCritical,
				"pagerduty_configs": []any{map[string]any{
					"routing_key_file": file(config.PagerDutyKeyFile),
					"send_resolved":    true,
					"description":      `{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`,
					"links":            []any{map[string]any{"href": `{{ .CommonAnnotations.runbook_url }}`, "text": "Runbook"}},
				}},
				"slack_configs": []any{slack},
			},
			map[string]any{"name": receiverWarning, "slack_configs": []any{slack}},
			map[string]any{"name": receiverInfo, "email_configs": []any{map[string]any{"to": r.EmailTo, "send_resolved": false}}},
			map[string]any{"name": receiverHeartbeat, "webhook_configs": []any{map[string]any{
				"url_file": file(config.HeartbeatURLFile), "send_resolved": false,
			}}},
		},
	}
}
