package config

import "strings"

// DatabaseConfig is RDS PostgreSQL.
type DatabaseConfig struct {
	// EngineVersion is the PostgreSQL major version, "15". Only the major is
	// pinned: RDS applies minor upgrades itself (autoMinorVersionUpgrade),
	// and a pinned minor would make the next update ask for a downgrade
	// ("cannot upgrade from 15.14 to 15.13"). Default "15".
	EngineVersion string `json:"engineVersion"`
	// InstanceClass is the RDS class ("db.r6g.large"), one the price table
	// (internal/cost/prices.json) prices. Default "db.t4g.medium".
	InstanceClass string `json:"instanceClass"`
	// AllocatedStorageGiB is the initial gp3 storage, in GiB (20-65536).
	// Default 50.
	AllocatedStorageGiB int `json:"allocatedStorageGiB"`
	// MaxAllocatedStorageGiB is the storage-autoscaling ceiling, in GiB; it
	// must exceed AllocatedStorageGiB. Default 200.
	MaxAllocatedStorageGiB int `json:"maxAllocatedStorageGiB"`
	// MultiAz runs a synchronous standby in another zone. Default false.
	MultiAz bool `json:"multiAz"`
	// ReadReplicas is the number of asynchronous read replicas (0-5).
	// Default 0.
	ReadReplicas int `json:"readReplicas"`
	// BackupRetentionDays bounds point-in-time recovery, in days (1-35).
	// Default 14.
	BackupRetentionDays int `json:"backupRetentionDays"`
	// BackupWindow is the daily backup window, UTC, "hh:mm-hh:mm", at least
	// 30 minutes. Default "02:00-02:30".
	BackupWindow string `json:"backupWindow"`
	// MaintenanceWindow is the weekly maintenance window, UTC,
	// "ddd:hh:mm-ddd:hh:mm"; it must not overlap BackupWindow.
	// Default "sun:05:00-sun:06:00".
	MaintenanceWindow string `json:"maintenanceWindow"`
	// PerformanceInsights turns on Performance Insights (7 days, free tier).
	// Default false.
	PerformanceInsights bool `json:"performanceInsights"`
	// MonitoringIntervalSeconds is the Enhanced Monitoring interval: 0 (off),
	// 1, 5, 10, 15, 30 or 60. Default 0.
	MonitoringIntervalSeconds int `json:"monitoringIntervalSeconds"`
	// Name is the application database's name. Default "scrolluniversity".
	Name string `json:"name"`
	// Username is the master user's name. Default "scrolladmin".
	Username string `json:"username"`
	// Pool is the per-pod connection pool the backend opens.
	Pool PoolConfig `json:"pool"`
	// ConnectionHeadroom is the number of connections kept free beyond the
	// backend pools (migrations, backups, operators). Default 50.
	ConnectionHeadroom int `json:"connectionHeadroom"`
	// SlowQueryMs logs statements slower than this, in milliseconds.
	// Default 500.
	SlowQueryMs int `json:"slowQueryMs"`
}

// PoolConfig is a per-pod database connection pool.
type PoolConfig struct {
	// Min is the number of connections kept open, per pod. Default 10.
	Min int `json:"min"`
	// Max is the most connections one pod opens. Default 50.
	Max int `json:"max"`
}

// CacheConfig is ElastiCache Redis.
type CacheConfig struct {
	// EngineVersion is the Redis 7 version, "7.0" or "7.1". Default "7.1".
	EngineVersion string `json:"engineVersion"`
	// NodeType is the ElastiCache node type ("cache.r7g.large"), one the
	// price table (internal/cost/prices.json) prices. Default "cache.t4g.small".
	NodeType string `json:"nodeType"`
	// Replicas is the number of replicas besides the primary (0-5).
	// Replicas > 0 requires AutomaticFailover. Default 0.
	Replicas int `json:"replicas"`
	// AutomaticFailover promotes a replica when the primary fails; it needs
	// at least one replica and turns on Multi-AZ. Default false.
	AutomaticFailover bool `json:"automaticFailover"`
	// SnapshotRetentionDays keeps daily snapshots, in days (1-35). Default 7.
	SnapshotRetentionDays int `json:"snapshotRetentionDays"`
	// SnapshotWindow is the daily snapshot window, UTC, "hh:mm-hh:mm".
	// Default "04:00-05:00".
	SnapshotWindow string `json:"snapshotWindow"`
	// MaintenanceWindow is the weekly maintenance window, UTC,
	// "ddd:hh:mm-ddd:hh:mm". Default "sun:06:00-sun:07:00".
	MaintenanceWindow string `json:"maintenanceWindow"`
	// MaxmemoryPolicy is Redis's eviction policy. Default "volatile-lru":
	// sessions and cache entries carry TTLs and may be evicted under
	// pressure; keys without a TTL (locks, pub/sub bookkeeping) never are.
	MaxmemoryPolicy string `json:"maxmemoryPolicy"`
}

