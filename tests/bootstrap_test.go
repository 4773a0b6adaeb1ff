package tests

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
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/infra/bootstrap"
	"github.com/scrolluniversity/platform/internal/stackfiles"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/internal/workflows"
)

const bootstrapRepo = "scrolluniversity/platform"

func bootstrapStack(repo string, extra ...string) *synth.Stack {
	s := &synth.Stack{Project: "scrolluniversity-bootstrap", Name: "account", Config: map[string]string{
		"scrolluniversity-bootstrap:repository": repo, "aws:region": "us-east-1",
	}}
	for i := 0; i+1 < len(extra); i += 2 {
		s.Config["scrolluniversity-bootstrap:"+extra[i]] = extra[i+1]
	}
	return s
}

func runBootstrap(t *testing.T, s *synth.Stack) *synth.Result {
	t.Helper()
	res, err := synth.RunProgram(s, bootstrap.Program(platformStacks(t, repoRoot)))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// policyStatements decodes a policy document into the bootstrap's own
// statement type.
func policyStatements(t *testing.T, doc any) []bootstrap.Statement {
	t.Helper()
	var d struct{ Statement []bootstrap.Statement }
	if err := json.Unmarshal([]byte(doc.(string)), &d); err != nil {
		t.Fatalf("policy: %v", err)
	}
	return d.Statement
}

// request is one AWS API call for the small IAM evaluator below.
type request struct {
	action, resource string
	// tags are the resource's tags (aws:ResourceTag/*), requestTags the
	// call's (aws:RequestTag/*).
	tags, requestTags map[string]string
}

// evaluate is IAM's decision for one identity: an explicit Deny wins, then
// an Allow, else the implicit deny. It understands what these policies
// use: Action/NotAction, Resource/NotResource with * and ? wildcards, and
// StringEquals on aws:ResourceTag/*, aws:RequestTag/* and kms:ViaService
// (a request names its service in via).
func evaluate(statements []bootstrap.Statement, r request, via string) string {
	glob := func(pattern, s string) bool {
		ok, _ := pathpkg.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
		return ok || pattern == "*"
	}
	any := func(patterns []string, s string) bool {
		return slices.ContainsFunc(patterns, func(p string) bool { return glob(strings.ToLower(p), strings.ToLower(s)) || glob(p, s) })
	}
	matches := func(s bootstrap.Statement) bool {
		if len(s.Action) > 0 && !any(s.Action, r.action) || len(s.NotAction) > 0 && any(s.NotAction, r.action) {
			return false
		}
		if len(s.Resource) > 0 && !any(s.Resource, r.resource) || len(s.NotResource) > 0 && any(s.NotResource, r.resource) {
			return false
		}
		for key, want := range s.Condition["StringEquals"] {
			var got string
			switch {
			case strings.HasPrefix(key, "aws:ResourceTag/"):
				got = r.tags[strings.TrimPrefix(key, "aws:ResourceTag/")]
			case strings.HasPrefix(key, "aws:RequestTag/"):
				got = r.requestTags[strings.TrimPrefix(key, "aws:RequestTag/")]
			case key == "kms:ViaService":
				got = via
			}
			if got == "" || !slices.Contains(stringOrList(want), got) {
				return false
			}
		}
		return true
	}
	allowed := false
	for _, s := range statements {
		if !matches(s) {
			continue
		}
		if s.Effect == "Deny" {
			return "deny"
		}
		allowed = true
	}
	if allowed {
		return "allow"
	}
	return "implicit deny"
}

// managed stands in for the AWS managed policies the roles attach, as far
// as these requests go: AdministratorAccess allows everything;
// ReadOnlyAccess's statements for the services asked about (its document,
// as the delivery review quotes it: s3:Get*, ssm:Get*, logs:Get*,
// logs:FilterLogEvents, kms:Describe*/Get*/List*, ...; no kms:Decrypt, no
// writes).
var managed = map[string][]bootstrap.Statement{
	"AdministratorAccess": {{Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}}},
	"ReadOnlyAccess": {{Effect: "Allow", Resource: []string{"*"}, Action: []string{
		"s3:Get*", "s3:List*", "ssm:Get*", "ssm:Describe*", "logs:Get*", "logs:FilterLogEvents", "logs:StartQuery", "logs:Describe*",
		"kms:Describe*", "kms:Get*", "kms:List*", "ec2:Describe*", "ec2:GetConsoleOutput", "eks:Describe*", "eks:List*", "iam:Get*", "iam:List*",
		"rds:Describe*", "rds:Download*", "pi:*", "lambda:Get*", "secretsmanager:Describe*", "secretsmanager:List*",
	}}},
}

