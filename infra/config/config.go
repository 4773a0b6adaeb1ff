// Package config is the stack's typed configuration: every section, its
// defaults (defaults.go) and its validation (validate.go), read once before
// any resource is registered. infra and the components share these types.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Config is the whole stack's configuration, read once from the stack file
// (one structured object per section under the `scrolluniversity:` namespace,
// plus `aws:region`), defaults applied first, then validated as a whole.
//
// Every difference between stacks is a value here; the program never branches
// on the stack name.
type Config struct {
	// Project is the Pulumi project name ("scrolluniversity").
	Project string `json:"-"`
	// Stack is the Pulumi stack name; it only ever appears in names and tags.
	Stack string `json:"-"`
	// Region is the AWS region, from `aws:region`. Required.
	Region string `json:"-"`

	// Tags are extra AWS tags applied to every resource through the AWS
	// provider's defaultTags. Project, Environment and ManagedBy are always set.
	Tags map[string]string `json:"tags"`
	// Guards protects stateful resources (RDS, ElastiCache, S3).
	Guards GuardsConfig `json:"guards"`
	// Network is the VPC layout.
	Network NetworkConfig `json:"network"`
	// Cluster is the EKS control plane, its node groups and add-ons.
	Cluster ClusterConfig `json:"cluster"`
	// Database is RDS PostgreSQL.
	Database DatabaseConfig `json:"database"`
	// Cache is ElastiCache Redis.
	Cache CacheConfig `json:"cache"`
	// Uploads is the S3 bucket for user uploads.
	Uploads UploadsConfig `json:"uploads"`
	// App is the web app (backend API and frontend).
	App AppConfig `json:"app"`
	// Observability is Prometheus, Grafana and Alertmanager.
	Observability ObservabilityConfig `json:"observability"`
	// Logging is Elasticsearch, Logstash, Kibana and Filebeat.
	Logging LoggingConfig `json:"logging"`
	// Backups are scheduled database dumps to S3.
	Backups BackupsConfig `json:"backups"`
	// Audit is the account's audit trail (CloudTrail).
	Audit AuditConfig `json:"audit"`
	// CDN is CloudFront with AWS WAF in front of the Gateway.
	CDN CDNConfig `json:"cdn"`

	// Secrets are the external API keys the backend needs, by the
	// environment variable it reads them from. They come from secret stack
	// config (see AppSecrets) and are only ever placed in a Kubernetes Secret.
	Secrets map[string]string `json:"-"`
	// AlertingSecrets are Alertmanager's receiver credentials, by their
	// file name in the receivers' Secret (see AlertingSecrets).
	AlertingSecrets map[string]string `json:"-"`
}

// AppSecret is one external credential: its stack config key and the
// environment variable the backend reads.
type AppSecret struct {
	Key, Env string
}

// AppSecrets are required in every stack, set with
// `pulumi config set --secret scrolluniversity:<key> <value>`.
var AppSecrets = []AppSecret{
	{"openaiApiKey", "OPENAI_API_KEY"},
	{"stripeSecretKey", "STRIPE_SECRET_KEY"},
	{"stripeWebhookSecret", "STRIPE_WEBHOOK_SECRET"},
	{"sentryDsn", "SENTRY_DSN"},
}

// AlertingSecret is one receiver credential: its stack config key, the
// file Alertmanager reads it from, and what it is.
type AlertingSecret struct {
	Key, File, What string
}

// Files of the receivers' Secret.
const (
	SlackWebhookFile = "slack-webhook-url"
	PagerDutyKeyFile = "pagerduty-routing-key"
	SMTPPasswordFile = "smtp-password"
	HeartbeatURLFile = "heartbeat-url"
)

// AlertingSecrets are required in every stack, set with
// `pulumi config set --secret scrolluniversity:<key> <value>`. Alertmanager
// reads each from a file of a Kubernetes Secret, never from its config.
var AlertingSecrets = []AlertingSecret{
	{"slackWebhookUrl", SlackWebhookFile, "the Slack incoming webhook URL warnings and pages are posted to"},
	{"pagerdutyRoutingKey", PagerDutyKeyFile, "the PagerDuty Events API v2 routing key critical alerts page"},
	{"smtpPassword", SMTPPasswordFile, "the SMTP password info alerts are mailed with"},
	{"heartbeatUrl", HeartbeatURLFile, "the dead man's switch URL the always-firing Watchdog alert is sent to"},
}

