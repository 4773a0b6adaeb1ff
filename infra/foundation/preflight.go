package foundation

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
)

// Preflight asks AWS, before anything is registered, whether the cluster
// section can be applied as written, and refuses with every reason at once:
//
//   - cluster.kubernetesVersion is in EKS standard support now (the
//     cluster's support type is STANDARD: EKS would upgrade it at the end);
//     it warns when the end is less than EndOfSupportWarning away;
//   - a running cluster of this name moves one minor at a time, never down
//     (EKS refuses both; after an automatic upgrade the config must follow);
//   - no add-on pin is newer than the newest version AWS publishes for the
//     version (so a pin from a later Kubernetes is caught at preview, not
//     halfway through an update); an older pin is kept, with a note.
//
// It runs in previews, ups and the offline synthesizer (whose mock account
// answers as internal/synth's World says). The calls are reads: the
// deploy and preview roles both hold eks:Describe*/List*.
func Preflight(ctx *pulumi.Context, project string, cfg config.ClusterConfig, now time.Time, opts ...pulumi.InvokeOption) error {
	var ps config.Problems
	add := func(key, value, allowed string) {
		ps = append(ps, config.Problem{Key: project + ":" + key, Value: strconv.Quote(value), Allowed: allowed})
	}

	versions, err := eks.GetClusterVersions(ctx, &eks.GetClusterVersionsArgs{VersionStatus: pulumi.StringRef("STANDARD_SUPPORT")}, opts...)
	if err != nil {
		return fmt.Errorf("preflight: listing the EKS versions in standard support: %w", err)
	}
	var standard []string
	for _, v := range versions.ClusterVersions {
		standard = append(standard, v.ClusterVersion)
		if v.ClusterVersion != cfg.KubernetesVersion {
			continue
		}
		if end, ok := parseDate(v.EndOfStandardSupportDate); ok && end.Sub(now) < EndOfSupportWarning {
			_ = ctx.Log.Warn(fmt.Sprintf("cluster.kubernetesVersion %s leaves EKS standard support on %s: EKS then upgrades the cluster; move to the next minor first (docs/RUNBOOK.md, \"Kubernetes version\")", cfg.KubernetesVersion, end.Format(time.DateOnly)), nil)
		}
	}
	slices.SortFunc(standard, compareMinor)
	if !slices.Contains(standard, cfg.KubernetesVersion) {
		add("cluster.kubernetesVersion", cfg.KubernetesVersion, fmt.Sprintf("not in EKS standard support (AWS lists %s): the cluster would be created only to be upgraded, or refused", strings.Join(standard, ", ")))
	}

	clusters, err := eks.GetClusters(ctx, opts...)
	if err != nil {
		return fmt.Errorf("preflight: listing EKS clusters: %w", err)
	}
	if slices.Contains(clusters.Names, cfg.Name) {
		running, err := eks.LookupCluster(ctx, &eks.LookupClusterArgs{Name: cfg.Name}, opts...)
		if err != nil {
			return fmt.Errorf("preflight: reading EKS cluster %s: %w", cfg.Name, err)
		}
		switch step := compareMinor(cfg.KubernetesVersion, running.Version); {
		case step < 0:
			add("cluster.kubernetesVersion", cfg.KubernetesVersion, fmt.Sprintf("cluster %s runs %s (EKS upgrades clusters at the end of standard support) and cannot be downgraded: set %s", cfg.Name, running.Version, running.Version))
		case step > 1:
			add("cluster.kubernetesVersion", cfg.KubernetesVersion, fmt.Sprintf("cluster %s runs %s and EKS upgrades one minor at a time: set %s, up, then the next", cfg.Name, running.Version, nextMinor(running.Version)))
		}
	}

	for _, name := range config.ManagedAddons {
		pin := cfg.AddonVersions[name]
		latest, err := eks.GetAddonVersion(ctx, &eks.GetAddonVersionArgs{
			AddonName: name, KubernetesVersion: cfg.KubernetesVersion, MostRecent: pulumi.BoolRef(true),
		}, opts...)
		if err != nil {
			return fmt.Errorf("preflight: looking up the newest %s for Kubernetes %s: %w", name, cfg.KubernetesVersion, err)
		}
		switch c := CompareAddonVersions(pin, latest.Version); {
		case c > 0:
			add("cluster.addonVersions."+name, pin, fmt.Sprintf("newer than any %s AWS publishes for Kubernetes %s (the newest is %s)", name, cfg.KubernetesVersion, latest.Version))
		case c < 0:
			_ = ctx.Log.Info(fmt.Sprintf("cluster.addonVersions.%s is %s; AWS publishes %s for Kubernetes %s (bump it on purpose, staging first)", name, pin, latest.Version, cfg.KubernetesVersion), nil)
		}
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// EndOfSupportWarning is how far ahead of the end of standard support the
// preflight starts warning: time to move one minor, staging then
// production.
const EndOfSupportWarning = 60 * 24 * time.Hour

// parseDate reads the provider's dates: RFC 3339, or a plain date.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var minorRE = regexp.MustCompile(`^1\.(\d+)`)

// compareMinor is the difference between two "1.NN" versions' minors.
func compareMinor(a, b string) int {
	return minor(a) - minor(b)
}

func minor(v string) int {
	m := minorRE.FindStringSubmatch(v)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func nextMinor(v string) string { return fmt.Sprintf("1.%d", minor(v)+1) }

var addonRE = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)-eksbuild\.(\d+)$`)

// CompareAddonVersions orders EKS add-on versions (v1.19.0-eksbuild.2)
// by release, then build: -1, 0 or 1. A version that does not parse
// sorts first.
func CompareAddonVersions(a, b string) int {
	pa, pb := addonRE.FindStringSubmatch(a), addonRE.FindStringSubmatch(b)
	if pa == nil || pb == nil {
		return compareBool(pa != nil, pb != nil)
	}
	for i := 1; i <= 4; i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// EndpointCidrs are the ranges the cluster's public API endpoint allows:
// cluster.publicAccessCidrs and the delivery runners' egress, read from
// the SSM parameter the bootstrap writes (cluster.runnerEgressParameter),
// so that CI's address is never copied by hand and follows the runners.
// A missing parameter, or one holding something other than CIDRs (or the
// whole internet), is refused before anything is registered. Empty means
// a private-only endpoint.
func EndpointCidrs(ctx *pulumi.Context, project string, cfg config.ClusterConfig, opts ...pulumi.InvokeOption) ([]string, error) {
	out := slices.Clone(cfg.PublicAccessCidrs)
	if cfg.RunnerEgressParameter == "none" {
		return out, nil
	}
	key := project + ":cluster.runnerEgressParameter"
	p, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: cfg.RunnerEgressParameter}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s = %q: reading the delivery runners' egress: %w (run the bootstrap first, docs/DEPLOYMENT.md step 1, or set it to none and list CI's ranges in cluster.publicAccessCidrs)", key, cfg.RunnerEgressParameter, err)
	}
	for _, c := range strings.Split(p.Value, ",") {
		c = strings.TrimSpace(c)
		pfx, err := netip.ParsePrefix(c)
		if err != nil || pfx.Masked() != pfx || pfx.Bits() == 0 {
			return nil, fmt.Errorf("%s = %q: the parameter holds %q, want network CIDRs narrower than the whole internet", key, cfg.RunnerEgressParameter, p.Value)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// RolesInAccount refuses a deployer or viewer role of another account than
// the one the stack deploys to: the bootstrap makes both in this account
// under fixed names, and EKS refuses an access entry for a principal that
// does not exist (CreateAccessEntry), so a wrong account ID would stop the
// first up after the cluster is made.
func RolesInAccount(project string, cfg config.ClusterConfig, accountID string) error {
	var ps config.Problems
	check := func(key, arn string) {
		if parts := strings.Split(arn, ":"); len(parts) > 4 && parts[4] != accountID {
			ps = append(ps, config.Problem{Key: project + ":" + key, Value: strconv.Quote(arn), Allowed: fmt.Sprintf("a role of account %s, the one this stack deploys to (the bootstrap's roles are made there)", accountID)})
		}
	}
	check("cluster.deployerRoleArn", cfg.DeployerRoleArn)
	for i, arn := range cfg.ViewerRoleArns {
		check(fmt.Sprintf("cluster.viewerRoleArns[%d]", i), arn)
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}
