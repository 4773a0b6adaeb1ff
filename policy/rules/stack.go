package rules

import (
	"encoding/json"
	"fmt"
	"sort"
)

const (
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typeStatefulSet = "kubernetes:apps/v1:StatefulSet"
	typeHPA         = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	typePDB         = "kubernetes:policy/v1:PodDisruptionBudget"
	typeNamespace   = "kubernetes:core/v1:Namespace"
	typeNetPolicy   = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typeVersioning  = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	typeSSE         = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typeBucketPol   = "aws:s3/bucketPolicy:BucketPolicy"
)

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// selects reports whether a label selector's matchLabels all appear in labels.
func selects(selector, labels any) bool {
	want, _ := Get(selector, "matchLabels").(map[string]any)
	have, _ := labels.(map[string]any)
	if len(want) == 0 {
		return false
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func namespaceOf(r Resource) string { return str(Get(r.Props, "metadata", "namespace")) }
func nameOf(r Resource) string      { return str(Get(r.Props, "metadata", "name")) }

func stackRules() []StackRule {
	return []StackRule{
		{Policy{"k8s-pdb-for-replicated", "every Deployment with more than one replica or an HPA has a PodDisruptionBudget selecting its pods", Mandatory, nil}, func(all []Resource, _ Config) []Finding {
			scaled := map[string]bool{}
			for _, h := range all {
				if h.Type == typeHPA && Get(h.Props, "spec", "scaleTargetRef", "kind") == "Deployment" {
					scaled[namespaceOf(h)+"/"+str(Get(h.Props, "spec", "scaleTargetRef", "name"))] = true
				}
			}
			var out []Finding
			for _, d := range all {
				if d.Type != typeDeployment {
					continue
				}
				replicas, _ := num(Get(d.Props, "spec", "replicas"))
				if replicas <= 1 && !scaled[namespaceOf(d)+"/"+nameOf(d)] {
					continue
				}
				labels := Get(d.Props, "spec", "template", "metadata", "labels")
				covered := false
				for _, p := range all {
					if p.Type == typePDB && namespaceOf(p) == namespaceOf(d) && selects(Get(p.Props, "spec", "selector"), labels) {
						covered = true
					}
				}
				if !covered {
					out = append(out, Finding{d.URN, fmt.Sprintf("Deployment %s/%s runs several replicas with no PodDisruptionBudget; add one whose selector matches its pod labels", namespaceOf(d), nameOf(d))})
				}
			}
			return out
		}},
		{Policy{"k8s-hpa-target-exists", "every HorizontalPodAutoscaler targets a workload the program creates", Mandatory, nil}, func(all []Resource, _ Config) []Finding {
			exists := map[string]bool{}
			for _, r := range all {
				if r.Type == typeDeployment || r.Type == typeStatefulSet {
					exists[kindOf(r.Type)+"/"+namespaceOf(r)+"/"+nameOf(r)] = true
				}
			}
			var out []Finding
			for _, h := range all {
				if h.Type != typeHPA {
					continue
				}
				ref := str(Get(h.Props, "spec", "scaleTargetRef", "kind")) + "/" + namespaceOf(h) + "/" + str(Get(h.Props, "spec", "scaleTargetRef", "name"))
				if !exists[ref] {
					out = append(out, Finding{h.URN, fmt.Sprintf("HorizontalPodAutoscaler %s/%s targets %s, which this program does not create; fix scaleTargetRef", namespaceOf(h), nameOf(h), ref)})
				}
			}
			return out
		}},
		{Policy{"k8s-namespace-default-deny", "every namespace the program creates has a default-deny NetworkPolicy for ingress and egress", Mandatory, nil}, func(all []Resource, _ Config) []Finding {
			denied := map[string]bool{}
			for _, p := range all {
				if p.Type != typeNetPolicy {
					continue
				}
				sel, _ := Get(p.Props, "spec", "podSelector").(map[string]any)
				types := strList(Get(p.Props, "spec", "policyTypes"))
				if len(sel) == 0 && contains(types, "Ingress") && contains(types, "Egress") &&
					len(list(Get(p.Props, "spec", "ingress"))) == 0 && len(list(Get(p.Props, "spec", "egress"))) == 0 {
					denied[namespaceOf(p)] = true
				}
			}
			var out []Finding
			for _, ns := range all {
				if ns.Type == typeNamespace && !denied[nameOf(ns)] {
					out = append(out, Finding{ns.URN, fmt.Sprintf("namespace %s has no default-deny NetworkPolicy; add one with podSelector {} and policyTypes [Ingress, Egress], then allow each flow", nameOf(ns))})
				}
			}
			return out
		}},
		{Policy{"s3-bucket-guarded", "every bucket has its public access blocked, SSE, versioning and a TLS-only policy", Mandatory, nil}, func(all []Resource, _ Config) []Finding {
			// Companion resources name their bucket through a dependency.
			has := map[string]map[string]bool{}
			for _, r := range all {
				for _, dep := range r.Dependencies {
					if has[dep] == nil {
						has[dep] = map[string]bool{}
					}
					switch r.Type {
					case typePublicBlock:
						has[dep]["public access block"] = true
					case typeSSE:
						has[dep]["server-side encryption"] = true
					case typeVersioning:
						if Get(r.Props, "versioningConfiguration", "status") == "Enabled" {
							has[dep]["versioning"] = true
						}
					case typeBucketPol:
						if tlsOnly(str(r.Props["policy"])) {
							has[dep]["TLS-only policy"] = true
						}
					}
				}
			}
			var out []Finding
			for _, b := range all {
				if b.Type != typeBucket {
					continue
				}
				var missing []string
				for _, want := range []string{"public access block", "server-side encryption", "versioning", "TLS-only policy"} {
					if !has[b.URN][want] {
						missing = append(missing, want)
					}
				}
				if len(missing) > 0 {
					out = append(out, Finding{b.URN, fmt.Sprintf("bucket %s has no %v; create it with kit.NewPrivateBucket", shortName(b), missing)})
				}
			}
			return out
		}},
	}
}

// tlsOnly reports whether a bucket policy denies requests without TLS.
func tlsOnly(policy string) bool {
	var doc struct {
		Statement []struct {
			Effect    string
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return policy == Unknown
	}
	for _, s := range doc.Statement {
		if s.Effect == "Deny" && contains(strList(s.Condition["Bool"]["aws:SecureTransport"]), "false") {
			return true
		}
	}
	return false
}

// ResourceRules are every per-resource rule.
func ResourceRules() []ResourceRule {
	return append(append(awsRules(), kubernetesRules()...), statefulProtected, documentedAlerts, boundedCronJobs, lockedBackups)
}

// statefulProtected checks one resource at a time, so it is a resource rule:
// policyx hands pack config to resource policies only, and this one needs
// its productionLike knob.
var statefulProtected = ResourceRule{
	Policy{"stateful-resources-protected", "production-like stateful resources (RDS, ElastiCache, data buckets, StatefulSet volumes) survive a destroy", Mandatory, productionLike},
	func(r Resource, cfg Config) []string {
		if !cfg.Bool("productionLike", false) {
			return nil
		}
		switch r.Type {
		case typeRDSInstance, typeRedisGroup, typeBucket:
			if !r.Protect {
				return []string{fmt.Sprintf("%s %s holds data but is not protected; set the protect option (config guards.protect)", kindOf(r.Type), shortName(r))}
			}
		case typeStatefulSet:
			if len(list(Get(r.Props, "spec", "volumeClaimTemplates"))) > 0 && Get(r.Props, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted") == "Delete" && !r.Protect {
				return []string{fmt.Sprintf("StatefulSet %s deletes its volumes with it; set persistentVolumeClaimRetentionPolicy.whenDeleted: Retain", shortName(r))}
			}
		}
		return nil
	},
}

// StackRules are every whole-stack rule.
func StackRules() []StackRule {
	return append(stackRules(), monitorsSelectServices, expiringBackups)
}
