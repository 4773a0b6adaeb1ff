package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/components/observability/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
)

const (
	typeServiceMonitor = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
	typeNamespace      = "kubernetes:core/v1:Namespace"
)

// The sizes each stack file asks for reach kube-prometheus-stack's values.
func TestObservabilitySizes(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		o := cfg.Observability
		v := one(t, res, typeRelease, "kube-prometheus-stack").Plain()
		prom := path(v, "values", "prometheus", "prometheusSpec")
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"chart", v["version"], o.Chart},
			{"Prometheus replicas", path(prom, "replicas"), float64(o.Prometheus.Replicas)},
			{"retention", path(prom, "retention"), itoa(int64(o.Prometheus.RetentionDays)) + "d"},
			{"size cap", path(prom, "retentionSize"), itoa(int64(o.Prometheus.RetentionSizeGiB)) + "GiB"},
			{"volume", path(prom, "storageSpec", "volumeClaimTemplate", "spec", "resources", "requests", "storage"), itoa(int64(o.Prometheus.StorageGiB)) + "Gi"},
			{"storage class", path(prom, "storageSpec", "volumeClaimTemplate", "spec", "storageClassName"), "gp3"},
			{"zone spread", path(prom, "topologySpreadConstraints").([]any)[0].(map[string]any)["topologyKey"], "topology.kubernetes.io/zone"},
			{"Prometheus PDB", path(v, "values", "prometheus", "podDisruptionBudget", "enabled"), o.Prometheus.Replicas > 1},
			{"Alertmanager replicas", path(v, "values", "alertmanager", "alertmanagerSpec", "replicas"), float64(o.Alertmanager.Replicas)},
			{"Alertmanager PDB", path(v, "values", "alertmanager", "podDisruptionBudget", "enabled"), o.Alertmanager.Replicas > 1},
			{"receivers' Secret", path(v, "values", "alertmanager", "alertmanagerSpec", "secrets"), []any{"alertmanager-receivers"}},
			{"Grafana's admin Secret", path(v, "values", "grafana", "admin", "existingSecret"), "grafana-admin"},
			{"node-exporter's namespace", path(v, "values", "prometheus-node-exporter", "namespaceOverride"), "node-exporter"},
			{"node-exporter tolerates every taint", path(v, "values", "prometheus-node-exporter", "tolerations"), []any{map[string]any{"operator": "Exists"}}},
			{"the release's namespace", v["namespace"], "monitoring"},
			{"Grafana's cluster-wide Secret access (the chart's RBAC)", path(v, "values", "grafana", "rbac", "create"), false},
			{"Grafana's sidecars read ConfigMaps only", path(v, "values", "grafana", "sidecar", "dashboards", "resource"), "configmap"},
		} {
			if !equalJSON(c.got, c.want) {
				t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
			}
		}
		role := one(t, res, "kubernetes:rbac.authorization.k8s.io/v1:Role", "grafana-sidecar").Plain()
		if got := path(role, "rules"); !equalJSON(got, []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get", "list", "watch"}}}) {
			t.Errorf("Grafana's Role grants %v, want reading ConfigMaps only", got)
		}
		if o.Prometheus.RetentionSizeGiB >= o.Prometheus.StorageGiB {
			t.Errorf("size cap %d GiB is not below the %d GiB volume", o.Prometheus.RetentionSizeGiB, o.Prometheus.StorageGiB)
		}
		if name == "production" && (o.Prometheus.Replicas != 2 || o.Prometheus.RetentionDays != 30 || o.Alertmanager.Replicas != 3) {
			t.Errorf("production: want 2 Prometheus replicas, 30 days, 3 Alertmanagers; got %d, %d, %d", o.Prometheus.Replicas, o.Prometheus.RetentionDays, o.Alertmanager.Replicas)
		}
	})
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// monitoring is restricted; node-exporter's namespace is the one
// privileged exception, and only the chart's node-exporter goes there.
func TestMonitoringNamespaces(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		for ns, level := range map[string]string{"monitoring": "restricted", "node-exporter": "privileged"} {
			n := one(t, res, typeNamespace, ns).Plain()
			if got := path(n, "metadata", "labels", "pod-security.kubernetes.io/enforce"); got != level {
				t.Errorf("namespace %s enforces %v, want %s", ns, got, level)
			}
		}
		for _, r := range res.Resources {
			if ns, _ := path(r.Plain(), "metadata", "namespace").(string); ns == "node-exporter" && r.Type != typeNetPol {
				t.Errorf("%s %s is in the privileged node-exporter namespace; only node-exporter belongs there", r.Type, r.Name)
			}
		}
	})
}

