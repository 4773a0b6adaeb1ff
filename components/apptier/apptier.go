// Package apptier is the ScrollUniversity web app on Kubernetes: its
// namespace and guard rails, configuration and secrets, the migration Job,
// the backend and frontend Deployments with their Services, autoscalers and
// disruption budgets, network policies, and the edge (Gateway API served by
// NGINX Gateway Fabric, TLS from cert-manager, an NLB from the AWS Load
// Balancer Controller, DNS from external-dns).
package apptier

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Image repositories of the app.
const (
	BackendRepository  = "ghcr.io/scrolluniversity/backend"
	FrontendRepository = "ghcr.io/scrolluniversity/frontend"
)

// BackendContainer is the backend pods' container: the Logging
// component parses its lines (docs/LOGS.md) and no other's.
const BackendContainer = "backend"

// BackendReadinessPath is the backend's readiness endpoint, also what the
// smoke test asks through the edge.
const BackendReadinessPath = "/api/health/ready"

// DbClientLabel marks the pods the namespace's policy lets reach
// PostgreSQL and Redis (the Backups component's database pods too).
const DbClientLabel = dbClientLabel

// Names of the objects other objects refer to.
const (
	configMapName   = "backend-config"
	secretName      = "backend-secrets"
	frontendSA      = "frontend"
	dbClientLabel   = "scrolluniversity.io/db-client"
	jwtSecretLength = 64
)

// Data is what the app consumes from the data tier.
type Data struct {
	DatabaseURL    pulumi.StringOutput
	RedisURL       pulumi.StringOutput
	DatabaseHost   pulumi.StringOutput
	RedisHost      pulumi.StringOutput
	UploadsBucket  pulumi.StringOutput
	BackendRoleArn pulumi.StringOutput
}

// Args configure the app tier.
type Args struct {
	// App is the app section of the stack config (`app`).
	App config.AppConfig
	// ChartRepository mirrors every chart (cluster.chartRepository; empty:
	// upstream).
	ChartRepository string
	// Project names the stack config namespace in error messages.
	Project string
	// ClusterName is the EKS cluster's name: the load balancer controller
	// manages its load balancers, external-dns owns records under it.
	ClusterName string
	// Database is what the backend's settings say of the database: its
	// name and per-pod pool (config section `database`).
	Database DatabaseSettings
	// Secrets are the external credentials from secret stack config, by
	// the environment variable the backend reads; they go to the Secret.
	Secrets map[string]string
	// Data are the data tier's endpoints, credentials and IRSA role.
	Data Data
	// Namer names AWS resources (the edge's IRSA roles).
	Namer kit.Namer
	// Account is where the edge's AWS controllers act.
	Account kit.Account
	// OIDC is the cluster's OIDC provider, for the controllers' IRSA roles.
	OIDC kit.OIDC
	// VpcId is the VPC the load balancer controller works in.
	VpcId pulumi.StringInput
	// Network are the addresses the NetworkPolicies name: the API server,
	// the control plane's subnets (webhook calls), the data stores'
	// subnets, the internet.
	Network kit.Addresses
	// Tags are the stack's AWS tags, for what the load balancer controller
	// creates outside Pulumi.
	Tags map[string]string
	// AddonsPool is the node labels of the system pool (the group tainted
	// CriticalAddonsOnly): the cluster's controllers (the load balancer
	// controller, external-dns, cert-manager) run there, beside the
	// autoscaler, off the nodes the autoscaler removes. Empty: wherever
	// no taint keeps them off.
	AddonsPool map[string]string
	// ClusterSecurityGroupId is the group every pod ENI carries: the load
	// balancer controller adds the NLB's ingress rule to it.
	ClusterSecurityGroupId pulumi.StringInput

	// CDN is the origin side of the CDN in front of the Gateway (cdn
	// section); nil without one.
	CDN *Origin

	// KubernetesProvider is the cluster's provider, for every object here.
	KubernetesProvider *kubernetes.Provider
	// AWSProvider is the stack's AWS provider, for the IRSA roles.
	AWSProvider pulumi.ProviderResource
}

