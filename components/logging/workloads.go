package logging

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/components/logging/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Pods of ECK's resources, by the labels ECK sets.
var (
	esPods       = map[string]string{"elasticsearch.k8s.elastic.co/cluster-name": clusterName}
	kibanaPods   = map[string]string{"kibana.k8s.elastic.co/name": clusterName}
	logstashPods = map[string]string{"logstash.k8s.elastic.co/name": clusterName}
	filebeatPods = map[string]string{"beat.k8s.elastic.co/name": filebeatName}
	// operatorPods are the eck-operator chart's (3.5.0) selector labels
	// for its StatefulSet's pods: eck-operator.selectorLabels in
	// _helpers.tpl gives these unless global.manifestGen is set, which only
	// ECK's own manifest generator sets (it labels control-plane instead).
	operatorPods = map[string]string{"app.kubernetes.io/name": "elastic-operator", "app.kubernetes.io/instance": "eck-operator"}
)

func secretEnv(name, secret, key string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: pulumi.String(secret), Key: pulumi.String(key)}}}
}

func env(name, value string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), Value: pulumi.String(value)}
}

func volume(name string, src corev1.VolumeArgs) corev1.VolumeArgs {
	src.Name = pulumi.String(name)
	return src
}

func secretVolume(secret string) corev1.VolumeArgs {
	return corev1.VolumeArgs{Secret: &corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(secret), DefaultMode: pulumi.Int(0o440)}}
}

func mount(name, path string) corev1.VolumeMountArgs {
	return corev1.VolumeMountArgs{Name: pulumi.String(name), MountPath: pulumi.String(path), ReadOnly: pulumi.Bool(true)}
}

var tmpVolume = corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("16Mi")}}
var tmpMount = corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}

// SetupJob applies the ILM policy, the index template, the exporter's role
// and user, and Kibana's data view (content/setup.sh) as the elastic user,
// whose password it reads from ECK's Secret. The template's checksum
// annotation replaces the Job when what it applies changes.
func SetupJob(l config.LoggingConfig, checksum pulumi.StringInput) *batchv1.JobArgs {
	return &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(setupJob), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(setupJob))},
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(3),
			ActiveDeadlineSeconds: pulumi.Int(1200),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(Labels(setupJob)), Annotations: pulumi.StringMap{"scrolluniversity.io/setup-checksum": checksum}},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("OnFailure"),
					AutomountServiceAccountToken: pulumi.Bool(false),
					NodeSelector:                 pulumi.StringMap{poolLabel: pulumi.String(l.NodePool)},
					SecurityContext:              kit.PodSecurity(curlUID),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:    pulumi.String("setup"),
						Image:   pulumi.String(l.Images.Curl),
						Command: pulumi.ToStringArray([]string{"sh", "/setup/setup.sh"}),
						Env: corev1.EnvVarArray{
							env("ES_URL", fmt.Sprintf("https://%s.%s.svc:%d", esService, Namespace, esHTTPPort)),
							env("ES_CA", "/ca/es/ca.crt"),
							env("KIBANA_URL", fmt.Sprintf("https://%s.%s.svc:%d", kibanaService, Namespace, kibanaPort)),
							env("KIBANA_CA", "/ca/kibana/ca.crt"),
							env("ES_USER", "elastic"),
							secretEnv("ES_PASSWORD", esElasticUser, "elastic"),
							env("ILM_POLICY", content.ILMPolicy),
							env("INDEX_TEMPLATE", content.IndexTemplate),
							env("EXPORTER_ROLE", content.ExporterRole),
							env("EXPORTER_USER", exporterUser),
							secretEnv("EXPORTER_PASSWORD", exporterUserSecret, "password"),
						},
						Resources:       kit.Resources(exporterResources),
						SecurityContext: kit.ContainerSecurity(curlUID),
						VolumeMounts: corev1.VolumeMountArray{
							mount("setup", "/setup"), mount("es-ca", "/ca/es"), mount("kibana-ca", "/ca/kibana"), tmpMount,
						},
					}},
					Volumes: corev1.VolumeArray{
						volume("setup", corev1.VolumeArgs{ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(setupJob)}}),
						volume("es-ca", secretVolume(esCASecret)),
						volume("kibana-ca", secretVolume(kibanaCASecret)),
						tmpVolume,
					},
				},
			},
		},
	}
}

// ExporterDeployment is elasticsearch_exporter, logged in as the exporter
// user, reading every node's statistics over TLS.
func ExporterDeployment(l config.LoggingConfig) *appsv1.DeploymentArgs {
	probe := &corev1.ProbeArgs{HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String("metrics")}, PeriodSeconds: pulumi.Int(20)}
	return &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(esExporterName), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(esExporterName))},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(SelectorLabels(esExporterName))},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(Labels(esExporterName))},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false),
					NodeSelector:                 pulumi.StringMap{poolLabel: pulumi.String(l.NodePool)},
					SecurityContext:              kit.PodSecurity(exporterUID),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String(esExporterName),
						Image: pulumi.String(l.Images.ElasticsearchExporter),
						Args: pulumi.ToStringArray([]string{
							fmt.Sprintf("--es.uri=https://%s.%s.svc:%d", esService, Namespace, esHTTPPort),
							"--es.ca=/ca/ca.crt", "--es.all",
						}),
						Env:             corev1.EnvVarArray{secretEnv("ES_USERNAME", exporterUserSecret, "username"), secretEnv("ES_PASSWORD", exporterUserSecret, "password")},
						Ports:           corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("metrics"), ContainerPort: pulumi.Int(esExporterPort)}},
						Resources:       kit.Resources(exporterResources),
						SecurityContext: kit.ContainerSecurity(exporterUID),
						LivenessProbe:   probe,
						ReadinessProbe:  probe,
						VolumeMounts:    corev1.VolumeMountArray{mount("es-ca", "/ca")},
					}},
					Volumes: corev1.VolumeArray{volume("es-ca", secretVolume(esCASecret))},
				},
			},
		},
	}
}
