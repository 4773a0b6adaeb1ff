package apptier

import (
	"fmt"
	"regexp"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Ports, probes and timings of the two workloads. Each says why.
const (
	// BackendPort is the Express server's HTTP port.
	BackendPort = 3000
	// MetricsPort is the backend's Prometheus exporter port, kept off the
	// public port so that metrics are never routed through the edge.
	MetricsPort = 9464
	// FrontendPort is nginx-unprivileged's port: a non-root process
	// cannot bind 80.
	FrontendPort = 8080
	// ServicePort is what both Services expose inside the cluster.
	ServicePort = 80

	// preStopSeconds keeps a terminating pod serving while the endpoint
	// controller and the gateway stop sending it traffic.
	preStopSeconds = 10
	// drainSeconds is how long the app gets after SIGTERM to finish
	// in-flight requests and close WebSockets cleanly.
	drainSeconds = 30
	// gracePeriodSeconds covers both, so the kubelet never SIGKILLs a
	// pod that is still draining.
	gracePeriodSeconds = preStopSeconds + drainSeconds

	// startupFailureThreshold x probePeriodSeconds is the longest a cold
	// start (Prisma client, connection pool) may take: 150 s.
	startupFailureThreshold = 30
	probePeriodSeconds      = 5

	// backendUID, frontendUID are the images' non-root users; nginx-
	// unprivileged runs as 101, the Node image as a dedicated 10001.
	backendUID  = 10001
	frontendUID = 101
	// nobodyUID runs the wait init container.
	nobodyUID = 65534

	// cpuTarget and memoryTarget are the HPA's average utilisation goals,
	// leaving headroom for the time a new pod takes to become ready.
	cpuTarget    = 70
	memoryTarget = 80
	// scaleDownWindowSeconds stops the HPA from flapping after a burst.
	scaleDownWindowSeconds = 300

	// migrationDeadlineSeconds bounds a migration; a longer one is stuck.
	migrationDeadlineSeconds = 900
	// MigrationWait is how long Pulumi waits for the migration Job: its
	// deadline plus time for the image pull and the wait for PostgreSQL.
	MigrationWait = "20m"

	// ConfigChecksumAnnotation carries the checksum of the ConfigMap and
	// Secret a pod reads, so that a change to either rolls the pods.
	ConfigChecksumAnnotation = "scrolluniversity.io/config-checksum"
)

// PartOf is the app.kubernetes.io/part-of of every object.
const PartOf = "scrolluniversity"

// Labels are the recommended labels of one component. Selectors use
// SelectorLabels, a stable subset: a version in a selector would make
// every release a new Deployment.
func Labels(component, version string) map[string]string {
	l := SelectorLabels(component)
	l["app.kubernetes.io/part-of"] = PartOf
	l["app.kubernetes.io/managed-by"] = "pulumi"
	if version != "" {
		l["app.kubernetes.io/version"] = LabelValue(version)
	}
	return l
}

// SelectorLabels select one component's pods.
func SelectorLabels(component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     component,
		"app.kubernetes.io/instance": PartOf,
	}
}

var labelUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// LabelValue makes a tag or digest a valid label value (63 characters of
// [A-Za-z0-9_.-], alphanumeric at both ends).
func LabelValue(v string) string {
	v = labelUnsafe.ReplaceAllString(v, "-")
	if len(v) > 63 {
		v = v[:63]
	}
	return strings.Trim(v, "-_.")
}

// Image is repository:tag, or repository@sha256:... for a digest.
func Image(repository, tagOrDigest string) string {
	if strings.HasPrefix(tagOrDigest, "sha256:") {
		return repository + "@" + tagOrDigest
	}
	return repository + ":" + tagOrDigest
}

// migrationJobPrefix starts every migration Job's name.
const migrationJobPrefix = "backend-migrate-"

// maxJobName is 63: Kubernetes copies a Job's name into its pods'
// job-name label, and label values are at most 63 characters.
const maxJobName = 63

// MigrationJobName names the migration Job after the release, so that each
// release runs its migrations exactly once and the name says which ran.
func MigrationJobName(tagOrDigest string) string {
	v := strings.ToLower(LabelValue(strings.TrimPrefix(tagOrDigest, "sha256:")))
	if strings.HasPrefix(tagOrDigest, "sha256:") && len(v) > 12 {
		v = "sha256-" + v[:12]
	}
	v = strings.ReplaceAll(strings.ReplaceAll(v, ".", "-"), "_", "-")
	if len(v) > maxJobName-len(migrationJobPrefix) {
		v = v[:maxJobName-len(migrationJobPrefix)]
	}
	return strings.TrimRight(migrationJobPrefix+v, "-")
}