// identity is a role's whole policy: its managed policy and inline one.
func identity(t *testing.T, res *synth.Result, role string) []bootstrap.Statement {
	t.Helper()
	var out []bootstrap.Statement
	for _, a := range res.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if p := a.Plain(); p["role"] == role {
			arn := p["policyArn"].(string)
			m, ok := managed[arn[strings.LastIndex(arn, "/")+1:]]
			if !ok {
				t.Fatalf("%s attaches %s, which the evaluator does not know", role, arn)
			}
			out = append(out, m...)
		}
	}
	return append(out, policyStatements(t, one(t, res, typeRolePolicy, role).Plain()["policy"])...)
}

func keyArn(t *testing.T, res *synth.Result, name string) string {
	t.Helper()
	return one(t, res, "aws:kms/key:Key", name).State["arn"].StringValue()
}

// The roles under the mock engine: fixed names, exact subjects, four-hour
// sessions; and what each may and may not do, decided by evaluating its
// policies against the calls that matter.
func TestBootstrapRoles(t *testing.T) {
	res := runBootstrap(t, bootstrapStack(bootstrapRepo))
	state := "arn:aws:s3:::scrolluniversity-pulumi-state-" + synth.MockAccountID
	checkpoint := func(env string) string { return state + "/.pulumi/stacks/scrolluniversity/" + env + ".json" }
	lock := func(env string) string {
		return state + "/.pulumi/locks/organization/scrolluniversity/" + env + "/x.json"
	}
	secrets := map[string]string{"staging": keyArn(t, res, "scrolluniversity-pulumi-secrets-staging"), "production": keyArn(t, res, "scrolluniversity-pulumi-secrets-production")}
	stateKey := keyArn(t, res, "scrolluniversity-pulumi-state")

	for _, r := range bootstrap.Roles(bootstrapRepo, "scrolluniversity", platformStacks(t, repoRoot)) {
		p := one(t, res, typeRole, r.Name).Plain()
		if p["name"] != r.Name || p["maxSessionDuration"] != int64(bootstrap.MaxSessionSeconds) {
			t.Errorf("%s: name %v, max session %v; want the fixed name and %d s", r.Name, p["name"], p["maxSessionDuration"], bootstrap.MaxSessionSeconds)
		}
		trust := policyStatements(t, p["assumeRolePolicy"])
		if len(trust) != 1 || !slices.Equal(trust[0].Action, []string{"sts:AssumeRoleWithWebIdentity"}) ||
			trust[0].Principal["Federated"] != "arn:aws:iam::"+synth.MockAccountID+":oidc-provider/token.actions.githubusercontent.com" {
			t.Fatalf("%s: trust %+v", r.Name, trust)
		}
		eq := trust[0].Condition["StringEquals"]
		if eq["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" || !slices.Equal(stringOrList(eq["token.actions.githubusercontent.com:sub"]), r.Subjects) || len(trust[0].Condition) != 1 {
			t.Errorf("%s: trust conditions %v, want aud sts.amazonaws.com and exactly %v", r.Name, trust[0].Condition, r.Subjects)
		}
	}
	// The guarded stack's pull-request previews go through its reviewed
	// environment; the unguarded one's do not.
	for _, r := range bootstrap.Roles(bootstrapRepo, "scrolluniversity", platformStacks(t, repoRoot)) {
		want := map[string][]string{
			"scrolluniversity-production-preview": {"repo:scrolluniversity/platform:environment:production-preview", "repo:scrolluniversity/platform:ref:refs/heads/main"},
			"scrolluniversity-staging-preview":    {"repo:scrolluniversity/platform:pull_request", "repo:scrolluniversity/platform:ref:refs/heads/main"},
		}[r.Name]
		if want != nil && !slices.Equal(r.Subjects, want) {
			t.Errorf("%s trusts %v, want %v", r.Name, r.Subjects, want)
		}
	}

	type call struct {
		role string
		req  request
		via  string
		want string
	}
	prodTagged := map[string]string{"Environment": "production"}
	calls := []call{
		// Each deploy role: its own state and secrets, none of the other's.
		{"scrolluniversity-staging-deploy", request{action: "s3:PutObject", resource: checkpoint("staging")}, "", "allow"},
		{"scrolluniversity-staging-deploy", request{action: "s3:PutObject", resource: checkpoint("production")}, "", "deny"},
		{"scrolluniversity-staging-deploy", request{action: "s3:DeleteObject", resource: lock("production")}, "", "deny"},
		{"scrolluniversity-staging-deploy", request{action: "kms:Decrypt", resource: secrets["staging"]}, "", "allow"},
		{"scrolluniversity-staging-deploy", request{action: "kms:Decrypt", resource: secrets["production"]}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "kms:Decrypt", resource: secrets["staging"]}, "", "deny"},
		// Nothing tagged as the other environment, nor creating it.
		{"scrolluniversity-staging-deploy", request{action: "rds:DeleteDBInstance", resource: "arn:aws:rds:us-east-1:1:db:prod", tags: prodTagged}, "", "deny"},
		{"scrolluniversity-staging-deploy", request{action: "ec2:RunInstances", resource: "*", requestTags: prodTagged}, "", "deny"},
		{"scrolluniversity-staging-deploy", request{action: "rds:DeleteDBInstance", resource: "arn:aws:rds:us-east-1:1:db:staging", tags: map[string]string{"Environment": "staging"}}, "", "allow"},
		{"scrolluniversity-production-deploy", request{action: "rds:DeleteDBInstance", resource: "arn:aws:rds:us-east-1:1:db:prod", tags: prodTagged}, "", "allow"},
		// The bootstrap's own identity, state bucket, keys and runners.
		{"scrolluniversity-staging-deploy", request{action: "iam:UpdateAssumeRolePolicy", resource: "arn:aws:iam::" + synth.MockAccountID + ":role/scrolluniversity-production-deploy"}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "iam:AttachRolePolicy", resource: "arn:aws:iam::" + synth.MockAccountID + ":role/scrolluniversity-production-deploy"}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "iam:CreateRole", resource: "arn:aws:iam::" + synth.MockAccountID + ":role/scrolluniversity-production-backend-1a2b3c4"}, "", "allow"},
		{"scrolluniversity-production-deploy", request{action: "s3:PutBucketPolicy", resource: state}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "s3:PutObject", resource: state + "/bootstrap/account.json"}, "", "deny"},
		{"scrolluniversity-production-preview", request{action: "s3:GetObject", resource: state + "/bootstrap/account.json"}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "s3:DeleteObjectVersion", resource: checkpoint("production")}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "kms:ScheduleKeyDeletion", resource: secrets["production"]}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "ec2:TerminateInstances", resource: "*", tags: map[string]string{"Environment": "bootstrap"}}, "", "deny"},
		{"scrolluniversity-production-deploy", request{action: "s3:BypassGovernanceRetention", resource: "arn:aws:s3:::scrolluniversity-production-backups/x"}, "", "deny"},
		// Each preview role: reads its own state and secrets, nothing of
		// the other's, no data, no writes.
		{"scrolluniversity-staging-preview", request{action: "s3:GetObject", resource: checkpoint("staging")}, "", "allow"},
		{"scrolluniversity-staging-preview", request{action: "s3:GetObject", resource: state + "/.pulumi/meta.yaml"}, "", "allow"},
		{"scrolluniversity-staging-preview", request{action: "s3:GetObject", resource: checkpoint("production")}, "", "deny"},
		{"scrolluniversity-staging-preview", request{action: "s3:PutObject", resource: checkpoint("staging")}, "", "implicit deny"},
		{"scrolluniversity-staging-preview", request{action: "kms:Decrypt", resource: secrets["staging"]}, "", "allow"},
		{"scrolluniversity-staging-preview", request{action: "kms:Decrypt", resource: secrets["production"]}, "", "implicit deny"},
		{"scrolluniversity-staging-preview", request{action: "kms:Decrypt", resource: stateKey}, "s3.us-east-1.amazonaws.com", "allow"},
		{"scrolluniversity-staging-preview", request{action: "kms:Decrypt", resource: stateKey}, "", "implicit deny"},
		{"scrolluniversity-production-preview", request{action: "kms:Decrypt", resource: secrets["production"]}, "", "allow"},
		{"scrolluniversity-staging-preview", request{action: "logs:FilterLogEvents", resource: "arn:aws:logs:us-east-1:1:log-group:/aws/rds/instance/x/postgresql"}, "", "deny"},
		{"scrolluniversity-staging-preview", request{action: "s3:GetObject", resource: "arn:aws:s3:::scrolluniversity-production-backups/db.dump"}, "", "deny"},
		{"scrolluniversity-staging-preview", request{action: "rds:DownloadDBLogFilePortion", resource: "arn:aws:rds:us-east-1:1:db:x"}, "", "deny"},
		{"scrolluniversity-staging-preview", request{action: "pi:GetResourceMetrics", resource: "*"}, "", "deny"},
		{"scrolluniversity-staging-preview", request{action: "ec2:GetConsoleOutput", resource: "*"}, "", "deny"},
		// What a preview must read still reads: the runners' egress, the
		// public AMI parameters, the resources' configuration.
		{"scrolluniversity-staging-preview", request{action: "ssm:GetParameter", resource: "arn:aws:ssm:us-east-1:" + synth.MockAccountID + ":parameter/scrolluniversity/delivery/runner-egress-cidrs"}, "", "allow"},
		{"scrolluniversity-staging-preview", request{action: "ssm:GetParameter", resource: "arn:aws:ssm:us-east-1::parameter/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/x86_64/standard/recommended/release_version"}, "", "allow"},
		{"scrolluniversity-staging-preview", request{action: "ssm:GetParameter", resource: "arn:aws:ssm:us-east-1:" + synth.MockAccountID + ":parameter/app/secret"}, "", "deny"},
		{"scrolluniversity-staging-preview", request{action: "eks:DescribeCluster", resource: "arn:aws:eks:us-east-1:1:cluster/scrolluniversity-staging"}, "", "allow"},
		{"scrolluniversity-staging-preview", request{action: "iam:GetRolePolicy", resource: "*"}, "", "allow"},
	}
	policies := map[string][]bootstrap.Statement{}
	for _, c := range calls {
		if policies[c.role] == nil {
			policies[c.role] = identity(t, res, c.role)
		}
		if got := evaluate(policies[c.role], c.req, c.via); got != c.want {
			t.Errorf("%s %s on %s (tags %v %v): %s, want %s", c.role, c.req.action, c.req.resource, c.req.tags, c.req.requestTags, got, c.want)
		}
	}

	// Outputs: a secrets provider per stack, and the repository variables
	// the workflows read, every one set.
	asMap := func(v any) map[string]any {
		out := map[string]any{}
		switch m := v.(type) {
		case map[string]any:
			return m
		case map[string]string:
			for k, x := range m {
				out[k] = x
			}
		default:
			t.Fatalf("output is %T", v)
		}
		return out
	}
	providers := asMap(res.Outputs["secretsProviders"].Value)
	for _, env := range stackfiles.Names(repoRoot) {
		if providers[env] != "awskms://alias/scrolluniversity-pulumi-secrets-"+env+"?region=us-east-1" {
			t.Errorf("secretsProviders[%s] = %v", env, providers[env])
		}
	}
	vars := asMap(res.Outputs["githubVariables"].Value)
	// The roles' ARNs are in the stack files, where the workflows read
	// them (cmd/stacks): one variable is left.
	want := []string{"PULUMI_BACKEND_URL"}
	if got := slices.Sorted(maps.Keys(vars)); !slices.Equal(got, want) {
		t.Errorf("githubVariables: %v, want %v", got, want)
	}
	// Every role's ARN, by name, as the stack files must give it.
	roles := asMap(res.Outputs["roles"].Value)
	for _, st := range platformStacks(t, repoRoot) {
		for _, arn := range []string{st.DeployRole, st.PreviewRole} {
			name := arn[strings.LastIndex(arn, "/")+1:]
			if roles[name] != "arn:aws:iam::"+synth.MockAccountID+":role/"+name {
				t.Errorf("roles[%s] = %v; the stack file %s expects it", name, roles[name], st.Stack)
			}
		}
	}
}

