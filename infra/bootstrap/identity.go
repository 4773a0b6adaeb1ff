package bootstrap

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/scrolluniversity/platform/internal/stackfiles"
)

// Who may do what, per environment: the table the workflows and the trust
// policies are both checked against (internal/workflows and
// tests/bootstrap_test.go derive each job's token subject from the
// workflow files and compare).
//
// Each environment E (a platform stack) has two roles with fixed names, so
// the stack files can name them before the bootstrap has run:
//
//   - <name>-E-deploy runs `pulumi up` of E. It is trusted only by jobs in
//     the GitHub environment E (deployments from main only; production with
//     required reviewers), holds AdministratorAccess minus DeployGuard:
//     nothing of another environment (state, secrets key, anything tagged
//     with its Environment), nothing of the bootstrap's own resources, no
//     Object Lock bypass.
//   - <name>-E-preview runs `pulumi preview` and the nightly drift check
//     of E. ReadOnlyAccess minus the data reads (PreviewDenies), the state
//     of E only, and Decrypt on E's secrets key only. An unguarded
//     stack's (staging's) is trusted by pull requests; a guarded stack's
//     (guards.protect: true, production's) only through the GitHub
//     environment E-preview, whose required reviewers approve running a
//     pull request's code with E's secrets. Both are trusted by main (the
//     drift workflow, dispatched previews): code on main is reviewed.
//
// The environments are the stack files (internal/stackfiles), which also
// name the roles: the workflows read both from there (cmd/stacks).

// Role is one role the bootstrap creates.
type Role struct {
	// Name is the IAM role name (fixed: the stack files reference it).
	Name string
	// Environment is the platform stack it acts on.
	Environment string
	// Deploy is true for the deploy role, false for the preview role.
	Deploy bool
	// Subjects are the GitHub OIDC token subjects its trust accepts.
	Subjects []string
}

// Roles lists the roles for the repository and stacks, in a fixed order.
func Roles(repo, name string, stacks []stackfiles.Stack) []Role {
	var out []Role
	for _, s := range stacks {
		e := s.Stack
		preview := []string{"repo:" + repo + ":pull_request"}
		if s.PreviewEnvironment != "" {
			preview = []string{"repo:" + repo + ":environment:" + s.PreviewEnvironment}
		}
		preview = append(preview, "repo:"+repo+":ref:refs/heads/main")
		out = append(out,
			Role{Name: name + "-" + e + "-deploy", Environment: e, Deploy: true, Subjects: []string{"repo:" + repo + ":environment:" + e}},
			Role{Name: name + "-" + e + "-preview", Environment: e, Subjects: preview},
		)
	}
	return out
}

// StatePaths are the object keys of one stack in the S3 backend, as the
// DIY backend of the pinned CLI lays them out (pkg/backend/diy at
// v3.274.1: store.go's projectReferenceStore, lock.go's stackLockDir with
// the fully qualified organization/<project>/<stack>).
func StatePaths(project, stack string) (read, write []string) {
	write = []string{
		".pulumi/stacks/" + project + "/" + stack + ".*",
		".pulumi/history/" + project + "/" + stack + "/*",
		".pulumi/backups/" + project + "/" + stack + "/*",
		".pulumi/locks/organization/" + project + "/" + stack + "/*",
	}
	// Every CLI reads the backend's version file; a preview reads the
	// checkpoint only.
	read = []string{".pulumi/meta.yaml", write[0]}
	return read, write
}

