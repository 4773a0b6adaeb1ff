package observability

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Exporters' ports and users, as their images define them.
const (
	postgresExporterPort   = 9187
	redisExporterPort      = 9121
	cloudwatchExporterPort = 9106
	blackboxExporterPort   = 9115
	// nobodyUID is the user the postgres_exporter and cloudwatch_exporter
	// images run as ("nobody", 65534).
	nobodyUID = 65534
	// redisExporterUID is the redis_exporter image's USER.
	redisExporterUID = 59000
	// postgresUID is the postgres user of the official alpine image.
	postgresUID  = 70
	postgresPort = 5432
	redisPort    = 6379
)

// Names of the exporters and the monitoring-user Job.
const (
	PostgresExporter   = "postgres-exporter"
	RedisExporter      = "redis-exporter"
	CloudWatchExporter = "cloudwatch-exporter"
	BlackboxExporter   = "blackbox-exporter"
	monitoringUserJob  = "postgres-monitoring-user"
	// MonitoringRole is the PostgreSQL role postgres_exporter logs in as.
	MonitoringRole = "monitoring"
	// monitoringSecret holds the monitoring role's password (for the
	// exporter) and its SCRAM verifier (for the Job).
	monitoringSecret = "postgres-monitoring"
	// adminSecret holds the master password, read only by the Job.
	adminSecret = "postgres-admin"
	redisSecret = "redis-exporter"
)

// PartOf is the app.kubernetes.io/part-of label of everything here.
const PartOf = "observability"

// Labels are a component's labels (kit.Labels under this part-of).
func Labels(component string) map[string]string { return kit.Labels(PartOf, component) }

// SelectorLabels select one component's pods.
func SelectorLabels(component string) map[string]string { return kit.SelectorLabels(PartOf, component) }

// Exporter is one metrics exporter Deployment.
type Exporter struct {
	Name      string
	Namespace string
	Image     string
	Port      int
	RunAsUser int
	Args      []string
	Env       corev1.EnvVarArray
	// Files are Secrets or ConfigMaps mounted read-only, by mount path.
	Files []Mount
	// ServiceAccount is the pod's; "" for none (the namespace's default,
	// which mounts no token).
	ServiceAccount string
	// HealthPath answers liveness and readiness.
	HealthPath string
	// Resources are the container's requests and limits.
	Resources config.ResourcesConfig
	// NodePool is the node group the pod runs on.
	NodePool string
	// Annotations roll the pod when what it reads changes.
	Annotations pulumi.StringMapInput
}

// Mount is a Secret or ConfigMap mounted as files.
type Mount struct {
	Path, Secret, ConfigMap string
}

// exporterResources fit an exporter that answers a scrape every 30 s.
var exporterResources = config.ResourcesConfig{
	RequestsCpu: "20m", RequestsMemory: "64Mi", LimitsCpu: "200m", LimitsMemory: "128Mi",
	RequestsEphemeralStorage: "16Mi", LimitsEphemeralStorage: "64Mi",
}

// javaExporterResources fit cloudwatch_exporter's JVM.
var javaExporterResources = config.ResourcesConfig{
	RequestsCpu: "50m", RequestsMemory: "256Mi", LimitsCpu: "500m", LimitsMemory: "512Mi",
	RequestsEphemeralStorage: "64Mi", LimitsEphemeralStorage: "256Mi",
}

func volumes(mounts []Mount) (corev1.VolumeArray, corev1.VolumeMountArray) {
	vols := corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")}}}
	mnts := corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}}
	for i, m := range mounts {
		name := fmt.Sprintf("files-%d", i)
		v := corev1.VolumeArgs{Name: pulumi.String(name)}
		if m.Secret != "" {
			v.Secret = &corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(m.Secret), DefaultMode: pulumi.Int(0o440)}
		} else {
			v.ConfigMap = &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(m.ConfigMap)}
		}
		vols = append(vols, v)
		mnts = append(mnts, corev1.VolumeMountArgs{Name: pulumi.String(name), MountPath: pulumi.String(m.Path), ReadOnly: pulumi.Bool(true)})
	}
	return vols, mnts
}

