// Package audit is the account's audit trail: a multi-region CloudTrail
// trail with log file validation, the account's management events and the
// S3 data events (object reads and writes) of the buckets that hold
// student data (uploads, backups), delivered to a locked, KMS-encrypted,
// versioned bucket that expires log files after the compliance retention.
// Where an organization trail (or another stack's) already covers the
// account (audit.trail: existing), the component makes nothing and only
// names it.
package audit

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudtrail"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Args configure the component.
type Args struct {
	// Config is the audit section of the stack config.
	Config config.AuditConfig
	// DataBucketArns are the buckets whose object-level operations the
	// trail records (S3 data events): the uploads and backups buckets.
	DataBucketArns []pulumi.StringInput
	// LogBucket receives the trail bucket's own S3 access logs (the
	// backups' access-log bucket), under audit-trail/.
	LogBucket pulumi.StringInput
	// Protect guards the bucket and the key (config guards.protect).
	Protect bool
	// Namer names AWS resources; Account is where they live.
	Namer   kit.Namer
	Account kit.Account
	// AWSProvider creates every child.
	AWSProvider pulumi.ProviderResource
}

// Audit is the component.
type Audit struct {
	pulumi.ResourceState
	// TrailArn is the trail that records the account: this stack's, or the
	// existing one audit.existingTrailArn names.
	TrailArn pulumi.StringOutput
	// Bucket is the trail bucket's name; "" with an existing trail.
	Bucket pulumi.StringOutput
}

// New builds the component.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Audit, error) {
	c := &Audit{}
	opts = append(opts, pulumi.Provider(args.AWSProvider))
	if err := ctx.RegisterComponentResource("scrolluniversity:components:Audit", name, c, opts...); err != nil {
		return nil, err
	}
	a := args.Config
	if a.Trail == config.TrailExisting {
		c.TrailArn = pulumi.String(a.ExistingTrailArn).ToStringOutput()
		c.Bucket = pulumi.String("").ToStringOutput()
		return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"trailArn": c.TrailArn})
	}
	parent := pulumi.Parent(c)
	n, acct := args.Namer, args.Account
	trailName := n.Name("audit")
	trailArn := TrailArn(acct, trailName)

	key, err := kit.NewKey(ctx, n.Name("audit"), acct, kit.KeyArgs{
		Description: "CloudTrail audit trail of " + n.Prefix,
		// The key policy sections CloudTrail requires ("Configure AWS KMS
		// key policies for CloudTrail"): data keys for log and digest files
		// under the trails' encryption context, and DescribeKey, which
		// carries no encryption context, for this trail only.
		ServicePrincipals: []kit.ServiceKeyUse{{
			Principal: "cloudtrail.amazonaws.com", Actions: []string{"kms:GenerateDataKey*"},
			ConditionTest: "StringLike", ConditionVariable: "kms:EncryptionContext:aws:cloudtrail:arn",
			ConditionValues: []string{fmt.Sprintf("arn:%s:cloudtrail:*:%s:trail/*", acct.Partition, acct.AccountID)},
		}, {
			Principal: "cloudtrail.amazonaws.com", Actions: []string{"kms:DescribeKey"},
			ConditionTest: "StringEquals", ConditionVariable: "aws:SourceArn", ConditionValues: []string{trailArn},
		}},
		// The audit record must outlive the stack.
		Retain: true,
	}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, err
	}
	sourceArn := iam.GetPolicyDocumentStatementConditionArgs{
		Test: pulumi.String("StringEquals"), Variable: pulumi.String("aws:SourceArn"), Values: pulumi.StringArray{pulumi.String(trailArn)},
	}
	cloudTrail := iam.GetPolicyDocumentStatementPrincipalArray{
		iam.GetPolicyDocumentStatementPrincipalArgs{Type: pulumi.String("Service"), Identifiers: pulumi.StringArray{pulumi.String("cloudtrail.amazonaws.com")}},
	}
	bucket, err := kit.NewPrivateBucket(ctx, n.Name("audit-trail"), kit.PrivateBucketArgs{
		Bucket: n.Name("audit-trail", acct.AccountID), KmsKeyArn: key.Arn,
		// CloudTrail writes with the trail's key; with a Bucket Key it
		// would need kms:Decrypt too.
		NoBucketKey: true,
		// Log files are written once; a version replaced or deleted
		// (only possible after its lock) goes the next day.
		NoncurrentVersionDays: 1, AbortIncompleteMultipartDays: 1,
		ExpireCurrentDays: a.RetentionDays,
		// No one, the account's administrators included, deletes a log
		// file before the retention is over (governance mode: only
		// s3:BypassGovernanceRetention may).
		ObjectLockDays: a.RetentionDays,
		LogBucket:      args.LogBucket, LogPrefix: "audit-trail/",
		Protect: args.Protect,
		// CloudTrail's delivery, for this trail only (the confused-deputy
		// guard AWS documents: aws:SourceArn).
		Statements: func(bucketArn pulumi.StringOutput) iam.GetPolicyDocumentStatementArray {
			return iam.GetPolicyDocumentStatementArray{
				iam.GetPolicyDocumentStatementArgs{
					Sid: pulumi.String("CloudTrailAclCheck"), Actions: pulumi.StringArray{pulumi.String("s3:GetBucketAcl")},
					Resources: pulumi.StringArray{bucketArn}, Principals: cloudTrail,
					Conditions: iam.GetPolicyDocumentStatementConditionArray{sourceArn},
				},
				iam.GetPolicyDocumentStatementArgs{
					Sid: pulumi.String("CloudTrailWrite"), Actions: pulumi.StringArray{pulumi.String("s3:PutObject")},
					Resources: pulumi.StringArray{pulumi.Sprintf("%s/AWSLogs/%s/*", bucketArn, acct.AccountID)}, Principals: cloudTrail,
					Conditions: iam.GetPolicyDocumentStatementConditionArray{sourceArn, iam.GetPolicyDocumentStatementConditionArgs{
						Test: pulumi.String("StringEquals"), Variable: pulumi.String("s3:x-amz-acl"), Values: pulumi.StringArray{pulumi.String("bucket-owner-full-control")},
					}},
				},
			}
		},
	}, parent,
		// The audit record outlives the stack: a destroy leaves the bucket
		// and its settings (the lock, the expiry) as they are; its locked
		// log files could not be deleted before their retention anyway.
		pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, err
	}
	trail, err := cloudtrail.NewTrail(ctx, trailName, &cloudtrail.TrailArgs{
		Name:                       pulumi.String(trailName),
		S3BucketName:               bucket.Bucket.Bucket,
		KmsKeyId:                   key.Arn,
		IsMultiRegionTrail:         pulumi.Bool(true),
		IncludeGlobalServiceEvents: pulumi.Bool(true),
		EnableLogFileValidation:    pulumi.Bool(true),
		EnableLogging:              pulumi.Bool(true),
		AdvancedEventSelectors:     Selectors(args.DataBucketArns),
	}, parent, pulumi.DependsOn(bucket.Settings), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("creating the audit trail: %w", err)
	}
	c.TrailArn = trail.Arn
	c.Bucket = bucket.Bucket.Bucket
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"trailArn": c.TrailArn, "bucket": c.Bucket})
}

