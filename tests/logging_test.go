package tests

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/components/logging"
	"github.com/scrolluniversity/platform/components/observability/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

const (
	typeElasticsearch = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"
	typeKibana        = "kubernetes:kibana.k8s.elastic.co/v1:Kibana"
	typeLogstash      = "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash"
	typeBeat          = "kubernetes:beat.k8s.elastic.co/v1beta1:Beat"
	typeClusterRole   = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
)

func TestLogging(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		l := cfg.Logging
		es := one(t, res, typeElasticsearch, "elasticsearch-logs").Plain()
		nodeSet := path(es, "spec", "nodeSets").([]any)[0]
		claim := path(nodeSet, "volumeClaimTemplates").([]any)[0]
		wantPolicy := "DeleteOnScaledownAndClusterDeletion"
		if cfg.Guards.Protect {
			wantPolicy = "DeleteOnScaledownOnly"
		}
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"nodes", path(nodeSet, "count"), int64(l.ElasticsearchNodes)},
			{"claim name (ECK keeps only elasticsearch-data)", path(claim, "metadata", "name"), "elasticsearch-data"},
			{"claim size", path(claim, "spec", "resources", "requests", "storage"), itoa(int64(l.StorageGiB)) + "Gi"},
			{"claim class", path(claim, "spec", "storageClassName"), "gp3"},
			{"zone awareness", path(nodeSet, "zoneAwareness", "topologyKey"), "topology.kubernetes.io/zone"},
			{"claims kept on deletion when guarded", path(es, "spec", "volumeClaimDeletePolicy"), wantPolicy},
			{"version", path(es, "spec", "version"), l.StackVersion},
			{"Kibana pods", path(one(t, res, typeKibana, "kibana-logs").Plain(), "spec", "count"), int64(l.KibanaReplicas)},
		} {
			if !equalJSON(c.got, c.want) {
				t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
			}
		}
		if name == "production" && (l.ElasticsearchNodes != 3 || l.StorageGiB != 100 || l.RetentionDays != 30 || l.KibanaReplicas != 2 || !cfg.Guards.Protect) {
			t.Errorf("production: want 3 nodes of 100Gi, 30 days, 2 Kibanas, claims retained; got %+v", l)
		}

		// The ILM policy's delete phase is the configured retention.
		setup := one(t, res, typeConfigMap, "logging-setup").Plain()
		var policy map[string]any
		if err := json.Unmarshal([]byte(path(setup, "data", "ilm-policy.json").(string)), &policy); err != nil {
			t.Fatal(err)
		}
		if got := path(policy, "policy", "phases", "delete", "min_age"); got != itoa(int64(l.RetentionDays))+"d" {
			t.Errorf("ILM delete phase at %v, want %dd", got, l.RetentionDays)
		}

		// The write index rolls over at a fifth of the disk at most (k8s
		// F17: staging's 30 GiB volume had a 30 GiB rollover).
		rollover := path(policy, "policy", "phases", "hot", "actions", "rollover", "max_primary_shard_size").(string)
		if want := itoa(int64(min(30, l.StorageGiB/5))) + "gb"; rollover != want {
			t.Errorf("rollover at %s, want %s for a %d GiB volume", rollover, want, l.StorageGiB)
		}
		// GC logs stay off the logs emptyDir (k8s F6).
		esNode := one(t, res, typeElasticsearch, "elasticsearch-logs").Plain()
		env := path(esNode, "spec", "nodeSets").([]any)[0].(map[string]any)["podTemplate"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"].([]any)
		if opts := env[0].(map[string]any)["value"].(string); !strings.Contains(opts, "-Xlog:disable") || !strings.Contains(opts, "-Xlog:all=warning:stderr") {
			t.Errorf("ES_JAVA_OPTS = %q, want GC logging off the disk", opts)
		}

		// Logstash's pipeline: its stages in order.
		ls := one(t, res, typeLogstash, "logstash-logs").Plain()
		pipeline := path(ls, "spec", "pipelines").([]any)[0].(map[string]any)["config.string"].(string)
		last := -1
		for _, stage := range []string{"beats {", "json {", "geoip {", "useragent {", `ruby {`, `id => "redaction"`, `remove_field => ["message"]`, "elasticsearch {", `data_stream_namespace => "` + name + `"`} {
			i := strings.Index(pipeline, stage)
			if i < last || i < 0 {
				t.Errorf("pipeline stage %q missing or out of order", stage)
			}
			last = i
		}
		if path(ls, "spec", "config", "queue.type") != "persisted" || path(ls, "spec", "config", "dead_letter_queue.enable") != true {
			t.Errorf("Logstash queues: %v", path(ls, "spec", "config"))
		}

		// Filebeat: every node, every taint, and exactly the RBAC listed.
		beat := one(t, res, typeBeat, "beat-filebeat").Plain()
		pod := path(beat, "spec", "daemonSet", "podTemplate", "spec")
		if got := path(pod, "tolerations"); !equalJSON(got, []any{map[string]any{"operator": "Exists"}}) {
			t.Errorf("Filebeat tolerates %v, want every taint", got)
		}
		if path(beat, "metadata", "namespace") != logging.FilebeatNamespace {
			t.Errorf("Filebeat runs in %v", path(beat, "metadata", "namespace"))
		}
		role := one(t, res, typeClusterRole, "filebeat").Plain()
		if got := path(role, "rules"); !equalJSON(got, []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"pods", "namespaces", "nodes"}, "verbs": []any{"get", "list", "watch"}}}) {
			t.Errorf("Filebeat's ClusterRole = %v, want get/list/watch on pods, namespaces, nodes only", got)
		}
		for ns, level := range map[string]string{logging.Namespace: "restricted", logging.FilebeatNamespace: "privileged"} {
			if got := path(one(t, res, typeNamespace, ns).Plain(), "metadata", "labels", "pod-security.kubernetes.io/enforce"); got != level {
				t.Errorf("namespace %s enforces %v, want %s", ns, got, level)
			}
		}
	})
}