// UploadsConfig is the S3 bucket for uploaded files.
type UploadsConfig struct {
	// NoncurrentVersionDays expires overwritten or deleted object versions
	// after this many days. Default 90.
	NoncurrentVersionDays int `json:"noncurrentVersionDays"`
	// AbortIncompleteMultipartDays aborts unfinished multipart uploads after
	// this many days. Default 7.
	AbortIncompleteMultipartDays int `json:"abortIncompleteMultipartDays"`
}

// AppConfig is the web app: its namespace, workloads, configuration and edge.
type AppConfig struct {
	// Namespace is the Kubernetes namespace of the app. Default "scrolluniversity".
	Namespace string `json:"namespace"`
	// BackendServiceAccount is the backend's Kubernetes service account, the
	// subject of its IRSA role. Default "backend".
	BackendServiceAccount string `json:"backendServiceAccount"`
	// Hostnames are the public hostnames the app answers on; the first is
	// the canonical one. Required.
	Hostnames []string `json:"hostnames" what:"hostnames"`
	// Backend (Express API, Node 20) and Frontend (React on non-root nginx).
	Backend  WorkloadConfig `json:"backend"`
	Frontend WorkloadConfig `json:"frontend"`
	// NodePool is the node group (by its scrolluniversity.io/pool label)
	// the app runs on. Its maxSize must hold every workload's maxReplicas,
	// since replicas of one workload never share a node. Default "workload".
	NodePool string `json:"nodePool"`
	// Quota caps the namespace; it must hold both workloads at their HPA
	// maximums plus a rollout's surge and the migration Job.
	Quota QuotaConfig `json:"quota"`
	// Settings override or extend the ConfigMap's non-secret settings, by
	// environment variable name. Keys that look secret are refused.
	Settings map[string]string `json:"settings"`
	// CorsOrigins are the origins allowed to call the API from a browser.
	// Default: https:// plus each hostname.
	CorsOrigins []string `json:"corsOrigins" what:"https origins"`
	// corsFromHostnames is whether CorsOrigins are the default, derived
	// from Hostnames.
	corsFromHostnames bool
	// RateLimit limits requests per client IP at the edge.
	RateLimit RateLimitConfig `json:"rateLimit"`
	// MaxBodySize is the largest request body the edge accepts, in NGINX
	// size syntax. Default "25m" (course uploads go to S3 directly).
	MaxBodySize string `json:"maxBodySize"`
	// RequestTimeoutSeconds bounds an API request, in seconds: the backend
	// enforces it (REQUEST_TIMEOUT_SECONDS), since NGINX Gateway Fabric
	// 2.4 ignores Gateway API route timeouts; NGINX's own 60 s proxy read
	// timeout bounds an upstream that goes silent. Default 60.
	RequestTimeoutSeconds int `json:"requestTimeoutSeconds"`
	// WebSocketPath is the path of the backend's WebSocket endpoint.
	// Default "/socket.io".
	WebSocketPath string `json:"webSocketPath"`
	// MigrateCommand runs the database migrations in the backend image.
	// Default ["npx", "prisma", "migrate", "deploy"].
	MigrateCommand []string `json:"migrateCommand" what:"command words"`
	// WaitImage is the small image of the init container that waits for
	// PostgreSQL and Redis. Default "busybox:1.37.0".
	WaitImage string `json:"waitImage"`
	// AcmeEmail receives Let's Encrypt expiry notices. Required.
	AcmeEmail string `json:"acmeEmail"`
	// AcmeServer is the ACME directory. Default Let's Encrypt production.
	AcmeServer string `json:"acmeServer"`
	// Route53ZoneId is the hosted zone of the hostnames; external-dns may
	// change records in it and nowhere else. Required.
	Route53ZoneId string `json:"route53ZoneId"`
	// Gateway is the NGINX data plane of the public Gateway.
	Gateway GatewayConfig `json:"gateway"`
	// Charts pins the edge's upstream Helm charts.
	Charts ChartsConfig `json:"charts"`
	// Controllers are the requests and limits of the edge's controllers,
	// by name (ControllerNames): the charts set none, which would make them
	// BestEffort pods that the scheduler and the autoscaler cannot account
	// for and the first to be evicted. An entry set in a stack file
	// replaces the default's fields it names. Defaults in defaults.go.
	Controllers map[string]ResourcesConfig `json:"controllers"`
}

