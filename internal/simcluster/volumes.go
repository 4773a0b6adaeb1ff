package simcluster

import (
	"context"
	"time"

	"github.com/scrolluniversity/platform/internal/apicheck"
)

// The annotation the scheduler sets on a claim of a WaitForFirstConsumer
// storage class once it has chosen the pod's node, which an external
// provisioner reads to create the volume in that node's zone.
const selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

// ProvisionVolumes does what the EBS CSI driver's provisioner does until
// ctx ends: for every pending claim the scheduler has chosen a node for,
// a PersistentVolume in that node's zone (EBS volumes are zonal), bound
// to the claim; the volume controller then binds them and the scheduler
// places the pod. A pod that comes back for its volume must then find a
// node in that zone, as on EKS.
func (c *Cluster) ProvisionVolumes(ctx context.Context) {
	done := map[string]bool{}
	for ctx.Err() == nil {
		_ = c.provisionOnce(ctx, done)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// claimView is what the provisioner reads of a claim.
type claimView struct {
	Metadata struct {
		Namespace, Name, UID string
		Annotations          map[string]string
	} `json:"metadata"`
	Spec struct {
		AccessModes      []string `json:"accessModes"`
		StorageClassName string   `json:"storageClassName"`
		VolumeMode       string   `json:"volumeMode"`
		Resources        struct {
			Requests map[string]string `json:"requests"`
		} `json:"resources"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

func (c *Cluster) provisionOnce(ctx context.Context, done map[string]bool) error {
	var claims struct {
		Items []claimView `json:"items"`
	}
	if err := c.client.Get(ctx, "/api/v1/persistentvolumeclaims", nil, &claims); err != nil {
		return err
	}
	for _, pvc := range claims.Items {
		node := pvc.Metadata.Annotations[selectedNodeAnnotation]
		if pvc.Status.Phase != "Pending" || node == "" || done[pvc.Metadata.UID] {
			continue
		}
		var n struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := c.client.Get(ctx, "/api/v1/nodes/"+node, nil, &n); err != nil {
			continue
		}
		zone := n.Metadata.Labels["topology.kubernetes.io/zone"]
		modes := make([]any, len(pvc.Spec.AccessModes))
		for i, m := range pvc.Spec.AccessModes {
			modes[i] = m
		}
		spec := map[string]any{
			"capacity":                      map[string]any{"storage": pvc.Spec.Resources.Requests["storage"]},
			"accessModes":                   modes,
			"storageClassName":              pvc.Spec.StorageClassName,
			"persistentVolumeReclaimPolicy": "Delete",
			"csi":                           map[string]any{"driver": "ebs.csi.aws.com", "volumeHandle": "vol-" + pvc.Metadata.UID[:8], "fsType": "ext4"},
			"claimRef":                      map[string]any{"namespace": pvc.Metadata.Namespace, "name": pvc.Metadata.Name, "uid": pvc.Metadata.UID},
			"nodeAffinity": map[string]any{"required": map[string]any{"nodeSelectorTerms": []any{map[string]any{"matchExpressions": []any{
				map[string]any{"key": "topology.kubernetes.io/zone", "operator": "In", "values": []any{zone}},
			}}}}},
		}
		if pvc.Spec.VolumeMode != "" {
			spec["volumeMode"] = pvc.Spec.VolumeMode
		}
		msg, _, err := c.client.Apply(ctx, apicheck.Object{Source: "simcluster provisioner", Body: map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": "pvc-" + pvc.Metadata.UID, "annotations": map[string]any{"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"}},
			"spec":     spec,
		}})
		if err == nil && msg == "" {
			done[pvc.Metadata.UID] = true
		}
	}
	return nil
}
