// Package bootstrap is the small second Pulumi program (bootstrap/) that
// someone with administrator credentials runs once per account before the
// platform's first `pulumi up`: the S3 state backend (versioned, SSE-KMS,
// TLS-only, access logged), the KMS key of the stacks' secrets provider, the
// GitHub OIDC provider, and the two roles CI assumes: a read-only preview
// role for pull requests of the repository, and a deploy role for the
// `staging` and `production` GitHub environments only.
package bootstrap

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/scrolluniversity/platform/infra/kit"
)

// GitHub's OIDC issuer and the audience its tokens carry for AWS.
const (
	githubIssuer   = "token.actions.githubusercontent.com"
	githubAudience = "sts.amazonaws.com"
)

// Environments are the GitHub environments the deploy role trusts; each
// must allow deployments from main only (GitHub's deployment branch rule).
var Environments = []string{"staging", "production"}

var repoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// Config is the bootstrap stack's configuration.
type Config struct {
	// Repository is the GitHub repository, "owner/name".
	Repository string
	// Name prefixes every resource ("scrolluniversity").
	Name string
	// Region is aws:region.
	Region string
}

// Load reads and checks the config before anything is registered.
func Load(ctx *pulumi.Context) (Config, error) {
	c := pulumiconfig.New(ctx, "")
	cfg := Config{Repository: c.Get("repository"), Name: c.Get("name"), Region: pulumiconfig.New(ctx, "aws").Get("region")}
	if cfg.Name == "" {
		cfg.Name = "scrolluniversity"
	}
	if !repoRE.MatchString(cfg.Repository) {
		return cfg, fmt.Errorf("config %s:repository = %q: want the GitHub repository as owner/name", ctx.Project(), cfg.Repository)
	}
	if cfg.Region == "" {
		return cfg, fmt.Errorf("config aws:region is not set")
	}
	return cfg, nil
}

