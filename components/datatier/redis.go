package datatier

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// RedisPort is Redis's standard port.
	RedisPort = 6379
	// authTokenLength is within ElastiCache's 16-128; letters and digits
	// only, since "@", '"' and "/" are refused.
	authTokenLength = 64
)

// RedisParameters are the parameter group's settings for a session store,
// cache and pub/sub: the configured eviction policy, and idle clients
// closed after five minutes so that dead pods do not hold connections.
func RedisParameters(policy string) map[string]string {
	return map[string]string{
		"maxmemory-policy": policy,
		"timeout":          "300",
	}
}

// RedisFamily is the parameter group family of a Redis engine version.
func RedisFamily(engineVersion string) string {
	return "redis" + strings.SplitN(engineVersion, ".", 2)[0]
}

func (d *DataTier) redis(ctx *pulumi.Context, args Args, keyArn pulumi.StringOutput) error {
	n := args.Namer
	c := args.Cache
	parent := pulumi.Parent(d)
	id := n.Name("redis")

	sg, err := clientOnlySecurityGroup(ctx, d, args, "redis", "Redis", RedisPort)
	if err != nil {
		return err
	}
	subnets, err := elasticache.NewSubnetGroup(ctx, id, &elasticache.SubnetGroupArgs{
		Name:        pulumi.String(id),
		Description: pulumi.String("Private subnets of " + id),
		SubnetIds:   args.CacheSubnetIds,
	}, parent)
	if err != nil {
		return fmt.Errorf("creating cache subnet group: %w", err)
	}
	params := elasticache.ParameterGroupParameterArray{}
	settings := RedisParameters(c.MaxmemoryPolicy)
	for _, name := range []string{"maxmemory-policy", "timeout"} {
		params = append(params, elasticache.ParameterGroupParameterArgs{Name: pulumi.String(name), Value: pulumi.String(settings[name])})
	}
	family := RedisFamily(c.EngineVersion)
	paramGroup, err := elasticache.NewParameterGroup(ctx, id, &elasticache.ParameterGroupArgs{
		// ElastiCache has no name prefix: the family in the name makes a
		// family change a new name, so the replacement can be created
		// beside the old group while the cluster moves over.
		Name:        pulumi.String(id + "-" + family),
		Family:      pulumi.String(family),
		Description: pulumi.String("Session store and cache settings for " + id),
		Parameters:  params,
	}, parent)
	if err != nil {
		return fmt.Errorf("creating cache parameter group: %w", err)
	}
	token, err := random.NewRandomPassword(ctx, n.Name("redis-auth"), &random.RandomPasswordArgs{
		Length:  pulumi.Int(authTokenLength),
		Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return fmt.Errorf("generating the Redis auth token: %w", err)
	}
	var finalSnapshot pulumi.StringPtrInput
	if args.Guards.FinalSnapshot {
		if finalSnapshot, err = FinalSnapshotID(ctx, parent, n.Name("redis-final-snapshot"), id); err != nil {
			return err
		}
	}
	group, err := elasticache.NewReplicationGroup(ctx, id, &elasticache.ReplicationGroupArgs{
		ReplicationGroupId:       pulumi.String(id),
		Description:              pulumi.String("Sessions, cache and pub/sub of " + args.Namer.Prefix),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(c.EngineVersion),
		NodeType:                 pulumi.String(c.NodeType),
		NumCacheClusters:         pulumi.Int(1 + c.Replicas),
		AutomaticFailoverEnabled: pulumi.Bool(c.AutomaticFailover),
		MultiAzEnabled:           pulumi.Bool(c.AutomaticFailover),
		Port:                     pulumi.Int(RedisPort),
		ParameterGroupName:       paramGroup.Name,
		SubnetGroupName:          subnets.Name,
		SecurityGroupIds:         pulumi.StringArray{sg.ID()},
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		KmsKeyId:                 keyArn,
		TransitEncryptionEnabled: pulumi.Bool(true),
		TransitEncryptionMode:    pulumi.String("required"),
		AuthToken:                token.Result,
		SnapshotRetentionLimit:   pulumi.Int(c.SnapshotRetentionDays),
		SnapshotWindow:           pulumi.String(c.SnapshotWindow),
		MaintenanceWindow:        pulumi.String(c.MaintenanceWindow),
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		ApplyImmediately:         pulumi.Bool(false),
		FinalSnapshotIdentifier:  finalSnapshot,
	}, parent, pulumi.Protect(args.Guards.Protect))
	if err != nil {
		return fmt.Errorf("creating the replication group: %w", err)
	}

	d.RedisPrimaryHost = group.PrimaryEndpointAddress
	d.RedisReplicationGroupId = group.ID().ToStringOutput()
	d.RedisReaderHost = group.ReaderEndpointAddress
	d.RedisPort = group.Port.Elem()
	d.RedisAuthToken = pulumi.ToSecret(token.Result).(pulumi.StringOutput)
	d.RedisURL = pulumi.ToSecret(pulumi.All(group.PrimaryEndpointAddress, token.Result).ApplyT(func(v []any) string {
		return RedisURL(v[1].(string), v[0].(string), RedisPort)
	})).(pulumi.StringOutput)
	return nil
}