// Workload describes one Deployment; DeploymentArgs turns it into a spec.
type Workload struct {
	// Component names the workload ("backend", "frontend").
	Component string
	Namespace string
	Image     string
	Version   string
	// Port is the container's HTTP port; MetricsPort the Prometheus port or 0.
	Port        int
	MetricsPort int
	// StartupPath, LivenessPath and ReadinessPath are the probes' paths.
	// With no LivenessPath, liveness is a TCP connect to the http port.
	StartupPath, LivenessPath, ReadinessPath string
	Resources                                config.ResourcesConfig
	Replicas                                 int
	ServiceAccount                           string
	RunAsUser                                int
	// WritableDirs get an emptyDir each: the root filesystem is read-only.
	WritableDirs []string
	// ConfigMap and Secret feed the environment, when set.
	ConfigMap, Secret string
	// WaitFor are host/port environment variable pairs the init container
	// waits on before the app starts.
	WaitFor   []HostPort
	WaitImage string
	// NodePool pins the pods to a node group.
	NodePool string
	// PodLabels are extra pod labels (network policy roles).
	PodLabels map[string]string
	// PodAnnotations are added to the pod template.
	PodAnnotations map[string]string
	// ConfigChecksum, when set, is the pod template's
	// ConfigChecksumAnnotation (see ConfigChecksum).
	ConfigChecksum pulumi.StringInput
}

// ConfigChecksum is a SHA-256 over the ConfigMap's and the Secret's data,
// keys sorted. It is derived from secrets but reveals none of them, so it is
// shown in previews rather than masked: a preview then says that the pods
// will roll because their configuration changed.
func ConfigChecksum(configData, secretData pulumi.StringMap) pulumi.StringOutput {
	return pulumi.Unsecret(pulumi.All(configData, secretData).ApplyT(func(v []any) string {
		return Checksum(v[0].(map[string]string), v[1].(map[string]string))
	})).(pulumi.StringOutput)
}

// Checksum hashes maps of data (kit.Checksum).
func Checksum(parts ...map[string]string) string { return kit.Checksum(parts...) }

// HostPort names the environment variables holding a dependency's address.
type HostPort struct{ HostEnv, PortEnv string }

// waitResources are the init container's: it only runs nc in a loop.
var waitResources = config.ResourcesConfig{
	RequestsCpu: "10m", RequestsMemory: "16Mi", LimitsCpu: "100m", LimitsMemory: "32Mi",
	RequestsEphemeralStorage: "16Mi", LimitsEphemeralStorage: "64Mi",
}

// WaitCommand is the init container's shell loop: it returns once every
// dependency accepts TCP connections.
func WaitCommand(deps []HostPort) string {
	var checks []string
	for _, d := range deps {
		checks = append(checks, fmt.Sprintf(`nc -z -w 3 "$%s" "$%s"`, d.HostEnv, d.PortEnv))
	}
	return fmt.Sprintf(`until %s; do echo "waiting for dependencies"; sleep 3; done`, strings.Join(checks, " && "))
}

func envFrom(w Workload) corev1.EnvFromSourceArray {
	var out corev1.EnvFromSourceArray
	if w.ConfigMap != "" {
		out = append(out, corev1.EnvFromSourceArgs{ConfigMapRef: &corev1.ConfigMapEnvSourceArgs{Name: pulumi.String(w.ConfigMap)}})
	}
	if w.Secret != "" {
		out = append(out, corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: pulumi.String(w.Secret)}})
	}
	return out
}

// probe checks an HTTP path, or with no path that the port accepts TCP.
func probe(path string, port string, failures int) *corev1.ProbeArgs {
	p := &corev1.ProbeArgs{
		PeriodSeconds:    pulumi.Int(probePeriodSeconds),
		TimeoutSeconds:   pulumi.Int(2),
		FailureThreshold: pulumi.Int(failures),
	}
	if path == "" {
		p.TcpSocket = &corev1.TCPSocketActionArgs{Port: pulumi.String(port)}
	} else {
		p.HttpGet = &corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.String(port)}
	}
	return p
}

