package datatier

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/kit"
)

// BucketObjectActions are what the backend may do to objects in the uploads
// bucket: read, write, delete, and manage its own multipart uploads.
var BucketObjectActions = []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}

// BucketActions are what the backend may do to the bucket itself.
var BucketActions = []string{"s3:ListBucket", "s3:GetBucketLocation"}

func (d *DataTier) uploads(ctx *pulumi.Context, args Args, keyArn pulumi.StringOutput) error {
	n := args.Namer
	parent := pulumi.Parent(d)
	// The account ID makes the global bucket name ours, and deterministic.
	bucket, err := kit.NewPrivateBucket(ctx, n.Name("uploads"), kit.PrivateBucketArgs{
		Bucket:                       n.Name("uploads", args.Account.AccountID),
		KmsKeyArn:                    keyArn,
		NoncurrentVersionDays:        args.Uploads.NoncurrentVersionDays,
		AbortIncompleteMultipartDays: args.Uploads.AbortIncompleteMultipartDays,
		Protect:                      args.Guards.Protect,
	}, parent)
	if err != nil {
		return err
	}
	access := iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{
		Statements: iam.GetPolicyDocumentStatementArray{
			iam.GetPolicyDocumentStatementArgs{
				Sid:       pulumi.String("UploadsObjects"),
				Actions:   pulumi.ToStringArray(BucketObjectActions),
				Resources: pulumi.StringArray{pulumi.Sprintf("%s/*", bucket.Bucket.Arn)},
			},
			iam.GetPolicyDocumentStatementArgs{
				Sid:       pulumi.String("UploadsBucket"),
				Actions:   pulumi.ToStringArray(BucketActions),
				Resources: pulumi.StringArray{bucket.Bucket.Arn},
			},
			// SSE-KMS: writing and reading objects needs the data key, and
			// only through S3.
			iam.GetPolicyDocumentStatementArgs{
				Sid:       pulumi.String("UploadsKey"),
				Actions:   pulumi.ToStringArray([]string{"kms:GenerateDataKey", "kms:Decrypt"}),
				Resources: pulumi.StringArray{keyArn},
				Conditions: iam.GetPolicyDocumentStatementConditionArray{
					iam.GetPolicyDocumentStatementConditionArgs{Test: pulumi.String("StringEquals"), Variable: pulumi.String("kms:ViaService"), Values: pulumi.StringArray{pulumi.Sprintf("s3.%s.%s", args.Account.Region, args.Account.DNSSuffix)}},
				},
			},
		},
	}, parent)
	role, err := args.OIDC.Role(ctx, n.Name("backend"), kit.IRSAArgs{
		Namespace:      args.BackendNamespace,
		ServiceAccount: args.BackendServiceAccount,
		Policy:         access.Json(),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating the backend's IRSA role: %w", err)
	}
	d.UploadsBucketName = bucket.Bucket.Bucket
	d.UploadsBucketArn = bucket.Bucket.Arn
	d.BackendRoleArn = role.Role.Arn
	return nil
}