// The delivery runners: ephemeral instances in private subnets behind one
// NAT gateway, whose address the bootstrap publishes for the clusters;
// IMDSv2 only, HTTPS out and nothing in, an instance role that reads the
// registration secret and nothing else.
func TestBootstrapRunners(t *testing.T) {
	res := runBootstrap(t, bootstrapStack(bootstrapRepo))
	group := one(t, res, "aws:autoscaling/group:Group", "scrolluniversity-delivery-runners").Plain()
	if group["minSize"] != int64(2) || group["maxSize"] != int64(2) || group["desiredCapacity"] != int64(2) || len(strs(group["vpcZoneIdentifiers"])) != 2 {
		t.Errorf("runner group: %v", group)
	}
	lt := one(t, res, "aws:ec2/launchTemplate:LaunchTemplate", "scrolluniversity-delivery-runner").Plain()
	if path(lt, "metadataOptions", "httpTokens") != "required" || path(lt, "metadataOptions", "httpPutResponseHopLimit") != int64(1) || lt["instanceInitiatedShutdownBehavior"] != "terminate" {
		t.Errorf("launch template: IMDSv2 with hop limit 1 and terminate on shutdown; got %v, %v", lt["metadataOptions"], lt["instanceInitiatedShutdownBehavior"])
	}
	if lt["imageId"] != "ami-0mockal2023" {
		t.Errorf("image %v, want the AL2023 AMI from its public parameter", lt["imageId"])
	}
	sg := one(t, res, "aws:ec2/securityGroup:SecurityGroup", "scrolluniversity-delivery-runner").Plain()
	if sg["ingress"] != nil && len(sg["ingress"].([]any)) > 0 {
		t.Errorf("runners accept connections: %v", sg["ingress"])
	}
	egress, _ := sg["egress"].([]any)
	if len(egress) != 1 || path(egress[0], "fromPort") != int64(443) || path(egress[0], "toPort") != int64(443) {
		t.Errorf("runner egress %v, want HTTPS only", egress)
	}
	param := one(t, res, "aws:ssm/parameter:Parameter", "scrolluniversity-runner-egress").Plain()
	if param["name"] != bootstrap.RunnerEgressParameter("scrolluniversity") || param["value"] != synth.MockRunnerEgress+"/32" || param["type"] != "StringList" {
		t.Errorf("egress parameter %v, want the NAT gateway's address", param)
	}
	if bootstrap.RunnerEgressParameter("scrolluniversity") != "/scrolluniversity/delivery/runner-egress-cidrs" {
		t.Error("the stacks' default cluster.runnerEgressParameter is not the bootstrap's")
	}
	inline := policyStatements(t, one(t, res, typeRolePolicy, "scrolluniversity-runner-registration").Plain()["policy"])
	if len(inline) != 1 || !slices.Equal(inline[0].Action, []string{"secretsmanager:GetSecretValue"}) || len(inline[0].Resource) != 1 || !strings.Contains(inline[0].Resource[0], ":secret") {
		t.Errorf("runner instance role may %+v, want GetSecretValue on its secret only", inline)
	}
	if n := len(res.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")); n != 4 {
		t.Errorf("%d managed policy attachments, want one per deploy and preview role (the runner role has none)", n)
	}
}