// WorkloadConfig is one Deployment's image, autoscaling bounds and size.
type WorkloadConfig struct {
	// ImageTag is the image tag or digest ("1.4.2" or "sha256:..."); never
	// "latest". Required.
	ImageTag string `json:"imageTag"`
	// MinReplicas and MaxReplicas bound the HPA: 1 <= min <= max.
	MinReplicas int `json:"minReplicas"`
	MaxReplicas int `json:"maxReplicas"`
	// Resources are each pod's requests and limits.
	Resources ResourcesConfig `json:"resources"`
}

// GatewayConfig is the NGINX data plane that serves the public Gateway.
type GatewayConfig struct {
	// Replicas is the number of NGINX pods behind the load balancer, spread
	// across zones, with a PodDisruptionBudget; at least 2. Default 2.
	Replicas int `json:"replicas"`
	// Resources of each NGINX container. Default requests 100m CPU and
	// 128Mi, limits 1 CPU and 512Mi.
	Resources ResourcesConfig `json:"resources"`
}

// The edge's controllers, as app.controllers names them.
const (
	ControllerGatewayFabric           = "nginx-gateway-fabric"
	ControllerCertManager             = "cert-manager"
	ControllerCertManagerWebhook      = "cert-manager-webhook"
	ControllerCertManagerCAInjector   = "cert-manager-cainjector"
	ControllerCertManagerStartupCheck = "cert-manager-startupapicheck"
	ControllerLoadBalancer            = "aws-load-balancer-controller"
	ControllerExternalDNS             = "external-dns"
)

// ControllerNames are the keys app.controllers takes.
var ControllerNames = []string{
	ControllerGatewayFabric, ControllerCertManager, ControllerCertManagerWebhook, ControllerCertManagerCAInjector,
	ControllerCertManagerStartupCheck, ControllerLoadBalancer, ControllerExternalDNS,
}

// ResourcesConfig are a container's requests and limits, in Kubernetes
// quantities ("250m", "512Mi"); requests <= limits.
type ResourcesConfig struct {
	RequestsCpu    string `json:"requestsCpu"`
	RequestsMemory string `json:"requestsMemory"`
	LimitsCpu      string `json:"limitsCpu"`
	LimitsMemory   string `json:"limitsMemory"`
	// RequestsEphemeralStorage and LimitsEphemeralStorage bound the node
	// disk a container may use (logs, emptyDirs, writable layers): the
	// kubelet evicts a pod past its limit instead of letting it fill the
	// node. Defaults "256Mi" and "1Gi".
	RequestsEphemeralStorage string `json:"requestsEphemeralStorage"`
	LimitsEphemeralStorage   string `json:"limitsEphemeralStorage"`
}

// QuotaConfig is the namespace's ResourceQuota, in Kubernetes quantities.
type QuotaConfig struct {
	RequestsCpu    string `json:"requestsCpu"`
	RequestsMemory string `json:"requestsMemory"`
	LimitsCpu      string `json:"limitsCpu"`
	LimitsMemory   string `json:"limitsMemory"`
	// Pods is the most pods the namespace may run.
	Pods int `json:"pods"`
}

// RateLimitConfig is the edge's per-client-IP rate limit.
type RateLimitConfig struct {
	// RequestsPerSecond is the sustained rate per client IP. Default 20.
	RequestsPerSecond int `json:"requestsPerSecond"`
	// Burst is how many requests above the rate are served at once before
	// the edge answers 429. Default 40.
	Burst int `json:"burst"`
}

