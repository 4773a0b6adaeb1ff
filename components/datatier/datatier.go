// Package datatier is the platform's state: RDS PostgreSQL 15 (primary,
// Multi-AZ standby and read replicas where configured), ElastiCache Redis 7
// and the S3 bucket for uploads, all encrypted with one customer-managed KMS
// key, reachable only from the cluster, and guarded against deletion where
// the stack says so.
package datatier

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Args configure the data tier.
type Args struct {
	// Database is RDS PostgreSQL (config section `database`).
	Database config.DatabaseConfig
	// Cache is ElastiCache Redis (config section `cache`).
	Cache config.CacheConfig
	// Uploads is the uploads bucket's lifecycle (config section `uploads`).
	Uploads config.UploadsConfig
	// Guards says whether stateful resources are protected.
	Guards config.GuardsConfig
	// BackendMaxReplicas is the backend HPA's maximum, in pods; with the
	// pool size it sizes PostgreSQL's max_connections.
	BackendMaxReplicas int
	// BackendNamespace and BackendServiceAccount are the only Kubernetes
	// subject that may assume the uploads role.
	BackendNamespace      string
	BackendServiceAccount string
	// LogRetentionDays is how long PostgreSQL logs are kept in CloudWatch.
	LogRetentionDays int

	// Namer names every resource.
	Namer kit.Namer
	// Account is where the tier lives.
	Account kit.Account
	// VpcId is the VPC of the security groups.
	VpcId pulumi.StringInput
	// DatabaseSubnetIds are the isolated subnets (no route out) for RDS.
	DatabaseSubnetIds pulumi.StringArrayInput
	// CacheSubnetIds are the subnets for ElastiCache: the isolated ones,
	// like RDS, so that no pod shares their addresses and the clients'
	// NetworkPolicy egress to them reaches the cache alone.
	CacheSubnetIds pulumi.StringArrayInput
	// ClientSecurityGroupId is the only source admitted to PostgreSQL and
	// Redis: the EKS cluster security group every node and pod carries.
	ClientSecurityGroupId pulumi.StringInput
	// LogsKeyArn encrypts the PostgreSQL log groups.
	LogsKeyArn pulumi.StringInput
	// OIDC is the cluster's OIDC provider, for the backend's IRSA role.
	OIDC kit.OIDC
}

// DataTier exposes what the app tier and backups consume.
type DataTier struct {
	pulumi.ResourceState

	// DatabaseHost and DatabasePort are the primary's endpoint.
	DatabaseHost pulumi.StringOutput
	DatabasePort pulumi.IntOutput
	// DatabaseName and DatabaseUser are the application database and its
	// master user.
	DatabaseName pulumi.StringOutput
	DatabaseUser pulumi.StringOutput
	// DatabasePassword is the master password (secret).
	DatabasePassword pulumi.StringOutput
	// DatabaseURL is a ready connection string with sslmode=require and the
	// pool settings (secret).
	DatabaseURL pulumi.StringOutput
	// DatabaseReaderHosts are the read replicas' endpoints, empty without
	// replicas; DatabaseReaderURL points at the first (secret), or is empty.
	DatabaseReaderHosts pulumi.StringArrayOutput
	DatabaseReaderURL   pulumi.StringOutput
	// DatabaseInstanceId is the primary's RDS identifier;
	// DatabaseInstanceIds the primary's and every replica's.
	DatabaseInstanceId  pulumi.StringOutput
	DatabaseInstanceIds pulumi.StringArrayOutput

	// RedisPrimaryHost and RedisReaderHost are the replication group's
	// endpoints; RedisPort their port.
	RedisPrimaryHost pulumi.StringOutput
	RedisReaderHost  pulumi.StringOutput
	RedisPort        pulumi.IntOutput
	// RedisReplicationGroupId is the group's ID; its member clusters are
	// <id>-001 onwards.
	RedisReplicationGroupId pulumi.StringOutput
	// RedisAuthToken is the AUTH token (secret); RedisURL a ready rediss://
	// URL (secret).
	RedisAuthToken pulumi.StringOutput
	RedisURL       pulumi.StringOutput

	// UploadsBucketName and UploadsBucketArn are the uploads bucket.
	UploadsBucketName pulumi.StringOutput
	UploadsBucketArn  pulumi.StringOutput
	// BackendRoleArn is the IRSA role the backend's service account assumes.
	BackendRoleArn pulumi.StringOutput
	// KmsKeyArn is the key that encrypts the database, cache and bucket.
	KmsKeyArn pulumi.StringOutput
}

// New builds the data tier.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*DataTier, error) {
	d := &DataTier{}
	if err := ctx.RegisterComponentResource("scrolluniversity:components:DataTier", name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	key, err := kit.NewKey(ctx, args.Namer.Name("data"), args.Account, kit.KeyArgs{
		Description: "Data at rest of " + args.Namer.Prefix + ": RDS, ElastiCache, uploads bucket",
		// Final snapshots and RDS's retained automated backups outlive a
		// destroy and are encrypted with this key: deleting it would make
		// them unreadable. It stays (pending nothing) until deleted by hand.
		Retain: true,
	}, parent, pulumi.Protect(args.Guards.Protect))
	if err != nil {
		return nil, err
	}
	d.KmsKeyArn = key.Arn

	if err := d.postgres(ctx, args, key.Arn); err != nil {
		return nil, fmt.Errorf("building PostgreSQL: %w", err)
	}
	if err := d.redis(ctx, args, key.Arn); err != nil {
		return nil, fmt.Errorf("building Redis: %w", err)
	}
	if err := d.uploads(ctx, args, key.Arn); err != nil {
		return nil, fmt.Errorf("building the uploads bucket: %w", err)
	}

	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"databaseHost":        d.DatabaseHost,
		"databasePort":        d.DatabasePort,
		"databaseUrl":         d.DatabaseURL,
		"databaseReaderHosts": d.DatabaseReaderHosts,
		"redisPrimaryHost":    d.RedisPrimaryHost,
		"redisReaderHost":     d.RedisReaderHost,
		"redisUrl":            d.RedisURL,
		"uploadsBucketName":   d.UploadsBucketName,
		"uploadsBucketArn":    d.UploadsBucketArn,
		"backendRoleArn":      d.BackendRoleArn,
		"kmsKeyArn":           d.KmsKeyArn,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// clientOnlySecurityGroup makes a security group that admits one TCP port
// from the cluster security group and nothing else: no other ingress and no
// egress (neither RDS nor ElastiCache opens connections).
func clientOnlySecurityGroup(ctx *pulumi.Context, parent pulumi.Resource, args Args, name, purpose string, port int) (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(ctx, args.Namer.Name(name), &ec2.SecurityGroupArgs{
		VpcId:       args.VpcId,
		Description: pulumi.String(purpose + ", reachable only from the EKS cluster"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(args.Namer.Name(name))},
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("creating %s security group: %w", name, err)
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, args.Namer.Name(name, "from-cluster"), &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           sg.ID(),
		ReferencedSecurityGroupId: args.ClientSecurityGroupId,
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(port),
		ToPort:                    pulumi.Int(port),
		Description:               pulumi.String(purpose + " from cluster nodes and pods"),
	}, pulumi.Parent(parent)); err != nil {
		return nil, fmt.Errorf("admitting the cluster to %s: %w", name, err)
	}
	return sg, nil
}
