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
	// Namespace the release goes to; CreateNamespace creates it if missing.
	Namespace       string
	CreateNamespace bool
	// Values configure the chart.
	Values pulumi.Map
}

// NewRelease installs a chart as one atomic Helm release: a failed upgrade
// rolls back instead of leaving a half-applied chart.
func NewRelease(ctx *pulumi.Context, c Chart, opts ...pulumi.ResourceOption) (*helmv3.Release, error) {
	args := &helmv3.ReleaseArgs{
		Name:            pulumi.String(c.Name),
		Chart:           pulumi.String(c.Chart),
		Version:         pulumi.String(c.Version),
		Namespace:       pulumi.String(c.Namespace),
		CreateNamespace: pulumi.Bool(c.CreateNamespace),
		Atomic:          pulumi.Bool(true),
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
