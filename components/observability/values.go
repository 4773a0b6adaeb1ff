package observability

import (
	"fmt"

	"github.com/scrolluniversity/platform/components/observability/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// The kube-prometheus-stack release and what it names: with fullnameOverride
// "kps" its Services are kps-prometheus (9090) and kps-alertmanager (9093),
// and Grafana's is grafana (80 -> 3000).
const (
	releaseName  = "kube-prometheus-stack"
	operatorName = "kube-prometheus-stack-prometheus-operator"
	chartRepo    = "https://prometheus-community.github.io/helm-charts"
	fullname     = "kps"
	grafanaName  = "grafana"
	storageClass = "gp3"
	poolLabel    = config.PoolLabel
	zoneKey      = "topology.kubernetes.io/zone"
	// GrafanaAdminSecret holds Grafana's admin user and password.
	GrafanaAdminSecret = "grafana-admin"
)

// Ports of the stack's servers.
const (
	PrometheusPort       = 9090
	AlertmanagerPort     = 9093
	alertmanagerMeshPort = 9094 // gossip between Alertmanager replicas, TCP and UDP
	GrafanaPort          = 3000
	reloaderPort         = 8080 // the operator's config-reloader sidecars' metrics
	// operatorPort is where the operator serves metrics with TLS off: the
	// chart passes --web.listen-address=:8080 and names the port http
	// (templates/prometheus-operator/deployment.yaml at 88.5.3); 10250 is
	// its port with TLS on.
	operatorPort         = 8080
	kubeStateMetricsPort = 8080
	nodeExporterPort     = 9100
	kubeletPort          = 10250
	kubernetesAPIPort    = 443
	coreDNSMetricsPort   = 9153
)

// Pod labels of the stack's workloads, as the operator and the charts set
// them.
var (
	prometheusPods       = map[string]string{"app.kubernetes.io/name": "prometheus"}
	alertmanagerPods     = map[string]string{"app.kubernetes.io/name": "alertmanager"}
	grafanaPods          = map[string]string{"app.kubernetes.io/name": "grafana"}
	kubeStateMetricsPods = map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}
	// The chart names the operator after itself, not fullnameOverride.
	operatorPods = map[string]string{"app.kubernetes.io/name": operatorName}
)

// Fixed sizes of the small pieces; Prometheus, Alertmanager and Grafana
// come from config.
var (
	operatorResources     = resources("100m", "128Mi", "500m", "256Mi")
	kubeStateResources    = resources("50m", "128Mi", "500m", "512Mi")
	nodeExporterResources = resources("20m", "32Mi", "250m", "64Mi")
	sidecarResources      = resources("10m", "64Mi", "200m", "128Mi")
)

func resources(reqCPU, reqMem, limCPU, limMem string) map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": reqCPU, "memory": reqMem},
		"limits":   map[string]any{"cpu": limCPU, "memory": limMem},
	}
}

// zoneSpread spreads replicas over zones. ScheduleAnyway: a replica
// whose volume is in a lost zone must still be able to wait for it.
func zoneSpread(labels map[string]string) []any {
	return []any{map[string]any{
		"maxSkew":           1,
		"topologyKey":       zoneKey,
		"whenUnsatisfiable": "ScheduleAnyway",
		"labelSelector":     map[string]any{"matchLabels": toAny(labels)},
	}}
}

func volume(gib int) map[string]any {
	return map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{
		"storageClassName": storageClass,
		"accessModes":      []any{"ReadWriteOnce"},
		"resources":        map[string]any{"requests": map[string]any{"storage": fmt.Sprintf("%dGi", gib)}},
	}}}
}