// Exactly postgres_exporter and its role's Job reach PostgreSQL, exactly
// redis_exporter reaches Redis, among the monitoring namespace's pods.
func TestMonitoringFlowsToTheDataStores(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		reach := map[float64][]string{}
		for _, p := range res.ByType(typeNetPol) {
			v := p.Plain()
			if path(v, "metadata", "namespace") != "monitoring" {
				continue
			}
			for _, rule := range asList(path(v, "spec", "egress")) {
				for _, port := range asList(path(rule, "ports")) {
					if n := number(path(port, "port")); n == 5432 || n == 6379 {
						reach[n] = append(reach[n], path(v, "spec", "podSelector", "matchLabels", "app.kubernetes.io/name").(string))
					}
				}
			}
		}
		if got := reach[5432]; !slices.Equal(sorted(got), []string{"postgres-exporter", "postgres-monitoring-user"}) {
			t.Errorf("pods reaching PostgreSQL: %v, want the exporter and the monitoring-user Job", got)
		}
		if got := reach[6379]; !slices.Equal(got, []string{"redis-exporter"}) {
			t.Errorf("pods reaching Redis: %v, want the exporter only", got)
		}
	})
}

func number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return 0 // a named port
}

func asList(v any) []any { l, _ := v.([]any); return l }

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// The CloudWatch exporter's role may read metrics and nothing else, and
// only its service account may assume it.
func TestCloudWatchExporterRole(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		roleName := cfg.Cluster.Name + "-cloudwatch-exporter"
		policy := one(t, res, typeRolePolicy, roleName).Plain()
		var doc struct {
			Statement []struct {
				Effect   string
				Action   any
				Resource any
			}
		}
		if err := json.Unmarshal([]byte(policy["policy"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		for _, s := range doc.Statement {
			actions, _ := json.Marshal(s.Action)
			for _, a := range strings.Split(strings.Trim(string(actions), `[]`), ",") {
				a = strings.Trim(a, `"`)
				if !slices.Contains([]string{"cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics"}, a) {
					t.Errorf("the CloudWatch exporter may %s", a)
				}
			}
		}
		trust := one(t, res, typeRole, roleName).Plain()["assumeRolePolicy"].(string)
		if !strings.Contains(trust, "system:serviceaccount:monitoring:cloudwatch-exporter") {
			t.Errorf("the role's trust does not name monitoring/cloudwatch-exporter: %s", trust)
		}
	})
}

// Every ServiceMonitor has a target: the exporters' Services, the
// backend's, and cert-manager's (made by its chart, which the stack
// installs).
func TestServiceMonitors(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		var names []string
		for _, m := range res.ByType(typeServiceMonitor) {
			names = append(names, m.Name)
		}
		want := []string{"servicemonitor-backend", "servicemonitor-cert-manager", "servicemonitor-cloudwatch-exporter", "servicemonitor-elasticsearch-exporter",
			"servicemonitor-logstash-metrics", "servicemonitor-postgres-exporter", "servicemonitor-redis-exporter"}
		if !slices.Equal(sorted(names), want) {
			t.Errorf("ServiceMonitors %v, want %v", sorted(names), want)
		}
		backend := one(t, res, typeServiceMonitor, "servicemonitor-backend").Plain()
		if got := path(backend, "spec", "namespaceSelector", "matchNames"); !equalJSON(got, []any{cfg.App.Namespace}) {
			t.Errorf("the backend's monitor looks in %v, want [%s]", got, cfg.App.Namespace)
		}
		if got := path(backend, "spec", "endpoints").([]any)[0].(map[string]any)["port"]; got != "metrics" {
			t.Errorf("the backend's monitor scrapes port %v, want metrics (9464)", got)
		}
	})
}

