// Package observability is the platform's metrics and alerting:
// kube-prometheus-stack (the Prometheus operator, Prometheus, Alertmanager,
// Grafana, kube-state-metrics, node-exporter) from its pinned chart, the
// exporters of the managed data stores (postgres_exporter, redis_exporter,
// cloudwatch_exporter with a read-only IRSA role), ScrollUniversity's alert
// rules and dashboards, and Alertmanager's routing to Slack, PagerDuty,
// email and a heartbeat.
package observability

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/components/observability/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
	policy "github.com/scrolluniversity/platform/policy/rules"
)

// Database is what the component needs of PostgreSQL.
type Database struct {
	// Host is the primary's address.
	Host pulumi.StringInput
	// Name is the application database the exporter connects to.
	Name string
	// AdminUser and AdminPassword (secret) are the master credentials the
	// monitoring-user Job uses.
	AdminUser     string
	AdminPassword pulumi.StringInput
	// InstanceIds are the RDS identifiers of the primary and its replicas,
	// for CloudWatch.
	InstanceIds pulumi.StringArrayInput
}

// Cache is what the component needs of Redis.
type Cache struct {
	// Host is the primary endpoint's address.
	Host pulumi.StringInput
	// AuthToken is the AUTH token (secret).
	AuthToken pulumi.StringInput
	// ReplicationGroupId is the group's ID; its member clusters are
	// <id>-001, <id>-002, ...
	ReplicationGroupId pulumi.StringInput
	// Nodes is the number of member clusters (primary plus replicas).
	Nodes int
}

// Args configure the component.
type Args struct {
	// Config is the observability section of the stack config.
	Config config.ObservabilityConfig
	// ChartRepository mirrors the chart (cluster.chartRepository; empty:
	// upstream).
	ChartRepository string
	// ClusterName and Stack label every series (Prometheus's external
	// labels) and name the AWS role.
	ClusterName, Stack string
	// Region is where CloudWatch is read.
	Region string
	// WAF is the CDN's web ACL, whose blocked requests the CloudWatch
	// exporter reads and an alert watches; nil without a CDN.
	WAF *content.WAFAlert
	// AppNamespace is the web app's namespace, which the rules watch.
	AppNamespace string
	// DrillRtoMinutes is the restore drill's recovery time objective
	// (backups.drillRtoMinutes), which RestoreDrillSlow compares with.
	DrillRtoMinutes int
	// AlertingSecrets are the receivers' credentials by file name
	// (config.AlertingSecrets); they only ever go to a Secret.
	AlertingSecrets map[string]string
	// ScrapeTargets are the platform's Services Prometheus scrapes besides
	// its own exporters (the backend, cert-manager).
	ScrapeTargets []ScrapeTarget
	// ProbeURLs are the public URLs blackbox_exporter asks from inside the
	// cluster, through DNS, the NLB, TLS and the Gateway, as users do.
	ProbeURLs []string
	// Database and Cache are the managed stores the exporters watch.
	Database Database
	Cache    Cache

	// Namer names AWS resources (the CloudWatch exporter's role).
	Namer kit.Namer
	// OIDC is the cluster's OIDC provider, for the exporter's IRSA role.
	OIDC kit.OIDC
	// Network are the addresses the NetworkPolicies name: the API server,
	// the control plane's and the nodes' subnets (the API servers', the
	// kubelets' and node-exporter's metrics), the data stores' subnets.
	Network kit.Addresses
	// KubernetesProvider and AWSProvider create every child.
	KubernetesProvider *kubernetes.Provider
	AWSProvider        pulumi.ProviderResource
}

// Observability is the component.
type Observability struct {
	pulumi.ResourceState

	// Namespace is the monitoring namespace.
	Namespace pulumi.StringOutput
	// Prometheus, Alertmanager and Grafana are the Services to
	// port-forward to ("svc/kps-prometheus 9090").
	Prometheus, Alertmanager, Grafana pulumi.StringOutput
	// GrafanaAdminPassword is Grafana's admin password (secret).
	GrafanaAdminPassword pulumi.StringOutput
	// CloudWatchRoleArn is the CloudWatch exporter's IRSA role.
	CloudWatchRoleArn pulumi.StringOutput
}

// grafanaPasswordLength: 32 alphanumerics, about 190 bits.
const grafanaPasswordLength = 32

