package kit

import (
	"fmt"

	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
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
}

// ReleaseTimeoutSeconds bounds how long Helm waits for a release's pods to
// become ready before an atomic release rolls back: long enough for the
// Cluster Autoscaler to add a node and the node to pull images (about 5
// minutes), short enough that a broken release fails the update the same
// hour. Helm's own default is 300 s.
const ReleaseTimeoutSeconds = 900

// NewRelease installs a chart as one atomic Helm release: a failed upgrade
// rolls back instead of leaving a half-applied chart. It waits at most
// ReleaseTimeoutSeconds.
func NewRelease(ctx *pulumi.Context, c Chart, opts ...pulumi.ResourceOption) (*helmv3.Release, error) {
	args := &helmv3.ReleaseArgs{
		Name:            pulumi.String(c.Name),
		Chart:           pulumi.String(c.Chart),
		Version:         pulumi.String(c.Version),
		Namespace:       pulumi.String(c.Namespace),
		CreateNamespace: pulumi.Bool(false),
		Atomic:          pulumi.Bool(true),
		Timeout:         pulumi.Int(ReleaseTimeoutSeconds),
		CleanupOnFail:   pulumi.Bool(true),
		Values:          c.Values,
	}
	if c.Repo != "" {
		args.RepositoryOpts = &helmv3.RepositoryOptsArgs{Repo: pulumi.String(c.Repo)}
	}
	r, err := helmv3.NewRelease(ctx, c.Name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("installing chart %s %s: %w", c.Chart, c.Version, err)
	}
	return r, nil
}
