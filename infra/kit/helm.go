package kit

import (
	"fmt"
	"path"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Chart is one pinned upstream Helm chart to install.
type Chart struct {
	// Name is the release name (and the Pulumi resource name).
	Name string
	// Chart is the chart name, or an oci:// reference.
	Chart string
	// Repo is the chart repository URL; empty for oci:// charts.
	Repo string
	// Version pins the chart.
	Version string
	// Namespace the release goes to. It must exist: the program declares
	// every namespace it uses (kit.NewNamespace), with Pod Security labels
	// and default-deny policies, rather than letting Helm create one bare.
	Namespace string
	// Values configure the chart.
	Values pulumi.Map
	// Mirror is a chart repository that holds the chart at Version under
	// its name (cluster.chartRepository); when set, the chart is pulled
	// from there instead of Repo or the OCI registry.
	Mirror string
}

// Source is where a chart is pulled from: its name (the last element of an
// oci:// reference) in the mirror when there is one, else the chart and
// repository as given.
func (c Chart) Source() (chart, repo string) {
	if c.Mirror == "" {
		return c.Chart, c.Repo
	}
	return path.Base(c.Chart), c.Mirror
}

// ReleaseTimeoutSeconds bounds how long Helm waits for a release's pods to
// become ready before an atomic release rolls back: long enough for the
// Cluster Autoscaler to add a node and the node to pull images (about 5
// minutes), short enough that a broken release fails the update the same
// hour. Helm's own default is 300 s.
const ReleaseTimeoutSeconds = 900

// Release is a Helm release (the Kubernetes provider's helm.sh/v3
// Release resource).
type Release struct {
	pulumi.CustomResourceState
}

// releaseInputs are the Release inputs this program sets, as the provider's
// schema names them.
type releaseInputs struct {
	Name            string         `pulumi:"name"`
	Chart           string         `pulumi:"chart"`
	Version         string         `pulumi:"version"`
	Namespace       string         `pulumi:"namespace"`
	CreateNamespace bool           `pulumi:"createNamespace"`
	Atomic          bool           `pulumi:"atomic"`
	CleanupOnFail   bool           `pulumi:"cleanupOnFail"`
	Timeout         int            `pulumi:"timeout"`
	Values          map[string]any `pulumi:"values"`
	RepositoryOpts  map[string]any `pulumi:"repositoryOpts"`
	Compat          string         `pulumi:"compat"`
}

type releaseArgs struct {
	Name            pulumi.StringInput `pulumi:"name"`
	Chart           pulumi.StringInput `pulumi:"chart"`
	Version         pulumi.StringInput `pulumi:"version"`
	Namespace       pulumi.StringInput `pulumi:"namespace"`
	CreateNamespace pulumi.BoolInput   `pulumi:"createNamespace"`
	Atomic          pulumi.BoolInput   `pulumi:"atomic"`
	CleanupOnFail   pulumi.BoolInput   `pulumi:"cleanupOnFail"`
	Timeout         pulumi.IntInput    `pulumi:"timeout"`
	Values          pulumi.MapInput    `pulumi:"values"`
	RepositoryOpts  pulumi.MapInput    `pulumi:"repositoryOpts"`
	Compat          pulumi.StringInput `pulumi:"compat"`
}

func (releaseArgs) ElementType() reflect.Type { return reflect.TypeOf((*releaseInputs)(nil)).Elem() }

// NewRelease installs a chart as one atomic Helm release: a failed upgrade
// rolls back instead of leaving a half-applied chart. It waits at most
// ReleaseTimeoutSeconds.
//
// It registers the provider's Release resource itself, with the inputs
// helm/v3.NewRelease sends (compat "true" included): importing the SDK's
// helm/v3 package links all of its Kubernetes API groups (some sixty
// packages) into every binary and test that builds the program.
func NewRelease(ctx *pulumi.Context, c Chart, opts ...pulumi.ResourceOption) (*Release, error) {
	chart, repo := c.Source()
	args := releaseArgs{
		Name:            pulumi.String(c.Name),
		Chart:           pulumi.String(chart),
		Version:         pulumi.String(c.Version),
		Namespace:       pulumi.String(c.Namespace),
		CreateNamespace: pulumi.Bool(false),
		Atomic:          pulumi.Bool(true),
		Timeout:         pulumi.Int(ReleaseTimeoutSeconds),
		CleanupOnFail:   pulumi.Bool(true),
		Values:          c.Values,
		Compat:          pulumi.String("true"),
	}
	if repo != "" {
		args.RepositoryOpts = pulumi.Map{"repo": pulumi.String(repo)}
	}
	var r Release
	opts = append([]pulumi.ResourceOption{pulumi.Version(KubernetesSDKVersion)}, opts...)
	if err := ctx.RegisterResource("kubernetes:helm.sh/v3:Release", c.Name, args, &r, opts...); err != nil {
		return nil, fmt.Errorf("installing chart %s %s: %w", c.Chart, c.Version, err)
	}
	return &r, nil
}