// ChartsConfig pins the upstream Helm charts of the edge.
type ChartsConfig struct {
	// GatewayAPI is the Gateway API CRD release (standard channel).
	GatewayAPI string `json:"gatewayApi"`
	// GatewayFabric is the NGINX Gateway Fabric chart version.
	GatewayFabric string `json:"gatewayFabric"`
	// CertManager is the cert-manager chart version.
	CertManager string `json:"certManager"`
	// LoadBalancerController is the AWS Load Balancer Controller chart version.
	LoadBalancerController string `json:"loadBalancerController"`
	// ExternalDNS is the external-dns chart version.
	ExternalDNS string `json:"externalDns"`
}

// ObservabilityConfig is the Observability component: kube-prometheus-stack
// (Prometheus, Alertmanager, Grafana, kube-state-metrics, node-exporter),
// the data-store exporters, alert rules and routing.
type ObservabilityConfig struct {
	// Chart is the kube-prometheus-stack chart version. Default "88.5.3"
	// (prometheus-operator v0.93.1, whose CRDs the API server check installs).
	Chart string `json:"chart"`
	// NodePool is the node group (by its scrolluniversity.io/pool label)
	// Prometheus, Alertmanager, Grafana and the exporters run on. Default
	// "workload".
	NodePool string `json:"nodePool"`
	// Prometheus is the metrics store.
	Prometheus PrometheusConfig `json:"prometheus"`
	// Alertmanager routes alerts to people.
	Alertmanager AlertmanagerConfig `json:"alertmanager"`
	// Grafana is the dashboards' server.
	Grafana GrafanaConfig `json:"grafana"`
	// SLO are the backend's service level objectives, which its burn-rate
	// alerts protect (content/rules/slo.yaml).
	SLO SLOConfig `json:"slo"`
	// Thresholds are the alert rules' limits.
	Thresholds ThresholdsConfig `json:"thresholds"`
	// Receivers say where alerts go; their credentials are secret config
	// (AlertingSecrets).
	Receivers ReceiversConfig `json:"receivers"`
	// Images are the exporters' and the monitoring-user Job's images,
	// pinned by tag or digest.
	Images ObservabilityImages `json:"images"`
}

// PrometheusConfig is the Prometheus StatefulSet.
type PrometheusConfig struct {
	// Replicas is the number of Prometheus servers, each scraping
	// everything (1-3). Default 1.
	Replicas int `json:"replicas"`
	// RetentionDays is how long metrics are kept, in days. Default 15.
	RetentionDays int `json:"retentionDays"`
	// StorageGiB is each replica's gp3 volume, in GiB. Default 50.
	StorageGiB int `json:"storageGiB"`
	// RetentionSizeGiB caps the stored blocks, in GiB; it must leave room
	// on the volume for the write-ahead log and compaction. Default 85% of
	// StorageGiB, rounded down.
	RetentionSizeGiB int `json:"retentionSizeGiB"`
	// Resources are each replica's requests and limits. Default 500m/2Gi
	// requested, 2 CPUs/4Gi limit.
	Resources ResourcesConfig `json:"resources"`
}

// AlertmanagerConfig is the Alertmanager StatefulSet.
type AlertmanagerConfig struct {
	// Replicas is the number of clustered Alertmanagers (1-5); 3 survive
	// one zone's loss. Default 1.
	Replicas int `json:"replicas"`
	// StorageGiB is each replica's volume (silences, notification log), in
	// GiB. Default 2.
	StorageGiB int `json:"storageGiB"`
	// Resources are each replica's requests and limits. Default 50m/128Mi
	// requested, 500m/256Mi limit.
	Resources ResourcesConfig `json:"resources"`
}

// GrafanaConfig is the Grafana Deployment. It runs one replica: its
// dashboards and data source are provisioned from this program, and its
// users' sessions live in its own SQLite database.
type GrafanaConfig struct {
	// Resources are Grafana's requests and limits. Default 100m/256Mi
	// requested, 1 CPU/512Mi limit.
	Resources ResourcesConfig `json:"resources"`
}