// Program is the bootstrap program.
func Program(ctx *pulumi.Context) (map[string]pulumi.Input, error) {
	cfg, err := Load(ctx)
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

	key, err := kit.NewKey(ctx, n.Name("pulumi-secrets"), account, kit.KeyArgs{Description: "Pulumi state and stack secrets of " + cfg.Name}, withAWS, pulumi.Protect(true))
	if err != nil {
		return nil, err
	}
	logs, err := kit.NewPrivateBucket(ctx, n.Name("state-access-logs"), kit.PrivateBucketArgs{
		Bucket: n.Name("state-access-logs", account.AccountID), AcceptsAccessLogs: true, AccountID: account.AccountID,
		NoncurrentVersionDays: 30, AbortIncompleteMultipartDays: 1, ExpireCurrentDays: 365, Protect: true,
	}, withAWS)
	if err != nil {
		return nil, err
	}
	state, err := kit.NewPrivateBucket(ctx, n.Name("pulumi-state"), kit.PrivateBucketArgs{
		Bucket: n.Name("pulumi-state", account.AccountID), KmsKeyArn: key.Arn,
		// Old checkpoints are how a bad update is undone: a year of them.
		NoncurrentVersionDays: 365, AbortIncompleteMultipartDays: 1,
		LogBucket: logs.Bucket.Bucket, LogPrefix: "state/", Protect: true,
	}, withAWS)
	if err != nil {
		return nil, err
	}

	oidc, err := iam.NewOpenIdConnectProvider(ctx, "github", &iam.OpenIdConnectProviderArgs{
		Url:           pulumi.String("https://" + githubIssuer),
		ClientIdLists: pulumi.StringArray{pulumi.String(githubAudience)},
		// AWS trusts GitHub's issuer through its own root CAs; the
		// argument is still required.
		ThumbprintLists: pulumi.StringArray{pulumi.String("6938fd4d98bab03faadb97b34396831e3780aea1"), pulumi.String("1c58a3a8518e8759bf075b76b750d4f2df264fcd")},
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("creating the GitHub OIDC provider: %w", err)
	}

	trust := func(test string, subjects []string) pulumi.StringOutput {
		return iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{Statements: iam.GetPolicyDocumentStatementArray{iam.GetPolicyDocumentStatementArgs{
			Actions: pulumi.StringArray{pulumi.String("sts:AssumeRoleWithWebIdentity")},
			Principals: iam.GetPolicyDocumentStatementPrincipalArray{iam.GetPolicyDocumentStatementPrincipalArgs{
				Type: pulumi.String("Federated"), Identifiers: pulumi.StringArray{oidc.Arn},
			}},
			Conditions: iam.GetPolicyDocumentStatementConditionArray{
				iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String("StringEquals"), Variable: pulumi.String(githubIssuer + ":aud"), Values: pulumi.StringArray{pulumi.String(githubAudience)}},
				iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String(test), Variable: pulumi.String(githubIssuer + ":sub"), Values: pulumi.ToStringArray(subjects)},
			},
		}}}, withAWS).Json()
	}

	preview, err := iam.NewRole(ctx, n.Name("preview"), &iam.RoleArgs{
		Description:      pulumi.String("pulumi preview from pull requests of " + cfg.Repository + ": read only"),
		AssumeRolePolicy: trust("StringEquals", PreviewSubjects(cfg.Repository)),
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("creating the preview role: %w", err)
	}
	// Reading every resource the stacks manage (refresh, diff).
	if _, err := iam.NewRolePolicyAttachment(ctx, n.Name("preview-read-only"), &iam.RolePolicyAttachmentArgs{
		Role: preview.Name, PolicyArn: pulumi.String(ReadOnlyPolicy),
	}, withAWS); err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, n.Name("preview-state"), &iam.RolePolicyArgs{
		Role: preview.ID(),
		Policy: iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{Statements: iam.GetPolicyDocumentStatementArray{
			iam.GetPolicyDocumentStatementArgs{Sid: pulumi.String("ReadState"), Actions: pulumi.ToStringArray([]string{"s3:GetObject", "s3:ListBucket"}),
				Resources: pulumi.StringArray{state.Bucket.Arn, pulumi.Sprintf("%s/*", state.Bucket.Arn)}},
			iam.GetPolicyDocumentStatementArgs{Sid: pulumi.String("DecryptSecrets"), Actions: pulumi.ToStringArray([]string{"kms:Decrypt"}),
				Resources: pulumi.StringArray{key.Arn}},
		}}, withAWS).Json(),
	}, withAWS); err != nil {
		return nil, fmt.Errorf("granting the preview role the state: %w", err)
	}

	deploy, err := iam.NewRole(ctx, n.Name("deploy"), &iam.RoleArgs{
		Description:        pulumi.String("pulumi up from the staging and production environments of " + cfg.Repository),
		AssumeRolePolicy:   trust("StringEquals", DeploySubjects(cfg.Repository)),
		MaxSessionDuration: pulumi.Int(4 * 3600),
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("creating the deploy role: %w", err)
	}
	// The platform creates VPCs, EKS, RDS, IAM roles and KMS keys: the
	// deploy role needs the account; the environments' reviewers and branch
	// rule are what guard it.
	if _, err := iam.NewRolePolicyAttachment(ctx, n.Name("deploy-admin"), &iam.RolePolicyAttachmentArgs{
		Role: deploy.Name, PolicyArn: pulumi.String("arn:aws:iam::aws:policy/AdministratorAccess"),
	}, withAWS); err != nil {
		return nil, err
	}

	return map[string]pulumi.Input{
		"stateBackendUrl": pulumi.Sprintf("s3://%s?region=%s", state.Bucket.Bucket, cfg.Region),
		"secretsProvider": pulumi.Sprintf("awskms://alias/%s?region=%s", n.Name("pulumi-secrets"), cfg.Region),
		"previewRoleArn":  preview.Arn,
		"deployRoleArn":   deploy.Arn,
		"oidcProviderArn": oidc.Arn,
		"accessLogBucket": logs.Bucket.Bucket,
	}, nil
}

// ReadOnlyPolicy is the AWS managed policy the preview role reads with.
const ReadOnlyPolicy = "arn:aws:iam::aws:policy/ReadOnlyAccess"

// PreviewSubjects are the token subjects of the repository's pull requests.
func PreviewSubjects(repo string) []string { return []string{"repo:" + repo + ":pull_request"} }

// DeploySubjects are the token subjects of the repository's deployment
// environments.
func DeploySubjects(repo string) []string {
	out := make([]string, 0, len(Environments))
	for _, e := range Environments {
		out = append(out, "repo:"+repo+":environment:"+e)
	}
	return out
}
