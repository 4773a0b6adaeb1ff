package infra

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/components/apptier"
	"github.com/scrolluniversity/platform/components/audit"
	"github.com/scrolluniversity/platform/components/backups"
	"github.com/scrolluniversity/platform/components/cdn"
	"github.com/scrolluniversity/platform/components/datatier"
	"github.com/scrolluniversity/platform/components/logging"
	"github.com/scrolluniversity/platform/components/observability"
	"github.com/scrolluniversity/platform/components/observability/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/foundation"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Platform is everything the program built, for the stack outputs and for
// callers (the synthesizer, tests) that want typed access.
type Platform struct {
	Config  *config.Config
	Account kit.Account
	Network *foundation.Network
	Cluster *foundation.Cluster
	Data    *datatier.DataTier
	App     *apptier.AppTier
	Metrics *observability.Observability
	Logs    *logging.Logging
	Backups *backups.Backups
	Audit   *audit.Audit
	// CDN is nil when cdn.enabled is false.
	CDN *cdn.CDN
}

// Program is the Pulumi program: main.go runs it with pulumi.Run. Unlike
// the offline synthesizer's Deploy it refuses placeholders on `pulumi up`
// (and warns of them on preview): see config.Placeholders.
func Program(ctx *pulumi.Context) error {
	p, err := build(ctx, true)
	if err != nil {
		return err
	}
	for name, value := range p.Outputs() {
		ctx.Export(name, value)
	}
	return nil
}

// Deploy builds the platform and returns its stack outputs; the offline
// synthesizer runs it under the mock engine.
func Deploy(ctx *pulumi.Context) (map[string]pulumi.Input, error) {
	p, err := Build(ctx)
	if err != nil {
		return nil, err
	}
	return p.Outputs(), nil
}

// Build reads and validates the config, then builds the platform. On a
// config error nothing is registered. Placeholders are allowed (the
// synthesizer and tests run the committed stack files).
func Build(ctx *pulumi.Context) (*Platform, error) {
	return build(ctx, false)
}

// GatePlaceholders is what the real program does with placeholders: a
// preview warns of each (a pull request's plan still shows), an up
// refuses them all.
func GatePlaceholders(ps config.Problems, preview bool, warn func(string)) error {
	if len(ps) == 0 {
		return nil
	}
	if !preview {
		return fmt.Errorf("%w\n(placeholders are refused by `pulumi up`: docs/DEPLOYMENT.md lists the values to replace)", ps)
	}
	for _, p := range ps {
		warn(p.String() + " (`pulumi up` refuses it)")
	}
	return nil
}

