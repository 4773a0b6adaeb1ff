package tests

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

func packConfig(t *testing.T, stack string) rules.PackConfig {
	t.Helper()
	file := filepath.Join(repoRoot, "policy", "config."+stack+".json")
	pc, err := synth.LoadPolicyConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.GuardsAgree(pc, stackConfig(t, stack).Guards.Protect, file, stack); err != nil {
		t.Fatal(err)
	}
	return pc
}

// The pack config a stack is judged with agrees with its stack file's
// guards: a stack that guards its data without production's pack config
// (a new stack file with guards.protect: true and no
// policy/config.<stack>.json) is refused, naming the file and the knob.
func TestPackConfigFollowsTheGuards(t *testing.T) {
	for _, name := range stacks {
		packConfig(t, name) // fails on a disagreement
	}
	err := synth.GuardsAgree(rules.PackConfig{}, true, "policy/config.dev.json", "dev")
	want := "policy/config.dev.json: Pulumi.dev.yaml has guards.protect: true, but the policies rds-deletion-protection, rds-backup-retention, stateful-resources-protected, backup-bucket-locked have productionLike false; set each to {\"productionLike\": true} in this file, which `pulumi preview --policy-pack-config` reads"
	if err == nil || strings.Split(err.Error(), "\n")[0] != want {
		t.Errorf("a guarded stack without a pack config: want first line\n%s\ngot\n%v", want, err)
	}
	if err := synth.GuardsAgree(rules.PackConfig{}, false, "policy/config.dev.json", "dev"); err != nil {
		t.Errorf("an unguarded stack needs no pack config: %v", err)
	}
}

// advisoryJustified lists advisory findings the program accepts, each with
// its reason. It is empty: every advisory finding so far was fixed.
var advisoryJustified = map[string]string{}

func TestStacksPassThePolicyPack(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		rep, err := synth.CheckPolicies(res, packConfig(t, name))
		if err != nil {
			t.Fatal(err)
		}
		// Every policy ran and judged something: a clean report is not an
		// empty one.
		for _, p := range rep.Policies {
			if p.Level != rules.Disabled && p.Judged == 0 {
				t.Errorf("policy %s judged no resource of stack %s", p.Policy, name)
			}
		}
		for _, v := range rep.Violations {
			switch {
			case v.Level == rules.Mandatory:
				t.Errorf("mandatory %s on %s: %s", v.Policy, v.URN, v.Message)
			case advisoryJustified[v.Policy+" "+v.URN] == "":
				t.Errorf("advisory %s on %s is neither fixed nor justified: %s", v.Policy, v.URN, v.Message)
			default:
				t.Logf("advisory %s on %s (accepted: %s)", v.Policy, v.URN, advisoryJustified[v.Policy+" "+v.URN])
			}
		}
	})
}

// breakResource returns a copy of the result with one resource's inputs
// changed, as a careless edit of the program would.
func breakResource(t *testing.T, res *synth.Result, typ, name string, change func(in map[string]any)) ([]rules.Resource, string) {
	t.Helper()
	all := synth.PolicyResources(res)
	for i := range all {
		if all[i].Type == typ && all[i].Name == name {
			change(all[i].Props)
			return all, all[i].URN
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return nil, ""
}

func TestPolicyPackCatchesBrokenResources(t *testing.T) {
	res := synthesize(t, "production")
	cfg := stackConfig(t, "production")
	pc := packConfig(t, "production")
	prefix := cfg.Cluster.Name + "-"
	cases := []struct {
		name, typ, resource, policy, fix string
		change                           func(in map[string]any)
	}{
		{"public uploads bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", prefix + "uploads", "s3-no-public-access",
			"set all four to true", func(in map[string]any) { in["blockPublicPolicy"] = false; in["restrictPublicBuckets"] = false }},
		{"database without deletion protection", typeDBInstance, prefix + "postgres", "rds-deletion-protection",
			"set deletionProtection: true", func(in map[string]any) { in["deletionProtection"] = false }},
		{"public database", typeDBInstance, prefix + "postgres", "rds-not-public",
			"publiclyAccessible: false", func(in map[string]any) { in["publiclyAccessible"] = true }},
		{"plaintext Redis", typeRedis, prefix + "redis", "elasticache-encrypted",
			"transitEncryptionEnabled: true", func(in map[string]any) { in["transitEncryptionEnabled"] = false }},
		{"EKS open to the internet", typeCluster, cfg.Cluster.Name, "eks-public-endpoint-restricted",
			"publicAccessCidrs", func(in map[string]any) { in["vpcConfig"].(map[string]any)["publicAccessCidrs"] = []any{"0.0.0.0/0"} }},
		{"IMDSv1 nodes", typeLaunchTmpl, prefix + "nodes-workload", "ec2-imdsv2-required",
			"httpTokens: required", func(in map[string]any) { in["metadataOptions"].(map[string]any)["httpTokens"] = "optional" }},
		{"backend running as root", typeDeployment, "backend", "k8s-run-as-non-root",
			"runAsNonRoot: true", func(in map[string]any) {
				pod := path(in, "spec", "template", "spec").(map[string]any)
				delete(pod["securityContext"].(map[string]any), "runAsNonRoot")
				delete(path(pod["containers"].([]any)[0], "securityContext").(map[string]any), "runAsNonRoot")
			}},
		{"ConfigMap with a credential", typeConfigMap, "backend-config", "k8s-configmap-no-secrets",
			"move it to a Secret", func(in map[string]any) { in["data"].(map[string]any)["STRIPE_SECRET_KEY"] = "sk_live_x" }},
		{"backend role turned admin", typeRolePolicy, prefix + "backend", "iam-no-admin-wildcard",
			"grant the actions it needs", func(in map[string]any) {
				in["policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all, urn := breakResource(t, res, tc.typ, tc.resource, tc.change)
			vs, err := rules.Evaluate(all, pc)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, v := range vs {
				if v.Policy == tc.policy && v.URN == urn && v.Level == rules.Mandatory {
					found = true
					if !strings.Contains(v.Message, tc.resource) || !strings.Contains(v.Message, tc.fix) {
						t.Errorf("message should name %s and the fix %q: %s", tc.resource, tc.fix, v.Message)
					}
				}
			}
			if !found {
				t.Errorf("want a mandatory %s violation on %s, got %+v", tc.policy, urn, vs)
			}
		})
	}
}

// Unprotecting production's database is caught; staging may.
func TestStatefulProtectionFollowsThePackConfig(t *testing.T) {
	for stack, want := range map[string]bool{"production": true, "staging": false} {
		res := synthesize(t, stack)
		all := synth.PolicyResources(res)
		for i := range all {
			all[i].Protect = false
		}
		vs, err := rules.Evaluate(all, packConfig(t, stack))
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, v := range vs {
			if v.Policy == "stateful-resources-protected" {
				got = true
			}
		}
		if got != want {
			t.Errorf("%s: stateful-resources-protected fired=%v, want %v", stack, got, want)
		}
	}
}