// An account that already trusts GitHub reuses its provider (IAM allows
// one per issuer); a wrong ARN or a provider without STS's audience is
// refused by name.
func TestBootstrapReusesTheGitHubProvider(t *testing.T) {
	existing := "arn:aws:iam::" + synth.MockAccountID + ":oidc-provider/token.actions.githubusercontent.com"
	s := bootstrapStack(bootstrapRepo, "githubOidcProviderArn", existing)
	s.World = synth.DefaultWorld()
	s.World.OIDCProviders[existing] = []string{"sts.amazonaws.com"}
	res := runBootstrap(t, s)
	if n := len(res.ByType("aws:iam/openIdConnectProvider:OpenIdConnectProvider")); n != 0 {
		t.Errorf("%d providers created, want the existing one reused", n)
	}
	trust := policyStatements(t, one(t, res, typeRole, "scrolluniversity-staging-deploy").Plain()["assumeRolePolicy"])
	if trust[0].Principal["Federated"] != existing {
		t.Errorf("trust names %v, want %s", trust[0].Principal, existing)
	}

	s.World.OIDCProviders[existing] = []string{"sigstore"}
	if _, err := synth.RunProgram(s, bootstrap.Program(platformStacks(t, repoRoot))); err == nil || !strings.Contains(err.Error(), "githubOidcProviderArn") || !strings.Contains(err.Error(), "lack sts.amazonaws.com") {
		t.Errorf("a provider without STS's audience: got %v", err)
	}
	delete(s.World.OIDCProviders, existing)
	if _, err := synth.RunProgram(s, bootstrap.Program(platformStacks(t, repoRoot))); err == nil || !strings.Contains(err.Error(), existing) {
		t.Errorf("a provider that does not exist: got %v", err)
	}

	res = runBootstrap(t, bootstrapStack(bootstrapRepo))
	if n := len(res.ByType("aws:iam/openIdConnectProvider:OpenIdConnectProvider")); n != 1 {
		t.Errorf("%d providers created without githubOidcProviderArn, want 1", n)
	}
}