// SLOConfig are the backend's service level objectives over a 30-day
// window, from the seed's targets: 99.9% of requests answered without a
// 5xx, and 95% of them within 200 ms. Each is protected by multi-window,
// multi-burn-rate alerts (the SRE workbook's: a page at 14.4 and 6 times
// the budget's rate, a ticket at 3 and 1 times).
type SLOConfig struct {
	// Availability is the share of backend requests that must not fail
	// with a 5xx (0.9-0.9999). Default 0.999.
	Availability float64 `json:"availability"`
	// LatencySeconds is the duration a request must be answered within to
	// count as fast; it must be one of the request histogram's bucket
	// boundaries (docs/METRICS.md), so that the share is counted, not
	// interpolated. Default 0.2.
	LatencySeconds float64 `json:"latencySeconds"`
	// LatencyObjective is the share of requests that must be fast
	// (0.5-0.999). Default 0.95.
	LatencyObjective float64 `json:"latencyObjective"`
	// LatencyExcludedRoutes is a regular expression (RE2, anchored) of the
	// http_route values the latency objective leaves out: long polling
	// and the AI routes, whose time is the provider's. Default
	// `/socket\.io.*|/api/ai/.*`.
	LatencyExcludedRoutes string `json:"latencyExcludedRoutes"`
	// MinRequestsPerSecond is the traffic below which the burn-rate
	// alerts stay quiet: at night three failures of sixty requests are
	// not an outage. TrafficVanished covers traffic that stops. Default 1.
	MinRequestsPerSecond float64 `json:"minRequestsPerSecond"`
	// Routes are the routes that matter most, by name, each an anchored
	// RE2 expression of http_route templates; each gets its own error
	// alert, since a route under 5% of the traffic can fail entirely
	// without moving the service's ratio. Default login, payments and the
	// AI tutor (docs/METRICS.md names their templates).
	Routes map[string]string `json:"routes"`
	// RouteErrorRatio pages when more than this share of a route's
	// requests fail over 5 minutes (0-1). Default 0.05.
	RouteErrorRatio float64 `json:"routeErrorRatio"`
	// RouteMinRequestsPerSecond is a route's traffic floor for its alert.
	// Default 0.05 (15 requests in 5 minutes).
	RouteMinRequestsPerSecond float64 `json:"routeMinRequestsPerSecond"`
}

// ThresholdsConfig are the alert rules' limits.
type ThresholdsConfig struct {
	// AIDailyBudgetUsd is the AI providers' spend per UTC day, in US
	// dollars: a warning at 80% and a page at 100%. Default 100.
	AIDailyBudgetUsd float64 `json:"aiDailyBudgetUsd"`
	// PoolUtilization warns when a backend pod's database pool is this
	// full (0-1). Default 0.9.
	PoolUtilization float64 `json:"poolUtilization"`
	// ResourceUtilization warns when a container uses this share of its
	// CPU or memory limit for 15 minutes (0-1). Default 0.9.
	ResourceUtilization float64 `json:"resourceUtilization"`
	// RedisHitRatio warns when fewer cache lookups than this hit (0-1).
	// Default 0.8.
	RedisHitRatio float64 `json:"redisHitRatio"`
	// ReplicaLagSeconds warns when the read replica is this far behind,
	// in seconds. Default 30.
	ReplicaLagSeconds int `json:"replicaLagSeconds"`
	// DatabaseFreeStorageGiB warns when RDS has less free storage than
	// this, in GiB; it must be below database.allocatedStorageGiB. Default
	// 10% of database.allocatedStorageGiB (at least 1).
	DatabaseFreeStorageGiB int `json:"databaseFreeStorageGiB"`
	// CertificateExpiryDays warns when a certificate expires within this
	// many days (cert-manager renews at 30). Default 14.
	CertificateExpiryDays int `json:"certificateExpiryDays"`
	// BackupMaxAgeHours pages when the database backup has not succeeded
	// for this long, in hours (its schedule is every 6 hours). Default 7.
	BackupMaxAgeHours int `json:"backupMaxAgeHours"`
}

// ReceiversConfig are Alertmanager's destinations. Critical alerts go to
// PagerDuty and Slack, warnings to Slack, info to email, the Watchdog to the
// heartbeat URL.
type ReceiversConfig struct {
	// SlackChannel is the channel warnings and pages are posted to.
	// Default "#platform-alerts".
	SlackChannel string `json:"slackChannel"`
	// EmailTo receives info alerts. Required.
	EmailTo string `json:"emailTo"`
	// EmailFrom is the sender address. Required.
	EmailFrom string `json:"emailFrom"`
	// SmtpSmarthost is the SMTP relay, "host:port" (STARTTLS is required).
	// Default "email-smtp.<aws:region>.amazonaws.com:587" (Amazon SES).
	SmtpSmarthost string `json:"smtpSmarthost"`
	// SmtpUsername authenticates to the relay (an SES SMTP user's access
	// key ID). Required.
	SmtpUsername string `json:"smtpUsername"`
	// Page sends critical alerts to PagerDuty as well as Slack. Default
	// true in the production stack only: staging's criticals go to Slack.
	Page bool `json:"page"`
}