// AuditConfig is the account's audit trail: who did what to the account's
// resources, and who read or wrote the objects of the buckets that hold
// student data (FERPA's record of disclosures, GDPR's accountability).
type AuditConfig struct {
	// Trail is "create" (the stack makes a multi-region CloudTrail trail
	// of its account, with log file validation, management events and the
	// uploads and backups buckets' S3 data events, into a locked bucket)
	// or "existing" (a trail already records the account: an AWS
	// Organizations trail, or another stack's in the same account; the
	// stack makes none). Default "create".
	Trail string `json:"trail"`
	// ExistingTrailArn names the trail that records the account when
	// Trail is "existing"; required then. Its owner must also select this
	// stack's buckets' data events (docs/DEPLOYMENT.md).
	ExistingTrailArn string `json:"existingTrailArn"`
	// RetentionDays is the compliance retention of the audit record, in
	// days: the trail's log files are locked (S3 Object Lock, governance)
	// and kept this long, then expire; the EKS control-plane logs, which
	// hold the Kubernetes audit log, must be kept at least as long
	// (cluster.logRetentionDays). 1 to 3653. Default 365.
	RetentionDays int `json:"retentionDays"`
}

// CDNConfig is CloudFront, with an AWS WAF web ACL, in front of the
// Gateway: viewers reach the app's hostnames at CloudFront's edge, which
// reaches the Gateway's load balancer at OriginHostname with a secret
// header the app's routes require.
type CDNConfig struct {
	// Enabled puts CloudFront and the WAF in front of the Gateway; false
	// points the hostnames at the load balancer as before. Default true.
	Enabled bool `json:"enabled"`
	// PriceClass is where CloudFront serves from: PriceClass_100 (North
	// America, Europe, Israel), PriceClass_200 (and most of Asia, Africa
	// and the Middle East) or PriceClass_All. Default PriceClass_100.
	PriceClass string `json:"priceClass"`
	// StaticPaths are the CloudFront path patterns of the frontend's
	// fingerprinted static assets, cached at the edge for up to a year
	// whatever the origin says (CachingOptimized). Everything else of the
	// frontend is cached as its Cache-Control says; /api and the WebSocket
	// path are never cached. Default ["/assets/*", "/static/*"] (the build
	// output directories of Vite and Create React App).
	StaticPaths []string `json:"staticPaths"`
	// RateLimitPerFiveMinutes is the WAF's per-IP limit: a viewer IP past
	// this many requests in five minutes is blocked at the edge until it
	// falls below. It complements the Gateway's per-second limit
	// (app.rateLimit), which catches bursts. Every request counts, the
	// edge's cached assets too: a campus behind one NAT address needs more.
	// 10 to 2000000000. Default 2000.
	RateLimitPerFiveMinutes int `json:"rateLimitPerFiveMinutes"`
	// BlockedRequestsAlert is the number of requests the WAF blocks in
	// five minutes above which the WafBlockedRequestsSpike alert fires.
	// Default 500.
	BlockedRequestsAlert int `json:"blockedRequestsAlert"`
	// LogRetentionDays is how long the WAF's logs are kept (a CloudWatch
	// Logs period). Default 365.
	LogRetentionDays int `json:"logRetentionDays"`
	// OriginHostname is the name CloudFront reaches the Gateway's load
	// balancer at (external-dns points it there). Default "origin." and
	// the first of app.hostnames.
	OriginHostname string `json:"originHostname"`
}

// The audit trail's kinds (AuditConfig.Trail).
const (
	TrailCreate   = "create"
	TrailExisting = "existing"
)

// GuardsConfig says how hard stateful resources are guarded against loss.
type GuardsConfig struct {
	// Protect sets Pulumi's `protect` on stateful resources so that
	// `pulumi destroy` and replacements refuse to delete them. Default false.
	Protect bool `json:"protect"`
	// DeletionProtection turns on the AWS-side deletion protection of RDS.
	// Default false.
	DeletionProtection bool `json:"deletionProtection"`
	// FinalSnapshot takes a final RDS snapshot on delete. Default true.
	FinalSnapshot bool `json:"finalSnapshot"`
}