// TrailArn is the ARN a trail of this name has in the account (known before
// it exists, for the bucket policy that must let it write first).
func TrailArn(a kit.Account, name string) string {
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", a.Partition, a.Region, a.AccountID, name)
}

// Selectors are the trail's advanced event selectors: every management
// event (reads and writes), and the object-level data events of the given
// buckets (their ARNs with "/", as CloudTrail matches resources.ARN).
func Selectors(dataBucketArns []pulumi.StringInput) cloudtrail.TrailAdvancedEventSelectorArray {
	prefixes := pulumi.StringArray{}
	for _, arn := range dataBucketArns {
		prefixes = append(prefixes, pulumi.Sprintf("%s/", arn))
	}
	return cloudtrail.TrailAdvancedEventSelectorArray{
		cloudtrail.TrailAdvancedEventSelectorArgs{
			Name: pulumi.String("Management events"),
			FieldSelectors: cloudtrail.TrailAdvancedEventSelectorFieldSelectorArray{
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("eventCategory"), Equals: pulumi.StringArray{pulumi.String("Management")}},
			},
		},
		cloudtrail.TrailAdvancedEventSelectorArgs{
			Name: pulumi.String("Objects of the student-data buckets"),
			FieldSelectors: cloudtrail.TrailAdvancedEventSelectorFieldSelectorArray{
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("eventCategory"), Equals: pulumi.StringArray{pulumi.String("Data")}},
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("resources.type"), Equals: pulumi.StringArray{pulumi.String("AWS::S3::Object")}},
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("resources.ARN"), StartsWiths: prefixes},
			},
		},
	}
}
