// Package logging is the platform's logs: the ECK operator from its pinned
// chart; Elasticsearch, Kibana, Logstash and Filebeat as ECK resources in
// typed Go; the ILM policy, index template and Kibana data view applied by
// a Job; and the exporters Prometheus scrapes.
package logging

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/components/logging/content"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Args configure the component.
type Args struct {
	// Config is the logging section of the stack config.
	Config config.LoggingConfig
	// ChartRepository mirrors the operator's chart
	// (cluster.chartRepository; empty: upstream).
	ChartRepository string
	// Stack names the log data streams' namespace (logs-kubernetes-<stack>).
	Stack string
	// RetainClaims keeps Elasticsearch's claims when the cluster is
	// deleted (config guards.protect).
	RetainClaims bool
	// Namer names the exporter user's random password.
	Namer kit.Namer
	// Network are the addresses the NetworkPolicies name (the API server,
	// the internet).
	Network kit.Addresses
	// MonitoringNamespace is where Prometheus runs (it scrapes the
	// exporters).
	MonitoringNamespace string
	// AppNamespace and BackendContainer name the backend's container,
	// whose JSON lines (docs/LOGS.md) are parsed into their own data
	// stream; every other container's lines stay text.
	AppNamespace, BackendContainer string
	// KubernetesProvider creates every child.
	KubernetesProvider *kubernetes.Provider
}

// Logging is the component.
type Logging struct {
	pulumi.ResourceState

	// Namespace is the logging namespace.
	Namespace pulumi.StringOutput
	// Kibana is the Service to port-forward to (5601, HTTPS).
	Kibana pulumi.StringOutput
	// ScrapeTargets are the Services Prometheus scrapes here, by their
	// ServiceMonitor's name, selector and port.
	ScrapeTargets []ScrapeTarget
}

// ScrapeTarget is a metrics Service of the component.
type ScrapeTarget struct {
	Name     string
	Selector map[string]string
}

// Labels are a component's labels (kit.Labels under this part-of).
func Labels(component string) map[string]string { return kit.Labels(PartOf, component) }

// SelectorLabels select one component's pods.
func SelectorLabels(component string) map[string]string { return kit.SelectorLabels(PartOf, component) }

// exporterPasswordLength: 32 alphanumerics.
const exporterPasswordLength = 32

