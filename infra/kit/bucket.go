package kit

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PrivateBucketArgs configure a bucket that holds data.
type PrivateBucketArgs struct {
	// Bucket is the globally unique bucket name.
	Bucket string
	// KmsKeyArn is the customer-managed key for SSE-KMS.
	KmsKeyArn pulumi.StringInput
	// NoncurrentVersionDays expires overwritten and deleted versions, in days.
	NoncurrentVersionDays int
	// AbortIncompleteMultipartDays aborts unfinished uploads, in days.
	AbortIncompleteMultipartDays int
	// ExpireCurrentDays expires current objects, in days; 0 keeps them.
	ExpireCurrentDays int
	// Protect sets Pulumi's protect on the bucket.
	Protect bool
	// Prefixes expire current objects per prefix (each with its own rule,
	// besides the old versions' and uploads' rules); empty uses
	// ExpireCurrentDays for the whole bucket.
	Prefixes []PrefixExpiry
	// ObjectLockDays turns on S3 Object Lock with a default retention in
	// governance mode, in days; 0 leaves it off. Object Lock can only be
	// turned on when the bucket is created.
	ObjectLockDays int
	// LogBucket receives the bucket's server access logs under
	// LogPrefix; nil logs nothing.
	LogBucket pulumi.StringInput
	LogPrefix string
	// AcceptsAccessLogs makes this a log bucket: SSE-S3 (server access
	// logging cannot write to an SSE-KMS bucket) and a policy that lets S3's
	// logging service write, for this account's buckets only.
	AcceptsAccessLogs bool
	// AccountID is the account whose buckets may log here.
	AccountID string
	// Tags are extra tags of the bucket.
	Tags map[string]string
	// NoBucketKey turns the S3 Bucket Key off: every object is then
	// encrypted with a data key of its own from KMS. A service that writes
	// with its own SSE-KMS key would otherwise need kms:Decrypt as well
	// (CloudTrail: "Granting decrypt permissions for trails").
	NoBucketKey bool
	// Statements are more bucket policy statements, given the bucket's
	// ARN (a service's delivery, such as CloudTrail's); nil adds none.
	Statements func(bucketArn pulumi.StringOutput) iam.GetPolicyDocumentStatementArray
}

// PrefixExpiry expires the current objects under a prefix after Days,
// and their noncurrent versions after NoncurrentDays (0: the bucket's
// NoncurrentVersionDays). S3 applies the earliest of overlapping
// expirations, so a bucket with prefixes has no bucket-wide noncurrent
// rule: each prefix says its own.
type PrefixExpiry struct {
	Prefix         string
	Days           int
	NoncurrentDays int
}

// PrivateBucket is a bucket and the settings that guard it.
type PrivateBucket struct {
	Bucket *s3.BucketV2
	// Settings are the public access block, ownership, encryption,
	// versioning, lifecycle and policy resources.
	Settings []pulumi.Resource
}

