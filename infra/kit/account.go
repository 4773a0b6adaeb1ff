// Package kit holds the building blocks that infra and the components share:
// resource names, the AWS account, KMS keys and IAM roles (IRSA among them).
package kit

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// kmsDeletionWindowDays is the longest wait AWS allows before a scheduled key
// deletion: a month to notice and cancel a mistake that would make every
// encrypted byte unreadable.
const kmsDeletionWindowDays = 30

// Account is where the stack deploys: looked up once from the AWS provider.
type Account struct {
	AccountID string
	Region    string
	Partition string
	// DNSSuffix is the partition's service domain, "amazonaws.com" in aws.
	DNSSuffix string
}

// LookupAccount asks AWS (through the stack's provider) who we are.
func LookupAccount(ctx *pulumi.Context, region string, provider pulumi.ProviderResource) (Account, error) {
	id, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, pulumi.Provider(provider))
	if err != nil {
		return Account{}, fmt.Errorf("looking up the AWS account: %w", err)
	}
	part, err := aws.GetPartition(ctx, &aws.GetPartitionArgs{}, pulumi.Provider(provider))
	if err != nil {
		return Account{}, fmt.Errorf("looking up the AWS partition: %w", err)
	}
	return Account{AccountID: id.AccountId, Region: region, Partition: part.Partition, DNSSuffix: part.DnsSuffix}, nil
}

// RootArn is the account's root principal, which key policies must name so
// that IAM policies can grant use of the key.
func (a Account) RootArn() string {
	return fmt.Sprintf("arn:%s:iam::%s:root", a.Partition, a.AccountID)
}

// KeyArgs configure a customer-managed KMS key.
type KeyArgs struct {
	// Description says what the key protects.
	Description string
	// ServicePrincipals are AWS services (by principal, e.g.
	// "logs.us-east-1.amazonaws.com") allowed to use the key on the
	// account's behalf, each limited by its encryption-context condition.
	ServicePrincipals []ServiceKeyUse
	// Retain keeps the key when the stack is destroyed (what it encrypts
	// outlives the stack). Its alias is never retained: a kept alias would
	// make the next stack of the same name fail to create its own
	// (AlreadyExistsException), and the kept key is found by its tags and
	// description.
	Retain bool
}

// ServiceKeyUse lets one AWS service use a key under a condition.
type ServiceKeyUse struct {
	Principal string
	// Actions are what it may do; nil: encrypt, decrypt, re-encrypt,
	// generate data keys and describe (what CloudWatch Logs needs).
	Actions []string
	// Condition limits the use, e.g. ArnLike on kms:EncryptionContext:aws:logs:arn.
	ConditionTest, ConditionVariable string
	ConditionValues                  []string
}

// NewKey creates a KMS key with rotation on, a 30-day deletion window and a
// key policy that delegates to IAM (the account root statement AWS itself
// uses by default) plus the listed services.
func NewKey(ctx *pulumi.Context, name string, account Account, args KeyArgs, opts ...pulumi.ResourceOption) (*kms.Key, error) {
	statements := iam.GetPolicyDocumentStatementArray{
		iam.GetPolicyDocumentStatementArgs{
			Sid:     pulumi.String("EnableIAMPolicies"),
			Actions: pulumi.StringArray{pulumi.String("kms:*")},
			Principals: iam.GetPolicyDocumentStatementPrincipalArray{
				iam.GetPolicyDocumentStatementPrincipalArgs{Type: pulumi.String("AWS"), Identifiers: pulumi.StringArray{pulumi.String(account.RootArn())}},
			},
			// In a key policy "*" means this key only.
			Resources: pulumi.StringArray{pulumi.String("*")},
		},
	}
	for _, s := range args.ServicePrincipals {
		actions := s.Actions
		if actions == nil {
			actions = []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}
		}
		statements = append(statements, iam.GetPolicyDocumentStatementArgs{
			Actions: pulumi.ToStringArray(actions),
			Principals: iam.GetPolicyDocumentStatementPrincipalArray{
				iam.GetPolicyDocumentStatementPrincipalArgs{Type: pulumi.String("Service"), Identifiers: pulumi.StringArray{pulumi.String(s.Principal)}},
			},
			Resources: pulumi.StringArray{pulumi.String("*")},
			Conditions: iam.GetPolicyDocumentStatementConditionArray{
				iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String(s.ConditionTest), Variable: pulumi.String(s.ConditionVariable), Values: pulumi.ToStringArray(s.ConditionValues)},
			},
		})
	}
	policy := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{Statements: statements}, InvokeOptions(opts)...)
	keyOpts := opts
	if args.Retain {
		keyOpts = append(slices.Clone(opts), pulumi.RetainOnDelete(true))
	}
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(args.Description),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(kmsDeletionWindowDays),
		Policy:               policy.Json(),
	}, keyOpts...)
	if err != nil {
		return nil, fmt.Errorf("creating KMS key %s: %w", name, err)
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.String("alias/" + name),
		TargetKeyId: key.KeyId,
	}, opts...); err != nil {
		return nil, fmt.Errorf("creating KMS alias %s: %w", name, err)
	}
	return key, nil
}

// LogsKeyUse lets CloudWatch Logs in this account and region use a key for
// the log groups whose names match the patterns ("/aws/eks/<cluster>/*"),
// and for no other log group of the account.
func LogsKeyUse(a Account, logGroupPatterns []string) ServiceKeyUse {
	arns := make([]string, 0, len(logGroupPatterns))
	for _, p := range logGroupPatterns {
		arns = append(arns, fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", a.Partition, a.Region, a.AccountID, p))
	}
	return ServiceKeyUse{
		Principal:         fmt.Sprintf("logs.%s.%s", a.Region, a.DNSSuffix),
		ConditionTest:     "ArnLike",
		ConditionVariable: "kms:EncryptionContext:aws:logs:arn",
		ConditionValues:   arns,
	}
}