// PreviewDenies are the data-plane reads ReadOnlyAccess grants on "*" that
// a preview never makes (delivery review D11): object contents outside the
// state, parameters outside the public AMI ones and the bootstrap's own,
// log events (CloudWatch decrypts on read), database log files,
// Performance Insights' SQL text, function code and variables, queue
// messages, instance passwords and consoles, table items, stream records.
var PreviewDenies = []string{
	"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:GetObjectTorrent",
	"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
	"logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults", "logs:GetLogRecord", "logs:StartLiveTail", "logs:Unmask",
	"rds:DownloadDBLogFilePortion", "rds:DownloadCompleteDBLogFile",
	"pi:*",
	"lambda:GetFunction", "lambda:GetFunctionConfiguration",
	"sqs:ReceiveMessage",
	"secretsmanager:GetSecretValue",
	"ec2:GetPasswordData", "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot",
	"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
	"kinesis:GetRecords", "athena:GetQueryResults",
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid         string                    `json:"Sid,omitempty"`
	Effect      string                    `json:"Effect"`
	Action      []string                  `json:"Action,omitempty"`
	NotAction   []string                  `json:"NotAction,omitempty"`
	Resource    []string                  `json:"Resource,omitempty"`
	NotResource []string                  `json:"NotResource,omitempty"`
	Condition   map[string]map[string]any `json:"Condition,omitempty"`
	Principal   map[string]any            `json:"Principal,omitempty"`
}

// Document renders statements as an IAM policy document.
func Document(statements ...Statement) (string, error) {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}

// Resources the policies name, known before any resource exists (fixed
// names, the account from GetCallerIdentity) except the keys' ARNs.
type names struct {
	partition, account, region, name, project string
	stateBucket, logBucket                    string
	environments                              []string
}

func (n names) iam(kind, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:%s/%s", n.partition, n.account, kind, name)
}

func (n names) bucket(b string, keys ...string) []string {
	if len(keys) == 0 {
		return []string{fmt.Sprintf("arn:%s:s3:::%s", n.partition, b)}
	}
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("arn:%s:s3:::%s/%s", n.partition, b, k))
	}
	return out
}

// BootstrapStatePrefix is where the bootstrap's own state is backed up in
// the state bucket (its live state cannot live in the bucket it creates).
const BootstrapStatePrefix = "bootstrap/"

// RunnerEgressParameter is the SSM parameter the bootstrap writes the
// delivery runners' egress CIDRs to, and the platform stacks read to allow
// them on the EKS API endpoint (cluster.runnerEgressParameter).
func RunnerEgressParameter(name string) string { return "/" + name + "/delivery/runner-egress-cidrs" }