// Origin is how the Gateway serves as a CDN's origin: the hostnames are
// alias records to the CDN, the app's routes require Header with Secret
// (which only the CDN sends), external-dns points Hostname at the Gateway,
// and NGINX takes the client's address from the X-Forwarded-For the CDN
// appends it to.
type Origin struct {
	Header   string
	Secret   pulumi.StringInput
	Hostname string
	// DomainName and HostedZoneId are the CDN's, for the hostnames' alias
	// records.
	DomainName, HostedZoneId pulumi.StringInput
}

// AppTier is the web app.
type AppTier struct {
	pulumi.ResourceState

	// Namespace is the app's namespace; NamespaceResource the object, for
	// components that put objects in it (Backups).
	Namespace         pulumi.StringOutput
	NamespaceResource pulumi.Resource
	// URL is the app's canonical public URL.
	URL pulumi.StringOutput
}

// DatabaseSettings are the database facts the backend's settings carry.
type DatabaseSettings struct {
	// Name is the application database's name.
	Name string
	// Pool is the per-pod connection pool.
	Pool config.PoolConfig
}

// New builds the app tier.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*AppTier, error) {
	app := args.App
	// Settings are checked before anything is registered.
	settings, err := DefaultSettings(app, args.Database, args.Account.Region).Render(app.Settings)
	if err != nil {
		return nil, fmt.Errorf("config %s:app.settings: %w", args.Project, err)
	}
	t := &AppTier{}
	opts = append(opts, pulumi.Providers(args.KubernetesProvider, args.AWSProvider))
	if err := ctx.RegisterComponentResource("scrolluniversity:components:AppTier", name, t, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(t)
	ns := app.Namespace

	namespace, err := kit.NewNamespace(ctx, kit.NamespaceArgs{Name: ns, PodSecurity: kit.Restricted, PartOf: PartOf, Policies: NetworkPolicies(args.Network)}, parent)
	if err != nil {
		return nil, err
	}
	inNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{namespace})}
	if err := guardRails(ctx, app, inNS); err != nil {
		return nil, err
	}

	data := pulumi.StringMap{}
	for k, v := range settings {
		data[k] = pulumi.String(v)
	}
	data["DATABASE_HOST"] = args.Data.DatabaseHost
	data["DATABASE_PORT"] = pulumi.String(fmt.Sprint(postgresPort))
	data["REDIS_HOST"] = args.Data.RedisHost
	data["REDIS_PORT"] = pulumi.String(fmt.Sprint(redisPort))
	data["UPLOADS_BUCKET"] = args.Data.UploadsBucket
	configMap, err := corev1.NewConfigMap(ctx, configMapName, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(configMapName), Namespace: pulumi.String(ns), Labels: pulumi.ToStringMap(Labels("backend", ""))},
		Data:     data,
	}, inNS...)
	if err != nil {
		return nil, fmt.Errorf("creating ConfigMap: %w", err)
	}

	jwt, err := random.NewRandomPassword(ctx, args.Namer.Name("jwt-secret"), &random.RandomPasswordArgs{
		Length: pulumi.Int(jwtSecretLength), Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generating the JWT secret: %w", err)
	}
	secretData := pulumi.StringMap{
		"DATABASE_URL": args.Data.DatabaseURL,
		"REDIS_URL":    args.Data.RedisURL,
		"JWT_SECRET":   jwt.Result,
	}
	for _, env := range slices.Sorted(maps.Keys(args.Secrets)) {
		secretData[env] = pulumi.ToSecret(pulumi.String(args.Secrets[env])).(pulumi.StringOutput)
	}
	secret, err := kit.NewSecret(ctx, ns, secretName, Labels("backend", ""), secretData, inNS...)
	if err != nil {
		return nil, err
	}

	// Neither workload talks to the Kubernetes API: no token is mounted
	// and no Role is bound. The backend's AWS access is its IRSA role.
	if _, err := corev1.NewServiceAccount(ctx, app.BackendServiceAccount, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(app.BackendServiceAccount), Namespace: pulumi.String(ns), Labels: pulumi.ToStringMap(Labels("backend", "")),
			Annotations: pulumi.StringMap{"eks.amazonaws.com/role-arn": args.Data.BackendRoleArn},
		},
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, inNS...); err != nil {
		return nil, fmt.Errorf("creating the backend service account: %w", err)
	}
	if _, err := corev1.NewServiceAccount(ctx, frontendSA, &corev1.ServiceAccountArgs{
		Metadata:                     &metav1.ObjectMetaArgs{Name: pulumi.String(frontendSA), Namespace: pulumi.String(ns), Labels: pulumi.ToStringMap(Labels("frontend", ""))},
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, inNS...); err != nil {
		return nil, fmt.Errorf("creating the frontend service account: %w", err)
	}

	backend, frontend := Workloads(app)
	// The pods read the ConfigMap and Secret by name, so a change to
	// either would not reach running pods: the backend's pod template
	// carries a checksum of both, and a change rolls the pods.
	backend.ConfigChecksum = ConfigChecksum(data, secretData)
	// The pods read the ConfigMap and Secret by name; no value flows, but
	// they must exist before the first pod starts.
	env := pulumi.DependsOn([]pulumi.Resource{namespace, configMap, secret})

	migration, err := batchv1.NewJob(ctx, MigrationJobName(app.Backend.ImageTag), MigrationJobArgs(backend.asMigration(), app.MigrateCommand), parent, env,
		// Pulumi waits for the Job to complete; its wait must outlast the
		// Job's own deadline, or the update fails while the migration runs.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: MigrationWait, Update: MigrationWait}))
	if err != nil {
		return nil, fmt.Errorf("creating the migration Job: %w", err)
	}
	for _, w := range []struct {
		workload Workload
		bounds   config.WorkloadConfig
		after    []pulumi.Resource
	}{
		// The backend of a release starts only once its migrations ran.
		{backend, app.Backend, []pulumi.Resource{migration}},
		{frontend, app.Frontend, nil},
	} {
		if err := workload(ctx, w.workload, w.bounds, parent, env, pulumi.DependsOn(w.after)); err != nil {
			return nil, err
		}
	}
	if err := edge(ctx, t, args); err != nil {
		return nil, err
	}

	t.Namespace = namespace.Metadata.Name().Elem()
	t.NamespaceResource = namespace
	t.URL = pulumi.Sprintf("https://%s", app.Hostnames[0])
	if err := ctx.RegisterResourceOutputs(t, pulumi.Map{"namespace": t.Namespace, "url": t.URL}); err != nil {
		return nil, err
	}
	return t, nil
}

// Ports of the data tier the init container and network policies use.
const (
	postgresPort = 5432
	redisPort    = 6379
)

// Workloads are the backend and frontend as configured.
func Workloads(app config.AppConfig) (backend, frontend Workload) {
	backend = Workload{
		Component: BackendContainer, Namespace: app.Namespace,
		Image: Image(BackendRepository, app.Backend.ImageTag), Version: app.Backend.ImageTag,
		Port: BackendPort, MetricsPort: MetricsPort,
		StartupPath: "/api/health/live", LivenessPath: "/api/health/live", ReadinessPath: BackendReadinessPath,
		Resources: app.Backend.Resources, Replicas: app.Backend.MinReplicas,
		ServiceAccount: app.BackendServiceAccount, RunAsUser: backendUID,
		WritableDirs: []string{"/tmp"},
		ConfigMap:    configMapName, Secret: secretName,
		WaitFor:   []HostPort{{"DATABASE_HOST", "DATABASE_PORT"}, {"REDIS_HOST", "REDIS_PORT"}},
		WaitImage: app.WaitImage, NodePool: app.NodePool,
		PodLabels: map[string]string{dbClientLabel: "true"},
		PodAnnotations: map[string]string{
			"prometheus.io/scrape": "true",
			"prometheus.io/port":   fmt.Sprint(MetricsPort),
			"prometheus.io/path":   "/metrics",
		},
	}
	frontend = Workload{
		Component: "frontend", Namespace: app.Namespace,
		Image: Image(FrontendRepository, app.Frontend.ImageTag), Version: app.Frontend.ImageTag,
		Port: FrontendPort,
		// Liveness asks only whether nginx accepts connections: a failing
		// /healthz (what readiness is for) takes the pod out of the
		// Service but must not restart it.
		StartupPath: "/healthz", ReadinessPath: "/healthz",
		Resources: app.Frontend.Resources, Replicas: app.Frontend.MinReplicas,
		ServiceAccount: frontendSA, RunAsUser: frontendUID,
		// nginx writes its pid, temp files and proxy cache here.
		WritableDirs: []string{"/tmp", "/var/cache/nginx"},
		NodePool:     app.NodePool,
	}
	return backend, frontend
}

// asMigration is the backend workload as the migration Job runs it: its own
// component name (so that no Service or PDB selects it), no scraping, and
// waiting for PostgreSQL only.
func (w Workload) asMigration() Workload {
	w.Component = "backend-migrate"
	w.PodAnnotations = nil
	// A Job's pod template is immutable: the Job is per release and reads
	// the config when it runs.
	w.ConfigChecksum = nil
	w.WaitFor = []HostPort{{"DATABASE_HOST", "DATABASE_PORT"}}
	return w
}

// workload creates a Deployment with its Service, HPA and PDB.
func workload(ctx *pulumi.Context, w Workload, bounds config.WorkloadConfig, opts ...pulumi.ResourceOption) error {
	if _, err := appsv1.NewDeployment(ctx, w.Component, DeploymentArgs(w), append(opts,
		// The HPA owns the replica count once the Deployment exists.
		pulumi.IgnoreChanges([]string{"spec.replicas"}))...); err != nil {
		return fmt.Errorf("creating the %s Deployment: %w", w.Component, err)
	}
	if _, err := corev1.NewService(ctx, w.Component, ServiceArgs(w), opts...); err != nil {
		return fmt.Errorf("creating the %s Service: %w", w.Component, err)
	}
	if _, err := autoscalingv2.NewHorizontalPodAutoscaler(ctx, w.Component, HPAArgs(w, bounds.MinReplicas, bounds.MaxReplicas), opts...); err != nil {
		return fmt.Errorf("creating the %s HPA: %w", w.Component, err)
	}
	if _, err := policyv1.NewPodDisruptionBudget(ctx, w.Component, PDBArgs(w), opts...); err != nil {
		return fmt.Errorf("creating the %s PDB: %w", w.Component, err)
	}
	return nil
}

// LimitRange defaults for a container that states no resources, and the
// most one container may ask for.
const (
	defaultRequestCPU    = "100m"
	defaultRequestMemory = "128Mi"
	defaultLimitCPU      = "500m"
	defaultLimitMemory   = "512Mi"
	maxContainerCPU      = "4"
	maxContainerMemory   = "8Gi"
)

// guardRails are the namespace's ResourceQuota and LimitRange.
func guardRails(ctx *pulumi.Context, app config.AppConfig, opts []pulumi.ResourceOption) error {
	q := app.Quota
	ns := app.Namespace
	if _, err := corev1.NewResourceQuota(ctx, ns, &corev1.ResourceQuotaArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ns), Namespace: pulumi.String(ns)},
		Spec: &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{
			"requests.cpu":    pulumi.String(q.RequestsCpu),
			"requests.memory": pulumi.String(q.RequestsMemory),
			"limits.cpu":      pulumi.String(q.LimitsCpu),
			"limits.memory":   pulumi.String(q.LimitsMemory),
			"pods":            pulumi.String(fmt.Sprint(q.Pods)),
			// Traffic enters through the Gateway only.
			"services.loadbalancers": pulumi.String("0"),
			"services.nodeports":     pulumi.String("0"),
		}},
	}, opts...); err != nil {
		return fmt.Errorf("creating ResourceQuota: %w", err)
	}
	if _, err := corev1.NewLimitRange(ctx, ns, &corev1.LimitRangeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ns), Namespace: pulumi.String(ns)},
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{
			corev1.LimitRangeItemArgs{
				Type:           pulumi.String("Container"),
				DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(defaultRequestCPU), "memory": pulumi.String(defaultRequestMemory)},
				Default:        pulumi.StringMap{"cpu": pulumi.String(defaultLimitCPU), "memory": pulumi.String(defaultLimitMemory)},
				Max:            pulumi.StringMap{"cpu": pulumi.String(maxContainerCPU), "memory": pulumi.String(maxContainerMemory)},
			},
		}},
	}, opts...); err != nil {
		return fmt.Errorf("creating LimitRange: %w", err)
	}
	return nil
}