// podSpec is a workload's pod: security, probes, init wait, volumes,
// scheduling. The migration Job reuses it with a different command.
func podSpec(w Workload, command []string, restartPolicy string) *corev1.PodSpecArgs {
	var mounts corev1.VolumeMountArray
	var volumes corev1.VolumeArray
	for _, dir := range w.WritableDirs {
		name := strings.Trim(strings.ReplaceAll(dir, "/", "-"), "-")
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(name), MountPath: pulumi.String(dir)})
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(name), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("256Mi")}})
	}
	ports := corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(w.Port)}}
	if w.MetricsPort > 0 {
		ports = append(ports, corev1.ContainerPortArgs{Name: pulumi.String("metrics"), ContainerPort: pulumi.Int(w.MetricsPort)})
	}
	main := corev1.ContainerArgs{
		Name:            pulumi.String(w.Component),
		Image:           pulumi.String(w.Image),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		EnvFrom:         envFrom(w),
		Resources:       kit.Resources(w.Resources),
		SecurityContext: kit.ContainerSecurity(w.RunAsUser),
		VolumeMounts:    mounts,
	}
	if command != nil {
		main.Command = pulumi.ToStringArray(command)
	} else {
		main.Ports = ports
		main.StartupProbe = probe(w.StartupPath, "http", startupFailureThreshold)
		main.LivenessProbe = probe(w.LivenessPath, "http", 3)
		main.ReadinessProbe = probe(w.ReadinessPath, "http", 2)
		// Keep serving until the endpoints controller and the gateway
		// have stopped routing here; the kubelet's own sleep needs no
		// shell in the image.
		main.Lifecycle = &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(preStopSeconds)}}}
	}
	spec := &corev1.PodSpecArgs{
		ServiceAccountName:            pulumi.String(w.ServiceAccount),
		AutomountServiceAccountToken:  pulumi.Bool(false),
		SecurityContext:               kit.PodSecurity(w.RunAsUser),
		TerminationGracePeriodSeconds: pulumi.Int(gracePeriodSeconds),
		Containers:                    corev1.ContainerArray{main},
		Volumes:                       volumes,
		NodeSelector:                  pulumi.StringMap{config.PoolLabel: pulumi.String(w.NodePool)},
		RestartPolicy:                 pulumi.String(restartPolicy),
	}
	if len(w.WaitFor) > 0 {
		spec.InitContainers = corev1.ContainerArray{corev1.ContainerArgs{
			Name:            pulumi.String("wait-for-dependencies"),
			Image:           pulumi.String(w.WaitImage),
			Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(WaitCommand(w.WaitFor))},
			EnvFrom:         envFrom(Workload{ConfigMap: w.ConfigMap}),
			Resources:       kit.Resources(waitResources),
			SecurityContext: kit.ContainerSecurity(nobodyUID),
		}}
	}
	return spec
}

func podLabels(w Workload) pulumi.StringMap {
	l := pulumi.ToStringMap(Labels(w.Component, w.Version))
	for k, v := range w.PodLabels {
		l[k] = pulumi.String(v)
	}
	return l
}

func podAnnotations(w Workload) pulumi.StringMap {
	a := pulumi.ToStringMap(w.PodAnnotations)
	if w.ConfigChecksum != nil {
		a[ConfigChecksumAnnotation] = w.ConfigChecksum
	}
	return a
}

// DeploymentArgs is a zero-downtime, spread-out Deployment of the workload.
func DeploymentArgs(w Workload) *appsv1.DeploymentArgs {
	spec := podSpec(w, nil, "Always")
	selector := &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(SelectorLabels(w.Component))}
	spec.Affinity = &corev1.AffinityArgs{
		// One replica per node: losing a node never takes more than one.
		PodAntiAffinity: &corev1.PodAntiAffinityArgs{
			RequiredDuringSchedulingIgnoredDuringExecution: corev1.PodAffinityTermArray{
				corev1.PodAffinityTermArgs{LabelSelector: selector, TopologyKey: pulumi.String("kubernetes.io/hostname")},
			},
		},
	}
	spec.TopologySpreadConstraints = corev1.TopologySpreadConstraintArray{
		corev1.TopologySpreadConstraintArgs{
			MaxSkew:           pulumi.Int(1),
			TopologyKey:       pulumi.String("topology.kubernetes.io/zone"),
			WhenUnsatisfiable: pulumi.String("DoNotSchedule"),
			LabelSelector:     selector,
			// A lost zone's nodes stay in the API, NotReady and tainted:
			// counted (the default, Ignore), they hold the skew at 0 pods
			// there and no replacement schedules in the zones left (k8s F7).
			NodeTaintsPolicy: pulumi.String("Honor"),
		},
	}
	return &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(w.Component), Namespace: pulumi.String(w.Namespace), Labels: pulumi.ToStringMap(Labels(w.Component, w.Version))},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas:             pulumi.Int(w.Replicas),
			RevisionHistoryLimit: pulumi.Int(5),
			Selector:             selector,
			Strategy: &appsv1.DeploymentStrategyArgs{
				Type: pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
					MaxUnavailable: pulumi.Int(0),
					MaxSurge:       pulumi.String(fmt.Sprintf("%d%%", config.SurgePercent)),
				},
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: podLabels(w), Annotations: podAnnotations(w)},
				Spec:     spec,
			},
		},
	}
}