// NewPrivateBucket creates a bucket no one outside the account can reach:
// every public access path blocked, ACLs disabled (bucket owner enforced),
// SSE-KMS with a bucket key, versioning, lifecycle for old versions and
// stale multipart uploads, and a policy that refuses anything but TLS.
// This is the one place a data bucket's guards are written.
func NewPrivateBucket(ctx *pulumi.Context, name string, args PrivateBucketArgs, opts ...pulumi.ResourceOption) (*PrivateBucket, error) {
	bucketArgs := &s3.BucketV2Args{
		Bucket: pulumi.String(args.Bucket),
		// Deleting a bucket with objects in it must be a deliberate act.
		ForceDestroy: pulumi.Bool(false),
	}
	if args.ObjectLockDays > 0 {
		// Replaces the bucket if changed: only at creation.
		bucketArgs.ObjectLockEnabled = pulumi.Bool(true)
	}
	if len(args.Tags) > 0 {
		bucketArgs.Tags = pulumi.ToStringMap(args.Tags)
	}
	bucket, err := s3.NewBucketV2(ctx, name, bucketArgs, append(opts, pulumi.Protect(args.Protect))...)
	if err != nil {
		return nil, fmt.Errorf("creating bucket %s: %w", args.Bucket, err)
	}
	out := &PrivateBucket{Bucket: bucket}
	add := func(r pulumi.Resource, err error) error {
		if err != nil {
			return fmt.Errorf("guarding bucket %s: %w", args.Bucket, err)
		}
		out.Settings = append(out.Settings, r)
		return nil
	}
	if err := add(s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...)); err != nil {
		return nil, err
	}
	if err := add(s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...)); err != nil {
		return nil, err
	}
	if err := add(s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: sse(args),
				// One data key per bucket rather than per object: far fewer
				// KMS calls, same protection (SSE-KMS only).
				BucketKeyEnabled: pulumi.Bool(!args.AcceptsAccessLogs && !args.NoBucketKey),
			},
		},
	}, opts...)); err != nil {
		return nil, err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opts...)
	if err := add(versioning, err); err != nil {
		return nil, err
	}
	rules := s3.BucketLifecycleConfigurationV2RuleArray{}
	for _, p := range args.Prefixes {
		noncurrent := p.NoncurrentDays
		if noncurrent == 0 {
			noncurrent = args.NoncurrentVersionDays
		}
		rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String("expire-" + strings.TrimSuffix(p.Prefix, "/")),
			Status:     pulumi.String("Enabled"),
			Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(p.Prefix)},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(p.Days)},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(noncurrent),
			},
		})
	}
	rule := &s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String("expire-old-versions-and-uploads"),
		Status: pulumi.String("Enabled"),
		Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(args.NoncurrentVersionDays),
		},
		AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
			DaysAfterInitiation: pulumi.Int(args.AbortIncompleteMultipartDays),
		},
		Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
	}
	if len(args.Prefixes) > 0 {
		rule.NoncurrentVersionExpiration = nil
	}
	if args.ExpireCurrentDays > 0 && len(args.Prefixes) == 0 {
		rule.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.ExpireCurrentDays)}
	}
	if err := add(s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  append(rules, rule),
		// Lifecycle rules on noncurrent versions need versioning on first.
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{versioning}))...)); err != nil {
		return nil, err
	}
	statements := iam.GetPolicyDocumentStatementArray{
		iam.GetPolicyDocumentStatementArgs{
			Sid:       pulumi.String("DenyInsecureTransport"),
			Effect:    pulumi.String("Deny"),
			Actions:   pulumi.StringArray{pulumi.String("s3:*")},
			Resources: pulumi.StringArray{bucket.Arn, pulumi.Sprintf("%s/*", bucket.Arn)},
			Principals: iam.GetPolicyDocumentStatementPrincipalArray{
				iam.GetPolicyDocumentStatementPrincipalArgs{Type: pulumi.String("*"), Identifiers: pulumi.StringArray{pulumi.String("*")}},
			},
			Conditions: iam.GetPolicyDocumentStatementConditionArray{
				iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String("Bool"), Variable: pulumi.String("aws:SecureTransport"), Values: pulumi.StringArray{pulumi.String("false")}},
			},
		},
	}
	if args.AcceptsAccessLogs {
		statements = append(statements, iam.GetPolicyDocumentStatementArgs{
			Sid:       pulumi.String("S3ServerAccessLogs"),
			Actions:   pulumi.StringArray{pulumi.String("s3:PutObject")},
			Resources: pulumi.StringArray{pulumi.Sprintf("%s/*", bucket.Arn)},
			Principals: iam.GetPolicyDocumentStatementPrincipalArray{
				iam.GetPolicyDocumentStatementPrincipalArgs{Type: pulumi.String("Service"), Identifiers: pulumi.StringArray{pulumi.String("logging.s3.amazonaws.com")}},
			},
			Conditions: iam.GetPolicyDocumentStatementConditionArray{
				iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String("StringEquals"), Variable: pulumi.String("aws:SourceAccount"), Values: pulumi.StringArray{pulumi.String(args.AccountID)}},
			},
		})
	}
	if args.Statements != nil {
		statements = append(statements, args.Statements(bucket.Arn)...)
	}
	policy := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{Statements: statements}, InvokeOptions(opts)...).Json()
	if args.ObjectLockDays > 0 {
		if err := add(s3.NewBucketObjectLockConfigurationV2(ctx, name, &s3.BucketObjectLockConfigurationV2Args{
			Bucket: bucket.ID(),
			Rule: &s3.BucketObjectLockConfigurationV2RuleArgs{DefaultRetention: &s3.BucketObjectLockConfigurationV2RuleDefaultRetentionArgs{
				// Governance: only a principal with s3:BypassGovernanceRetention
				// (none of the platform's roles) can shorten it.
				Mode: pulumi.String("GOVERNANCE"),
				Days: pulumi.Int(args.ObjectLockDays),
			}},
		}, append(opts, pulumi.DependsOn([]pulumi.Resource{versioning}))...)); err != nil {
			return nil, err
		}
	}
	if args.LogBucket != nil {
		if err := add(s3.NewBucketLoggingV2(ctx, name, &s3.BucketLoggingV2Args{
			Bucket: bucket.ID(), TargetBucket: args.LogBucket, TargetPrefix: pulumi.String(args.LogPrefix),
		}, opts...)); err != nil {
			return nil, err
		}
	}
	if err := add(s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: policy,
	}, opts...)); err != nil {
		return nil, err
	}
	return out, nil
}

// sse is the bucket's default encryption: SSE-KMS with the bucket's key, or
// SSE-S3 for a log bucket.
func sse(args PrivateBucketArgs) *s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs {
	if args.AcceptsAccessLogs {
		return &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	}
	return &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
		SseAlgorithm:   pulumi.String("aws:kms"),
		KmsMasterKeyId: args.KmsKeyArn,
	}
}