// New builds the component; the pipeline is rendered before anything is
// registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Logging, error) {
	l := args.Config
	pipeline, err := content.Pipeline(content.PipelineArgs{ESEnv: esEnv, DataStreamNamespace: args.Stack, AppNamespace: args.AppNamespace, BackendContainer: args.BackendContainer})
	if err != nil {
		return nil, err
	}
	dlqPipeline, err := content.DeadLetterPipeline(content.PipelineArgs{ESEnv: esEnv, DataStreamNamespace: args.Stack})
	if err != nil {
		return nil, err
	}
	replicas := 0
	if l.ElasticsearchNodes > 1 {
		replicas = 1
	}
	lifecycle := content.Lifecycle{RetentionDays: l.RetentionDays, RolloverGiB: l.RolloverGiB, RolloverHours: l.RolloverHours, Replicas: replicas}
	bodies := map[string][]byte{}
	for file, build := range map[string]func() ([]byte, error){
		"ilm-policy.json":     func() ([]byte, error) { return content.ILMPolicyBody(lifecycle) },
		"index-template.json": func() ([]byte, error) { return content.IndexTemplateBody(lifecycle) },
		"data-view.json":      content.DataViewBody,
		"exporter-role.json":  content.ExporterRoleBody,
	} {
		if bodies[file], err = build(); err != nil {
			return nil, fmt.Errorf("logging: %s: %w", file, err)
		}
	}

	c := &Logging{}
	opts = append(opts, pulumi.Providers(args.KubernetesProvider))
	if err := ctx.RegisterComponentResource("scrolluniversity:components:Logging", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	ns, err := kit.NewNamespace(ctx, kit.NamespaceArgs{Name: Namespace, PodSecurity: kit.Restricted, PartOf: PartOf, Policies: NetworkPolicies(args.Network, args.MonitoringNamespace)}, parent)
	if err != nil {
		return nil, err
	}
	// See FilebeatNamespace: privileged, and only Filebeat runs there.
	beatNS, err := kit.NewNamespace(ctx, kit.NamespaceArgs{Name: FilebeatNamespace, PodSecurity: kit.Privileged, PartOf: PartOf, Policies: FilebeatPolicies(args.Network)}, parent)
	if err != nil {
		return nil, err
	}
	inNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}
	inBeatNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{beatNS})}

	operator, err := kit.NewRelease(ctx, kit.Chart{
		Name: "eck-operator", Chart: "eck-operator", Repo: "https://helm.elastic.co", Version: l.OperatorChart,
		Namespace: Namespace, Values: pulumi.ToMap(OperatorValues(l)), Mirror: args.ChartRepository,
	}, parent, pulumi.DependsOn([]pulumi.Resource{ns, beatNS}))
	if err != nil {
		return nil, err
	}
	// ECK's resources need its CRDs and a running operator.
	afterOperator := func(extra ...pulumi.Resource) []pulumi.ResourceOption {
		return []pulumi.ResourceOption{parent, pulumi.DependsOn(append([]pulumi.Resource{ns, beatNS, operator}, extra...))}
	}
	eck := func(apiVersion, kind, name, namespace string, spec map[string]any, deps ...pulumi.Resource) (pulumi.Resource, error) {
		return kit.NewCustomResource(ctx, kit.CustomResource{
			APIVersion: apiVersion, Kind: kind, Name: name, Namespace: namespace, PartOf: PartOf,
			Fields: map[string]any{"spec": spec},
		}, afterOperator(deps...)...)
	}
	es, err := eck("elasticsearch.k8s.elastic.co/v1", "Elasticsearch", clusterName, Namespace, ElasticsearchSpec(l, args.RetainClaims))
	if err != nil {
		return nil, err
	}
	kb, err := eck("kibana.k8s.elastic.co/v1", "Kibana", clusterName, Namespace, KibanaSpec(l), es)
	if err != nil {
		return nil, err
	}

	// The exporter's Elasticsearch user: a role that may read cluster and
	// index statistics, made by the setup Job.
	password, err := random.NewRandomPassword(ctx, args.Namer.Name("elasticsearch-exporter"), &random.RandomPasswordArgs{
		Length: pulumi.Int(exporterPasswordLength), Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generating the exporter's password: %w", err)
	}
	userSecret, err := kit.NewSecret(ctx, Namespace, exporterUserSecret, Labels(esExporterName),
		pulumi.StringMap{"username": pulumi.String(exporterUser), "password": password.Result}, inNS...)
	if err != nil {
		return nil, err
	}

	data := pulumi.StringMap{"setup.sh": pulumi.String(content.SetupScript)}
	// The Job's checksum covers the script, the bodies and the exporter's
	// password, in that order.
	applied := []byte(content.SetupScript)
	for _, file := range []string{"ilm-policy.json", "index-template.json", "data-view.json", "exporter-role.json"} {
		data[file] = pulumi.String(string(bodies[file]))
		applied = append(applied, bodies[file]...)
	}
	if _, err := corev1.NewConfigMap(ctx, setupJob, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(setupJob), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(setupJob))},
		Data:     data,
	}, inNS...); err != nil {
		return nil, fmt.Errorf("creating the setup ConfigMap: %w", err)
	}
	checksum := pulumi.Unsecret(password.Result.ApplyT(func(p string) string {
		sum := sha256.Sum256(append(append([]byte(nil), applied...), p...))
		return hex.EncodeToString(sum[:])
	})).(pulumi.StringOutput)
	job, err := batchv1.NewJob(ctx, setupJob, SetupJob(l, checksum), append(afterOperator(es, kb, userSecret),
		// Pulumi waits for it: Elasticsearch and Kibana starting, then the
		// calls; its own deadline is 20 minutes.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "25m", Update: "25m"}),
		pulumi.DeleteBeforeReplace(true))...)
	if err != nil {
		return nil, fmt.Errorf("creating the setup Job: %w", err)
	}

	// Logstash waits for the setup Job: written to before the index
	// template exists, the data streams would take the built-in logs-*-*
	// template, whose lifecycle never deletes (ops m9).
	ls, err := eck("logstash.k8s.elastic.co/v1alpha1", "Logstash", clusterName, Namespace, LogstashSpec(l, pipeline, dlqPipeline), es, job)
	if err != nil {
		return nil, err
	}
	rbac, err := filebeatRBAC(ctx, inBeatNS)
	if err != nil {
		return nil, err
	}
	if _, err := eck("beat.k8s.elastic.co/v1beta1", "Beat", filebeatName, FilebeatNamespace, FilebeatSpec(l), append(rbac, ls)...); err != nil {
		return nil, err
	}
	if _, err := appsv1.NewDeployment(ctx, esExporterName, ExporterDeployment(l), append(inNS, pulumi.DependsOn([]pulumi.Resource{job}))...); err != nil {
		return nil, fmt.Errorf("creating the Elasticsearch exporter: %w", err)
	}
	for _, svc := range []struct {
		name     string
		selector map[string]string
		port     int
	}{
		{esExporterName, SelectorLabels(esExporterName), esExporterPort},
		{logstashMetricsSvc, logstashPods, logstashExporterPort},
	} {
		if _, err := corev1.NewService(ctx, svc.name, &corev1.ServiceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(svc.name), Namespace: pulumi.String(Namespace), Labels: pulumi.ToStringMap(Labels(svc.name))},
			Spec: &corev1.ServiceSpecArgs{
				Selector: pulumi.ToStringMap(svc.selector),
				Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("metrics"), Port: pulumi.Int(svc.port), TargetPort: pulumi.String("metrics"), Protocol: pulumi.String("TCP")}},
			},
		}, inNS...); err != nil {
			return nil, fmt.Errorf("creating Service %s: %w", svc.name, err)
		}
		c.ScrapeTargets = append(c.ScrapeTargets, ScrapeTarget{Name: svc.name, Selector: SelectorLabels(svc.name)})
	}

	c.Namespace = ns.Metadata.Name().Elem()
	c.Kibana = pulumi.String(kibanaService).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace, "kibana": c.Kibana}); err != nil {
		return nil, err
	}
	return c, nil
}