// An account of its own for production: only production's roles and key,
// and no guard statements about an environment that is not there.
func TestBootstrapOneEnvironmentPerAccount(t *testing.T) {
	res := runBootstrap(t, bootstrapStack(bootstrapRepo, "environments", `["production"]`))
	if _, ok := res.Find(typeRole, "scrolluniversity-staging-deploy"); ok {
		t.Error("staging's role in production's account")
	}
	for _, s := range policyStatements(t, one(t, res, typeRolePolicy, "scrolluniversity-production-deploy").Plain()["policy"]) {
		if strings.HasPrefix(s.Sid, "NoOther") {
			t.Errorf("guard %s in an account with one environment", s.Sid)
		}
	}
}

func TestBootstrapRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		stack *synth.Stack
		want  string
	}{
		{bootstrapStack("platform"), `scrolluniversity-bootstrap:repository = "platform": want the GitHub repository as owner/name`},
		{bootstrapStack(bootstrapRepo, "environments", `["staging", "qa"]`), `environments[1] = "qa"`},
		{bootstrapStack(bootstrapRepo, "runnerCount", "0"), `scrolluniversity-bootstrap:runnerCount = "0": want a whole number from 1 to 10`},
		{bootstrapStack(bootstrapRepo, "runnerCidr", "10.254.0.0/16"), `scrolluniversity-bootstrap:runnerCidr = "10.254.0.0/16": want a /24`},
		{bootstrapStack(bootstrapRepo, "runnerZones", `["us-east-1a", "eu-west-1b"]`), `scrolluniversity-bootstrap:runnerZones = [us-east-1a eu-west-1b]`},
		{bootstrapStack(bootstrapRepo, "runnerSha256", "abc"), `scrolluniversity-bootstrap:runnerSha256 = "abc"`},
		{bootstrapStack(bootstrapRepo, "githubOidcProviderArn", "arn:aws:iam::1:oidc-provider/gitlab.com"), `githubOidcProviderArn = "arn:aws:iam::1:oidc-provider/gitlab.com"`},
	} {
		res, err := synth.RunProgram(tc.stack, bootstrap.Program(platformStacks(t, repoRoot)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error containing %q, got %v", tc.want, err)
		}
		if len(res.Resources) != 0 {
			t.Errorf("%d resources registered before the config error", len(res.Resources))
		}
	}
}