func build(ctx *pulumi.Context, real bool) (*Platform, error) {
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, err
	}
	if real {
		warn := func(msg string) { _ = ctx.Log.Warn(msg, nil) }
		if err := GatePlaceholders(config.Placeholders(cfg), ctx.DryRun(), warn); err != nil {
			return nil, err
		}
	}
	n := kit.Namer{Prefix: cfg.Cluster.Name}

	awsProvider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region:      pulumi.String(cfg.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(cfg.AWSTags())},
	})
	if err != nil {
		return nil, fmt.Errorf("creating AWS provider: %w", err)
	}
	account, err := kit.LookupAccount(ctx, cfg.Region, awsProvider)
	if err != nil {
		return nil, err
	}
	withAWS := pulumi.Provider(awsProvider)
	// What AWS says about the cluster section, before anything exists:
	// the version in standard support, one minor from the running one,
	// add-on pins AWS publishes.
	if err := foundation.Preflight(ctx, cfg.Project, cfg.Cluster, time.Now(), pulumi.Provider(awsProvider)); err != nil {
		return nil, err
	}
	if err := foundation.RolesInAccount(cfg.Project, cfg.Cluster, account.AccountID); err != nil {
		return nil, err
	}
	endpointCidrs, err := foundation.EndpointCidrs(ctx, cfg.Project, cfg.Cluster, pulumi.Provider(awsProvider))
	if err != nil {
		return nil, err
	}

	logsKey, err := kit.NewKey(ctx, n.Name("logs"), account, kit.KeyArgs{
		Description:       "CloudWatch Logs of " + cfg.Cluster.Name + " (VPC flow logs, EKS control plane, RDS)",
		ServicePrincipals: []kit.ServiceKeyUse{kit.LogsKeyUse(account, LogGroupPatterns(cfg.Cluster.Name))},
		// Where the stack guards its data, the audit and flow logs it keeps
		// (kit.NewLogGroup) stay readable after a destroy.
		Retain: cfg.Guards.Protect,
	}, withAWS, pulumi.Protect(cfg.Guards.Protect))
	if err != nil {
		return nil, err
	}

	network, err := foundation.NewNetwork(ctx, "network", foundation.NetworkArgs{
		Config:      cfg.Network,
		Namer:       n,
		ClusterName: cfg.Cluster.Name,
		Account:     account,
		Protect:     cfg.Guards.Protect,
		LogsKeyArn:  logsKey.Arn,
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("building the network: %w", err)
	}

	cluster, err := foundation.NewCluster(ctx, "cluster", foundation.ClusterArgs{
		Config:                cfg.Cluster,
		EndpointCidrs:         endpointCidrs,
		Namer:                 n,
		Account:               account,
		PrivateSubnetIds:      network.PrivateSubnetIds,
		ControlPlaneSubnetIds: network.ControlPlaneSubnetIds,
		Egress:                network.Egress,
		Zones:                 cfg.Network.AvailabilityZones,
		Tags:                  cfg.AWSTags(),
		LogsKeyArn:            logsKey.Arn,
		Protect:               cfg.Guards.Protect,
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("building the cluster: %w", err)
	}

	data, err := datatier.New(ctx, "data", datatier.Args{
		Database:              cfg.Database,
		Cache:                 cfg.Cache,
		Uploads:               cfg.Uploads,
		Guards:                cfg.Guards,
		BackendMaxReplicas:    cfg.App.Backend.MaxReplicas,
		BackendNamespace:      cfg.App.Namespace,
		BackendServiceAccount: cfg.App.BackendServiceAccount,
		LogRetentionDays:      cfg.Cluster.LogRetentionDays,
		Namer:                 n,
		Account:               account,
		VpcId:                 network.VpcId,
		DatabaseSubnetIds:     network.IsolatedSubnetIds,
		CacheSubnetIds:        network.IsolatedSubnetIds,
		ClientSecurityGroupId: cluster.SecurityGroupId,
		LogsKeyArn:            logsKey.Arn,
		OIDC:                  cluster.OIDC(),
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("building the data tier: %w", err)
	}

	// The addresses every component's NetworkPolicies name.
	addrs, err := kit.NewAddresses(network.VpcCidr, cfg.Cluster.ServiceCidr, network.Plan)
	if err != nil {
		return nil, err
	}
	var edgeCDN *cdn.CDN
	var origin *apptier.Origin
	var waf *content.WAFAlert
	if cfg.CDN.Enabled {
		// CloudFront takes its certificate and web ACL from us-east-1
		// only, wherever the stack is.
		global, err := aws.NewProvider(ctx, "aws-"+cdn.Region, &aws.ProviderArgs{
			Region:      pulumi.String(cdn.Region),
			DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(cfg.AWSTags())},
		})
		if err != nil {
			return nil, fmt.Errorf("creating the %s AWS provider: %w", cdn.Region, err)
		}
		edgeCDN, err = cdn.New(ctx, "cdn", cdn.Args{
			Config: cfg.CDN, Hostnames: cfg.App.Hostnames, ZoneId: cfg.App.Route53ZoneId, WebSocketPath: cfg.App.WebSocketPath,
			Protect: cfg.Guards.Protect, Namer: n, Account: account, Provider: global,
		})
		if err != nil {
			return nil, fmt.Errorf("building the CDN: %w", err)
		}
		origin = &apptier.Origin{
			Header: cdn.OriginHeader, Secret: edgeCDN.OriginSecret, Hostname: cfg.CDN.OriginHostname,
			DomainName: edgeCDN.DomainName, HostedZoneId: edgeCDN.HostedZoneId,
		}
		waf = &content.WAFAlert{WebACL: edgeCDN.WebACL, BlockedPerFiveMinutes: cfg.CDN.BlockedRequestsAlert}
	}
	app, err := apptier.New(ctx, "app", apptier.Args{
		App:             cfg.App,
		ChartRepository: cfg.Cluster.ChartRepository,
		Project:         cfg.Project,
		ClusterName:     cfg.Cluster.Name,
		Database:        apptier.DatabaseSettings{Name: cfg.Database.Name, Pool: cfg.Database.Pool},
		Secrets:         cfg.Secrets,
		Data: apptier.Data{
			DatabaseURL:    data.DatabaseURL,
			RedisURL:       data.RedisURL,
			DatabaseHost:   data.DatabaseHost,
			RedisHost:      data.RedisPrimaryHost,
			UploadsBucket:  data.UploadsBucketName,
			BackendRoleArn: data.BackendRoleArn,
		},
		Namer:                  n,
		Account:                account,
		OIDC:                   cluster.OIDC(),
		VpcId:                  network.VpcId,
		Network:                addrs,
		Tags:                   cfg.AWSTags(),
		ClusterSecurityGroupId: cluster.SecurityGroupId,
		AddonsPool:             foundation.CriticalAddonsPool(cfg.Cluster.NodeGroups),
		CDN:                    origin,
		KubernetesProvider:     cluster.Provider,
		AWSProvider:            awsProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("building the app tier: %w", err)
	}

	// The stack's non-secret settings, for app-backup: secrets are not
	// part of Config's JSON.
	settings, err := json.MarshalIndent(map[string]any{"project": cfg.Project, "stack": cfg.Stack, "region": cfg.Region, "config": cfg}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the settings for app-backup: %w", err)
	}
	dumpHost := data.DatabaseHost
	if cfg.Database.ReadReplicas > 0 {
		// Dumps read the replica, not the primary serving the app.
		dumpHost = data.DatabaseReaderHosts.Index(pulumi.Int(0))
	}
	backupsComponent, err := backups.New(ctx, "backups", backups.Args{
		Config:            cfg.Backups,
		Stack:             cfg.Stack,
		Protect:           cfg.Guards.Protect,
		Namespace:         cfg.App.Namespace,
		Network:           addrs,
		NamespaceResource: app.NamespaceResource,
		NodePool:          cfg.App.NodePool,
		DbClientLabel:     apptier.DbClientLabel,
		Database: backups.Database{
			Host: dumpHost, PrimaryHost: data.DatabaseHost, Name: cfg.Database.Name,
			AdminUser: cfg.Database.Username, AdminPassword: data.DatabasePassword,
		},
		UploadsBucket:      data.UploadsBucketName,
		UploadsBucketArn:   data.UploadsBucketArn,
		UploadsKeyArn:      data.KmsKeyArn,
		Settings:           string(settings),
		Namer:              n,
		Account:            account,
		OIDC:               cluster.OIDC(),
		KubernetesProvider: cluster.Provider,
		AWSProvider:        awsProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("building backups: %w", err)
	}

	trail, err := audit.New(ctx, "audit", audit.Args{
		Config:         cfg.Audit,
		DataBucketArns: []pulumi.StringInput{data.UploadsBucketArn, backupsComponent.BucketArn},
		LogBucket:      backupsComponent.LogBucket,
		Protect:        cfg.Guards.Protect,
		Namer:          n,
		Account:        account,
		AWSProvider:    awsProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("building the audit trail: %w", err)
	}

	logs, err := logging.New(ctx, "logging", logging.Args{
		Config:              cfg.Logging,
		ChartRepository:     cfg.Cluster.ChartRepository,
		Stack:               cfg.Stack,
		RetainClaims:        cfg.Guards.Protect,
		Namer:               n,
		Network:             addrs,
		MonitoringNamespace: observability.Namespace,
		AppNamespace:        cfg.App.Namespace,
		BackendContainer:    apptier.BackendContainer,
		KubernetesProvider:  cluster.Provider,
	})
	if err != nil {
		return nil, fmt.Errorf("building logging: %w", err)
	}
	scrape := []observability.ScrapeTarget{
		{Name: "backend", Namespace: cfg.App.Namespace, Selector: apptier.SelectorLabels("backend"), Port: "metrics"},
		{Name: "cert-manager", Namespace: apptier.CertManagerNamespace, Selector: apptier.CertManagerServiceLabels(), Port: apptier.CertManagerMetricsPortName,
			FromRelease: apptier.CertManagerNamespace + "/cert-manager"},
		// NGF's control plane and the Gateway's NGINX pods have no metrics
		// Service (the chart makes none, the provisioner only annotates
		// the pods), so they are scraped as pods.
		{Name: "nginx-gateway-fabric", Namespace: apptier.GatewayNamespace, Selector: apptier.GatewayControlPlaneLabels(), Port: apptier.GatewayMetricsPortName, Pods: true},
		{Name: "gateway-nginx", Namespace: apptier.GatewayNamespace, Selector: apptier.GatewayDataPlaneLabels(), Port: apptier.GatewayMetricsPortName, Pods: true},
	}
	for _, t := range logs.ScrapeTargets {
		scrape = append(scrape, observability.ScrapeTarget{Name: t.Name, Namespace: logging.Namespace, Selector: t.Selector, Port: "metrics"})
	}

	metrics, err := observability.New(ctx, "observability", observability.Args{
		Config:          cfg.Observability,
		ChartRepository: cfg.Cluster.ChartRepository,
		ClusterName:     cfg.Cluster.Name,
		Stack:           cfg.Stack,
		Region:          cfg.Region,
		WAF:             waf,
		AppNamespace:    cfg.App.Namespace,
		DrillRtoMinutes: cfg.Backups.DrillRtoMinutes,
		AlertingSecrets: cfg.AlertingSecrets,
		ScrapeTargets:   scrape,
		ProbeURLs:       probeURLs(cfg.App.Hostnames),
		Database: observability.Database{
			Host:          data.DatabaseHost,
			Name:          cfg.Database.Name,
			AdminUser:     cfg.Database.Username,
			AdminPassword: data.DatabasePassword,
			InstanceIds:   data.DatabaseInstanceIds,
		},
		Cache: observability.Cache{
			Host:               data.RedisPrimaryHost,
			AuthToken:          data.RedisAuthToken,
			ReplicationGroupId: data.RedisReplicationGroupId,
			Nodes:              1 + cfg.Cache.Replicas,
		},
		Namer:              n,
		OIDC:               cluster.OIDC(),
		Network:            addrs,
		KubernetesProvider: cluster.Provider,
		AWSProvider:        awsProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("building observability: %w", err)
	}

	return &Platform{Config: cfg, Account: account, Network: network, Cluster: cluster, Data: data, App: app, Metrics: metrics, Logs: logs, Backups: backupsComponent, Audit: trail, CDN: edgeCDN}, nil
}

// LogGroupPatterns are the names of every log group the stack creates (VPC
// flow logs, EKS control plane, RDS exports): the logs key may encrypt
// these and no other group of the account.
func LogGroupPatterns(clusterName string) []string {
	return []string{
		"/aws/vpc/" + clusterName + "/*",
		"/aws/eks/" + clusterName + "/*",
		"/aws/rds/instance/" + clusterName + "-*",
	}
}

// Outputs are the stack outputs; secrets stay secret.
func (p *Platform) Outputs() map[string]pulumi.Input {
	out := p.outputs()
	if p.CDN != nil {
		out["cdnDistributionId"] = p.CDN.DistributionId
		out["cdnDomainName"] = p.CDN.DomainName
		out["webAclArn"] = p.CDN.WebACLArn
		// cmd/verify asks it directly: it must not serve the app.
		out["cdnOriginHostname"] = pulumi.String(p.Config.CDN.OriginHostname)
	}
	return out
}

func (p *Platform) outputs() map[string]pulumi.Input {
	return map[string]pulumi.Input{
		"vpcId":           p.Network.VpcId,
		"clusterName":     p.Cluster.Name,
		"clusterEndpoint": p.Cluster.Endpoint,
		"kubeconfig":      p.Cluster.Kubeconfig,
		"oidcProviderArn": p.Cluster.OidcProviderArn,

		"databaseHost":            p.Data.DatabaseHost,
		"databasePort":            p.Data.DatabasePort,
		"databaseReaderHosts":     p.Data.DatabaseReaderHosts,
		"databaseInstanceId":      p.Data.DatabaseInstanceId,
		"redisReplicationGroupId": p.Data.RedisReplicationGroupId,
		"redisPrimaryHost":        p.Data.RedisPrimaryHost,
		"redisReaderHost":         p.Data.RedisReaderHost,
		"uploadsBucket":           p.Data.UploadsBucketName,
		"auditTrailArn":           p.Audit.TrailArn,
		"backendRoleArn":          p.Data.BackendRoleArn,
		"appUrl":                  p.App.URL,
		// What cmd/verify checks after each deploy.
		"hostnames":           pulumi.ToStringArray(p.Config.App.Hostnames),
		"securityHeaders":     pulumi.ToStringMap(apptier.SecurityHeaders(p.Config.App.Hostnames)),
		"readinessPath":       pulumi.String(apptier.BackendReadinessPath),
		"appNamespace":        p.App.Namespace,
		"monitoringNamespace": p.Metrics.Namespace,
		"prometheusService":   p.Metrics.Prometheus,
		"alertmanagerService": p.Metrics.Alertmanager,
		"grafanaService":      p.Metrics.Grafana,
		// Grafana's admin password: pulumi stack output --show-secrets.
		"grafanaAdminPassword": p.Metrics.GrafanaAdminPassword,
		"loggingNamespace":     p.Logs.Namespace,
		"kibanaService":        p.Logs.Kibana,
		"backupBucket":         p.Backups.Bucket,
		"backupKeyArn":         p.Backups.KeyArn,
		"backupDatabasePrefix": p.Backups.DatabasePrefix,
		"accessLogBucket":      p.Backups.LogBucket,
		// Connection strings carry credentials: secret outputs.
		"databaseUrl": p.Data.DatabaseURL,
		"redisUrl":    p.Data.RedisURL,
	}
}

// probeURLs are what the blackbox probes ask of each public hostname: the
// frontend's root and the backend's readiness through the edge.
func probeURLs(hostnames []string) []string {
	var urls []string
	for _, h := range hostnames {
		urls = append(urls, "https://"+h+"/", "https://"+h+apptier.BackendReadinessPath)
	}
	return urls
}
