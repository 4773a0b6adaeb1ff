package kit

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// KubernetesSDKVersion is the pulumi-kubernetes release in go.mod: remote
// components registered here ask the engine for that provider version, as
// the SDK's own constructors do (tests/ keeps the two equal).
const KubernetesSDKVersion = "4.32.0"

// configFileType is the Kubernetes provider's multi-language component
// that applies every object of a manifest file or URL.
const configFileType = "kubernetes:yaml/v2:ConfigFile"

// ConfigFile is an applied manifest (the provider's yaml/v2 ConfigFile).
type ConfigFile struct {
	pulumi.ResourceState
	// Resources are the objects the manifest created.
	Resources pulumi.ArrayOutput `pulumi:"resources"`
}

type configFileInputs struct {
	File string `pulumi:"file"`
}

// configFileArgs are ConfigFile's inputs: the manifest's path or URL.
type configFileArgs struct {
	File pulumi.StringInput `pulumi:"file"`
}

func (configFileArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*configFileInputs)(nil)).Elem()
}

// NewConfigFile applies a manifest through the Kubernetes provider, exactly
// as the SDK's yaml/v2.NewConfigFile does. The program registers the
// component itself because importing the SDK's yaml/v2 package links all of
// its Kubernetes API groups (some sixty packages) into every binary and test
// that builds the program, for one call.
func NewConfigFile(ctx *pulumi.Context, name, file string, opts ...pulumi.ResourceOption) (*ConfigFile, error) {
	var res ConfigFile
	opts = append([]pulumi.ResourceOption{pulumi.Version(KubernetesSDKVersion)}, opts...)
	if err := ctx.RegisterRemoteComponentResource(configFileType, name, configFileArgs{File: pulumi.String(file)}, &res, opts...); err != nil {
		return nil, fmt.Errorf("applying manifest %s: %w", file, err)
	}
	return &res, nil
}

// CustomResource is a custom resource to create: its kind's group version,
// its name and namespace ("" when cluster-scoped), and its other top-level
// fields (spec, or data for kinds without one).
type CustomResource struct {
	APIVersion, Kind, Name, Namespace string
	// PartOf is the app.kubernetes.io/part-of label.
	PartOf string
	// Labels are extra labels.
	Labels map[string]string
	// Annotations are the object's annotations.
	Annotations map[string]string
	// Fields are the object's top-level fields besides apiVersion, kind
	// and metadata.
	Fields map[string]any
}

// NewCustomResource creates a custom resource, keyed "<kind>-<name>".
func NewCustomResource(ctx *pulumi.Context, cr CustomResource, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	labels := map[string]string{"app.kubernetes.io/part-of": cr.PartOf}
	for k, v := range cr.Labels {
		labels[k] = v
	}
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(cr.Name), Labels: pulumi.ToStringMap(labels)}
	if cr.Namespace != "" {
		meta.Namespace = pulumi.String(cr.Namespace)
	}
	if len(cr.Annotations) > 0 {
		meta.Annotations = pulumi.ToStringMap(cr.Annotations)
	}
	res, err := apiextensions.NewCustomResource(ctx, strings.ToLower(cr.Kind)+"-"+cr.Name, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(cr.APIVersion),
		Kind:        pulumi.String(cr.Kind),
		Metadata:    meta,
		OtherFields: kubernetes.UntypedArgs(cr.Fields),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating %s %s: %w", cr.Kind, cr.Name, err)
	}
	return res, nil
}

// NewSecret creates an Opaque Secret keyed by its name; its data stays
// secret (callers pass secret outputs or ToSecret values).
func NewSecret(ctx *pulumi.Context, namespace, name string, labels map[string]string, data pulumi.StringMap, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	s, err := corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(namespace), Labels: pulumi.ToStringMap(labels)},
		Type:       pulumi.String("Opaque"),
		StringData: data,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating Secret %s/%s: %w", namespace, name, err)
	}
	return s, nil
}
