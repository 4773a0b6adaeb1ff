package kit

import (
	"fmt"

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
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket: pulumi.String(args.Bucket),
		// Deleting a bucket with objects in it must be a deliberate act.
		ForceDestroy: pulumi.Bool(false),
	}, append(opts, pulumi.Protect(args.Protect))...)
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
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm:   pulumi.String("aws:kms"),
					KmsMasterKeyId: args.KmsKeyArn,
				},
				// One data key per bucket rather than per object: far fewer
				// KMS calls, same protection.
				BucketKeyEnabled: pulumi.Bool(true),
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
	if args.ExpireCurrentDays > 0 {
		rule.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.ExpireCurrentDays)}
	}
	if err := add(s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  s3.BucketLifecycleConfigurationV2RuleArray{rule},
		// Lifecycle rules on noncurrent versions need versioning on first.
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{versioning}))...)); err != nil {
		return nil, err
	}
	tlsOnly := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
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
		},
	}, InvokeOptions(opts)...)
	if err := add(s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: tlsOnly.Json(),
	}, opts...)); err != nil {
		return nil, err
	}
	return out, nil
}