// The runners' boot script (shellchecked by .ci/run), run with stand-ins for what a fresh instance
// has (dnf, the AWS CLI, GitHub's API and downloads, runuser, nft,
// poweroff): it verifies the runner's checksum before running any of it,
// registers for one job with a registration token (never the stored
// credential), and powers off afterwards or on failure.
func TestRunnerSetupScript(t *testing.T) {
	type run struct {
		log, config string
		err         error
	}
	start := func(t *testing.T, checksum string, registration string) run {
		t.Helper()
		dir := t.TempDir()
		bin := filepath.Join(dir, "bin")
		pkg := filepath.Join(dir, "pkg")
		for _, d := range []string{bin, pkg} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		log := filepath.Join(dir, "log")
		stub := func(name, body string) {
			if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/usr/bin/env bash\nset -eu\n"+body+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// The runner archive: config.sh and run.sh that record their use.
		for _, f := range []string{"config.sh", "run.sh"} {
			os.WriteFile(filepath.Join(pkg, f), []byte("#!/usr/bin/env bash\necho \""+f+" $*\" >> "+log+"\n"), 0o755)
		}
		archive := filepath.Join(dir, "runner.tar.gz")
		if out, err := exec.Command("tar", "-czf", archive, "-C", pkg, ".").CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		sum, _ := exec.Command("sha256sum", archive).Output()
		real := strings.Fields(string(sum))[0]
		if checksum == "" {
			checksum = real
		}
		stub("aws", `echo "aws $*" >> `+log+`; echo stored-credential`)
		stub("curl", `echo "curl $*" >> `+log+`
out=""; url=""
while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift 2;; -H|-X) shift 2;; -*) shift;; *) url=$1; shift;; esac; done
case "$url" in
  */releases/download/*) cp `+archive+` "$out";;
  */registration-token) echo '{"token": "`+registration+`"}';;
  */releases/tags/*) printf '{"body": "- actions-runner-linux-x64-2.336.0.tar.gz <!-- BEGIN SHA linux-x64 -->%s<!-- END SHA linux-x64 -->"}' `+checksum+`;;
  *) exit 22;;
esac`)
		stub("runuser", `echo "runuser $*" >> `+log+`; shift 3; "$@"`)
		for _, c := range []string{"dnf", "nft", "poweroff", "useradd", "chown"} {
			stub(c, `echo "`+c+` $*" >> `+log)
		}
		cmd := exec.Command("bash", "-c", bootstrap.RunnerSetup())
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"),
			"REPOSITORY=scrolluniversity/platform", "RUNNER_VERSION=2.336.0", "LABELS="+bootstrap.RunnerLabel,
			"TOKEN_SECRET=scrolluniversity-delivery-github-runner-registration", "REGION=us-east-1",
			"RUNNER_ROOT="+filepath.Join(dir, "runner"), "RUNNER_USER=root", "INSTANCE_ID=i-0abc",
			"GITHUB_API=https://api.github.test", "GITHUB_URL=https://github.test", "FAIL_PAUSE=0")
		out, err := cmd.CombinedOutput()
		b, _ := os.ReadFile(log)
		return run{log: string(b) + string(out), err: err}
	}

	ok := start(t, "", "AREGTOKEN")
	if ok.err != nil {
		t.Fatalf("boot failed: %v\n%s", ok.err, ok.log)
	}
	for _, want := range []string{
		"aws secretsmanager get-secret-value --region us-east-1 --secret-id scrolluniversity-delivery-github-runner-registration",
		"Authorization: Bearer stored-credential",
		"nft add rule inet runner out meta skuid root ip daddr 169.254.169.254 reject",
		"config.sh --unattended --ephemeral --replace --url https://github.test/scrolluniversity/platform --token AREGTOKEN --name i-0abc --labels " + bootstrap.RunnerLabel,
		"run.sh",
		"poweroff",
	} {
		if !strings.Contains(ok.log, want) {
			t.Errorf("boot log lacks %q:\n%s", want, ok.log)
		}
	}
	if i, j := strings.Index(ok.log, "nft add rule"), strings.Index(ok.log, "config.sh"); i < 0 || j < i {
		t.Error("the job user reaches the metadata service before the rule is in place")
	}
	if strings.Contains(ok.log[strings.Index(ok.log, "config.sh"):], "stored-credential") {
		t.Error("the stored credential reached the runner")
	}

	bad := start(t, strings.Repeat("0", 64), "AREGTOKEN")
	if bad.err == nil || strings.Contains(bad.log, "config.sh") || !strings.Contains(bad.log, "poweroff") {
		t.Errorf("a wrong checksum: want a failure before any runner code runs and a power-off, got %v\n%s", bad.err, bad.log)
	}
	none := start(t, "", "null")
	if none.err == nil || strings.Contains(none.log, "config.sh") || !strings.Contains(none.log, "no registration token") {
		t.Errorf("no registration token: want a failure naming it, got %v\n%s", none.err, none.log)
	}
}

