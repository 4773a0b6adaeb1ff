package tests

// The controllers' IAM policies against what their projects recommend at
// the pinned version, statement by statement: every upstream grant is
// matched by one of ours that is no looser (resources within upstream's,
// every upstream condition kept or made stricter), unless the difference is
// named below with its reason; every grant of ours is within upstream's,
// unless named. A missing action, a widened resource or a dropped
// condition fails.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	pathpkg "path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/foundation"
	"github.com/scrolluniversity/platform/infra/kit"
	"github.com/scrolluniversity/platform/internal/synth"
)

// stmt is one policy statement, as upstream writes it.
type stmt struct {
	Actions, Resources []string
	// Conditions: test -> key -> values.
	Conditions map[string]map[string][]string
}

// upstreamLBC is docs/install/iam_policy.json of
// kubernetes-sigs/aws-load-balancer-controller at v2.14.0 (chart 1.14.0's
// appVersion), statement by statement.
var upstreamLBC = []stmt{
	{[]string{"iam:CreateServiceLinkedRole"}, []string{"*"}, map[string]map[string][]string{"StringEquals": {"iam:AWSServiceName": {"elasticloadbalancing.amazonaws.com"}}}},
	{[]string{"ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways", "ec2:DescribeVpcs",
		"ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces",
		"ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools", "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
		"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeListeners",
		"elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules",
		"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
		"elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeListenerAttributes",
		"elasticloadbalancing:DescribeCapacityReservation"}, []string{"*"}, nil},
	{[]string{"cognito-idp:DescribeUserPoolClient", "acm:ListCertificates", "acm:DescribeCertificate", "iam:ListServerCertificates", "iam:GetServerCertificate",
		"waf-regional:GetWebACL", "waf-regional:GetWebACLForResource", "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL",
		"wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
		"shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection"}, []string{"*"}, nil},
	{[]string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"}, []string{"*"}, nil},
	{[]string{"ec2:CreateSecurityGroup"}, []string{"*"}, nil},
	{[]string{"ec2:CreateTags"}, []string{"arn:aws:ec2:*:*:security-group/*"}, map[string]map[string][]string{
		"StringEquals": {"ec2:CreateAction": {"CreateSecurityGroup"}}, "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": {"false"}}}},
	{[]string{"ec2:CreateTags", "ec2:DeleteTags"}, []string{"arn:aws:ec2:*:*:security-group/*"}, map[string]map[string][]string{
		"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": {"true"}, "aws:ResourceTag/elbv2.k8s.aws/cluster": {"false"}}}},
	{[]string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"}, []string{"*"}, map[string]map[string][]string{
		"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": {"false"}}}},
	{[]string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"}, []string{"*"}, map[string]map[string][]string{
		"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": {"false"}}}},
	{[]string{"elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule"}, []string{"*"}, nil},
	{[]string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"}, []string{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
		"arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*"}, map[string]map[string][]string{
		"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": {"true"}, "aws:ResourceTag/elbv2.k8s.aws/cluster": {"false"}}}},
	{[]string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"}, []string{"arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
		"arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*", "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*", "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*"}, nil},
	{[]string{"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups",
		"elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
		"elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyCapacityReservation",
		"elasticloadbalancing:ModifyIpPools"}, []string{"*"}, map[string]map[string][]string{"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": {"false"}}}},
	{[]string{"elasticloadbalancing:AddTags"}, []string{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
		"arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*"}, map[string]map[string][]string{
		"StringEquals": {"elasticloadbalancing:CreateAction": {"CreateTargetGroup", "CreateLoadBalancer"}}, "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": {"false"}}}},
	{[]string{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"}, []string{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"}, nil},
	{[]string{"elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates",
		"elasticloadbalancing:RemoveListenerCertificates", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities"}, []string{"*"}, nil},
}

// lbcDropped are the upstream actions the controller is not given, each
// with why.
var lbcDropped = map[string]string{
	"cognito-idp:DescribeUserPoolClient":             "Cognito authentication is an ALB listener action; the controller serves NLBs only",
	"iam:ListServerCertificates":                     "TLS ends at NGINX: the NLB listeners are TCP, with no certificate to look up",
	"iam:GetServerCertificate":                       "TLS ends at NGINX: the NLB listeners are TCP, with no certificate to look up",
	"waf-regional:GetWebACL":                         "WAF (classic) is off in the chart's values (enableWaf: false)",
	"waf-regional:GetWebACLForResource":              "WAF (classic) is off (enableWaf: false)",
	"waf-regional:AssociateWebACL":                   "WAF (classic) is off (enableWaf: false)",
	"waf-regional:DisassociateWebACL":                "WAF (classic) is off (enableWaf: false)",
	"wafv2:GetWebACL":                                "WAFv2 is off (enableWafv2: false)",
	"wafv2:GetWebACLForResource":                     "WAFv2 is off (enableWafv2: false)",
	"wafv2:AssociateWebACL":                          "WAFv2 is off (enableWafv2: false)",
	"wafv2:DisassociateWebACL":                       "WAFv2 is off (enableWafv2: false)",
	"elasticloadbalancing:SetWebAcl":                 "WAF is off; and it applies to ALBs only",
	"shield:GetSubscriptionState":                    "Shield Advanced is off (enableShield: false)",
	"shield:DescribeProtection":                      "Shield Advanced is off (enableShield: false)",
	"shield:CreateProtection":                        "Shield Advanced is off (enableShield: false)",
	"shield:DeleteProtection":                        "Shield Advanced is off (enableShield: false)",
	"elasticloadbalancing:ModifyCapacityReservation": "no load balancer capacity reservation is asked for (no annotation sets one)",
	"elasticloadbalancing:ModifyIpPools":             "no IPAM pool is asked for (no annotation sets one)",
}

// upstreamAutoscaler is the "Full Cluster Autoscaler Features Policy
// (Recommended)" of cluster-autoscaler/cloudprovider/aws/README.md in
// kubernetes/autoscaler at cluster-autoscaler-1.36.1, whose README asks
// for the second block to be restricted.
var upstreamAutoscaler = []stmt{
	{[]string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeLaunchConfigurations",
		"autoscaling:DescribeScalingActivities", "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
		"ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup"}, []string{"*"}, nil},
	{[]string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}, []string{"*"}, nil},
}