// New builds the component. Rules, dashboards and Alertmanager's
// configuration are rendered and checked before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Observability, error) {
	o := args.Config
	rules, err := content.RuleFiles(content.RuleParams{Thresholds: o.Thresholds, SLO: o.SLO, AppNamespace: args.AppNamespace, DrillRtoMinutes: args.DrillRtoMinutes, WAF: args.WAF})
	if err != nil {
		return nil, err
	}
	groups, err := content.RuleGroups(rules)
	if err != nil {
		return nil, err
	}
	dashboards, err := content.Dashboards()
	if err != nil {
		return nil, err
	}
	for _, s := range config.AlertingSecrets {
		if args.AlertingSecrets[s.File] == "" {
			return nil, fmt.Errorf("observability: the receivers' secret %s is empty (set %s)", s.File, s.Key)
		}
	}

	c := &Observability{}
	opts = append(opts, pulumi.Providers(args.KubernetesProvider, args.AWSProvider))
	if err := ctx.RegisterComponentResource("scrolluniversity:components:Observability", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	ns, err := kit.NewNamespace(ctx, kit.NamespaceArgs{Name: Namespace, PodSecurity: kit.Restricted, PartOf: PartOf, Policies: NetworkPolicies(args.Network)}, parent)
	if err != nil {
		return nil, err
	}
	// See NodeExporterNamespace: privileged, and nothing else runs there.
	nodeNS, err := kit.NewNamespace(ctx, kit.NamespaceArgs{Name: NodeExporterNamespace, PodSecurity: kit.Privileged, PartOf: PartOf}, parent)
	if err != nil {
		return nil, err
	}
	inNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}

	receiverData := pulumi.StringMap{}
	for _, file := range slices.Sorted(maps.Keys(args.AlertingSecrets)) {
		receiverData[file] = pulumi.ToSecret(pulumi.String(args.AlertingSecrets[file])).(pulumi.StringOutput)
	}
	receivers, err := secret(ctx, content.ReceiversSecret, receiverData, inNS)
	if err != nil {
		return nil, err
	}
	grafanaPassword, err := random.NewRandomPassword(ctx, args.Namer.Name("grafana-admin"), &random.RandomPasswordArgs{
		Length: pulumi.Int(grafanaPasswordLength), Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generating Grafana's admin password: %w", err)
	}
	grafanaAdmin, err := secret(ctx, GrafanaAdminSecret, pulumi.StringMap{"admin-user": pulumi.String("admin"), "admin-password": grafanaPassword.Result}, inNS)
	if err != nil {
		return nil, err
	}

	if err := grafanaRBAC(ctx, inNS); err != nil {
		return nil, err
	}

	// The chart's values name the two Secrets; the release waits for them.
	stack, err := kit.NewRelease(ctx, kit.Chart{
		Name: releaseName, Chart: "kube-prometheus-stack", Repo: chartRepo, Version: o.Chart,
		Namespace: Namespace, Values: pulumi.ToMap(StackValues(o, args.ClusterName, args.Stack)), Mirror: args.ChartRepository,
	}, parent, pulumi.DependsOn([]pulumi.Resource{ns, nodeNS, receivers, grafanaAdmin}))
	if err != nil {
		return nil, err
	}
	// Custom resources need the chart's CRDs, which the release installs.
	afterStack := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns, stack})}

	if _, err := kit.NewCustomResource(ctx, kit.CustomResource{
		APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule", Name: "scrolluniversity", Namespace: Namespace, PartOf: PartOf,
		Fields: map[string]any{"spec": map[string]any{"groups": groups}},
	}, afterStack...); err != nil {
		return nil, err
	}

	for _, file := range slices.Sorted(maps.Keys(dashboards)) {
		cm := dashboardConfigMap(file)
		if _, err := corev1.NewConfigMap(ctx, cm, &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(cm), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(map[string]string{
				content.DashboardLabel: "1", "app.kubernetes.io/part-of": PartOf,
			})},
			Data: pulumi.StringMap{file: pulumi.String(dashboards[file])},
		}, inNS...); err != nil {
			return nil, fmt.Errorf("creating dashboard ConfigMap %s: %w", cm, err)
		}
	}

	exporters, err := newExporters(ctx, c, args, inNS)
	if err != nil {
		return nil, err
	}
	targets := append(exporters, args.ScrapeTargets...)
	for _, t := range targets {
		var annotations map[string]string
		if t.FromRelease != "" {
			annotations = map[string]string{policy.ServiceFromReleaseAnnotation: t.FromRelease}
		}
		if _, err := kit.NewCustomResource(ctx, kit.CustomResource{
			APIVersion: "monitoring.coreos.com/v1", Kind: t.MonitorKind(), Name: t.Name, Namespace: Namespace, PartOf: PartOf,
			Annotations: annotations, Fields: map[string]any{"spec": ServiceMonitorSpec(t)},
		}, afterStack...); err != nil {
			return nil, err
		}
	}

	if len(args.ProbeURLs) > 0 {
		if _, err := kit.NewCustomResource(ctx, kit.CustomResource{
			APIVersion: "monitoring.coreos.com/v1", Kind: "Probe", Name: content.ProbeJob, Namespace: Namespace, PartOf: PartOf,
			Fields: map[string]any{"spec": ProbeSpec(args.ProbeURLs)},
		}, afterStack...); err != nil {
			return nil, err
		}
	}

	c.Namespace = ns.Metadata.Name().Elem()
	c.Prometheus = pulumi.String(fullname + "-prometheus").ToStringOutput()
	c.Alertmanager = pulumi.String(fullname + "-alertmanager").ToStringOutput()
	c.Grafana = pulumi.String(grafanaName).ToStringOutput()
	c.GrafanaAdminPassword = pulumi.ToSecret(grafanaPassword.Result).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"namespace":    c.Namespace,
		"prometheus":   c.Prometheus,
		"alertmanager": c.Alertmanager,
		"grafana":      c.Grafana,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// newExporters creates the exporters of PostgreSQL, Redis and CloudWatch,