// NetworkConfig is the VPC layout. Subnets are carved from VpcCidr by
// SubnetPlan, one public, one private and one isolated subnet per zone.
type NetworkConfig struct {
	// VpcCidr is the VPC's IPv4 block, /16 to /20. Default "10.0.0.0/16".
	VpcCidr string `json:"vpcCidr"`
	// AvailabilityZones are the zone names to spread across, 2 to 6, all in
	// the stack's region. Required.
	AvailabilityZones []string `json:"availabilityZones" what:"zone names"`
	// NatGateways is "perZone" (one NAT gateway per zone, survives a zone
	// outage) or "single" (one shared, cheaper). Default "perZone".
	NatGateways string `json:"natGateways"`
	// FlowLogRetentionDays is how long VPC flow logs are kept, in days.
	// Default 90.
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`
}

// ClusterConfig is the EKS cluster.
type ClusterConfig struct {
	// Name is the EKS cluster name. Default "<project>-<stack>".
	Name string `json:"name"`
	// KubernetesVersion is the control plane version, "1.NN", inside
	// [MinKubernetesVersion, MaxKubernetesVersion] and in EKS standard
	// support. A running cluster moves one minor at a time (the preflight
	// refuses more, and a downgrade). Default DefaultKubernetesVersion.
	KubernetesVersion string `json:"kubernetesVersion"`
	// ServiceCidr is the Kubernetes Service IP range; it must not overlap the
	// VPC. Default "172.20.0.0/16".
	ServiceCidr string `json:"serviceCidr"`
	// PublicAccessCidrs are the CIDRs that may reach the public API endpoint.
	// Empty turns the public endpoint off (private endpoint only). 0.0.0.0/0
	// is refused. Default empty.
	PublicAccessCidrs []string `json:"publicAccessCidrs" what:"CIDRs"`
	// DeployerRoleArn is the IAM role that runs `pulumi up` (CI's deploy
	// role). It gets cluster-admin through an access entry like any admin,
	// so that the same update can create the Kubernetes objects; EKS's
	// implicit creator-admin is turned off, so no hidden admin exists.
	// Required.
	DeployerRoleArn string `json:"deployerRoleArn"`
	// AdminRoleArns are further IAM role ARNs given cluster-admin through
	// EKS access entries (people, break-glass). Default empty.
	AdminRoleArns []string `json:"adminRoleArns" what:"IAM role ARNs"`
	// ViewerRoleArns read the whole cluster, Secrets included (EKS's
	// AmazonEKSAdminViewPolicy: a refresh reads every object the stack
	// manages), and change nothing: the stack's preview role, which PR
	// previews and the drift check use. Default empty.
	ViewerRoleArns []string `json:"viewerRoleArns" what:"IAM role ARNs"`
	// RunnerEgressParameter is the SSM parameter (a StringList of CIDRs)
	// where the bootstrap publishes the delivery runners' egress; its
	// CIDRs are allowed on the public endpoint with PublicAccessCidrs, so
	// CI reaches the API without an address in this file. "none" reads
	// nothing. Default "/scrolluniversity/delivery/runner-egress-cidrs".
	RunnerEgressParameter string `json:"runnerEgressParameter"`
	// AmiType is the EKS-optimized AMI family of every node group. One of
	// AllowedAmiTypes. Default "AL2023_x86_64_STANDARD".
	AmiType string `json:"amiType"`
	// LogRetentionDays is how long control-plane logs are kept, in days.
	// Default 90.
	LogRetentionDays int `json:"logRetentionDays"`
	// NodeGroups are the managed node groups, keyed by a stable name
	// ("system", "workload", "spot"). Required.
	NodeGroups map[string]NodeGroupConfig `json:"nodeGroups"`
	// Autoscaler is the Cluster Autoscaler, which grows and shrinks the
	// node groups within their bounds as pods need room.
	Autoscaler AutoscalerConfig `json:"autoscaler"`
	// ChartRepository is a Helm chart repository (an http or https URL)
	// that holds every chart the program installs at its pinned version,
	// under the chart's name: an air-gapped or private mirror, and the
	// end-to-end run's local one (cmd/e2e). It also serves the Gateway
	// API's CRDs as gateway-api-<version>-standard-install.yaml. Empty
	// (the default): each chart's upstream repository or OCI registry,
	// and the Gateway API's GitHub release.
	ChartRepository string `json:"chartRepository"`
	// AddonVersions pins every EKS add-on (ManagedAddons) by name, so that
	// no run resolves AWS's current default afresh: a version changes when
	// the stack file says so. kube-proxy's minor is the control plane's;
	// aws-ebs-csi-driver is at least MinEBSCSIDriverVersion. The preflight
	// refuses a pin newer than AWS publishes for KubernetesVersion. Find
	// the versions with `aws eks describe-addon-versions --kubernetes-version
	// <v> --addon-name <name>`. Required.
	AddonVersions map[string]string `json:"addonVersions"`
}