// ObservabilityImages are container images, "repository:tag" or
// "repository@sha256:...".
type ObservabilityImages struct {
	// PostgresExporter defaults to quay.io/prometheuscommunity/postgres-exporter:v0.20.1.
	PostgresExporter string `json:"postgresExporter"`
	// RedisExporter defaults to quay.io/oliver006/redis_exporter:v1.88.0.
	RedisExporter string `json:"redisExporter"`
	// CloudWatchExporter defaults to quay.io/prometheus/cloudwatch-exporter:v0.18.0.
	CloudWatchExporter string `json:"cloudwatchExporter"`
	// BlackboxExporter probes the public hostnames from inside the
	// cluster. Default quay.io/prometheus/blackbox-exporter:v0.27.0.
	BlackboxExporter string `json:"blackboxExporter"`
	// Postgres runs psql for the monitoring-user Job. Default
	// postgres:15.14-alpine (the client of the server's major).
	Postgres string `json:"postgres"`
}

// LoggingConfig is the Logging component: the ECK operator, Elasticsearch,
// Kibana, Logstash and Filebeat.
type LoggingConfig struct {
	// OperatorChart is the eck-operator chart version; the API server check
	// installs the CRDs of the same ECK release. Default "3.5.0".
	OperatorChart string `json:"operatorChart"`
	// StackVersion is the Elastic Stack version of Elasticsearch, Kibana,
	// Logstash and Filebeat, one that the operator supports. Default
	// "9.4.3" (the 9.x release ECK 3.5.0 is tested with).
	StackVersion string `json:"stackVersion"`
	// NodePool is the node group (by its scrolluniversity.io/pool label)
	// Elasticsearch, Kibana and Logstash run on. Default "workload".
	NodePool string `json:"nodePool"`
	// ElasticsearchNodes is the number of master+data nodes (1, or 3 or
	// more for a quorum), spread over the zones. Default 1.
	ElasticsearchNodes int `json:"elasticsearchNodes"`
	// StorageGiB is each Elasticsearch node's gp3 claim, in GiB. Default 30.
	StorageGiB int `json:"storageGiB"`
	// HeapGiB is each Elasticsearch node's JVM heap, in GiB; at most half
	// of elasticsearch.limitsMemory (the rest is the filesystem cache).
	// Default 1.
	HeapGiB int `json:"heapGiB"`
	// Elasticsearch are each node's requests and limits. Default 500m/2Gi
	// requested, 2 CPUs/2Gi limit.
	Elasticsearch ResourcesConfig `json:"elasticsearch"`
	// RetentionDays is how long log data streams keep their data, in days:
	// the ILM policy's delete phase. Default 14.
	RetentionDays int `json:"retentionDays"`
	// RolloverGiB rolls the write index over at this primary shard size,
	// in GiB; at most a fifth of storageGiB, so that the write index rolls
	// over long before the disk watermarks. Default a fifth of storageGiB,
	// at most 30.
	RolloverGiB int `json:"rolloverGiB"`
	// RolloverHours rolls the write index over at this age, in hours.
	// Default 24.
	RolloverHours int `json:"rolloverHours"`
	// KibanaReplicas is the number of Kibana pods. Default 1.
	KibanaReplicas int `json:"kibanaReplicas"`
	// LogstashReplicas is the number of Logstash pods. Default 1.
	LogstashReplicas int `json:"logstashReplicas"`
	// LogstashQueueGiB is each Logstash pod's claim for its persistent
	// queue and dead letter queue, in GiB. Default 10.
	LogstashQueueGiB int `json:"logstashQueueGiB"`
	// Images are the images the component runs besides the Elastic Stack's,
	// pinned by tag or digest.
	Images LoggingImages `json:"images"`
}

// LoggingImages are container images, "repository:tag" or
// "repository@sha256:...".
type LoggingImages struct {
	// ElasticsearchExporter defaults to
	// quay.io/prometheuscommunity/elasticsearch-exporter:v1.11.0.
	ElasticsearchExporter string `json:"elasticsearchExporter"`
	// Curl runs the Job that applies the ILM policy, the index template
	// and Kibana's data view. Default curlimages/curl:8.11.1.
	Curl string `json:"curl"`
}