// the monitoring role's Job, and returns their scrape targets.
func newExporters(ctx *pulumi.Context, c *Observability, args Args, inNS []pulumi.ResourceOption) ([]ScrapeTarget, error) {
	o := args.Config
	parent := pulumi.Parent(c)
	newSecret := func(name string, data pulumi.StringMap) (*corev1.Secret, error) {
		return secret(ctx, name, data, inNS)
	}

	// PostgreSQL: a monitoring role with pg_monitor, made by a Job as the
	// master user; its password is set as a SCRAM verifier.
	creds, err := kit.NewRoleCredentials(ctx, args.Namer.Name("postgres-monitoring"), grafanaPasswordLength, parent)
	if err != nil {
		return nil, err
	}
	monitoring, err := newSecret(monitoringSecret, pulumi.StringMap{"password": creds.Password, "verifier": creds.Verifier})
	if err != nil {
		return nil, err
	}
	admin, err := newSecret(adminSecret, pulumi.StringMap{"password": args.Database.AdminPassword})
	if err != nil {
		return nil, err
	}
	sql, err := sqlFiles.ReadFile("sql/monitoring-user.sql")
	if err != nil {
		return nil, err
	}
	if _, err := corev1.NewConfigMap(ctx, monitoringUserJob, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(monitoringUserJob), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(monitoringUserJob))},
		Data:     pulumi.StringMap{"monitoring-user.sql": pulumi.String(string(sql))},
	}, inNS...); err != nil {
		return nil, fmt.Errorf("creating the monitoring-user SQL: %w", err)
	}
	checksum := creds.Checksum(string(sql))
	job, err := batchv1.NewJob(ctx, monitoringUserJob, MonitoringUserJob(Namespace, o.Images.Postgres, o.NodePool, DatabaseTarget{
		Host: args.Database.Host, Name: args.Database.Name, AdminUser: args.Database.AdminUser,
	}, checksum), append(inNS, pulumi.DependsOn([]pulumi.Resource{monitoring, admin}),
		// Pulumi waits for the Job to complete; its own deadline is 10 minutes.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "15m", Update: "15m"}),
		// A finished Job's template cannot change: a new verifier replaces it.
		pulumi.DeleteBeforeReplace(true))...)
	if err != nil {
		return nil, fmt.Errorf("creating the monitoring-user Job: %w", err)
	}

	pgExporter := Exporter{
		Name: PostgresExporter, Namespace: Namespace, Image: o.Images.PostgresExporter, Port: postgresExporterPort, RunAsUser: nobodyUID,
		Env: corev1.EnvVarArray{
			corev1.EnvVarArgs{Name: pulumi.String("DATA_SOURCE_URI"), Value: pulumi.Sprintf("%s:%d/%s?sslmode=require", args.Database.Host, postgresPort, args.Database.Name)},
			corev1.EnvVarArgs{Name: pulumi.String("DATA_SOURCE_USER"), Value: pulumi.String(MonitoringRole)},
			corev1.EnvVarArgs{Name: pulumi.String("DATA_SOURCE_PASS_FILE"), Value: pulumi.String("/secrets/password")},
		},
		Files:      []Mount{{Path: "/secrets", Secret: monitoringSecret}},
		HealthPath: "/", Resources: exporterResources, NodePool: o.NodePool,
		Annotations: pulumi.StringMap{"scrolluniversity.io/verifier-checksum": checksum},
	}
	redisExporter := Exporter{
		Name: RedisExporter, Namespace: Namespace, Image: o.Images.RedisExporter, Port: redisExporterPort, RunAsUser: redisExporterUID,
		Env: corev1.EnvVarArray{
			corev1.EnvVarArgs{Name: pulumi.String("REDIS_ADDR"), Value: pulumi.Sprintf("rediss://%s:%d", args.Cache.Host, redisPort)},
			corev1.EnvVarArgs{Name: pulumi.String("REDIS_PASSWORD"), ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: pulumi.String(redisSecret), Key: pulumi.String("auth-token")}}},
			// ElastiCache refuses CONFIG; skip the config metrics.
			corev1.EnvVarArgs{Name: pulumi.String("REDIS_EXPORTER_CONFIG_COMMAND"), Value: pulumi.String("-")},
		},
		HealthPath: "/health", Resources: exporterResources, NodePool: o.NodePool,
	}
	redisToken, err := newSecret(redisSecret, pulumi.StringMap{"auth-token": args.Cache.AuthToken})
	if err != nil {
		return nil, err
	}

	// CloudWatch: an IRSA role that may only read metrics.
	role, err := args.OIDC.Role(ctx, args.Namer.Name(CloudWatchExporter), kit.IRSAArgs{
		Namespace: Namespace, ServiceAccount: CloudWatchExporter, Policy: cloudWatchReadPolicy(ctx, parent),
	}, parent)
	if err != nil {
		return nil, err
	}
	sa, err := corev1.NewServiceAccount(ctx, CloudWatchExporter, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(CloudWatchExporter), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(CloudWatchExporter)),
			Annotations: pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Role.Arn},
		},
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, inNS...)
	if err != nil {
		return nil, fmt.Errorf("creating the CloudWatch exporter's ServiceAccount: %w", err)
	}
	cwConfig := pulumi.All(args.Database.InstanceIds, args.Cache.ReplicationGroupId).ApplyT(func(v []any) (string, error) {
		members := make([]string, 0, args.Cache.Nodes)
		for i := 1; i <= args.Cache.Nodes; i++ {
			members = append(members, fmt.Sprintf("%s-%03d", v[1].(string), i))
		}
		targets := content.CloudWatchTargets{DBInstanceIdentifier: v[0].([]string), CacheClusterId: members}
		if args.WAF != nil {
			targets.WebACL = args.WAF.WebACL
		}
		return content.CloudWatchConfig(args.Region, targets)
	}).(pulumi.StringOutput)
	if _, err := corev1.NewConfigMap(ctx, CloudWatchExporter, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(CloudWatchExporter), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(CloudWatchExporter))},
		Data:     pulumi.StringMap{"config.yml": cwConfig},
	}, inNS...); err != nil {
		return nil, fmt.Errorf("creating the CloudWatch exporter's config: %w", err)
	}
	cwExporter := Exporter{
		Name: CloudWatchExporter, Namespace: Namespace, Image: o.Images.CloudWatchExporter, Port: cloudwatchExporterPort, RunAsUser: nobodyUID,
		Args:           []string{"/config/config.yml"},
		Files:          []Mount{{Path: "/config", ConfigMap: CloudWatchExporter}},
		ServiceAccount: CloudWatchExporter, HealthPath: "/-/healthy", Resources: javaExporterResources, NodePool: o.NodePool,
		Annotations: pulumi.StringMap{"scrolluniversity.io/config-checksum": cwConfig.ApplyT(func(s string) string {
			sum := sha256.Sum256([]byte(s))
			return hex.EncodeToString(sum[:])
		}).(pulumi.StringOutput)},
	}

	// blackbox_exporter: the user's path, from the outside in. Prometheus
	// asks it through the Probe (newProbe), not a ServiceMonitor.
	bbConfig, err := content.BlackboxConfig()
	if err != nil {
		return nil, err
	}
	bbMap, err := corev1.NewConfigMap(ctx, BlackboxExporter, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(BlackboxExporter), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(BlackboxExporter))},
		Data:     pulumi.StringMap{"blackbox.yml": pulumi.String(bbConfig)},
	}, inNS...)
	if err != nil {
		return nil, fmt.Errorf("creating the blackbox exporter's config: %w", err)
	}
	bbSum := sha256.Sum256([]byte(bbConfig))
	bbExporter := Exporter{
		Name: BlackboxExporter, Namespace: Namespace, Image: o.Images.BlackboxExporter, Port: blackboxExporterPort, RunAsUser: nobodyUID,
		Args:       []string{"--config.file=/config/blackbox.yml"},
		Files:      []Mount{{Path: "/config", ConfigMap: BlackboxExporter}},
		HealthPath: "/-/healthy", Resources: exporterResources, NodePool: o.NodePool,
		Annotations: pulumi.StringMap{"scrolluniversity.io/config-checksum": pulumi.String(hex.EncodeToString(bbSum[:]))},
	}

	deps := map[string][]pulumi.Resource{
		PostgresExporter:   {job},
		RedisExporter:      {redisToken},
		CloudWatchExporter: {sa, role.Role},
		BlackboxExporter:   {bbMap},
	}
	deps[CloudWatchExporter] = append(deps[CloudWatchExporter], role.Attachments...)
	var targets []ScrapeTarget
	for _, e := range []Exporter{pgExporter, redisExporter, cwExporter, bbExporter} {
		if _, err := appsv1.NewDeployment(ctx, e.Name, ExporterDeployment(e), append(inNS, pulumi.DependsOn(deps[e.Name]))...); err != nil {
			return nil, fmt.Errorf("creating Deployment %s: %w", e.Name, err)
		}
		if _, err := corev1.NewService(ctx, e.Name, ExporterService(e), inNS...); err != nil {
			return nil, fmt.Errorf("creating Service %s: %w", e.Name, err)
		}
		if e.Name == BlackboxExporter {
			continue
		}
		t := ScrapeTarget{Name: e.Name, Namespace: Namespace, Selector: SelectorLabels(e.Name), Port: "metrics"}
		if e.Name == CloudWatchExporter {
			// It labels series itself (job aws_rds, instance ""); CloudWatch
			// is asked at most once a minute.
			t.HonorLabels, t.Interval, t.Timeout = true, "60s", "50s"
		}
		targets = append(targets, t)
	}
	c.CloudWatchRoleArn = role.Role.Arn
	return targets, nil
}