// grant is one action's permission: where, and under which conditions.
type grant struct {
	resources  []string
	conditions map[string]map[string][]string
}

// grants reads a policy document into each action's grants.
func grants(t testing.TB, doc string) map[string][]grant {
	t.Helper()
	var p struct {
		Statement []struct {
			Effect    string
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy document: %v\n%s", err, doc)
	}
	out := map[string][]grant{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			t.Fatalf("a %s statement: only Allow is compared", s.Effect)
		}
		g := grant{resources: anyStrings(s.Resource), conditions: map[string]map[string][]string{}}
		for test, keys := range s.Condition {
			g.conditions[test] = map[string][]string{}
			for k, v := range keys {
				g.conditions[test][k] = anyStrings(v)
			}
		}
		for _, a := range anyStrings(s.Action) {
			out[a] = append(out[a], g)
		}
	}
	return out
}

func anyStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, e.(string))
		}
		return out
	}
	return nil
}

func documentOf(t *testing.T, statements []stmt) string {
	t.Helper()
	type doc struct {
		Effect    string
		Action    []string
		Resource  []string
		Condition map[string]map[string][]string `json:",omitempty"`
	}
	var ss []doc
	for _, s := range statements {
		ss = append(ss, doc{"Allow", s.Actions, s.Resources, s.Conditions})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": ss})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// within reports whether a resource of ours is one an upstream pattern
// covers (IAM's * and ? wildcards; the upstream partition is aws).
func within(ours, upstream string) bool {
	ok, _ := pathpkg.Match(strings.ReplaceAll(upstream, "/", "\x00"), strings.ReplaceAll(ours, "/", "\x00"))
	return ok || upstream == "*"
}

// stricter reports whether our conditions keep every upstream one, or
// replace it by a stricter one on the same key: "Null key false" (the tag
// exists) by "StringEquals key <value>".
func stricter(ours, upstream map[string]map[string][]string) bool {
	for test, keys := range upstream {
		for key, values := range keys {
			if slices.Equal(ours[test][key], values) && !(test == "StringEquals" && len(ours[test][key]) == 0) {
				continue
			}
			if test == "StringEquals" && len(ours[test][key]) > 0 && subset(ours[test][key], values) {
				continue // fewer allowed values
			}
			if test == "Null" && slices.Equal(values, []string{"false"}) && len(ours["StringEquals"][key]) > 0 {
				continue
			}
			return false
		}
	}
	return true
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// covered: our grant is within an upstream one; overlaps: some resource of
// ours falls under an upstream grant.
func covered(g grant, up []grant) bool {
	for _, u := range up {
		all := true
		for _, r := range g.resources {
			in := false
			for _, ur := range u.resources {
				in = in || within(r, ur)
			}
			all = all && in
		}
		if all && stricter(g.conditions, u.conditions) {
			return true
		}
	}
	return false
}

func overlaps(u grant, ours []grant) bool {
	for _, g := range ours {
		for _, r := range g.resources {
			for _, ur := range u.resources {
				if within(r, ur) {
					return true
				}
			}
		}
	}
	return false
}

// compareToUpstream fails for each upstream grant ours lacks (unless
// dropped with a reason) and each grant of ours upstream does not give
// (unless added with a reason). Our ARNs name the real partition; the
// upstream ones the commercial.
func compareToUpstream(t testing.TB, what, ours, upstream string, dropped, added map[string]string) {
	t.Helper()
	o, u := grants(t, strings.ReplaceAll(ours, "arn:aws-us-gov:", "arn:aws:")), grants(t, upstream)
	var actions []string
	for a := range u {
		actions = append(actions, a)
	}
	for a := range o {
		if _, ok := u[a]; !ok {
			actions = append(actions, a)
		}
	}
	sort.Strings(actions)
	for _, a := range actions {
		if why, ok := dropped[a]; ok {
			if len(o[a]) > 0 {
				t.Errorf("%s: %s is listed as dropped (%s) but granted", what, a, why)
			}
			continue
		}
		if why, ok := added[a]; ok {
			if len(o[a]) == 0 {
				t.Errorf("%s: %s is listed as added (%s) but not granted", what, a, why)
			}
			continue
		}
		for _, ug := range u[a] {
			if !overlaps(ug, o[a]) {
				t.Errorf("%s: upstream grants %s on %v %v; ours does not (grant it, or name why in the dropped list)", what, a, ug.resources, ug.conditions)
			}
		}
		for _, g := range o[a] {
			if !covered(g, u[a]) {
				t.Errorf("%s: ours grants %s on %v %v, which upstream's %v does not cover (tighten it, or name why in the added list)", what, a, g.resources, g.conditions, u[a])
			}
		}
	}
	for a := range dropped {
		if _, ok := u[a]; !ok {
			t.Errorf("%s: %s is listed as dropped but upstream does not grant it", what, a)
		}
	}
}

func rolePolicy(t *testing.T, res *synth.Result, name string) string {
	t.Helper()
	s, _ := one(t, res, "aws:iam/rolePolicy:RolePolicy", name).Plain()["policy"].(string)
	return s
}

func TestControllerPoliciesMatchUpstream(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		compareToUpstream(t, "load balancer controller", rolePolicy(t, res, n.Name("lb-controller")), documentOf(t, upstreamLBC), lbcDropped, nil)
		compareToUpstream(t, "cluster autoscaler", rolePolicy(t, res, n.Name("cluster-autoscaler")), documentOf(t, upstreamAutoscaler), nil, nil)
		compareToUpstream(t, "external-dns", rolePolicy(t, res, n.Name("external-dns")), upstreamExternalDNS(t), map[string]string{
			"route53:ListTagsForResources": "only with --aws-zone-tags, which the chart's values do not pass",
		}, nil)
	})
}

// upstreamExternalDNS is the first policy of docs/tutorials/aws.md in
// sigs.k8s.io/external-dns v0.19.0 (chart 1.19.0's appVersion), read from
// the module cache.
func upstreamExternalDNS(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/external-dns@v0.19.0").Output()
	if err != nil {
		t.Fatalf("go mod download sigs.k8s.io/external-dns@v0.19.0: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(mod.Dir, "docs", "tutorials", "aws.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("no JSON policy in external-dns's docs/tutorials/aws.md")
	}
	return string(m[1])
}

// A planted missing action fails the comparison, naming the action.
func TestThePolicyComparisonCatchesAMissingAction(t *testing.T) {
	res := synthesize(t, "production")
	n := kit.Namer{Prefix: stackConfig(t, "production").Cluster.Name}
	doc := rolePolicy(t, res, n.Name("lb-controller"))
	var p map[string]any
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	// Drop the listener statements: the first up's missing AddTags.
	var kept []any
	for _, s := range p["Statement"].([]any) {
		if !strings.Contains(strings.Join(anyStrings(s.(map[string]any)["Resource"]), " "), "listener/") {
			kept = append(kept, s)
		}
	}
	p["Statement"] = kept
	planted, _ := json.Marshal(p)
	rec := &recorder{TB: t}
	compareToUpstream(rec, "load balancer controller", string(planted), documentOf(t, upstreamLBC), lbcDropped, nil)
	if !slices.ContainsFunc(rec.errors, func(e string) bool {
		return strings.Contains(e, "upstream grants elasticloadbalancing:AddTags on [arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*")
	}) {
		t.Errorf("the comparison did not name the missing listener AddTags: %v", rec.errors)
	}
	// And a widened grant: DeleteLoadBalancer on any load balancer.
	wide := strings.Replace(doc, `"aws:ResourceTag/elbv2.k8s.aws/cluster": "`+n.Prefix+`"`, `"aws:ResourceTag/elbv2.k8s.aws/other": "x"`, 1)
	rec = &recorder{TB: t}
	compareToUpstream(rec, "load balancer controller", wide, documentOf(t, upstreamLBC), lbcDropped, nil)
	if len(rec.errors) == 0 {
		t.Error("a grant whose cluster condition was swapped for another passed the comparison")
	}
}

// recorder collects a helper's failures instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// upstreamEBSCSI are the conditions of docs/AmazonEBSCSIDriverEKSClusterScopedPolicy.json
// in kubernetes-sigs/aws-ebs-csi-driver at v1.64.0 (the managed policy
// AWS publishes from it), by statement: the tag each action's resource or
// request must carry, compared with the principal tag of the role.
var upstreamEBSCSI = map[string]struct{ tagKey, principalTag string }{
	"CreateAndCopyVolumesWithClusterTag":              {"aws:RequestTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"CopyClusterVolumes":                              {"ec2:ResourceTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"CreateSnapshotsWithClusterTag":                   {"aws:RequestTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"CreateSnapshotsFromClusterVolumes":               {"ec2:ResourceTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"ManageClusterVolumes":                            {"ec2:ResourceTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"CreateVolumesFromAndEnableFSROnClusterSnapshots": {"ec2:ResourceTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"AttachDetachVolumesToClusterInstance":            {"ec2:ResourceTag/eks:cluster-name", "eks-cluster-name"},
	"AttachDetachVolumesToManuallyTaggedInstance":     {"ec2:ResourceTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"DeleteAndLockClusterSnapshots":                   {"ec2:ResourceTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
	"ModifyTagsOnClusterVolumes":                      {"ec2:ResourceTag/ebs.csi.aws.com/cluster-name", "eks-cluster-name"},
}

// ebsCSIProblems is how the EBS CSI driver's grants differ from what the
// cluster-scoped policy needs: the managed policy alone (no grant of our
// own), every principal tag it compares with set to the cluster's name
// (else every volume action is denied), and a driver that writes
// ebs.csi.aws.com/cluster-name on its volumes (MinEBSCSIDriverVersion; the
// EKS add-on passes --k8s-tag-cluster-id). eks:cluster-name on instances
// is EKS's own tag on managed node groups' instances.
func ebsCSIProblems(res *synth.Result, cfg *config.Config) []string {
	n := kit.Namer{Prefix: cfg.Cluster.Name}
	var out []string
	role, ok := res.Find(typeRole, n.Name("ebs-csi"))
	if !ok {
		return []string{"no EBS CSI role"}
	}
	var arns []string
	for _, att := range res.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if strings.HasPrefix(att.Name, n.Name("ebs-csi")+"-") {
			arns = append(arns, fmt.Sprint(att.Plain()["policyArn"]))
		}
	}
	if !slices.Equal(arns, []string{"arn:aws:iam::aws:policy/AmazonEBSCSIDriverEKSClusterScopedPolicy"}) {
		out = append(out, fmt.Sprintf("attached %v, want AmazonEBSCSIDriverEKSClusterScopedPolicy alone", arns))
	}
	if _, inline := res.Find("aws:iam/rolePolicy:RolePolicy", n.Name("ebs-csi")); inline {
		out = append(out, "an inline policy beside the managed one")
	}
	for _, sid := range slices.Sorted(maps.Keys(upstreamEBSCSI)) {
		c := upstreamEBSCSI[sid]
		if got := path(role.Plain(), "tags", c.principalTag); got != cfg.Cluster.Name {
			out = append(out, fmt.Sprintf("%s compares %s with aws:PrincipalTag/%s, which the role has as %v (want %s)", sid, c.tagKey, c.principalTag, got, cfg.Cluster.Name))
		}
	}
	if v := cfg.Cluster.AddonVersions["aws-ebs-csi-driver"]; foundation.CompareAddonVersions(v, config.MinEBSCSIDriverVersion+"-eksbuild.1") < 0 {
		out = append(out, fmt.Sprintf("driver %s does not tag volumes with ebs.csi.aws.com/cluster-name", v))
	}
	return out
}

func TestEBSCSIDriverIsScopedToItsCluster(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		for _, p := range ebsCSIProblems(res, cfg) {
			t.Error(p)
		}
	})
	// Planted: the role without its tag, and the account-wide policy.
	res, cfg := synthesize(t, "staging"), stackConfig(t, "staging")
	n := kit.Namer{Prefix: cfg.Cluster.Name}
	planted := &synth.Result{}
	for _, r := range res.Resources {
		switch {
		case r.Type == typeRole && r.Name == n.Name("ebs-csi"):
			r.Inputs = r.Inputs.Copy()
			delete(r.Inputs, "tags")
		case r.Type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" && strings.HasPrefix(r.Name, n.Name("ebs-csi")+"-"):
			r.Inputs = r.Inputs.Copy()
			r.Inputs["policyArn"] = resource.NewStringProperty("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
		}
		planted.Resources = append(planted.Resources, r)
	}
	got := strings.Join(ebsCSIProblems(planted, cfg), "\n")
	for _, want := range []string{"want AmazonEBSCSIDriverEKSClusterScopedPolicy alone", "ManageClusterVolumes compares ec2:ResourceTag/ebs.csi.aws.com/cluster-name with aws:PrincipalTag/eks-cluster-name"} {
		if !strings.Contains(got, want) {
			t.Errorf("planted: want %q in\n%s", want, got)
		}
	}
}
