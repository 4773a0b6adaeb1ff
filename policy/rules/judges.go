package rules

import (
	"maps"
	"slices"
	"strings"
)

// judges names, per policy, the resource types it judges: a type token, or
// a prefix ending in ":" or "/" ("aws:" for every AWS resource). The report
// counts how many resources each policy judged, so that a clean result is
// never mistaken for a policy that did not run. TestEveryPolicyJudgesSomething
// keeps this table complete.
var judges = map[string][]string{
	"rds-storage-encrypted":              {typeRDSInstance},
	"rds-not-public":                     {typeRDSInstance},
	"rds-deletion-protection":            {typeRDSInstance},
	"rds-backup-retention":               {typeRDSInstance},
	"rds-tls-required":                   {typeRDSInstance},
	"elasticache-encrypted":              {typeRedisGroup},
	"kms-key-rotation":                   {typeKMSKey},
	"eks-secrets-encryption":             {typeEKSCluster},
	"eks-control-plane-logging":          {typeEKSCluster},
	"eks-public-endpoint-restricted":     {typeEKSCluster},
	"cloudtrail-trail-hardened":          {typeTrail},
	"cloudfront-distribution-protected":  {typeDistribution},
	"security-group-no-open-ingress":     {typeSecurityGroup, typeSGRule, typeSGIngressRule},
	"iam-no-admin-wildcard":              slices.Sorted(maps.Keys(iamPolicyTypes)),
	"aws-required-tags":                  {"aws:"},
	"ec2-imdsv2-required":                {typeLaunchTemplate, typeEC2Instance},
	"aws-allowed-instance-families":      {"aws:eks/nodeGroup:NodeGroup", typeLaunchTemplate, typeEC2Instance, typeRDSInstance, typeRedisGroup},
	"log-group-retention-and-encryption": {typeLogGroup},
	"s3-no-public-access":                {typePublicBlock, typeBucketACL},
	"k8s-run-as-non-root":                workloadTypes(),
	"k8s-no-privileged":                  workloadTypes(),
	"k8s-no-privilege-escalation":        workloadTypes(),
	"k8s-drop-capabilities":              workloadTypes(),
	"k8s-read-only-root-filesystem":      workloadTypes(),
	"k8s-resources":                      workloadTypes(),
	"k8s-probes":                         workloadTypes(),
	"k8s-image-pinned":                   workloadTypes(),
	"k8s-no-host-access":                 append(workloadTypes(), slices.Sorted(maps.Keys(eckTemplates))...),
	"k8s-configmap-no-secrets":           {"kubernetes:core/v1:ConfigMap"},
	"k8s-load-balancer-services":         {"kubernetes:core/v1:Service"},
	"k8s-pdb-for-replicated":             {typeDeployment},
	"k8s-hpa-target-exists":              {typeHPA},
	"k8s-namespace-default-deny":         {typeNamespace},
	"prometheus-alerts-documented":       {typePrometheusRule},
	"servicemonitor-selects-service":     {typeServiceMonitor},
	"k8s-cronjob-bounded":                {typeCronJob},
	"backup-bucket-locked":               {typeBucket},
	"backup-bucket-expires":              {typeBucket},
	"s3-bucket-guarded":                  {typeBucket},
	"stateful-resources-protected":       {typeRDSInstance, typeRedisGroup, typeBucket, typeStatefulSet},
}

func workloadTypes() []string { return slices.Sorted(maps.Keys(workloadKinds)) }

// Judges reports whether a policy judges resources of a type.
func Judges(policy, typ string) bool {
	for _, t := range judges[policy] {
		if t == typ || ((strings.HasSuffix(t, ":") || strings.HasSuffix(t, "/")) && strings.HasPrefix(typ, t)) {
			return true
		}
	}
	return false
}

// PolicyRun is one policy's part of a report: its level and how many
// resources it judged and passed.
type PolicyRun struct {
	Policy     string `json:"policy"`
	Level      Level  `json:"enforcementLevel"`
	Judged     int    `json:"judged"`
	Violations int    `json:"violations"`
}

// Report is what the pack found: every policy that ran (disabled ones
// included, with nothing judged) and every violation.
type Report struct {
	Policies   []PolicyRun `json:"policies"`
	Violations []Violation `json:"violations"`
}

// Run evaluates every policy over the resources and reports what each
// judged alongside the violations.
func Run(resources []Resource, pc PackConfig) (Report, error) {
	vs, err := Evaluate(resources, pc)
	if err != nil {
		return Report{}, err
	}
	counts := map[string]int{}
	for _, v := range vs {
		counts[v.Policy]++
	}
	var policies []Policy
	for _, r := range ResourceRules() {
		policies = append(policies, r.Policy)
	}
	for _, r := range StackRules() {
		policies = append(policies, r.Policy)
	}
	rep := Report{Violations: vs}
	if rep.Violations == nil {
		rep.Violations = []Violation{}
	}
	for _, p := range policies {
		level, _, err := pc.resolve(p)
		if err != nil {
			return Report{}, err
		}
		run := PolicyRun{Policy: p.Name, Level: level, Violations: counts[p.Name]}
		if level != Disabled {
			for _, r := range resources {
				if Judges(p.Name, r.Type) {
					run.Judged++
				}
			}
		}
		rep.Policies = append(rep.Policies, run)
	}
	slices.SortFunc(rep.Policies, func(a, b PolicyRun) int { return strings.Compare(a.Policy, b.Policy) })
	return rep, nil
}