// The workflows against the trust policies the bootstrap really registers:
// from each workflow file's triggers and environments, the subject each
// job's token carries (internal/workflows) must be trusted by the role it
// assumes, and every trusted subject must belong to a job of that role;
// every variable the workflows read is one the bootstrap outputs; the
// cluster jobs run on the label the runners register with. A planted
// mismatch (drift's old pull-request-only trust) fails.
func TestWorkflowSubjectsMatchBootstrapTrust(t *testing.T) {
	res := runBootstrap(t, bootstrapStack(bootstrapRepo))
	var roles []workflows.Role
	for _, r := range bootstrap.Roles(bootstrapRepo, "scrolluniversity", platformStacks(t, repoRoot)) {
		trust := policyStatements(t, one(t, res, typeRole, r.Name).Plain()["assumeRolePolicy"])
		roles = append(roles, workflows.Role{Name: r.Name, Environment: r.Environment, Deploy: r.Deploy,
			Subjects: stringOrList(trust[0].Condition["StringEquals"]["token.actions.githubusercontent.com:sub"])})
	}
	repo, err := workflows.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	instances, err := repo.Instances()
	if err != nil {
		t.Fatal(err)
	}
	if problems := workflows.CheckIdentity(instances, roles, bootstrapRepo); len(problems) > 0 {
		t.Errorf("workflows against the bootstrap's trust:\n%s", strings.Join(problems, "\n"))
	}
	planted := slices.Clone(roles)
	i := slices.IndexFunc(planted, func(r workflows.Role) bool { return r.Name == "scrolluniversity-staging-preview" })
	planted[i].Subjects = []string{"repo:" + bootstrapRepo + ":pull_request"}
	if problems := workflows.CheckIdentity(instances, planted, bootstrapRepo); !slices.ContainsFunc(problems, func(p string) bool {
		return strings.Contains(p, "drift.yml/drift[matrix.stack=staging]: its token says repo:scrolluniversity/platform:ref:refs/heads/main, which scrolluniversity-staging-preview does not trust")
	}) {
		t.Errorf("a planted trust mismatch passed: %v", problems)
	}

	outputs := map[string]bool{}
	for k := range res.Outputs["githubVariables"].Value.(map[string]string) {
		outputs[k] = true
	}
	varRE := regexp.MustCompile(`vars\.([A-Z0-9_]+)`)
	files, _ := filepath.Glob("../.github/workflows/*.yml")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range varRE.FindAllStringSubmatch(string(b), -1) {
			if !outputs[m[1]] {
				t.Errorf("%s reads vars.%s, which the bootstrap's githubVariables does not set", filepath.Base(f), m[1])
			}
		}
	}
	if workflows.DeliveryLabel != bootstrap.RunnerLabel {
		t.Errorf("the workflows run on %s, the runners register as %s", workflows.DeliveryLabel, bootstrap.RunnerLabel)
	}
}