// AutoscalerConfig pins the Cluster Autoscaler.
type AutoscalerConfig struct {
	// Chart is the cluster-autoscaler Helm chart version. Default "9.52.1".
	Chart string `json:"chart"`
	// ImageTag is the autoscaler release; its minor version must be the
	// control plane's. Default "v1.36.1".
	ImageTag string `json:"imageTag"`
	// Resources of the autoscaler's container. Default requests 100m CPU
	// and 300Mi, limits 1 CPU and 1Gi (its memory grows with the cluster's
	// pods and nodes).
	Resources ResourcesConfig `json:"resources"`
}

// NodeGroupConfig is one managed node group, or with Zonal one per zone.
type NodeGroupConfig struct {
	// Zonal makes one managed node group per availability zone, each in
	// its zone's private subnet, so that the Cluster Autoscaler can add a
	// node in the zone a pending pod needs (pods spread across zones with
	// DoNotSchedule). The sizes below are then per zone. Default false:
	// one group over every zone.
	Zonal bool `json:"zonal"`
	// InstanceTypes are EC2 instance types ("m6i.large"); several only make
	// sense for SPOT. Each must be one the price table
	// (internal/cost/prices.json) prices. Required.
	InstanceTypes []string `json:"instanceTypes" what:"EC2 instance types"`
	// CapacityType is "ON_DEMAND" or "SPOT". Default "ON_DEMAND".
	CapacityType string `json:"capacityType"`
	// MinSize, DesiredSize and MaxSize bound the group, in nodes (per zone
	// when Zonal): 0 <= min <= desired <= max, max >= 1.
	MinSize     int `json:"minSize"`
	DesiredSize int `json:"desiredSize"`
	MaxSize     int `json:"maxSize"`
	// DiskSizeGiB is the root volume (encrypted gp3), in GiB. Default 50.
	DiskSizeGiB int `json:"diskSizeGiB"`
	// Labels are Kubernetes node labels saying what may run there.
	Labels map[string]string `json:"labels"`
	// Taints keep workloads without a matching toleration off the group.
	Taints []TaintConfig `json:"taints"`
}

// TaintConfig is one Kubernetes node taint.
type TaintConfig struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect string `json:"effect"`
}

// sections maps each stack config key (under the project's namespace) to the
// part of Config it is decoded into.
func (c *Config) sections() map[string]any {
	return map[string]any{
		"tags": &c.Tags, "guards": &c.Guards, "network": &c.Network,
		"cluster": &c.Cluster, "database": &c.Database, "cache": &c.Cache,
		"uploads": &c.Uploads, "app": &c.App, "observability": &c.Observability,
		"logging": &c.Logging, "backups": &c.Backups, "audit": &c.Audit, "cdn": &c.CDN,
	}
}

// Keys lists the config keys the program reads under the project's
// namespace, sorted. The synthesizer uses it to refuse unknown keys.
func Keys() []string {
	keys := make([]string, 0, len((&Config{}).sections())+len(AppSecrets))
	for k := range (&Config{}).sections() {
		keys = append(keys, k)
	}
	for _, s := range AppSecrets {
		keys = append(keys, s.Key)
	}
	for _, s := range AlertingSecrets {
		keys = append(keys, s.Key)
	}
	sort.Strings(keys)
	return keys
}

// Load reads the stack's configuration from the Pulumi context, applies
// defaults and validates it. Nothing is registered before it returns. Under
// `pulumi up` the program can read only the keys it knows, so unknown keys
// are the synthesizer's to report; when the stack file is in the working
// directory (the CLI runs the program in the project's), problems name
// their line in it.
func Load(ctx *pulumi.Context) (*Config, error) {
	values := map[string]string{}
	project := pulumiconfig.New(ctx, "")
	for _, key := range Keys() {
		if v, err := project.Try(key); err == nil {
			values[ctx.Project()+":"+key] = v
		}
	}
	if region, err := pulumiconfig.New(ctx, "aws").Try("region"); err == nil {
		values["aws:region"] = region
	}
	cfg, err := ParseChecked(ctx.Project(), ctx.Stack(), values, ctx.IsConfigSecret)
	if ps, ok := err.(Problems); ok {
		return nil, LocateInDir(".", ctx.Stack(), ps)
	}
	return cfg, err
}

// LocateInDir places problems on their lines of dir's Pulumi.<stack>.yaml
// when that file is there and parses; otherwise they stay as they are.
func LocateInDir(dir, stack string, ps Problems) Problems {
	file := "Pulumi." + stack + ".yaml"
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return ps
	}
	loc, err := LocateYAML(file, data)
	if err != nil {
		return ps
	}
	return ps.Locate(loc)
}