// The alert rule watches the DaemonSet ECK makes for this Beat.
func TestFilebeatAlertWatchesTheDaemonSet(t *testing.T) {
	if content.FilebeatDaemonSet != logging.FilebeatDaemonSet {
		t.Errorf("FilebeatNotOnEveryNode watches %s, the component's DaemonSet is %s", content.FilebeatDaemonSet, logging.FilebeatDaemonSet)
	}
}

// The host-access exception is exactly the stack's Filebeat: the same spec
// in another namespace or under another name is a violation.
func TestFilebeatHostAccessExceptionIsScoped(t *testing.T) {
	res := synthesize(t, "production")
	all := synth.PolicyResources(res)
	var beat rules.Resource
	for _, r := range all {
		if r.Type == typeBeat {
			beat = r
		}
	}
	clone := func(namespace, name string) rules.Resource {
		b, _ := json.Marshal(beat.Props)
		var props map[string]any
		json.Unmarshal(b, &props)
		props["metadata"].(map[string]any)["namespace"] = namespace
		props["metadata"].(map[string]any)["name"] = name
		r := beat
		r.URN, r.Name, r.Props = beat.URN+"-copy", name, props
		return r
	}
	for _, tc := range []struct {
		name    string
		r       rules.Resource
		allowed bool
	}{
		{"the stack's Filebeat", beat, true},
		{"in the logging namespace", clone("logging", "filebeat"), false},
		{"under another name", clone("filebeat", "shipper"), false},
	} {
		rep, err := rules.Run([]rules.Resource{tc.r}, nil)
		if err != nil {
			t.Fatal(err)
		}
		violated := slices.ContainsFunc(rep.Violations, func(v rules.Violation) bool { return v.Policy == "k8s-no-host-access" })
		if violated == tc.allowed {
			t.Errorf("%s: k8s-no-host-access violated = %v, want %v (%v)", tc.name, violated, !tc.allowed, rep.Violations)
		}
	}
}