// previewStatements are the preview role of env's own grants and denies,
// given its secrets key and the state key.
func (n names) previewStatements(env, secretsKey, stateKey string) []Statement {
	read, _ := StatePaths(n.project, env)
	readable := n.bucket(n.stateBucket, read...)
	return []Statement{
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: n.bucket(n.stateBucket)},
		{Sid: "ReadOwnState", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: readable},
		{Sid: "StateThroughS3", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{stateKey},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + n.region + ".amazonaws.com"}}},
		{Sid: "DecryptOwnSecrets", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{secretsKey}},
		// An explicit deny beats ReadOnlyAccess's allows; the state
		// objects (and the public and bootstrap parameters) stay readable.
		{Sid: "NoDataReads", Effect: "Deny", Action: PreviewDenies, NotResource: append([]string{
			fmt.Sprintf("arn:%s:ssm:*::parameter/aws/service/*", n.partition),
			fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s/delivery/*", n.partition, n.region, n.account, n.name),
		}, readable...)},
	}
}

// deployGuard is what env's deploy role may not do although
// AdministratorAccess allows it.
func (n names) deployGuard(env string, otherSecretsKeys, bootstrapKeys []string) []Statement {
	var otherState, otherEnvs []string
	for _, e := range n.environments {
		if e == env {
			continue
		}
		_, write := StatePaths(n.project, e)
		otherState = append(otherState, n.bucket(n.stateBucket, write...)...)
		otherEnvs = append(otherEnvs, e)
	}
	var bootstrapIAM []string
	for _, e := range n.environments {
		bootstrapIAM = append(bootstrapIAM, n.iam("role", n.name+"-"+e+"-deploy"), n.iam("role", n.name+"-"+e+"-preview"))
	}
	bootstrapIAM = append(bootstrapIAM, n.iam("role", n.name+"-runner"), n.iam("instance-profile", n.name+"-runner"),
		n.iam("oidc-provider", githubIssuer))
	out := []Statement{
		{Sid: "NoBootstrapIdentity", Effect: "Deny", NotAction: []string{"iam:Get*", "iam:List*"}, Resource: bootstrapIAM},
		{Sid: "NoStateBucketConfig", Effect: "Deny", Action: []string{"s3:PutBucket*", "s3:DeleteBucket*", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:PutReplicationConfiguration", "s3:PutObjectLockConfiguration"},
			Resource: append(n.bucket(n.stateBucket), n.bucket(n.logBucket)...)},
		{Sid: "NoStateHistoryRewrite", Effect: "Deny", Action: []string{"s3:DeleteObjectVersion", "s3:PutObjectVersionAcl"}, Resource: n.bucket(n.stateBucket, "*")},
		// The bootstrap's own state is backed up there (docs/DEPLOYMENT.md).
		{Sid: "NoBootstrapState", Effect: "Deny", Action: []string{"s3:PutObject", "s3:DeleteObject"}, Resource: n.bucket(n.stateBucket, BootstrapStatePrefix+"*")},
		{Sid: "NoBootstrapKeyChanges", Effect: "Deny", Action: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:DeleteAlias", "kms:UpdateAlias", "kms:CreateGrant", "kms:RevokeGrant"}, Resource: bootstrapKeys},
		// The runners and their registration secret: tagged by the
		// bootstrap's provider (KMS keys are covered above, by ARN, since
		// the deploy role must still use its own secrets key).
		{Sid: "NoBootstrapRunners", Effect: "Deny", Action: []string{"ec2:*", "autoscaling:*", "secretsmanager:*", "ssm:PutParameter", "ssm:DeleteParameter*", "ssm:LabelParameterVersion"},
			Resource: []string{"*"}, Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/Environment": "bootstrap"}}},
		// Object Lock is the last line for backups: no deploy bypasses it.
		{Sid: "NoObjectLockBypass", Effect: "Deny", Action: []string{"s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold"}, Resource: []string{"*"}},
	}
	if len(otherEnvs) > 0 {
		out = append(out,
			Statement{Sid: "NoOtherState", Effect: "Deny", Action: []string{"s3:*"}, Resource: otherState},
			Statement{Sid: "NoOtherSecrets", Effect: "Deny", Action: []string{"kms:*"}, Resource: otherSecretsKeys},
			Statement{Sid: "NoOtherEnvironment", Effect: "Deny", Action: []string{"*"}, Resource: []string{"*"},
				Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/Environment": otherEnvs}}},
			Statement{Sid: "NoOtherEnvironmentTags", Effect: "Deny", Action: []string{"*"}, Resource: []string{"*"},
				Condition: map[string]map[string]any{"StringEquals": {"aws:RequestTag/Environment": otherEnvs}}},
		)
	}
	return out
}

// deployState is env's deploy role's use of its own state and secrets key
// (AdministratorAccess grants it; written out so the grant survives a
// narrower base policy).
func (n names) deployState(env, secretsKey string) []Statement {
	_, write := StatePaths(n.project, env)
	return []Statement{
		{Sid: "OwnState", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: n.bucket(n.stateBucket, append(write, ".pulumi/meta.yaml")...)},
		{Sid: "OwnSecrets", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, Resource: []string{secretsKey}},
	}
}

// validEnvironments checks the environments this account holds against
// the platform's stack files.
func validEnvironments(envs []string, stacks []stackfiles.Stack) error {
	if len(envs) == 0 {
		return fmt.Errorf("no environments")
	}
	var names []string
	for _, s := range stacks {
		names = append(names, s.Stack)
	}
	for i, e := range envs {
		if !slices.Contains(names, e) {
			return fmt.Errorf("environments[%d] = %q: no Pulumi.%s.yaml; the platform's stacks are %v", i, e, e, names)
		}
		if slices.Contains(envs[:i], e) {
			return fmt.Errorf("environments[%d] = %q: listed twice", i, e)
		}
	}
	return nil
}
