package logging

import (
	"fmt"

	"github.com/scrolluniversity/platform/components/logging/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Names of the component's objects, and what ECK derives from them.
const (
	// Namespace runs the operator, Elasticsearch, Kibana and Logstash
	// under the restricted Pod Security profile.
	Namespace = "logging"
	// FilebeatNamespace runs only Filebeat, the one exception to the
	// restricted profile: it reads every container's log files from the
	// node (hostPath /var/log/containers and /var/log/pods) as root, which
	// even the baseline profile forbids. Pod Security is per namespace, so
	// the exception gets a namespace of its own rather than loosening
	// logging's.
	FilebeatNamespace = "filebeat"
	// PartOf is the app.kubernetes.io/part-of label of everything here.
	PartOf = "logging"

	clusterName  = "logs" // Elasticsearch, Kibana and Logstash are all "logs"
	filebeatName = "filebeat"
	// esEnv is the prefix of the variables ECK gives Logstash for its
	// elasticsearchRefs entry (clusterName "logs").
	esEnv = "LOGS"

	// ECK's Services and Secrets of "logs".
	esService        = clusterName + "-es-http"
	esElasticUser    = clusterName + "-es-elastic-user"
	esCASecret       = clusterName + "-es-http-certs-public"
	kibanaService    = clusterName + "-kb-http"
	kibanaCASecret   = clusterName + "-kb-http-certs-public"
	beatsServiceName = "beats" // Logstash's spec.services entry: Service logs-ls-beats
	// FilebeatDaemonSet is the DaemonSet ECK makes for Beat "filebeat".
	FilebeatDaemonSet = filebeatName + "-beat-filebeat"

	// dataClaim is the claim name ECK keeps across restarts; any other
	// name is an emptyDir.
	dataClaim     = "elasticsearch-data"
	logstashClaim = "logstash-data"
	storageClass  = "gp3"
	poolLabel     = config.PoolLabel
	zoneKey       = "topology.kubernetes.io/zone"
)

// Ports.
const (
	esHTTPPort            = 9200
	esTransportPort       = 9300
	kibanaPort            = 5601
	logstashAPIPort       = 9600
	logstashExporterPort  = 9198
	esExporterPort        = 9114
	kubernetesAPIPort     = 443
	httpsPort             = 443
	elasticUID            = 1000 // the Elastic images' user
	exporterUID           = 65534
	curlUID               = 100 // curlimages/curl's curl_user
	filebeatRootUID       = 0
	pqShare, dlqShare     = 70, 20 // percent of Logstash's claim for each queue
	esExporterName        = "elasticsearch-exporter"
	logstashExporterName  = "logstash-exporter"
	setupJob              = "logging-setup"
	exporterUserSecret    = "elasticsearch-exporter-user"
	exporterUser          = "prometheus-exporter"
	logstashMetricsSvc    = "logstash-metrics"
	logstashExporterImage = "kuskoman/logstash-exporter:v1.9.1"
)

func restrictedContainer(uid int) map[string]any {
	return map[string]any{
		"runAsNonRoot": true, "runAsUser": uid, "runAsGroup": uid,
		"allowPrivilegeEscalation": false, "privileged": false,
		"capabilities": map[string]any{"drop": []any{"ALL"}},
	}
}

func restrictedPod(uid int) map[string]any {
	return map[string]any{
		"runAsNonRoot": true, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
}

func claim(name string, gib int) map[string]any {
	return map[string]any{
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"accessModes":      []any{"ReadWriteOnce"},
			"storageClassName": storageClass,
			"resources":        map[string]any{"requests": map[string]any{"storage": fmt.Sprintf("%dGi", gib)}},
		},
	}
}

// ElasticsearchSpec is the Elasticsearch resource's spec: one node set of
// master+data nodes spread over the zones with shard allocation awareness
// (ECK's zoneAwareness sets node.attr.zone and the awareness attribute),
// claims named elasticsearch-data, TLS and authentication as ECK sets them
// (on), and ECK's default PodDisruptionBudget. ECK's default security
// context passes the restricted profile for Elasticsearch 8.8 and later,
// so the template leaves it alone; mmap is off so that no privileged
// sysctl init container is needed.
func ElasticsearchSpec(l config.LoggingConfig, retainClaims bool) map[string]any {
	deletePolicy := "DeleteOnScaledownAndClusterDeletion"
	if retainClaims {
		deletePolicy = "DeleteOnScaledownOnly"
	}
	return map[string]any{
		"version":                 l.StackVersion,
		"volumeClaimDeletePolicy": deletePolicy,
		"nodeSets": []any{map[string]any{
			"name":          "default",
			"count":         l.ElasticsearchNodes,
			"zoneAwareness": map[string]any{"topologyKey": zoneKey},
			"config": map[string]any{
				"node.store.allow_mmap": false,
				// Logstash enriches with GeoIP; Elasticsearch's own downloader
				// would only fail against the namespace's egress policy.
				"ingest.geoip.downloader.enabled": false,
			},
			"podTemplate": map[string]any{"spec": map[string]any{
				"nodeSelector": map[string]any{poolLabel: l.NodePool},
				"containers": []any{map[string]any{
					"name":      "elasticsearch",
					"env":       []any{map[string]any{"name": "ES_JAVA_OPTS", "value": ElasticsearchJavaOpts(l.HeapGiB)}},
					"resources": kit.ResourcesMap(l.Elasticsearch),
				}},
			}},
			"volumeClaimTemplates": []any{claim(dataClaim, l.StorageGiB)},
		}},
	}
}

// ElasticsearchJavaOpts are the JVM options added after Elasticsearch's
// jvm.options: the heap, and GC logging off the disk. By default the JVM
// writes GC logs to logs/gc.log, 32 files of 64 MB (up to 2 GiB), and ECK
// mounts logs/ as an emptyDir that counts against the pod's
// ephemeral-storage limit (1 GiB): the kubelet would evict the node every
// few days (the k8s review's F6). -Xlog:disable drops every configured
// output, and only warnings go to stderr (Elastic's documented setting
// for containers); pauses are visible in elasticsearch_exporter's JVM
// metrics.
func ElasticsearchJavaOpts(heapGiB int) string {
	return fmt.Sprintf("-Xms%dg -Xmx%dg -Xlog:disable -Xlog:all=warning:stderr:utctime,level,pid,tags", heapGiB, heapGiB)
}

// kibanaResources fit Kibana's Node.js server.
var kibanaResources = config.ResourcesConfig{RequestsCpu: "250m", RequestsMemory: "1Gi", LimitsCpu: "1", LimitsMemory: "1Gi", RequestsEphemeralStorage: "256Mi", LimitsEphemeralStorage: "1Gi"}

// KibanaSpec is the Kibana resource's spec: internal only (no Service but
// ECK's ClusterIP one), TLS by ECK. ECK's default security context lacks
// runAsNonRoot and allowPrivilegeEscalation, so the template sets the
// whole restricted context (a template's context replaces ECK's).
func KibanaSpec(l config.LoggingConfig) map[string]any {
	container := restrictedContainer(elasticUID)
	container["readOnlyRootFilesystem"] = true
	return map[string]any{
		"version":          l.StackVersion,
		"count":            l.KibanaReplicas,
		"elasticsearchRef": map[string]any{"name": clusterName},
		"config": map[string]any{
			"telemetry.optIn":                    false,
			"telemetry.allowChangingOptInStatus": false,
		},
		"podTemplate": map[string]any{"spec": map[string]any{
			"nodeSelector":    map[string]any{poolLabel: l.NodePool},
			"securityContext": restrictedPod(elasticUID),
			"containers": []any{map[string]any{
				"name": "kibana", "resources": kit.ResourcesMap(kibanaResources), "securityContext": container,
			}},
		}},
	}
}

// logstashResources fit one pipeline worker set with a 1 GiB heap.
var logstashResources = config.ResourcesConfig{RequestsCpu: "500m", RequestsMemory: "2Gi", LimitsCpu: "2", LimitsMemory: "2Gi", RequestsEphemeralStorage: "256Mi", LimitsEphemeralStorage: "1Gi"}

var exporterResources = config.ResourcesConfig{RequestsCpu: "20m", RequestsMemory: "32Mi", LimitsCpu: "200m", LimitsMemory: "128Mi", RequestsEphemeralStorage: "16Mi", LimitsEphemeralStorage: "64Mi"}

// LogstashSpec is the Logstash resource's spec: the pipeline, a persistent
// queue and a dead letter queue on the logstash-data claim (so a slow
// Elasticsearch loses nothing), the beats Service Filebeat ships to, and
// logstash-exporter beside it for Prometheus.
func LogstashSpec(l config.LoggingConfig, pipeline, dlqPipeline string) map[string]any {
	pod := restrictedContainer(elasticUID)
	return map[string]any{
		"version":           l.StackVersion,
		"count":             l.LogstashReplicas,
		"elasticsearchRefs": []any{map[string]any{"name": clusterName, "clusterName": clusterName}},
		"config": map[string]any{
			"queue.type":                  "persisted",
			"queue.max_bytes":             fmt.Sprintf("%dmb", l.LogstashQueueGiB*1024*pqShare/100),
			"dead_letter_queue.enable":    true,
			"dead_letter_queue.max_bytes": fmt.Sprintf("%dmb", l.LogstashQueueGiB*1024*dlqShare/100),
			// Full, the queue drops its oldest events, not the newest
			// failures; the dlq pipeline reads it back within seconds, and
			// what it has read goes after a week.
			"dead_letter_queue.storage_policy": "drop_older",
			"dead_letter_queue.retain.age":     "7d",
		},
		"pipelines": []any{
			map[string]any{"pipeline.id": "main", "config.string": pipeline},
			// Events Elasticsearch rejected (mapping conflicts, 400s), read
			// back from the dead letter queue into logs-dlq-<stack>.
			map[string]any{"pipeline.id": content.DeadLetterPipelineID, "pipeline.workers": 1, "config.string": dlqPipeline},
		},
		"volumeClaimTemplates": []any{claim(logstashClaim, l.LogstashQueueGiB)},
		"services": []any{
			map[string]any{
				"name": beatsServiceName,
				"service": map[string]any{"spec": map[string]any{
					"type":  "ClusterIP",
					"ports": []any{map[string]any{"name": "beats", "port": content.BeatsPort, "protocol": "TCP", "targetPort": content.BeatsPort}},
				}},
			},
			// The monitoring API without ECK's self-signed TLS (ECK 3.5.0
			// then sets api.ssl.enabled: false, pkg/controller/logstash/
			// config.go:123-128): logstash-exporter reads it over plain HTTP
			// from inside the pod, and no policy admits anyone else to it.
			map[string]any{"name": "api", "tls": map[string]any{"selfSignedCertificate": map[string]any{"disabled": true}}},
		},
		"podTemplate": map[string]any{"spec": map[string]any{
			"nodeSelector":    map[string]any{poolLabel: l.NodePool},
			"securityContext": restrictedPod(elasticUID),
			"initContainers": []any{map[string]any{
				"name": "logstash-internal-init-config", "securityContext": pod,
			}},
			"containers": []any{
				map[string]any{"name": "logstash", "resources": kit.ResourcesMap(logstashResources), "securityContext": pod},
				map[string]any{
					"name":      logstashExporterName,
					"image":     logstashExporterImage,
					"env":       []any{map[string]any{"name": "LOGSTASH_URL", "value": fmt.Sprintf("http://localhost:%d", logstashAPIPort)}},
					"ports":     []any{map[string]any{"name": "metrics", "containerPort": logstashExporterPort}},
					"resources": kit.ResourcesMap(exporterResources),
					"securityContext": func() map[string]any {
						c := restrictedContainer(exporterUID)
						c["readOnlyRootFilesystem"] = true
						return c
					}(),
					"livenessProbe":  map[string]any{"tcpSocket": map[string]any{"port": "metrics"}, "periodSeconds": 20},
					"readinessProbe": map[string]any{"tcpSocket": map[string]any{"port": "metrics"}, "periodSeconds": 20},
				},
			},
		}},
	}
}

// filebeatResources: a log shipper per node.
var filebeatResources = config.ResourcesConfig{RequestsCpu: "100m", RequestsMemory: "200Mi", LimitsCpu: "1", LimitsMemory: "400Mi", RequestsEphemeralStorage: "64Mi", LimitsEphemeralStorage: "256Mi"}

// FilebeatHostPaths are the node directories Filebeat reads: container
// log files and the pod log directories they link to.
var FilebeatHostPaths = []string{"/var/log/containers", "/var/log/pods"}

// FilebeatSpec is the Beat resource's spec: Filebeat on every node (every
// taint tolerated), autodiscovering containers' logs with their Kubernetes
// metadata, shipping to Logstash. It runs as root, read-only, without
// capabilities: root owns the log files and the data directory ECK makes
// on the node.
func FilebeatSpec(l config.LoggingConfig) map[string]any {
	var volumes, mounts []any
	for i, p := range FilebeatHostPaths {
		name := fmt.Sprintf("host-logs-%d", i)
		volumes = append(volumes, map[string]any{"name": name, "hostPath": map[string]any{"path": p, "type": "Directory"}})
		mounts = append(mounts, map[string]any{"name": name, "mountPath": p, "readOnly": true})
	}
	container := map[string]any{
		"runAsUser": filebeatRootUID, "runAsNonRoot": false,
		"allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true,
		"capabilities": map[string]any{"drop": []any{"ALL"}},
	}
	return map[string]any{
		"type":    "filebeat",
		"version": l.StackVersion,
		"config": map[string]any{
			"filebeat.autodiscover": map[string]any{"providers": []any{map[string]any{
				"type": "kubernetes",
				"node": "${NODE_NAME}",
				// Pods, namespaces and nodes only: no deployment or cronjob
				// lookups, which would need more RBAC.
				"add_resource_metadata": map[string]any{"deployment": false, "cronjob": false},
				"hints.enabled":         true,
				"hints.default_config": map[string]any{
					"type":                        "filestream",
					"id":                          "container-${data.kubernetes.container.id}",
					"paths":                       []any{"/var/log/containers/*-${data.kubernetes.container.id}.log"},
					"parsers":                     []any{map[string]any{"container": map[string]any{}}},
					"prospector.scanner.symlinks": true,
				},
			}}},
			"output.logstash": map[string]any{"hosts": []any{fmt.Sprintf("%s-ls-%s.%s.svc:%d", clusterName, beatsServiceName, Namespace, content.BeatsPort)}},
		},
		"daemonSet": map[string]any{"podTemplate": map[string]any{"spec": map[string]any{
			"serviceAccountName":           filebeatName,
			"automountServiceAccountToken": true,
			"tolerations":                  []any{map[string]any{"operator": "Exists"}},
			"priorityClassName":            "system-node-critical",
			"securityContext":              map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{
				"name":            "filebeat",
				"env":             []any{map[string]any{"name": "NODE_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "spec.nodeName"}}}},
				"resources":       kit.ResourcesMap(filebeatResources),
				"securityContext": container,
				"volumeMounts":    mounts,
			}},
			"volumes": volumes,
		}}},
	}
}