// ProbeSpec is the Probe of the public URLs: Prometheus asks
// blackbox_exporter's /probe for each every 30 seconds, as job
// content.ProbeJob with the URL as instance.
func ProbeSpec(urls []string) map[string]any {
	static := make([]any, len(urls))
	for i, u := range urls {
		static[i] = u
	}
	return map[string]any{
		"jobName":       content.ProbeJob,
		"module":        content.ProbeModule,
		"interval":      "30s",
		"scrapeTimeout": "15s",
		"prober": map[string]any{
			"url": fmt.Sprintf("%s.%s.svc:%d", BlackboxExporter, Namespace, blackboxExporterPort), "path": "/probe",
		},
		"targets": map[string]any{"staticConfig": map[string]any{"static": static}},
	}
}

// cloudWatchReadPolicy may read CloudWatch metrics and nothing else; the
// three actions support no resource-level scoping.
func cloudWatchReadPolicy(ctx *pulumi.Context, parent pulumi.ResourceOrInvokeOption) pulumi.StringOutput {
	return iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{iam.GetPolicyDocumentStatementArgs{
			Sid:       pulumi.String("ReadMetrics"),
			Actions:   pulumi.ToStringArray([]string{"cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics"}),
			Resources: pulumi.ToStringArray([]string{"*"}),
		}},
	}, parent).Json()
}

// grafanaRBAC lets Grafana's sidecars read the ConfigMaps of the
// monitoring namespace (dashboards, the data source) and nothing else; the
// chart's own RBAC is off because it grants every Secret of the cluster.
func grafanaRBAC(ctx *pulumi.Context, opts []pulumi.ResourceOption) error {
	_, err := kit.NewGrant(ctx, kit.Grant{
		Name: grafanaName + "-sidecar", Namespace: Namespace, Labels: Labels(grafanaName),
		Rules: []kit.Rule{{Groups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}}},
		// The chart's ServiceAccount is named after fullnameOverride.
		ServiceAccount: grafanaName, ServiceAccountNamespace: Namespace,
	}, opts...)
	return err
}

// secret creates an Opaque Secret in the monitoring namespace.
func secret(ctx *pulumi.Context, name string, data pulumi.StringMap, opts []pulumi.ResourceOption) (*corev1.Secret, error) {
	return kit.NewSecret(ctx, Namespace, name, Labels(name), data, opts...)
}