// OperatorValues are the eck-operator chart's values (values.yaml at
// 3.5.0): it manages the two namespaces; its webhook is off (the API
// server would have to reach the operator's pod, and the operator runs the
// same validations when it reconciles); a seccomp profile makes it pass
// the restricted profile.
func OperatorValues(l config.LoggingConfig) map[string]any {
	return map[string]any{
		"installCRDs":       true,
		"managedNamespaces": []any{Namespace, FilebeatNamespace},
		"webhook":           map[string]any{"enabled": false},
		"telemetry":         map[string]any{"disabled": true},
		"nodeSelector":      map[string]any{poolLabel: l.NodePool},
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "150Mi"},
			"limits":   map[string]any{"cpu": "1", "memory": "1Gi"},
		},
		"podSecurityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
	}
}

// filebeatRBAC is what autodiscover needs and nothing more: read pods,
// namespaces and nodes.
func filebeatRBAC(ctx *pulumi.Context, opts []pulumi.ResourceOption) ([]pulumi.Resource, error) {
	sa, err := corev1.NewServiceAccount(ctx, filebeatName, &corev1.ServiceAccountArgs{Metadata: &metav1.ObjectMetaArgs{
		Name: pulumi.String(filebeatName), Namespace: pulumi.String(FilebeatNamespace), Labels: pulumi.ToStringMap(Labels(filebeatName)),
	}}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating Filebeat's ServiceAccount: %w", err)
	}
	grant, err := kit.NewGrant(ctx, kit.Grant{
		Name: filebeatName, Labels: Labels(filebeatName),
		Rules:          []kit.Rule{{Groups: []string{""}, Resources: FilebeatResources, Verbs: []string{"get", "list", "watch"}}},
		ServiceAccount: filebeatName, ServiceAccountNamespace: FilebeatNamespace,
	}, opts...)
	if err != nil {
		return nil, err
	}
	return append([]pulumi.Resource{sa}, grant...), nil
}

// FilebeatResources are the core resources Filebeat may get, list and
// watch.
var FilebeatResources = []string{"pods", "namespaces", "nodes"}
