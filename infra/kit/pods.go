package kit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
)

// Pieces of the pod specs every component writes.

// ContainerSecurity is every container's: non-root, no privilege
// escalation, no capabilities, read-only root filesystem.
func ContainerSecurity(uid int) *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		RunAsNonRoot:             pulumi.Bool(true),
		RunAsUser:                pulumi.Int(uid),
		RunAsGroup:               pulumi.Int(uid),
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		Privileged:               pulumi.Bool(false),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
	}
}

// PodSecurity is the pod's: what the restricted Pod Security Standard asks.
func PodSecurity(uid int) *corev1.PodSecurityContextArgs {
	return &corev1.PodSecurityContextArgs{
		RunAsNonRoot:   pulumi.Bool(true),
		RunAsUser:      pulumi.Int(uid),
		RunAsGroup:     pulumi.Int(uid),
		FsGroup:        pulumi.Int(uid),
		SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// Resources are a container's requests and limits from config.
func Resources(r config.ResourcesConfig) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(r.RequestsCpu), "memory": pulumi.String(r.RequestsMemory), "ephemeral-storage": pulumi.String(r.RequestsEphemeralStorage)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(r.LimitsCpu), "memory": pulumi.String(r.LimitsMemory), "ephemeral-storage": pulumi.String(r.LimitsEphemeralStorage)},
	}
}

// ResourcesMap are a container's requests and limits from config as plain
// values, for a chart's values or a custom resource's pod template.
func ResourcesMap(r config.ResourcesConfig) map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": r.RequestsCpu, "memory": r.RequestsMemory, "ephemeral-storage": r.RequestsEphemeralStorage},
		"limits":   map[string]any{"cpu": r.LimitsCpu, "memory": r.LimitsMemory, "ephemeral-storage": r.LimitsEphemeralStorage},
	}
}

// Checksum hashes maps of data, keys sorted, each map told apart: a pod
// template annotated with it rolls when the data changes.
func Checksum(parts ...map[string]string) string {
	h := sha256.New()
	for i, m := range parts {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(h, "%d\x00%s\x00%s\x00", i, k, m[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Labels are the recommended labels of one component of a part of the
// platform (app.kubernetes.io/part-of); SelectorLabels is the stable subset
// selectors use.
func Labels(partOf, component string) map[string]string {
	l := SelectorLabels(partOf, component)
	l["app.kubernetes.io/part-of"] = partOf
	l["app.kubernetes.io/managed-by"] = "pulumi"
	return l
}

// SelectorLabels select one component's pods.
func SelectorLabels(partOf, component string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": component, "app.kubernetes.io/instance": partOf}
}