// pdb keeps a quorum of replicas through voluntary disruptions (node
// drains, upgrades): all but one.
func pdb(replicas int) map[string]any {
	return map[string]any{"enabled": replicas > 1, "minAvailable": max(1, replicas-1)}
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// reloaderResources fit the operator's config-reloader sidecar (a small Go
// program that watches files and calls a reload endpoint).
var reloaderResources = config.ResourcesConfig{RequestsCpu: "10m", RequestsMemory: "32Mi", LimitsCpu: "100m", LimitsMemory: "64Mi"}

// StackValues are kube-prometheus-stack's values: every key is one of the
// chart's (values.yaml at tag kube-prometheus-stack-88.5.3 and its
// subcharts: grafana 12.11.1, kube-state-metrics 8.4.0,
// prometheus-node-exporter 4.56.1), except three that the templates read
// without listing them in values.yaml: grafana.fullnameOverride (its
// _helpers.tpl), prometheus-node-exporter.priorityClassName (a comment
// there, used by daemonset.yaml) and grafana.ini's sections (written out
// as given). Secrets are referenced by name only.
func StackValues(o config.ObservabilityConfig, clusterName, stack string) map[string]any {
	nodeSelector := map[string]any{poolLabel: o.NodePool}
	return map[string]any{
		"fullnameOverride": fullname,
		// The stack's own rules are ScrollUniversity's (rules/), each with a
		// runbook in docs/RUNBOOK.md; the chart's default rules and the
		// dashboards that read their recordings are left out.
		"defaultRules": map[string]any{"create": false},
		// EKS runs the control plane: its scheduler, controller manager and
		// etcd cannot be scraped, and kube-proxy serves metrics on loopback.
		"kubeControllerManager": map[string]any{"enabled": false},
		"kubeScheduler":         map[string]any{"enabled": false},
		"kubeEtcd":              map[string]any{"enabled": false},
		"kubeProxy":             map[string]any{"enabled": false},
		"prometheusOperator": map[string]any{
			// The admission webhook would need certificate Jobs and an
			// API-server-to-pod flow; CI validates every rule with promtool
			// and the API server check instead.
			"admissionWebhooks": map[string]any{"enabled": false},
			// Without the webhook the operator needs no TLS listener; left on,
			// it would mount the Secret only the webhook's Jobs create, and
			// never start (prometheus-community/helm-charts#6586). It then
			// serves metrics over HTTP on operatorPort.
			"tls":          map[string]any{"enabled": false},
			"resources":    operatorResources,
			"nodeSelector": nodeSelector,
			// The chart passes --config-reloader-*=0 (no requests, no
			// limits) unless these are set: the sidecars beside Prometheus
			// and Alertmanager would be invisible to the scheduler.
			"prometheusConfigReloader": map[string]any{"resources": kit.ResourcesMap(reloaderResources)},
		},
		"prometheus": map[string]any{
			"prometheusSpec": map[string]any{
				"replicas":      o.Prometheus.Replicas,
				"retention":     fmt.Sprintf("%dd", o.Prometheus.RetentionDays),
				"retentionSize": fmt.Sprintf("%dGiB", o.Prometheus.RetentionSizeGiB),
				"storageSpec":   volume(o.Prometheus.StorageGiB),
				"resources":     kit.ResourcesMap(o.Prometheus.Resources),
				"nodeSelector":  nodeSelector,
				// Every ServiceMonitor, PodMonitor and PrometheusRule in the
				// cluster is selected, not only the chart's (the release
				// label): the component's own carry no such label.
				"serviceMonitorSelectorNilUsesHelmValues": false,
				"podMonitorSelectorNilUsesHelmValues":     false,
				"ruleSelectorNilUsesHelmValues":           false,
				"probeSelectorNilUsesHelmValues":          false,
				"scrapeConfigSelectorNilUsesHelmValues":   false,
				"topologySpreadConstraints":               zoneSpread(prometheusPods),
				"externalLabels":                          map[string]any{"cluster": clusterName, "environment": stack},
			},
			"podDisruptionBudget": pdb(o.Prometheus.Replicas),
		},
		"alertmanager": map[string]any{
			"config": content.AlertmanagerConfig(o.Receivers, content.SecretsDir),
			"alertmanagerSpec": map[string]any{
				"replicas":                  o.Alertmanager.Replicas,
				"storage":                   volume(o.Alertmanager.StorageGiB),
				"secrets":                   []any{content.ReceiversSecret},
				"resources":                 kit.ResourcesMap(o.Alertmanager.Resources),
				"nodeSelector":              nodeSelector,
				"topologySpreadConstraints": zoneSpread(alertmanagerPods),
			},
			"podDisruptionBudget": pdb(o.Alertmanager.Replicas),
		},
		"grafana": map[string]any{
			"fullnameOverride":         grafanaName,
			"defaultDashboardsEnabled": false,
			"admin":                    map[string]any{"existingSecret": GrafanaAdminSecret, "userKey": "admin-user", "passwordKey": "admin-password"},
			"testFramework":            map[string]any{"enabled": false},
			// The chart's RBAC lets Grafana's sidecars read every Secret of
			// the cluster; the component grants the one Role they need
			// instead (GrafanaRole): ConfigMaps of this namespace.
			"rbac":         map[string]any{"create": false},
			"resources":    kit.ResourcesMap(o.Grafana.Resources),
			"nodeSelector": nodeSelector,
			// A read-only root (the chart's default context adds it to no
			// escalation, no capabilities and RuntimeDefault seccomp):
			// Grafana writes its database and plugins to the chart's
			// /var/lib/grafana volume, and scratch and log files to these.
			"containerSecurityContext": map[string]any{"readOnlyRootFilesystem": true},
			"extraEmptyDirMounts": []any{
				map[string]any{"name": "tmp", "mountPath": "/tmp"},
				map[string]any{"name": "logs", "mountPath": "/var/log/grafana"},
			},
			"sidecar": map[string]any{
				"resources":       sidecarResources,
				"securityContext": map[string]any{"readOnlyRootFilesystem": true},
				"datasources":     map[string]any{"resource": "configmap", "searchNamespace": Namespace},
				"dashboards": map[string]any{
					"enabled": true, "label": content.DashboardLabel, "labelValue": "1",
					"searchNamespace": Namespace, "resource": "configmap",
					"provider": map[string]any{"folder": "ScrollUniversity"},
				},
			},
			"grafana.ini": map[string]any{
				"analytics":      map[string]any{"check_for_updates": false, "check_for_plugin_updates": false, "reporting_enabled": false},
				"users":          map[string]any{"allow_sign_up": false},
				"auth.anonymous": map[string]any{"enabled": false},
			},
		},
		"kube-state-metrics": map[string]any{
			"resources":    kubeStateResources,
			"nodeSelector": nodeSelector,
		},
		// node-exporter reads each node's /proc and /sys on the host's
		// network and PID namespace: it runs on every node (every taint
		// tolerated) in its own privileged namespace, the one exception to
		// the restricted profile (see NodeExporterNamespace).
		"prometheus-node-exporter": map[string]any{
			"namespaceOverride": NodeExporterNamespace,
			"tolerations":       []any{map[string]any{"operator": "Exists"}},
			"resources":         nodeExporterResources,
			"priorityClassName": "system-node-critical",
			// It reads as nobody (the chart's runAsUser 65534) and needs no
			// capability; the chart's default sets only the read-only root.
			"containerSecurityContext": map[string]any{
				"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
				"capabilities": map[string]any{"drop": []any{"ALL"}},
			},
		},
	}
}