// Parse builds the Config from a stack's config values, keyed as the
// stack file writes them ("scrolluniversity:network", "aws:region";
// structured values as JSON, as Pulumi hands them to a program): defaults,
// then the stack's values, then validation of the whole. The error is
// Problems: every unknown key, wrong type and bad value at once.
func Parse(project, stack string, values map[string]string) (*Config, error) {
	return ParseChecked(project, stack, values, nil)
}

// ParseChecked is Parse that also refuses a credential (AppSecrets,
// AlertingSecrets) given in clear: isSecret says whether the engine holds
// a key's value as a secret (ctx.IsConfigSecret); nil checks nothing.
func ParseChecked(project, stack string, values map[string]string, isSecret func(key string) bool) (*Config, error) {
	cfg := Defaults(project, stack)
	cfg.Region = values["aws:region"]

	p := &problems{project: project}
	sections := cfg.sections()
	known := Keys()
	for _, key := range sortedKeys(values) {
		ns, name, _ := strings.Cut(key, ":")
		switch {
		case ns == project && isSecretKey(name):
			if values[key] != "" {
				cfg.Secrets[secretEnv(name)] = values[key]
			}
		case ns == project && alertingFile(name) != "":
			if values[key] != "" {
				cfg.AlertingSecrets[alertingFile(name)] = values[key]
			}
		case ns == project:
			target, ok := sections[name]
			if !ok {
				p.addShown(key, "", unknownKey(name, known))
				continue
			}
			decodeSection(p, key, values[key], target)
		case key == "aws:region":
		case ns == "aws":
			hint := ""
			if Nearest(name, []string{"region"}) != "" {
				hint = "; did you mean aws:region?"
			}
			p.addShown(key, "", "not read by this program: its AWS provider takes only aws:region from config (credentials come from the environment)"+hint)
		case ns == "pulumi":
			// The engine's own settings.
		default:
			p.addShown(key, "", fmt.Sprintf("not read by this program: it reads %s:* and aws:region", project))
		}
	}
	if isSecret != nil {
		for _, key := range credentialKeys() {
			full := project + ":" + key
			if values[full] != "" && !isSecret(full) {
				// The value is not shown: it is a credential.
				p.addShown(full, "(in clear, not shown)", fmt.Sprintf("a credential must be an encrypted secret: remove it from the stack file, then `pulumi config set --secret %s <value>`; rotate it if the file was ever committed", full))
			}
		}
	}
	for _, secret := range AppSecrets {
		if values[project+":"+secret.Key] == "" {
			p.addShown(project+":"+secret.Key, "(not set)", fmt.Sprintf("the backend needs %s; set it with `pulumi config set --secret %s:%s <value>`", secret.Env, project, secret.Key))
		}
	}
	for _, secret := range AlertingSecrets {
		if values[project+":"+secret.Key] == "" {
			p.addShown(project+":"+secret.Key, "(not set)", fmt.Sprintf("Alertmanager needs %s; set it with `pulumi config set --secret %s:%s <value>`", secret.What, project, secret.Key))
		}
	}
	// Values are validated even when some keys could not be read (those
	// keep their defaults), so that one run reports every problem.
	cfg.resolveDerivedDefaults()
	if err := cfg.Validate(); err != nil {
		p.list = append(p.list, err.(Problems)...)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// AWSTags are the tags every AWS resource carries (through the AWS
// provider's defaultTags): the stack's own tags, then the three keys that
// identify a resource's owner, which a stack cannot override.
func (c *Config) AWSTags() map[string]string {
	tags := map[string]string{}
	for k, v := range c.Tags {
		tags[k] = v
	}
	tags["Project"] = c.Project
	tags["Environment"] = c.Stack
	tags["ManagedBy"] = "pulumi"
	return tags
}

// RequiredTagKeys are the tag keys every taggable AWS resource must carry.
var RequiredTagKeys = []string{"Project", "Environment", "ManagedBy"}

func secretEnv(key string) string {
	for _, s := range AppSecrets {
		if s.Key == key {
			return s.Env
		}
	}
	return ""
}

// alertingFile is the receivers' Secret file of an alerting secret key, or
// "" when key is not one.
func alertingFile(key string) string {
	for _, s := range AlertingSecrets {
		if s.Key == key {
			return s.File
		}
	}
	return ""
}

func isSecretKey(key string) bool {
	for _, s := range AppSecrets {
		if s.Key == key {
			return true
		}
	}
	return false
}

// credentialKeys are the config keys whose values are credentials.
func credentialKeys() []string {
	var out []string
	for _, s := range AppSecrets {
		out = append(out, s.Key)
	}
	for _, s := range AlertingSecrets {
		out = append(out, s.Key)
	}
	return out
}