// The bootstrap gives every stack file its deploy and preview roles and
// its secrets provider, from the stack files themselves: a new one is
// covered with no list to edit (TestANewStackFileIsCoveredAsItIs runs this
// on a copy with one added).
func TestBootstrapKnowsEveryStack(t *testing.T) {
	res, err := synth.RunProgram(bootstrapStack(bootstrapRepo), bootstrap.Program(platformStacks(t, stacksRoot)))
	if err != nil {
		t.Fatal(err)
	}
	providers := fmt.Sprint(res.Outputs["secretsProviders"].Value)
	for _, s := range stacks {
		for _, role := range []string{"scrolluniversity-" + s + "-deploy", "scrolluniversity-" + s + "-preview"} {
			if _, ok := res.Find(typeRole, role); !ok {
				t.Errorf("stack %s (Pulumi.%s.yaml): the bootstrap makes no role %s", s, s, role)
			}
		}
		if !strings.Contains(providers, s+":awskms://alias/scrolluniversity-pulumi-secrets-"+s+"?") {
			t.Errorf("stack %s: the bootstrap gives it no secrets provider (outputs %v)", s, providers)
		}
	}
	// A stack file whose roles are not the bootstrap's is refused, naming it.
	bad := platformStacks(t, repoRoot)
	bad[0].DeployRole = "arn:aws:iam::123456789012:role/someone-else"
	if _, err := synth.RunProgram(bootstrapStack(bootstrapRepo), bootstrap.Program(bad)); err == nil || !strings.Contains(err.Error(), "Pulumi."+bad[0].Stack+".yaml's scrolluniversity:cluster.deployerRoleArn has arn:aws:iam::123456789012:role/someone-else, not the role scrolluniversity-"+bad[0].Stack+"-deploy this makes") {
		t.Errorf("want the mismatched role refused by name, got %v", err)
	}
}

// platformStacks reads the stack files of dir as the bootstrap does.
func platformStacks(t *testing.T, dir string) []stackfiles.Stack {
	t.Helper()
	s, err := stackfiles.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