// ExporterDeployment is an exporter's Deployment: one replica (a gap in
// scraping during a node drain costs a few samples, not an outage),
// restricted, read-only root.
func ExporterDeployment(e Exporter) *appsv1.DeploymentArgs {
	vols, mnts := volumes(e.Files)
	probe := func(failures int) *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String(e.HealthPath), Port: pulumi.String("metrics")},
			PeriodSeconds:    pulumi.Int(10),
			TimeoutSeconds:   pulumi.Int(5),
			FailureThreshold: pulumi.Int(failures),
		}
	}
	startup := probe(30) // a JVM takes its time
	container := corev1.ContainerArgs{
		Name:            pulumi.String(e.Name),
		Image:           pulumi.String(e.Image),
		Env:             e.Env,
		Ports:           corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("metrics"), ContainerPort: pulumi.Int(e.Port)}},
		Resources:       kit.Resources(e.Resources),
		SecurityContext: kit.ContainerSecurity(e.RunAsUser),
		StartupProbe:    startup,
		LivenessProbe:   probe(3),
		ReadinessProbe:  probe(3),
		VolumeMounts:    mnts,
	}
	if len(e.Args) > 0 {
		container.Args = pulumi.ToStringArray(e.Args)
	}
	return &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(e.Name), Namespace: pulumi.String(e.Namespace), Labels: pulumi.ToStringMap(Labels(e.Name))},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(SelectorLabels(e.Name))},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(Labels(e.Name)), Annotations: e.Annotations},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: pulumi.String(serviceAccountOrDefault(e.ServiceAccount)),
					// IRSA projects its own token; the API token is never needed.
					AutomountServiceAccountToken: pulumi.Bool(false),
					NodeSelector:                 pulumi.StringMap{poolLabel: pulumi.String(e.NodePool)},
					SecurityContext:              kit.PodSecurity(e.RunAsUser),
					Containers:                   corev1.ContainerArray{container},
					Volumes:                      vols,
				},
			},
		},
	}
}

func serviceAccountOrDefault(sa string) string {
	if sa == "" {
		return "default"
	}
	return sa
}

// ExporterService exposes an exporter's metrics port.
func ExporterService(e Exporter) *corev1.ServiceArgs {
	return &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(e.Name), Namespace: pulumi.String(e.Namespace), Labels: pulumi.ToStringMap(Labels(e.Name))},
		Spec: &corev1.ServiceSpecArgs{
			Selector: pulumi.ToStringMap(SelectorLabels(e.Name)),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("metrics"), Port: pulumi.Int(e.Port), TargetPort: pulumi.String("metrics"), Protocol: pulumi.String("TCP"),
			}},
		},
	}
}

// ScrapeTarget is a Service Prometheus scrapes through a ServiceMonitor,
// or pods it scrapes through a PodMonitor.
type ScrapeTarget struct {
	// Name is the monitor's name (and the targets' job label, from the
	// Service's name; a PodMonitor's job is <namespace>/<name>).
	Name string
	// Namespace is the Service's (or the pods') namespace.
	Namespace string
	// Selector picks the Service (or the pods) by its labels.
	Selector map[string]string
	// Port is the Service port's name (a container port's for pods).
	Port string
	// Pods makes the target pods that no Service fronts (NGINX Gateway
	// Fabric's): a PodMonitor instead of a ServiceMonitor.
	Pods bool
	// Path is the metrics path. Default /metrics.
	Path string
	// Interval between scrapes, such as "30s"; "" for Prometheus's.
	Interval string
	// Timeout of a scrape; "" for Prometheus's.
	Timeout string
	// HonorLabels keeps the target's job and instance labels
	// (cloudwatch_exporter sets its own).
	HonorLabels bool
	// FromRelease is "<namespace>/<release>" when a Helm release makes the
	// Service (cert-manager's), so the policy pack checks the release
	// instead of a Service it cannot see.
	FromRelease string
}

