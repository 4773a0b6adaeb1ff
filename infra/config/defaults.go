package config

// The Kubernetes versions this program accepts. The cluster's support type
// is STANDARD (no extended-support charge), so EKS upgrades a cluster at
// the end of standard support: the oldest version accepted is the oldest
// still in standard support, and the default the one with the most time
// left. From AWS's EKS release calendar (as endoflife.date/amazon-eks
// records it): 1.34 ends standard support 2026-12-02, 1.35 on 2027-03-27,
// 1.36 on 2027-08-02. The preflight (infra/foundation/preflight.go) asks
// AWS again at every preview and up; docs/RUNBOOK.md says how to move on.
const (
	MinKubernetesVersion     = "1.35"
	MaxKubernetesVersion     = "1.36"
	DefaultKubernetesVersion = "1.36"
)

// MinEBSCSIDriverVersion is the first EBS CSI driver that tags volumes
// with ebs.csi.aws.com/cluster-name, which AmazonEBSCSIDriverEKSClusterScopedPolicy
// requires on every volume it may touch (kubernetes-sigs/aws-ebs-csi-driver
// #2899, announcement #2918).
const MinEBSCSIDriverVersion = "v1.58.0"

// ManagedAddons are the EKS managed add-ons every cluster gets, in the order
// they are installed; cluster.addonVersions pins each of them.
var ManagedAddons = []string{"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "metrics-server"}

// AllowedAmiTypes are the current EKS-optimized AMI families (AL2 is end of
// life; AL2023 and Bottlerocket enforce IMDSv2-friendly defaults).
var AllowedAmiTypes = []string{
	"AL2023_x86_64_STANDARD",
	"AL2023_ARM_64_STANDARD",
	"BOTTLEROCKET_x86_64",
	"BOTTLEROCKET_ARM_64",
}

// Defaults is every default in one place. Per-stack values are decoded
// on top of it, then resolveDerivedDefaults fills what depends on them.
func Defaults(project, stack string) *Config {
	return &Config{
		Project:         project,
		Stack:           stack,
		Tags:            map[string]string{},
		Secrets:         map[string]string{},
		AlertingSecrets: map[string]string{},
		Guards: GuardsConfig{
			Protect:            false,
			DeletionProtection: false,
			FinalSnapshot:      true,
		},
		Network: NetworkConfig{
			VpcCidr:              "10.0.0.0/16",
			NatGateways:          NatPerZone,
			FlowLogRetentionDays: 90,
		},
		Cluster: ClusterConfig{
			KubernetesVersion: DefaultKubernetesVersion,
			ServiceCidr:       "172.20.0.0/16",
			AmiType:           "AL2023_x86_64_STANDARD",
			LogRetentionDays:  90,
			// The bootstrap's name (bootstrap.RunnerEgressParameter).
			RunnerEgressParameter: "/scrolluniversity/delivery/runner-egress-cidrs",
			Autoscaler:            AutoscalerConfig{Chart: "9.52.1", ImageTag: "v1.36.1", Resources: controller("100m", "300Mi", "1", "1Gi")},
			AddonVersions:         map[string]string{},
		},
		Database: DatabaseConfig{
			EngineVersion:             "15",
			InstanceClass:             "db.t4g.medium",
			AllocatedStorageGiB:       50,
			MaxAllocatedStorageGiB:    200,
			BackupRetentionDays:       14,
			BackupWindow:              "02:00-02:30",
			MaintenanceWindow:         "sun:05:00-sun:06:00",
			MonitoringIntervalSeconds: 0,
			Name:                      "scrolluniversity",
			Username:                  "scrolladmin",
			Pool:                      PoolConfig{Min: 10, Max: 50},
			ConnectionHeadroom:        50,
			SlowQueryMs:               500,
		},
		Cache: CacheConfig{
			EngineVersion:         "7.1",
			NodeType:              "cache.t4g.small",
			SnapshotRetentionDays: 7,
			SnapshotWindow:        "04:00-05:00",
			MaintenanceWindow:     "sun:06:00-sun:07:00",
			MaxmemoryPolicy:       "volatile-lru",
		},
		Uploads: UploadsConfig{
			NoncurrentVersionDays:        90,
			AbortIncompleteMultipartDays: 7,
		},
		App: AppConfig{
			Namespace:             "scrolluniversity",
			BackendServiceAccount: "backend",
			NodePool:              "workload",
			Backend: WorkloadConfig{Resources: ResourcesConfig{
				RequestsCpu: "250m", RequestsMemory: "512Mi", LimitsCpu: "1", LimitsMemory: "1Gi",
				RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
			}},
			Frontend: WorkloadConfig{Resources: ResourcesConfig{
				RequestsCpu: "50m", RequestsMemory: "64Mi", LimitsCpu: "250m", LimitsMemory: "128Mi",
				RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
			}},
			Gateway: GatewayConfig{Replicas: 2, Resources: ResourcesConfig{
				RequestsCpu: "100m", RequestsMemory: "128Mi", LimitsCpu: "1", LimitsMemory: "512Mi",
				RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
			}},
			// Requests above the examples the charts' values.yaml comment
			// (cert-manager 10m/32Mi, the load balancer controller
			// 100m/128Mi limits), with limits well above a steady state:
			// NGF's control plane and cert-manager hold the routes and
			// certificates they watch in memory, and a small cluster's
			// controllers idle far below these.
			Controllers: map[string]ResourcesConfig{
				ControllerGatewayFabric:           controller("100m", "128Mi", "1", "512Mi"),
				ControllerCertManager:             controller("50m", "128Mi", "500m", "512Mi"),
				ControllerCertManagerWebhook:      controller("20m", "64Mi", "250m", "256Mi"),
				ControllerCertManagerCAInjector:   controller("20m", "128Mi", "250m", "512Mi"),
				ControllerCertManagerStartupCheck: controller("10m", "32Mi", "100m", "64Mi"),
				ControllerLoadBalancer:            controller("100m", "128Mi", "500m", "512Mi"),
				ControllerExternalDNS:             controller("50m", "64Mi", "250m", "256Mi"),
			},
			Quota: QuotaConfig{
				RequestsCpu: "8", RequestsMemory: "16Gi", LimitsCpu: "32", LimitsMemory: "64Gi", Pods: 60,
			},
			Settings:              map[string]string{},
			RateLimit:             RateLimitConfig{RequestsPerSecond: 20, Burst: 40},
			MaxBodySize:           "25m",
			RequestTimeoutSeconds: 60,
			WebSocketPath:         "/socket.io",
			MigrateCommand:        []string{"npx", "prisma", "migrate", "deploy"},
			WaitImage:             "busybox:1.37.0",
			AcmeServer:            "https://acme-v02.api.letsencrypt.org/directory",
			Charts: ChartsConfig{
				// The Gateway API release NGF 2.4.0 is built and tested against.
				GatewayAPI:             "v1.4.1",
				GatewayFabric:          "2.4.0",
				CertManager:            "v1.19.1",
				LoadBalancerController: "1.14.0",
				ExternalDNS:            "1.19.0",
			},
		},
		Observability: ObservabilityConfig{
			Chart:    "88.5.3",
			NodePool: "workload",
			Prometheus: PrometheusConfig{Replicas: 1, RetentionDays: 15, StorageGiB: 50, Resources: ResourcesConfig{
				RequestsCpu: "500m", RequestsMemory: "2Gi", LimitsCpu: "2", LimitsMemory: "4Gi",
				RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
			}},
			Alertmanager: AlertmanagerConfig{Replicas: 1, StorageGiB: 2, Resources: ResourcesConfig{
				RequestsCpu: "50m", RequestsMemory: "128Mi", LimitsCpu: "500m", LimitsMemory: "256Mi",
				RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
			}},
			Grafana: GrafanaConfig{Resources: ResourcesConfig{
				RequestsCpu: "100m", RequestsMemory: "256Mi", LimitsCpu: "1", LimitsMemory: "512Mi",
				RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
			}},
			SLO: SLOConfig{
				Availability: 0.999, LatencySeconds: 0.2, LatencyObjective: 0.95,
				LatencyExcludedRoutes: `/socket\.io.*|/api/ai/.*`,
				MinRequestsPerSecond:  1,
				Routes: map[string]string{
					"login":    `/api/auth/login`,
					"payments": `/api/payments/.*`,
					"tutor":    `/api/ai/tutor.*`,
				},
				RouteErrorRatio: 0.05, RouteMinRequestsPerSecond: 0.05,
			},
			Thresholds: ThresholdsConfig{
				AIDailyBudgetUsd: 100,
				PoolUtilization:  0.9, ResourceUtilization: 0.9, RedisHitRatio: 0.8,
				ReplicaLagSeconds: 30, CertificateExpiryDays: 14, BackupMaxAgeHours: 7,
			},
			Receivers: ReceiversConfig{SlackChannel: "#platform-alerts", Page: stack == "production"},
			Images: ObservabilityImages{
				PostgresExporter:   "quay.io/prometheuscommunity/postgres-exporter:v0.20.1",
				RedisExporter:      "quay.io/oliver006/redis_exporter:v1.88.0",
				CloudWatchExporter: "quay.io/prometheus/cloudwatch-exporter:v0.18.0",
				BlackboxExporter:   "quay.io/prometheus/blackbox-exporter:v0.27.0",
				Postgres:           "postgres:15.14-alpine",
			},
		},
		Logging: LoggingConfig{
			OperatorChart: "3.5.0", StackVersion: "9.4.3", NodePool: "workload",
			ElasticsearchNodes: 1, StorageGiB: 30, HeapGiB: 1,
			Elasticsearch: ResourcesConfig{
				RequestsCpu: "500m", RequestsMemory: "2Gi", LimitsCpu: "2", LimitsMemory: "2Gi",
				RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
			},
			RetentionDays: 14, RolloverHours: 24,
			KibanaReplicas: 1, LogstashReplicas: 1, LogstashQueueGiB: 10,
			Images: LoggingImages{
				ElasticsearchExporter: "quay.io/prometheuscommunity/elasticsearch-exporter:v1.11.0",
				Curl:                  "curlimages/curl:8.11.1",
			},
		},
		Backups: BackupsConfig{
			DatabaseSchedule: "0 */6 * * *", AppSchedule: "0 2 * * *", DrillSchedule: "0 5 * * 0",
			DatabaseRetentionDays: 90, AppRetentionDays: 90, NoncurrentDays: 7, ScratchGiB: 20,
			DrillTables:     []string{"users", "courses"},
			DrillFreshness:  FreshnessConfig{Table: "users", Column: "updatedAt", MaxAgeHours: 48},
			DrillRtoMinutes: 60,
			Images: BackupImages{
				Postgres: "postgres:15.14-alpine",
				AwsCli:   "amazon/aws-cli:2.31.0",
			},
		},
		Audit: AuditConfig{Trail: TrailCreate, RetentionDays: 365},
		CDN: CDNConfig{
			Enabled: true, PriceClass: "PriceClass_100", StaticPaths: []string{"/assets/*", "/static/*"},
			RateLimitPerFiveMinutes: 2000, BlockedRequestsAlert: 500, LogRetentionDays: 365,
		},
	}
}

// Default values inside list and map entries, which JSON decoding cannot
// pre-fill.
const (
	// defaultRequestsEphemeral and defaultLimitsEphemeral: a Node process
	// or nginx writes little besides its logs; 1Gi holds the emptyDirs
	// (256Mi each) and rotated container logs.
	defaultRequestsEphemeral = "256Mi"
	defaultLimitsEphemeral   = "1Gi"
	defaultCapacityType      = "ON_DEMAND"
	defaultNodeDiskGiB       = 50
	// retentionSizePercent of Prometheus's volume may hold blocks; the rest
	// is the write-ahead log (about 3 hours of samples) and compaction's
	// scratch space.
	retentionSizePercent = 85
)

// resolveDerivedDefaults fills the defaults that depend on other values or
// live inside map entries.
func (c *Config) resolveDerivedDefaults() {
	if c.Cluster.Name == "" {
		c.Cluster.Name = c.Project + "-" + c.Stack
	}
	if len(c.App.CorsOrigins) == 0 {
		c.App.corsFromHostnames = true
		for _, h := range c.App.Hostnames {
			c.App.CorsOrigins = append(c.App.CorsOrigins, "https://"+h)
		}
	}
	if c.CDN.OriginHostname == "" && len(c.App.Hostnames) > 0 {
		c.CDN.OriginHostname = "origin." + c.App.Hostnames[0]
	}
	o := &c.Observability
	if o.Prometheus.RetentionSizeGiB == 0 {
		o.Prometheus.RetentionSizeGiB = o.Prometheus.StorageGiB * retentionSizePercent / 100
	}
	if c.Logging.RolloverGiB == 0 {
		c.Logging.RolloverGiB = min(30, max(1, c.Logging.StorageGiB*maxRolloverShare/100))
	}
	if o.Thresholds.DatabaseFreeStorageGiB == 0 {
		o.Thresholds.DatabaseFreeStorageGiB = max(1, c.Database.AllocatedStorageGiB/10)
	}
	if o.Receivers.SmtpSmarthost == "" && c.Region != "" {
		o.Receivers.SmtpSmarthost = "email-smtp." + c.Region + ".amazonaws.com:587"
	}
	for name, ng := range c.Cluster.NodeGroups {
		if ng.CapacityType == "" {
			ng.CapacityType = defaultCapacityType
		}
		if ng.DiskSizeGiB == 0 {
			ng.DiskSizeGiB = defaultNodeDiskGiB
		}
		c.Cluster.NodeGroups[name] = ng
	}
}

// NAT gateway layouts.
const (
	NatPerZone = "perZone"
	NatSingle  = "single"
)

// controller is a controller's requests and limits, with the default
// ephemeral storage.
func controller(requestsCPU, requestsMemory, limitsCPU, limitsMemory string) ResourcesConfig {
	return ResourcesConfig{
		RequestsCpu: requestsCPU, RequestsMemory: requestsMemory, LimitsCpu: limitsCPU, LimitsMemory: limitsMemory,
		RequestsEphemeralStorage: defaultRequestsEphemeral, LimitsEphemeralStorage: defaultLimitsEphemeral,
	}
}
