package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/internal/synth"
)

// change sets one field of a structured config section, by a dotted path
// inside the section: change{"network", "vpcCidr", "10.0.0.0/33"}.
type change struct {
	section, field string
	value          any
}

// withChanges is the production stack with the changes applied.
func withChanges(t *testing.T, changes ...change) *synth.Stack {
	t.Helper()
	s := loadStack(t, "production").Clone()
	for _, c := range changes {
		if strings.Contains(c.section, ":") {
			if c.value == nil {
				delete(s.Config, c.section)
				continue
			}
			if err := s.Set(c.section, c.value); err != nil {
				t.Fatal(err)
			}
			continue
		}
		key := s.Project + ":" + c.section
		section := map[string]any{}
		if raw, ok := s.Config[key]; ok {
			if err := json.Unmarshal([]byte(raw), &section); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
		setPath(section, strings.Split(c.field, "."), c.value)
		if err := s.Set(key, section); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func setPath(m map[string]any, keys []string, v any) {
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func TestBadConfigFailsBeforeAnyResource(t *testing.T) {
	t.Parallel() // independent programs of its own: runs beside the shared-stack tests
	cases := []struct {
		name    string
		changes []change
		// wantKey and wantValue must both appear in the error.
		wantKey, wantValue string
	}{
		{"CIDR that does not parse", []change{{"network", "vpcCidr", "10.0.0.0/33"}}, "scrolluniversity:network.vpcCidr", "10.0.0.0/33"},
		{"VPC too small for the subnet plan", []change{{"network", "vpcCidr", "10.0.0.0/24"}}, "scrolluniversity:network.vpcCidr", "10.0.0.0/24"},
		{"service CIDR overlapping the VPC", []change{{"cluster", "serviceCidr", "10.20.128.0/20"}}, "scrolluniversity:cluster.serviceCidr", "10.20.128.0/20"},
		{"one availability zone", []change{{"network", "availabilityZones", []string{"us-east-1a"}}}, "scrolluniversity:network.availabilityZones", "us-east-1a"},
		{"seven availability zones", []change{{"network", "availabilityZones", []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f", "us-east-1g"}}}, "scrolluniversity:network.availabilityZones", "us-east-1g"},
		{"zone outside the region", []change{{"network", "availabilityZones", []string{"eu-west-1a", "us-east-1b"}}}, "scrolluniversity:network.availabilityZones[0]", "eu-west-1a"},
		{"NAT layout", []change{{"network", "natGateways", "some"}}, "scrolluniversity:network.natGateways", "some"},
		{"flow-log retention CloudWatch refuses", []change{{"network", "flowLogRetentionDays", 45}}, "scrolluniversity:network.flowLogRetentionDays", "45"},
		{"node group min above desired", []change{{"cluster", "nodeGroups.workload.minSize", 7}}, "scrolluniversity:cluster.nodeGroups.workload", "minSize=7 desiredSize=2"},
		{"node group desired above max", []change{{"cluster", "nodeGroups.system.desiredSize", 9}}, "scrolluniversity:cluster.nodeGroups.system", "desiredSize=9 maxSize=4"},
		{"instance type not in AWS form", []change{{"cluster", "nodeGroups.system.instanceTypes", []string{"large"}}}, "scrolluniversity:cluster.nodeGroups.system.instanceTypes[0]", "large"},
		{"instance type the price table does not know", []change{{"cluster", "nodeGroups.workload.instanceTypes", []string{"m6i.24xlarge"}}}, "scrolluniversity:cluster.nodeGroups.workload.instanceTypes[0]", `"m6i.24xlarge": not one of the EC2 instance types the price table knows [m5.large`},
		{"RDS class the price table does not know", []change{{"database", "instanceClass", "db.r7g.large"}}, "scrolluniversity:database.instanceClass", `"db.r7g.large": not one of the RDS instance classes the price table knows [db.r6g.large db.t4g.medium]`},
		{"ElastiCache node type the price table does not know", []change{{"cache", "nodeType", "cache.r6g.xlarge"}}, "scrolluniversity:cache.nodeType", `"cache.r6g.xlarge": not one of the ElastiCache node types the price table knows`},
		{"capacity type", []change{{"cluster", "nodeGroups.spot.capacityType", "CHEAP"}}, "scrolluniversity:cluster.nodeGroups.spot.capacityType", "CHEAP"},
		{"taint effect", []change{{"cluster", "nodeGroups.system.taints", []map[string]string{{"key": "a", "value": "b", "effect": "Never"}}}}, "scrolluniversity:cluster.nodeGroups.system.taints[0].effect", "Never"},
		{"Kubernetes version out of the window", []change{{"cluster", "kubernetesVersion", "1.20"}}, "scrolluniversity:cluster.kubernetesVersion", "1.20"},
		{"Kubernetes version past standard support", []change{{"cluster", "kubernetesVersion", "1.34"}}, "scrolluniversity:cluster.kubernetesVersion", "1.34"},
		{"an add-on left to AWS's default", []change{{"cluster", "addonVersions", map[string]string{"vpc-cni": "v1.23.1-eksbuild.1", "kube-proxy": "v1.36.0-eksbuild.25", "coredns": "v1.14.6-eksbuild.4", "aws-ebs-csi-driver": "v1.66.0-eksbuild.1"}}}, "scrolluniversity:cluster.addonVersions.metrics-server", "want a pinned version"},
		{"kube-proxy of another minor", []change{{"cluster", "addonVersions.kube-proxy", "v1.35.3-eksbuild.5"}}, "scrolluniversity:cluster.addonVersions.kube-proxy", "v1.35.3-eksbuild.5"},
		{"EBS CSI driver without the cluster-name tag", []change{{"cluster", "addonVersions.aws-ebs-csi-driver", "v1.57.1-eksbuild.1"}}, "scrolluniversity:cluster.addonVersions.aws-ebs-csi-driver", "v1.58.0 or later"},
		{"add-on version not in EKS's form", []change{{"cluster", "addonVersions.coredns", "1.14.6"}}, "scrolluniversity:cluster.addonVersions.coredns", "1.14.6"},
		{"public endpoint open to the internet", []change{{"cluster", "publicAccessCidrs", []string{"0.0.0.0/0"}}}, "scrolluniversity:cluster.publicAccessCidrs[0]", "0.0.0.0/0"},
		{"autoscaler of another Kubernetes minor", []change{{"cluster", "autoscaler.imageTag", "v1.31.4"}}, "scrolluniversity:cluster.autoscaler.imageTag", "v1.31.4"},
		{"AMI family", []change{{"cluster", "amiType", "AL2_x86_64"}}, "scrolluniversity:cluster.amiType", "AL2_x86_64"},
		{"admin role that is not a role ARN", []change{{"cluster", "adminRoleArns", []string{"platform-admins"}}}, "scrolluniversity:cluster.adminRoleArns[0]", "platform-admins"},
		{"RDS class without db.", []change{{"database", "instanceClass", "r6g.large"}}, "scrolluniversity:database.instanceClass", "r6g.large"},
		{"ElastiCache node type without cache.", []change{{"cache", "nodeType", "m5.large"}}, "scrolluniversity:cache.nodeType", "m5.large"},
		{"cron expression", []change{{"backups", "appSchedule", "every night"}}, "scrolluniversity:backups.appSchedule", "every night"},
		{"backup retention zero", []change{{"backups", "databaseRetentionDays", 0}}, "scrolluniversity:backups.databaseRetentionDays", "0"},
		{"drill table that is not a name", []change{{"backups", "drillTables", []string{"users; drop"}}}, "scrolluniversity:backups.drillTables[0]", "users; drop"},
		{"hostname", []change{{"app", "hostnames", []string{"Not_A_Host"}}}, "scrolluniversity:app.hostnames[0]", "Not_A_Host"},
		{"HPA min above max", []change{{"app", "backend.minReplicas", 25}, {"app", "backend.maxReplicas", 20}}, "scrolluniversity:app.backend", "minReplicas=25 maxReplicas=20"},
		{"latest image tag", []change{{"app", "frontend.imageTag", "latest"}}, "scrolluniversity:app.frontend.imageTag", "latest"},
		{"two Elasticsearch nodes", []change{{"logging", "elasticsearchNodes", 2}}, "scrolluniversity:logging.elasticsearchNodes", "2"},
		{"PostgreSQL major version", []change{{"database", "engineVersion", "14.9"}}, "scrolluniversity:database.engineVersion", "14.9"},
		{"backup retention that turns off PITR", []change{{"database", "backupRetentionDays", 0}}, "scrolluniversity:database.backupRetentionDays", "0"},
		{"RDS windows that overlap", []change{{"database", "backupWindow", "05:15-05:45"}}, "scrolluniversity:database.maintenanceWindow", "05:15-05:45"},
		{"backup window too short", []change{{"database", "backupWindow", "02:00-02:10"}}, "scrolluniversity:database.backupWindow", "02:00-02:10"},
		{"storage that cannot autoscale", []change{{"database", "maxAllocatedStorageGiB", 100}}, "scrolluniversity:database.maxAllocatedStorageGiB", "100"},
		{"reserved master user", []change{{"database", "username", "postgres"}}, "scrolluniversity:database.username", "postgres"},
		{"pool min above max", []change{{"database", "pool", map[string]int{"min": 60, "max": 50}}}, "scrolluniversity:database.pool", "min=60 max=50"},
		{"enhanced monitoring interval", []change{{"database", "monitoringIntervalSeconds", 45}}, "scrolluniversity:database.monitoringIntervalSeconds", "45"},
		{"Redis replicas without failover", []change{{"cache", "automaticFailover", false}}, "scrolluniversity:cache.automaticFailover", "cache.replicas is 2"},
		{"Redis failover without replicas", []change{{"cache", "replicas", 0}}, "scrolluniversity:cache.automaticFailover", "needs cache.replicas"},
		{"Redis 6", []change{{"cache", "engineVersion", "6.2"}}, "scrolluniversity:cache.engineVersion", "6.2"},
		{"Redis snapshots off", []change{{"cache", "snapshotRetentionDays", 0}}, "scrolluniversity:cache.snapshotRetentionDays", "0"},
		{"Redis windows that overlap", []change{{"cache", "maintenanceWindow", "sun:04:30-sun:05:30"}}, "scrolluniversity:cache.maintenanceWindow", "sun:04:30-sun:05:30"},
		{"eviction policy", []change{{"cache", "maxmemoryPolicy", "lru"}}, "scrolluniversity:cache.maxmemoryPolicy", "lru"},
		{"cluster name too long for ElastiCache IDs", []change{{"cluster", "name", "scrolluniversity-production-eu-west"}}, "scrolluniversity:cluster.name", "scrolluniversity-production-eu-west"},
		{"uploads lifecycle zero", []change{{"uploads", "noncurrentVersionDays", 0}}, "scrolluniversity:uploads.noncurrentVersionDays", "0"},
		// The need is set by the maxima, pinned here: 26 backend pods at
		// 500m (20, a 5-pod surge, the migration Job), 13 frontends at 50m
		// and 4 backup pods at 250m make 14650m.
		{"quota too small for the HPA maximums", []change{{"app", "quota.requestsCpu", "4"}, {"app", "backend.maxReplicas", 20}, {"app", "frontend.maxReplicas", 10}}, "scrolluniversity:app.quota.requestsCpu", "14650m"},
		{"quota with too few pods", []change{{"app", "quota.pods", 20}, {"app", "backend.maxReplicas", 20}, {"app", "frontend.maxReplicas", 10}}, "scrolluniversity:app.quota.pods", "need 43 pods"},
		{"credential in the ConfigMap settings", []change{{"app", "settings", map[string]string{"STRIPE_SECRET_KEY": "sk_live_x"}}}, "scrolluniversity:app.settings.STRIPE_SECRET_KEY", "looks like a credential"},
		{"setting that is not an env var", []change{{"app", "settings", map[string]string{"log-level": "debug"}}}, "scrolluniversity:app.settings", "log-level"},
		// 8 per zone holds 20 replicas (7 a zone) but not a rollout's 5 more.
		{"node pool too small for a rollout's surge", []change{{"cluster", "nodeGroups.workload.maxSize", 8}, {"app", "backend.maxReplicas", 20}}, "scrolluniversity:cluster.nodeGroups.workload.maxSize = 8", "needs 9 nodes per zone"},
		{"app pool over every zone", []change{{"cluster", "nodeGroups.workload.zonal", false}}, "scrolluniversity:cluster.nodeGroups.workload.zonal", "one node group per zone"},
		{"node group name too long for EKS's prefix", []change{{"cluster", "nodeGroups.nightly-batch-report-builds", map[string]any{"instanceTypes": []string{"m6i.large"}, "minSize": 0, "desiredSize": 0, "maxSize": 2, "zonal": true}}},
			"scrolluniversity:cluster.nodeGroups.nightly-batch-report-builds", "nightly-batch-report-builds-us-east-1a-"},
		{"no deployer role", []change{{"cluster", "deployerRoleArn", ""}}, "scrolluniversity:cluster.deployerRoleArn", `""`},
		{"deployer listed again as an admin", []change{{"cluster", "adminRoleArns", []string{"arn:aws:iam::123456789012:role/scrolluniversity-production-deploy"}}}, "scrolluniversity:cluster.adminRoleArns[0]", "already given access by cluster.deployerRoleArn"},
		{"PostgreSQL minor pinned", []change{{"database", "engineVersion", "15.13"}}, "scrolluniversity:database.engineVersion", "15.13"},
		{"one NGINX pod", []change{{"app", "gateway.replicas", 1}}, "scrolluniversity:app.gateway.replicas", "single point of failure"},
		{"NGINX requests above limits", []change{{"app", "gateway.resources.requestsCpu", "2"}}, "scrolluniversity:app.gateway.resources.requestsCpu", "exceeds limitsCpu 1"},
		{"a controller the edge does not have", []change{{"app", "controllers.ingress-nginx", map[string]string{"requestsCpu": "1"}}}, "scrolluniversity:app.controllers.ingress-nginx", "unknown key"},
		{"a controller's quantity that does not parse", []change{{"app", "controllers.cert-manager.limitsMemory", "much"}}, "scrolluniversity:app.controllers.cert-manager.limitsMemory", "much"},
		{"autoscaler memory request above its limit", []change{{"cluster", "autoscaler.resources.requestsMemory", "2Gi"}}, "scrolluniversity:cluster.autoscaler.resources.requestsMemory", "exceeds limitsMemory 1Gi"},
		{"ephemeral storage request above limit", []change{{"app", "backend.resources.requestsEphemeralStorage", "2Gi"}}, "scrolluniversity:app.backend.resources.requestsEphemeralStorage", "exceeds limitsEphemeralStorage"},
		{"app pool relabelled", []change{{"cluster", "nodeGroups.workload.labels", map[string]string{"scrolluniversity.io/pool": "apps"}}}, "scrolluniversity:cluster.nodeGroups.workload.labels", "none of them could schedule"},
		{"app pool tainted", []change{{"cluster", "nodeGroups.workload.taints", []map[string]string{{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}}}}, "scrolluniversity:cluster.nodeGroups.workload.taints", "dedicated:NoSchedule"},
		{"node pool that does not exist", []change{{"app", "nodePool", "gpu"}}, "scrolluniversity:app.nodePool", "gpu"},
		{"requests above limits", []change{{"app", "backend.resources.requestsMemory", "4Gi"}}, "scrolluniversity:app.backend.resources.requestsMemory", "exceeds limitsMemory"},
		{"quantity that does not parse", []change{{"app", "frontend.resources.limitsCpu", "lots"}}, "scrolluniversity:app.frontend.resources.limitsCpu", "lots"},
		{"CORS wildcard", []change{{"app", "corsOrigins", []string{"https://*"}}}, "scrolluniversity:app.corsOrigins[0]", "https://*"},
		{"CORS over plain HTTP", []change{{"app", "corsOrigins", []string{"http://scrolluniversity.app"}}}, "scrolluniversity:app.corsOrigins[0]", "http://scrolluniversity.app"},
		{"no ACME email", []change{{"app", "acmeEmail", ""}}, "scrolluniversity:app.acmeEmail", `""`},
		{"Route 53 zone", []change{{"app", "route53ZoneId", "scrolluniversity.app"}}, "scrolluniversity:app.route53ZoneId", "scrolluniversity.app"},
		{"unpinned chart", []change{{"app", "charts.certManager", "latest"}}, "scrolluniversity:app.charts.certManager", "latest"},
		{"WebSocket path under /api", []change{{"app", "webSocketPath", "/api/ws"}}, "scrolluniversity:app.webSocketPath", "/api/ws"},
		{"missing required secret", []change{{"scrolluniversity:openaiApiKey", "", nil}}, "scrolluniversity:openaiApiKey = (not set)", "pulumi config set --secret scrolluniversity:openaiApiKey"},
		{"misspelt field", []change{{"network", "vpcCidrBlock", "10.0.0.0/16"}}, "scrolluniversity:network", "vpcCidrBlock"},
		{"no region", []change{{"aws:region", "", ""}}, "aws:region", `""`},
		{"Prometheus size cap at the volume's size", []change{{"observability", "prometheus.retentionSizeGiB", 200}}, "scrolluniversity:observability.prometheus.retentionSizeGiB", "200"},
		{"no Prometheus", []change{{"observability", "prometheus.replicas", 0}}, "scrolluniversity:observability.prometheus.replicas", "0"},
		{"availability as a percentage", []change{{"observability", "slo.availability", 99.9}}, "scrolluniversity:observability.slo.availability", "99.9"},
		{"latency threshold between two buckets", []change{{"observability", "slo.latencySeconds", 0.3}}, "scrolluniversity:observability.slo.latencySeconds", "bucket boundaries"},
		{"latency threshold as text", []change{{"observability", "slo.latencySeconds", "200ms"}}, "scrolluniversity:observability.slo.latencySeconds", "want a number"},
		{"route expression that does not compile", []change{{"observability", "slo.routes", map[string]string{"login": "/api/auth/(login"}}}, "scrolluniversity:observability.slo.routes.login", "/api/auth/(login"},
		{"route name with a space", []change{{"observability", "slo.routes", map[string]string{"Log In": "/api/auth/login"}}}, "scrolluniversity:observability.slo.routes.Log In", "lowercase"},
		{"route error ratio as a percentage", []change{{"observability", "slo.routeErrorRatio", 5}}, "scrolluniversity:observability.slo.routeErrorRatio", "5"},
		{"no traffic floor", []change{{"observability", "slo.minRequestsPerSecond", 0}}, "scrolluniversity:observability.slo.minRequestsPerSecond", "0"},
		{"the seed's old error ratio key", []change{{"observability", "thresholds.errorRatio", 0.05}}, "scrolluniversity:observability.thresholds", "errorRatio"},
		{"no AI budget", []change{{"observability", "thresholds.aiDailyBudgetUsd", 0}}, "scrolluniversity:observability.thresholds.aiDailyBudgetUsd", "0"},
		{"free-storage line above the database", []change{{"observability", "thresholds.databaseFreeStorageGiB", 100}}, "scrolluniversity:observability.thresholds.databaseFreeStorageGiB", "100"},
		{"certificate warning after cert-manager's renewal", []change{{"observability", "thresholds.certificateExpiryDays", 45}}, "scrolluniversity:observability.thresholds.certificateExpiryDays", "45"},
		{"Slack channel without #", []change{{"observability", "receivers.slackChannel", "platform alerts"}}, "scrolluniversity:observability.receivers.slackChannel", "platform alerts"},
		{"email that is not one", []change{{"observability", "receivers.emailTo", "oncall"}}, "scrolluniversity:observability.receivers.emailTo", "oncall"},
		{"SMTP relay without a port", []change{{"observability", "receivers.smtpSmarthost", "email-smtp.us-east-1.amazonaws.com"}}, "scrolluniversity:observability.receivers.smtpSmarthost", "email-smtp.us-east-1.amazonaws.com"},
		{"exporter image unpinned", []change{{"observability", "images.redisExporter", "oliver006/redis_exporter"}}, "scrolluniversity:observability.images.redisExporter", "oliver006/redis_exporter"},
		{"Grafana memory request above its limit", []change{{"observability", "grafana.resources.requestsMemory", "1Gi"}}, "scrolluniversity:observability.grafana.resources.requestsMemory", "exceeds limitsMemory"},
		{"kube-prometheus-stack chart unpinned", []change{{"observability", "chart", "latest"}}, "scrolluniversity:observability.chart", "latest"},
		{"heap over half the memory limit", []change{{"logging", "heapGiB", 3}}, "scrolluniversity:logging.heapGiB", "at most half of logging.elasticsearch.limitsMemory"},
		{"stack version ECK cannot run Logstash at", []change{{"logging", "stackVersion", "8.5.0"}}, "scrolluniversity:logging.stackVersion", "8.5.0"},
		{"write index as large as the disk", []change{{"logging", "rolloverGiB", 30}}, "scrolluniversity:logging.rolloverGiB", "at most 20% of logging.storageGiB (20 GiB)"},
		{"no Logstash queue", []change{{"logging", "logstashQueueGiB", 0}}, "scrolluniversity:logging.logstashQueueGiB", "0"},
		{"logging on a node group that does not exist", []change{{"logging", "nodePool", "logs"}}, "scrolluniversity:logging.nodePool", "logs"},
		{"curl image unpinned", []change{{"logging", "images.curl", "curlimages/curl:latest"}}, "scrolluniversity:logging.images.curl", "curlimages/curl:latest"},
		{"missing PagerDuty key", []change{{"scrolluniversity:pagerdutyRoutingKey", "", nil}}, "scrolluniversity:pagerdutyRoutingKey = (not set)", "pulumi config set --secret scrolluniversity:pagerdutyRoutingKey"},
		{"region that is not one", []change{{"aws:region", "", "useast1"}}, "aws:region", "useast1"},
		{"audit trail of an unknown kind", []change{{"audit", "trail", "organization"}}, "scrolluniversity:audit.trail", "organization"},
		{"existing trail not named", []change{{"audit", "trail", "existing"}}, "scrolluniversity:audit.existingTrailArn", `"": with audit.trail "existing"`},
		{"trail ARN with a trail of its own", []change{{"audit", "existingTrailArn", "arn:aws:cloudtrail:us-east-1:123456789012:trail/org"}}, "scrolluniversity:audit.existingTrailArn", `set only with audit.trail "existing"`},
		{"audit record kept longer than the EKS audit log", []change{{"audit", "retentionDays", 400}}, "scrolluniversity:cluster.logRetentionDays", "keep them at least audit.retentionDays (400)"},
		{"audit retention past ten years", []change{{"audit", "retentionDays", 4000}}, "scrolluniversity:audit.retentionDays", "4000"},
		{"CDN price class that is not one", []change{{"cdn", "priceClass", "PriceClass_300"}}, "scrolluniversity:cdn.priceClass", "PriceClass_300"},
		{"static path that caches the API", []change{{"cdn", "staticPaths", []any{"/assets/*", "/api/*"}}}, "scrolluniversity:cdn.staticPaths[1]", "/api/*"},
		{"static path that caches ACME's challenges", []change{{"cdn", "staticPaths", []any{"/.well-known/*"}}}, "scrolluniversity:cdn.staticPaths[0]", "/.well-known/*"},
		{"static path without its slash", []change{{"cdn", "staticPaths", []any{"assets/*"}}}, "scrolluniversity:cdn.staticPaths[0]", "assets/*"},
		{"WAF rate limit below AWS's minimum", []change{{"cdn", "rateLimitPerFiveMinutes", 5}}, "scrolluniversity:cdn.rateLimitPerFiveMinutes", "5"},
		{"WAF logs kept for a period CloudWatch has not", []change{{"cdn", "logRetentionDays", 45}}, "scrolluniversity:cdn.logRetentionDays", "45"},
		{"origin outside the app's domains", []change{{"cdn", "originHostname", "origin.example.org"}}, "scrolluniversity:cdn.originHostname", "origin.example.org"},
		{"CDN outside us-east-1", []change{{"aws:region", "", "eu-west-1"}}, "scrolluniversity:cdn.enabled", "eu-west-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := synth.Run(withChanges(t, tc.changes...), infra.Deploy)
			if err == nil {
				t.Fatalf("want a config error naming %s, got none", tc.wantKey)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantKey) || !strings.Contains(msg, tc.wantValue) {
				t.Errorf("error should name key %q and value %q; got:\n%s", tc.wantKey, tc.wantValue, msg)
			}
			if len(res.Resources) != 0 {
				t.Errorf("want nothing registered on a config error, got %d resources (first %s)", len(res.Resources), res.Resources[0].URN)
			}
		})
	}
}

// One run reports every problem, not the first.
func TestBadConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := synth.Run(withChanges(t,
		change{"network", "natGateways", "some"},
		change{"cluster", "kubernetesVersion", "1.20"},
		change{"backups", "appSchedule", "nightly"},
	), infra.Deploy)
	if err == nil {
		t.Fatal("want a config error")
	}
	for _, key := range []string{"network.natGateways", "cluster.kubernetesVersion", "backups.appSchedule"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not mention %s:\n%v", key, err)
		}
	}
}

// A stack other than staging/production works when its file is complete:
// nothing branches on the stack name.
func TestAnyStackNameWorks(t *testing.T) {
	s := loadStack(t, "staging").Clone()
	s.Name = "qa"
	res, err := synth.Run(s, infra.Deploy)
	if err != nil {
		t.Fatalf("stack qa: %v", err)
	}
	if _, ok := res.Find(typeCluster, "scrolluniversity-qa"); !ok {
		t.Errorf("stack qa: want cluster scrolluniversity-qa")
	}
}

// The project and stack files pass Pulumi's own loaders (what the CLI runs
// first), and a project file the CLI would refuse is refused offline too.
func TestPulumiLoadsTheProjectFiles(t *testing.T) {
	for _, name := range stacks {
		if _, err := synth.LoadStack(stacksRoot, name); err != nil {
			t.Errorf("stack %s: %v", name, err)
		}
	}
	dir := t.TempDir()
	project, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(project), "config:\n", "config:\n  aws:region:\n    type: string\n", 1)
	stack, _ := os.ReadFile(filepath.Join(repoRoot, "Pulumi.staging.yaml"))
	for file, body := range map[string]string{"Pulumi.yaml": bad, "Pulumi.staging.yaml": string(stack)} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := synth.LoadStack(dir, "staging"); err == nil || !strings.Contains(err.Error(), "aws:region") {
		t.Errorf("a typed aws:region in Pulumi.yaml must be refused as the CLI does, got %v", err)
	}
}