// The receivers' credentials are secret everywhere: in the Secret's
// inputs, and never in clear in anything the synthesizer writes.
func TestReceiverSecretsStaySecret(t *testing.T) {
	res := synthesize(t, "production")
	s := one(t, res, typeSecret, "alertmanager-receivers")
	if !s.IsSecretInput("stringData") {
		t.Error("the receivers' Secret's stringData is not a secret input")
	}
	for _, a := range config.AlertingSecrets {
		if _, ok := s.Plain()["stringData"].(map[string]any)[a.File]; !ok {
			t.Errorf("the receivers' Secret has no %s", a.File)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := synth.Write(res, dir); err != nil {
		t.Fatal(err)
	}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, a := range config.AlertingSecrets {
			if strings.Contains(string(b), synth.StandIn("scrolluniversity:"+a.Key)) {
				t.Errorf("%s holds %s in clear", p, a.Key)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The public hostnames are probed from outside the backend: every
// hostname's root and the backend's readiness through the edge, by the
// blackbox_exporter the Probe names, with a module that demands TLS; its
// pods may leave for the internet on 443 only.
func TestPublicHostnamesAreProbed(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		probe := one(t, res, "kubernetes:monitoring.coreos.com/v1:Probe", "probe-public-hostnames").Plain()
		var want []string
		for _, h := range cfg.App.Hostnames {
			want = append(want, "https://"+h+"/", "https://"+h+"/api/health/ready")
		}
		if got := strs(path(probe, "spec", "targets", "staticConfig", "static")); !slices.Equal(got, want) {
			t.Errorf("the Probe asks %v, want %v", got, want)
		}
		if got := path(probe, "spec", "jobName"); got != content.ProbeJob {
			t.Errorf("the Probe's job is %v, want %s (what edge.yaml's alerts select)", got, content.ProbeJob)
		}
		if got := path(probe, "spec", "prober", "url"); got != "blackbox-exporter.monitoring.svc:9115" {
			t.Errorf("the Probe asks prober %v, want the blackbox-exporter Service", got)
		}
		module := path(probe, "spec", "module").(string)
		cm := one(t, res, typeConfigMap, "blackbox-exporter").Plain()
		var bb struct {
			Modules map[string]struct {
				Prober string `yaml:"prober"`
				HTTP   struct {
					FailIfNotSSL bool `yaml:"fail_if_not_ssl"`
				} `yaml:"http"`
			} `yaml:"modules"`
		}
		if err := yaml.Unmarshal([]byte(path(cm, "data", "blackbox.yml").(string)), &bb); err != nil {
			t.Fatal(err)
		}
		if m, ok := bb.Modules[module]; !ok || m.Prober != "http" || !m.HTTP.FailIfNotSSL {
			t.Errorf("blackbox.yml's module %s = %+v, want an http prober that fails without TLS", module, m)
		}
		egress := one(t, res, typeNetPol, "monitoring-blackbox-exporter-to-public-hostnames").Plain()
		if got := path(egress, "spec", "egress").([]any)[0].(map[string]any)["ports"]; !equalJSON(got, []any{map[string]any{"protocol": "TCP", "port": float64(443)}}) {
			t.Errorf("blackbox_exporter's egress ports = %v, want 443 only", got)
		}
	})
}