// BackupsConfig is the Backups component: the backup bucket, the backup
// CronJobs and the weekly restore drill. Schedules are 5-field cron
// expressions in UTC.
type BackupsConfig struct {
	// DatabaseSchedule runs database-backup. Default "0 */6 * * *" (the
	// seed's every 6 hours).
	DatabaseSchedule string `json:"databaseSchedule"`
	// AppSchedule runs app-backup. Default "0 2 * * *" (daily at 02:00).
	AppSchedule string `json:"appSchedule"`
	// DrillSchedule runs the restore drill. Default "0 5 * * 0" (Sundays
	// at 05:00).
	DrillSchedule string `json:"drillSchedule"`
	// DatabaseRetentionDays expires database/ objects, in days; with
	// ObjectLock, also how long they cannot be deleted. Default 90.
	DatabaseRetentionDays int `json:"databaseRetentionDays"`
	// AppRetentionDays expires app/ objects, in days. Default 90.
	AppRetentionDays int `json:"appRetentionDays"`
	// NoncurrentDays keeps overwritten or deleted versions this long
	// before they expire, in days. Default 7.
	NoncurrentDays int `json:"noncurrentDays"`
	// ObjectLock turns on S3 Object Lock in governance mode for the
	// retention periods: no workload can delete or overwrite a backup.
	// It can only be set when the bucket is created. Default false.
	ObjectLock bool `json:"objectLock"`
	// ScratchGiB is each backup pod's scratch volume for the dump and, in
	// the drill, the dump and the throwaway database, in GiB: an EBS volume
	// of its own per run (a generic ephemeral volume), so the dump's size is
	// bounded by it and not by the node's disk or the pod's
	// ephemeral-storage limit. The drill needs the compressed dump plus
	// the restored database's size. Default 20.
	ScratchGiB int `json:"scratchGiB"`
	// DrillTables must hold rows after the drill's restore. Default
	// [users, courses].
	DrillTables []string `json:"drillTables"`
	// DrillFreshness is what proves a restored dump current: the newest
	// value of Table.Column is at most MaxAgeHours older than the dump.
	// MaxAgeHours 0 turns the check off (a stack nobody writes to).
	// Default users.updatedAt, 48 hours.
	DrillFreshness FreshnessConfig `json:"drillFreshness"`
	// DrillRtoMinutes is the recovery time objective of a restore from
	// a dump: RestoreDrillSlow warns when a drill (download, restore,
	// checks) takes longer, and the drill's Job is stopped at twice it.
	// Default 60.
	DrillRtoMinutes int `json:"drillRtoMinutes"`
	// Images are the jobs' official images, pinned.
	Images BackupImages `json:"images"`
}

// FreshnessConfig names a timestamp column that the app writes all the
// time (Prisma's @updatedAt is "updatedAt").
type FreshnessConfig struct {
	Table       string `json:"table"`
	Column      string `json:"column"`
	MaxAgeHours int    `json:"maxAgeHours"`
}

// BackupImages are container images, "repository:tag" or
// "repository@sha256:...".
type BackupImages struct {
	// Postgres runs pg_dump, pg_restore and the drill's server. Default
	// postgres:15.14-alpine (the server's major).
	Postgres string `json:"postgres"`
	// AwsCli uploads and downloads, and reads the manifests app-backup
	// keeps from the API with its curl. Default amazon/aws-cli:2.31.0.
	AwsCli string `json:"awsCli"`
}

// BackupJobResources are each backup container's requests and limits; the
// app namespace's quota holds BackupPods such pods at once.
var BackupJobResources = ResourcesConfig{
	RequestsCpu: "250m", RequestsMemory: "512Mi", LimitsCpu: "1", LimitsMemory: "1Gi",
	RequestsEphemeralStorage: "64Mi", LimitsEphemeralStorage: "256Mi",
}

// BackupPods is how many backup pods may run at once in the app's
// namespace: one of each CronJob (database, app, drill) and the Job that
// creates the backup role.
const BackupPods = 4

// ListenerName is the Gateway's HTTPS listener (and, with another prefix,
// TLS Secret) name of a hostname: dots become dashes. Validation refuses
// two hostnames with one listener name.
func ListenerName(host string) string {
	return "https-" + strings.ReplaceAll(host, ".", "-")
}
