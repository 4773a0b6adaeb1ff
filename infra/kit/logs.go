package kit

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LogGroup is a CloudWatch log group the program creates before the AWS
// service that writes to it: a service that creates its own group on first
// write gives it no retention and no encryption.
type LogGroup struct {
	// Name is the group's name, exactly as the service writes to it.
	Name pulumi.StringInput
	// RetentionDays is how long events are kept, in days.
	RetentionDays int
	// KeyArn is the KMS key that encrypts it (the stack's logs key).
	KeyArn pulumi.StringInput
	// Keep protects the group and retains it on destroy (config
	// guards.protect): audit, flow and database logs outlive a destroy or
	// a replacement, for their retention.
	Keep bool
}

// NewLogGroup creates the log group.
func NewLogGroup(ctx *pulumi.Context, name string, g LogGroup, opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	opts = append(opts, pulumi.Protect(g.Keep), pulumi.RetainOnDelete(g.Keep))
	lg, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            g.Name,
		RetentionInDays: pulumi.Int(g.RetentionDays),
		KmsKeyId:        g.KeyArn,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating log group %s: %w", name, err)
	}
	return lg, nil
}
