// Package bootstrap is the small second Pulumi program (bootstrap/) that
// someone with administrator credentials runs once per account before the
// platform's first `pulumi up`: the S3 state backend (versioned, SSE-KMS,
// TLS-only, access logged), one KMS key per stack for its secrets, the
// GitHub OIDC provider (or the account's existing one), a deploy and a
// preview role per environment (identity.go), and the delivery runners the
// cluster jobs run on, with the egress address the clusters allow
// (runner.go).
package bootstrap

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/scrolluniversity/platform/infra/kit"
	"github.com/scrolluniversity/platform/internal/stackfiles"
)

// GitHub's OIDC issuer and the audience its tokens carry for AWS.
const (
	githubIssuer   = "token.actions.githubusercontent.com"
	githubAudience = "sts.amazonaws.com"
)

var (
	repoRE        = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	oidcArnRE     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$`)
	runnerVerRE   = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	sha256RE      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	cidr24RE      = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0/24$`)
	instanceRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$`)
	defaultRunner = Config{RunnerVersion: "2.336.0", RunnerInstanceType: "m7i.large", RunnerCount: 2, RunnerDiskGiB: 60, RunnerCidr: "10.254.0.0/24"}
)

// Config is the bootstrap stack's configuration (bootstrap/Pulumi.yaml
// documents each key and its default).
type Config struct {
	// Repository is the GitHub repository, "owner/name".
	Repository string
	// Name prefixes every resource ("scrolluniversity").
	Name string
	// Project is the platform's Pulumi project, whose stacks' state paths
	// the roles are scoped to ("scrolluniversity").
	Project string
	// Region is aws:region.
	Region string
	// Environments are the platform stacks this account holds (default
	// every stack file's; one per account when production has an account
	// of its own), each a GitHub environment of the same name
	// (deployments from main only; production with required reviewers).
	Environments []string
	// Stacks are the stack files of the Environments.
	Stacks []stackfiles.Stack
	// GithubOidcProviderArn reuses the account's GitHub OIDC provider
	// (IAM allows one per issuer); empty creates it.
	GithubOidcProviderArn string
	// RunnerVersion pins the GitHub Actions runner; RunnerSha256 its
	// linux-x64 archive's checksum (empty: the one its release notes
	// publish).
	RunnerVersion, RunnerSha256 string
	// RunnerInstanceType, RunnerCount (waiting runners), RunnerDiskGiB and
	// RunnerCidr (the delivery VPC, a /24) size the delivery runners;
	// RunnerZones are two availability zones of the region.
	RunnerInstanceType string
	RunnerCount        int
	RunnerDiskGiB      int
	RunnerCidr         string
	RunnerZones        []string
}

// Load reads and checks the config before anything is registered, against
// the platform's stack files; every problem names its key and value.
func Load(ctx *pulumi.Context, stacks []stackfiles.Stack) (Config, error) {
	c := pulumiconfig.New(ctx, "")
	key := func(k string) string { return ctx.Project() + ":" + k }
	cfg := defaultRunner
	cfg.Repository, cfg.Name, cfg.Project = c.Get("repository"), c.Get("name"), c.Get("project")
	cfg.Region = pulumiconfig.New(ctx, "aws").Get("region")
	cfg.GithubOidcProviderArn, cfg.RunnerSha256 = c.Get("githubOidcProviderArn"), c.Get("runnerSha256")
	if v := c.Get("runnerVersion"); v != "" {
		cfg.RunnerVersion = v
	}
	if v := c.Get("runnerInstanceType"); v != "" {
		cfg.RunnerInstanceType = v
	}
	if v := c.Get("runnerCidr"); v != "" {
		cfg.RunnerCidr = v
	}
	var problems []string
	bad := func(k string, v any, why string) {
		problems = append(problems, fmt.Sprintf("config %s = %v: %s", k, v, why))
	}
	for _, k := range []struct {
		name string
		into *int
		min  int
		max  int
	}{{"runnerCount", &cfg.RunnerCount, 1, 10}, {"runnerDiskGiB", &cfg.RunnerDiskGiB, 30, 500}} {
		if raw := c.Get(k.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < k.min || n > k.max {
				bad(key(k.name), strconv.Quote(raw), fmt.Sprintf("want a whole number from %d to %d", k.min, k.max))
				continue
			}
			*k.into = n
		}
	}
	if err := c.TryObject("environments", &cfg.Environments); err != nil && c.Get("environments") != "" {
		bad(key("environments"), c.Get("environments"), "want a list such as [staging, production]")
	}
	if len(cfg.Environments) == 0 {
		for _, s := range stacks {
			cfg.Environments = append(cfg.Environments, s.Stack)
		}
	}
	if err := c.TryObject("runnerZones", &cfg.RunnerZones); err != nil && c.Get("runnerZones") != "" {
		bad(key("runnerZones"), c.Get("runnerZones"), "want a list of two availability zones")
	}
	if cfg.Name == "" {
		cfg.Name = "scrolluniversity"
	}
	if cfg.Project == "" {
		cfg.Project = "scrolluniversity"
	}
	if !repoRE.MatchString(cfg.Repository) {
		bad(key("repository"), strconv.Quote(cfg.Repository), "want the GitHub repository as owner/name")
	}
	if cfg.Region == "" {
		bad("aws:region", `""`, "not set")
	}
	if len(cfg.RunnerZones) == 0 && cfg.Region != "" {
		cfg.RunnerZones = []string{cfg.Region + "a", cfg.Region + "b"}
	}
	if len(cfg.RunnerZones) != 2 || !strings.HasPrefix(cfg.RunnerZones[0], cfg.Region) || !strings.HasPrefix(cfg.RunnerZones[1], cfg.Region) || cfg.RunnerZones[0] == cfg.RunnerZones[1] {
		bad(key("runnerZones"), cfg.RunnerZones, "want two different availability zones of "+cfg.Region)
	}
	if err := validEnvironments(cfg.Environments, stacks); err != nil {
		bad(key("environments"), cfg.Environments, err.Error())
	}
	for _, s := range stacks {
		if !slices.Contains(cfg.Environments, s.Stack) {
			continue
		}
		cfg.Stacks = append(cfg.Stacks, s)
		// The stack file names the roles before they exist; they must be
		// the ones made here.
		for _, r := range []struct{ arn, name, key string }{{s.DeployRole, cfg.Name + "-" + s.Stack + "-deploy", "deployerRoleArn"}, {s.PreviewRole, cfg.Name + "-" + s.Stack + "-preview", "viewerRoleArns"}} {
			if !strings.HasSuffix(r.arn, ":role/"+r.name) {
				bad(key("name"), strconv.Quote(cfg.Name), fmt.Sprintf("Pulumi.%s.yaml's scrolluniversity:cluster.%s has %s, not the role %s this makes", s.Stack, r.key, r.arn, r.name))
			}
		}
	}
	if cfg.GithubOidcProviderArn != "" && !oidcArnRE.MatchString(cfg.GithubOidcProviderArn) {
		bad(key("githubOidcProviderArn"), strconv.Quote(cfg.GithubOidcProviderArn), "want the existing provider's ARN, arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com (aws iam list-open-id-connect-providers)")
	}
	if !runnerVerRE.MatchString(cfg.RunnerVersion) {
		bad(key("runnerVersion"), strconv.Quote(cfg.RunnerVersion), "want a GitHub Actions runner release such as 2.336.0")
	}
	if cfg.RunnerSha256 != "" && !sha256RE.MatchString(cfg.RunnerSha256) {
		bad(key("runnerSha256"), strconv.Quote(cfg.RunnerSha256), "want the archive's SHA-256, 64 lowercase hex digits")
	}
	if !instanceRE.MatchString(cfg.RunnerInstanceType) {
		bad(key("runnerInstanceType"), strconv.Quote(cfg.RunnerInstanceType), "want an EC2 instance type such as m7i.large")
	}
	if m := cidr24RE.FindStringSubmatch(cfg.RunnerCidr); m == nil {
		bad(key("runnerCidr"), strconv.Quote(cfg.RunnerCidr), "want a /24 such as 10.254.0.0/24")
	} else {
		for _, o := range m[1:] {
			if n, _ := strconv.Atoi(o); n > 255 {
				bad(key("runnerCidr"), strconv.Quote(cfg.RunnerCidr), "not an IPv4 network")
				break
			}
		}
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return cfg, nil
}

// Program is the bootstrap program for the platform's stack files
// (stackfiles.Read of the repository).
func Program(stacks []stackfiles.Stack) func(ctx *pulumi.Context) (map[string]pulumi.Input, error) {
	return func(ctx *pulumi.Context) (map[string]pulumi.Input, error) { return program(ctx, stacks) }
}

func program(ctx *pulumi.Context, stacks []stackfiles.Stack) (map[string]pulumi.Input, error) {
	cfg, err := Load(ctx, stacks)
	if err != nil {
		return nil, err
	}
	provider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region:      pulumi.String(cfg.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{"Project": pulumi.String(cfg.Name), "ManagedBy": pulumi.String("pulumi"), "Environment": pulumi.String("bootstrap")}},
	})
	if err != nil {
		return nil, err
	}
	withAWS := pulumi.Provider(provider)
	account, err := kit.LookupAccount(ctx, cfg.Region, provider)
	if err != nil {
		return nil, err
	}
	n := kit.Namer{Prefix: cfg.Name}
	names := names{partition: account.Partition, account: account.AccountID, region: cfg.Region, name: cfg.Name, project: cfg.Project,
		stateBucket: n.Name("pulumi-state", account.AccountID), logBucket: n.Name("state-access-logs", account.AccountID), environments: cfg.Environments}

	// The state bucket's key: objects are readable only through S3, which
	// checks the role's object-key grants first.
	stateKey, err := kit.NewKey(ctx, n.Name("pulumi-state"), account, kit.KeyArgs{Description: "Pulumi state of " + cfg.Name}, withAWS, pulumi.Protect(true))
	if err != nil {
		return nil, err
	}
	// One secrets provider per stack: a role that may decrypt staging's
	// secrets cannot decrypt production's.
	secretsKeys := map[string]*kms.Key{}
	for _, env := range cfg.Environments {
		k, err := kit.NewKey(ctx, n.Name("pulumi-secrets", env), account, kit.KeyArgs{Description: "Pulumi secrets of the " + env + " stack of " + cfg.Name}, withAWS, pulumi.Protect(true))
		if err != nil {
			return nil, err
		}
		secretsKeys[env] = k
	}
	logs, err := kit.NewPrivateBucket(ctx, n.Name("state-access-logs"), kit.PrivateBucketArgs{
		Bucket: names.logBucket, AcceptsAccessLogs: true, AccountID: account.AccountID,
		NoncurrentVersionDays: 30, AbortIncompleteMultipartDays: 1, ExpireCurrentDays: 365, Protect: true,
	}, withAWS)
	if err != nil {
		return nil, err
	}
	state, err := kit.NewPrivateBucket(ctx, n.Name("pulumi-state"), kit.PrivateBucketArgs{
		Bucket: names.stateBucket, KmsKeyArn: stateKey.Arn,
		// Old checkpoints are how a bad update is undone: a year of them.
		NoncurrentVersionDays: 365, AbortIncompleteMultipartDays: 1,
		LogBucket: logs.Bucket.Bucket, LogPrefix: "state/", Protect: true,
	}, withAWS)
	if err != nil {
		return nil, err
	}

	oidcArn, err := githubProvider(ctx, cfg, withAWS)
	if err != nil {
		return nil, err
	}
	run, err := newRunners(ctx, cfg, n, withAWS)
	if err != nil {
		return nil, err
	}

	outputs := map[string]pulumi.Input{
		"stateBackendUrl":          pulumi.Sprintf("s3://%s?region=%s", state.Bucket.Bucket, cfg.Region),
		"oidcProviderArn":          oidcArn,
		"accessLogBucket":          logs.Bucket.Bucket,
		"runnerEgressCidr":         run.egressIP,
		"runnerEgressParameter":    pulumi.String(RunnerEgressParameter(cfg.Name)),
		"runnerRegistrationSecret": run.secret.Name,
	}
	secretsProviders := pulumi.StringMap{}
	variables := pulumi.StringMap{"PULUMI_BACKEND_URL": outputs["stateBackendUrl"].(pulumi.StringOutput)}
	keyArns := func(envs ...string) pulumi.StringArrayOutput {
		var arns pulumi.StringArray
		for _, e := range envs {
			arns = append(arns, secretsKeys[e].Arn)
		}
		return arns.ToStringArrayOutput()
	}
	roles := pulumi.StringMap{}
	for _, r := range Roles(cfg.Repository, cfg.Name, cfg.Stacks) {
		role, err := githubRole(ctx, r, oidcArn, withAWS)
		if err != nil {
			return nil, err
		}
		roles[r.Name] = role.Arn
		var others []string
		for _, e := range cfg.Environments {
			if e != r.Environment {
				others = append(others, e)
			}
		}
		env := r.Environment
		var policy pulumi.StringOutput
		if r.Deploy {
			// Creating VPCs, EKS, RDS, IAM roles and KMS keys needs the
			// account; the guard takes away the other environment and the
			// bootstrap's own resources.
			if _, err := iam.NewRolePolicyAttachment(ctx, r.Name+"-admin", &iam.RolePolicyAttachmentArgs{
				Role: role.Name, PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/AdministratorAccess", account.Partition),
			}, withAWS); err != nil {
				return nil, err
			}
			policy = pulumi.All(secretsKeys[env].Arn, keyArns(others...), stateKey.Arn, keyArns(cfg.Environments...)).ApplyT(func(v []any) (string, error) {
				return Document(append(names.deployState(env, v[0].(string)), names.deployGuard(env, v[1].([]string), append([]string{v[2].(string)}, v[3].([]string)...))...)...)
			}).(pulumi.StringOutput)
		} else {
			// Reading every resource the stack manages (refresh, diff),
			// minus the data reads.
			if _, err := iam.NewRolePolicyAttachment(ctx, r.Name+"-read-only", &iam.RolePolicyAttachmentArgs{
				Role: role.Name, PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/ReadOnlyAccess", account.Partition),
			}, withAWS); err != nil {
				return nil, err
			}
			policy = pulumi.All(secretsKeys[env].Arn, stateKey.Arn).ApplyT(func(v []any) (string, error) {
				return Document(names.previewStatements(env, v[0].(string), v[1].(string))...)
			}).(pulumi.StringOutput)
		}
		if _, err := iam.NewRolePolicy(ctx, r.Name, &iam.RolePolicyArgs{Role: role.ID(), Policy: policy}, withAWS); err != nil {
			return nil, fmt.Errorf("granting %s its state: %w", r.Name, err)
		}
	}
	for _, env := range cfg.Environments {
		// kit.NewKey makes alias/<name> for each key.
		secretsProviders[env] = pulumi.String(fmt.Sprintf("awskms://alias/%s?region=%s", n.Name("pulumi-secrets", env), cfg.Region))
	}
	outputs["secretsProviders"] = secretsProviders
	// The workflows read the roles' ARNs from the stack files (cmd/stacks);
	// the repository needs one variable.
	outputs["githubVariables"] = variables
	outputs["roles"] = roles
	return outputs, nil
}

// githubProvider returns the GitHub OIDC provider's ARN: the account's
// existing one when configured (IAM allows one per issuer URL, so
// creating a second fails with EntityAlreadyExists), else a new one.
func githubProvider(ctx *pulumi.Context, cfg Config, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	if cfg.GithubOidcProviderArn != "" {
		existing, err := iam.LookupOpenIdConnectProvider(ctx, &iam.LookupOpenIdConnectProviderArgs{Arn: pulumi.StringRef(cfg.GithubOidcProviderArn)}, kit.InvokeOptions(opts)...)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("config %s:githubOidcProviderArn = %q: %w", ctx.Project(), cfg.GithubOidcProviderArn, err)
		}
		if !slices.Contains(existing.ClientIdLists, githubAudience) {
			return pulumi.StringOutput{}, fmt.Errorf("config %s:githubOidcProviderArn = %q: the provider's audiences %v lack %s; add it (aws iam add-client-id-to-open-id-connect-provider)", ctx.Project(), cfg.GithubOidcProviderArn, existing.ClientIdLists, githubAudience)
		}
		return pulumi.String(existing.Arn).ToStringOutput(), nil
	}
	// No thumbprints: AWS trusts GitHub's issuer through its own root CAs,
	// and the argument is optional.
	oidc, err := iam.NewOpenIdConnectProvider(ctx, "github", &iam.OpenIdConnectProviderArgs{
		Url:           pulumi.String("https://" + githubIssuer),
		ClientIdLists: pulumi.StringArray{pulumi.String(githubAudience)},
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating the GitHub OIDC provider: %w", err)
	}
	return oidc.Arn, nil
}

// githubRole is one role GitHub's tokens assume: its audience pinned to
// STS, its subjects matched exactly, sessions of up to four hours (the
// longest `up` plus compile, delivery D7).
func githubRole(ctx *pulumi.Context, r Role, oidcArn pulumi.StringOutput, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	trust := oidcArn.ApplyT(func(arn string) (string, error) {
		return Document(Statement{Effect: "Allow", Action: []string{"sts:AssumeRoleWithWebIdentity"},
			Principal: map[string]any{"Federated": arn},
			Condition: map[string]map[string]any{"StringEquals": {githubIssuer + ":aud": githubAudience, githubIssuer + ":sub": r.Subjects}},
		})
	}).(pulumi.StringOutput)
	what := "pulumi preview and drift of " + r.Environment
	if r.Deploy {
		what = "pulumi up of " + r.Environment
	}
	role, err := iam.NewRole(ctx, r.Name, &iam.RoleArgs{
		Name:               pulumi.String(r.Name),
		Description:        pulumi.String(what + " from GitHub Actions"),
		AssumeRolePolicy:   trust,
		MaxSessionDuration: pulumi.Int(MaxSessionSeconds),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating role %s: %w", r.Name, err)
	}
	return role, nil
}

// MaxSessionSeconds is the roles' longest session; the workflows ask for
// it (role-duration-seconds) on every job that runs `pulumi up`.
const MaxSessionSeconds = 4 * 3600