// MonitorKind is the kind of a target's monitor.
func (t ScrapeTarget) MonitorKind() string {
	if t.Pods {
		return "PodMonitor"
	}
	return "ServiceMonitor"
}

// ServiceMonitorSpec is a target's ServiceMonitor (or PodMonitor) spec; the
// monitor lives in the monitoring namespace and selects the Service (or
// pods) in its own.
func ServiceMonitorSpec(t ScrapeTarget) map[string]any {
	ep := map[string]any{"port": t.Port, "path": "/metrics"}
	if t.Path != "" {
		ep["path"] = t.Path
	}
	if t.Interval != "" {
		ep["interval"] = t.Interval
	}
	if t.Timeout != "" {
		ep["scrapeTimeout"] = t.Timeout
	}
	if t.HonorLabels {
		ep["honorLabels"] = true
	}
	endpoints := "endpoints"
	if t.Pods {
		endpoints = "podMetricsEndpoints"
	}
	return map[string]any{
		"selector":          map[string]any{"matchLabels": toAny(t.Selector)},
		"namespaceSelector": map[string]any{"matchNames": []any{t.Namespace}},
		endpoints:           []any{ep},
	}
}

// MonitoringUserJob creates or updates the monitoring role with the SQL
// file mounted at /sql, as the master user. The pod template carries a
// checksum of the verifier: a new password replaces the Job, which runs
// again.
func MonitoringUserJob(namespace, image, nodePool string, db DatabaseTarget, checksum pulumi.StringInput) *batchv1.JobArgs {
	e := Exporter{Files: []Mount{{Path: "/sql", ConfigMap: monitoringUserJob}, {Path: "/secrets", Secret: monitoringSecret}}}
	vols, mnts := volumes(e.Files)
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("PGHOST"), Value: db.Host},
		corev1.EnvVarArgs{Name: pulumi.String("PGPORT"), Value: pulumi.String(fmt.Sprint(postgresPort))},
		corev1.EnvVarArgs{Name: pulumi.String("PGDATABASE"), Value: pulumi.String(db.Name)},
		corev1.EnvVarArgs{Name: pulumi.String("PGUSER"), Value: pulumi.String(db.AdminUser)},
		corev1.EnvVarArgs{Name: pulumi.String("PGPASSWORD"), ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: pulumi.String(adminSecret), Key: pulumi.String("password")}}},
		corev1.EnvVarArgs{Name: pulumi.String("PGSSLMODE"), Value: pulumi.String("require")},
		corev1.EnvVarArgs{Name: pulumi.String("PGCONNECT_TIMEOUT"), Value: pulumi.String("10")},
		corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String("/tmp")},
	}
	return &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(monitoringUserJob), Namespace: pulumi.String(namespace), Labels: pulumi.ToStringMap(Labels(monitoringUserJob))},
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(6),
			ActiveDeadlineSeconds: pulumi.Int(600),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      pulumi.ToStringMap(Labels(monitoringUserJob)),
					Annotations: pulumi.StringMap{"scrolluniversity.io/verifier-checksum": checksum},
				},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("OnFailure"),
					AutomountServiceAccountToken: pulumi.Bool(false),
					NodeSelector:                 pulumi.StringMap{poolLabel: pulumi.String(nodePool)},
					SecurityContext:              kit.PodSecurity(postgresUID),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("psql"),
						Image: pulumi.String(image),
						Command: pulumi.ToStringArray([]string{"sh", "-c",
							`exec psql -X -v verifier="$(cat /secrets/verifier)" -f /sql/monitoring-user.sql`}),
						Env:             env,
						Resources:       kit.Resources(exporterResources),
						SecurityContext: kit.ContainerSecurity(postgresUID),
						VolumeMounts:    mnts,
					}},
					Volumes: vols,
				},
			},
		},
	}
}

// DatabaseTarget is what the exporter and the Job know of PostgreSQL.
type DatabaseTarget struct {
	Host      pulumi.StringInput
	Name      string
	AdminUser string
}