// MigrationJobArgs runs the backend image's migrate command once per
// release, with the backend's environment, waiting for PostgreSQL first.
func MigrationJobArgs(w Workload, command []string) *batchv1.JobArgs {
	return &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(MigrationJobName(w.Version)), Namespace: pulumi.String(w.Namespace), Labels: pulumi.ToStringMap(Labels(w.Component, w.Version))},
		Spec: &batchv1.JobSpecArgs{
			// A failed migration is for a human to read, not to retry in a loop.
			BackoffLimit:          pulumi.Int(1),
			ActiveDeadlineSeconds: pulumi.Int(migrationDeadlineSeconds),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: podLabels(w)},
				Spec:     podSpec(w, command, "Never"),
			},
		},
	}
}

// ServiceArgs exposes a workload's http (and metrics) port inside the cluster.
func ServiceArgs(w Workload) *corev1.ServiceArgs {
	ports := corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(ServicePort), TargetPort: pulumi.String("http"), Protocol: pulumi.String("TCP")}}
	if w.MetricsPort > 0 {
		ports = append(ports, corev1.ServicePortArgs{Name: pulumi.String("metrics"), Port: pulumi.Int(w.MetricsPort), TargetPort: pulumi.String("metrics"), Protocol: pulumi.String("TCP")})
	}
	return &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(w.Component), Namespace: pulumi.String(w.Namespace), Labels: pulumi.ToStringMap(Labels(w.Component, ""))},
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(SelectorLabels(w.Component)),
			Ports:    ports,
		},
	}
}

// HPAArgs scales a workload on CPU and memory between its bounds.
func HPAArgs(w Workload, min, max int) *autoscalingv2.HorizontalPodAutoscalerArgs {
	metric := func(name string, target int) autoscalingv2.MetricSpecArgs {
		return autoscalingv2.MetricSpecArgs{
			Type: pulumi.String("Resource"),
			Resource: &autoscalingv2.ResourceMetricSourceArgs{
				Name:   pulumi.String(name),
				Target: &autoscalingv2.MetricTargetArgs{Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(target)},
			},
		}
	}
	return &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(w.Component), Namespace: pulumi.String(w.Namespace), Labels: pulumi.ToStringMap(Labels(w.Component, ""))},
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{ApiVersion: pulumi.String("apps/v1"), Kind: pulumi.String("Deployment"), Name: pulumi.String(w.Component)},
			MinReplicas:    pulumi.Int(min),
			MaxReplicas:    pulumi.Int(max),
			Metrics:        autoscalingv2.MetricSpecArray{metric("cpu", cpuTarget), metric("memory", memoryTarget)},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehaviorArgs{
				ScaleDown: &autoscalingv2.HPAScalingRulesArgs{
					StabilizationWindowSeconds: pulumi.Int(scaleDownWindowSeconds),
					Policies: autoscalingv2.HPAScalingPolicyArray{
						autoscalingv2.HPAScalingPolicyArgs{Type: pulumi.String("Percent"), Value: pulumi.Int(25), PeriodSeconds: pulumi.Int(60)},
					},
				},
				ScaleUp: &autoscalingv2.HPAScalingRulesArgs{
					StabilizationWindowSeconds: pulumi.Int(0),
					Policies: autoscalingv2.HPAScalingPolicyArray{
						autoscalingv2.HPAScalingPolicyArgs{Type: pulumi.String("Percent"), Value: pulumi.Int(100), PeriodSeconds: pulumi.Int(30)},
					},
				},
			},
		},
	}
}

// PDBArgs lets a drain take one pod of a workload at a time, so that it
// keeps all but one replica serving, never fewer.
func PDBArgs(w Workload) *policyv1.PodDisruptionBudgetArgs {
	return &policyv1.PodDisruptionBudgetArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(w.Component), Namespace: pulumi.String(w.Namespace), Labels: pulumi.ToStringMap(Labels(w.Component, ""))},
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(SelectorLabels(w.Component))},
		},
	}
}
