package datatier

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

const (
	// PostgresPort is PostgreSQL's standard port.
	PostgresPort = 5432
	// parameterFamily is the parameter group family of PostgreSQL 15.
	parameterFamily = "postgres15"
	// passwordLength gives ~238 bits from letters and digits only: RDS
	// refuses "/", "@", '"' and spaces, and URLs need no escaping.
	passwordLength = 40
	// performanceInsightsDays is the free retention tier.
	performanceInsightsDays = 7
	// caCertificate is RDS's current CA; clients verify against its bundle.
	caCertificate = "rds-ca-rsa2048-g1"
	// snapshotSuffixBytes is 4 bytes, 8 hex characters, of final snapshot
	// suffix: identifiers stay within RDS's 255 and ElastiCache's limits.
	snapshotSuffixBytes = 4
	// rdsExtendedSupportDisabled opts out of RDS Extended Support (the
	// SDK's engineLifecycleSupport values).
	rdsExtendedSupportDisabled = "open-source-rds-extended-support-disabled"
)

// postgresLogExports are the RDS PostgreSQL logs shipped to CloudWatch.
var postgresLogExports = []string{"postgresql", "upgrade"}

// replicaNames are the read replicas' stable names: adding a replica never
// renames the ones before it.
var replicaNames = []string{"replica-a", "replica-b", "replica-c", "replica-d", "replica-e"}

// FinalSnapshotID names the final snapshot of an instance or replication
// group: the identifier plus a random suffix made once per stack lifetime,
// so that destroying a second incarnation of the stack does not collide
// with the first one's snapshot (AWS refuses an existing snapshot name).
func FinalSnapshotID(ctx *pulumi.Context, parent pulumi.ResourceOption, name, identifier string) (pulumi.StringOutput, error) {
	suffix, err := random.NewRandomId(ctx, name, &random.RandomIdArgs{ByteLength: pulumi.Int(snapshotSuffixBytes)}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("generating the final snapshot suffix of %s: %w", identifier, err)
	}
	return pulumi.Sprintf("%s-final-%s", identifier, suffix.Hex), nil
}

// MaxConnections sizes max_connections for every backend pod's pool at the
// HPA's maximum, plus headroom for migrations, backups and operators.
func MaxConnections(backendMaxReplicas, poolMax, headroom int) int {
	return backendMaxReplicas*poolMax + headroom
}

// Parameter is one RDS parameter.
type Parameter struct {
	Name, Value string
	// ApplyMethod is "immediate" for dynamic parameters and
	// "pending-reboot" for static ones (RDS refuses immediate on those).
	ApplyMethod string
}

// PostgresParameters are the parameter group's settings: TLS only (1.2+),
// SCRAM passwords, connections sized for the pools, slow queries, lock waits
// and connections logged, pg_stat_statements loaded.
func PostgresParameters(db config.DatabaseConfig, backendMaxReplicas int) []Parameter {
	return []Parameter{
		{"rds.force_ssl", "1", "immediate"},
		{"ssl_min_protocol_version", "TLSv1.2", "immediate"},
		{"password_encryption", "scram-sha-256", "immediate"},
		{"max_connections", fmt.Sprint(MaxConnections(backendMaxReplicas, db.Pool.Max, db.ConnectionHeadroom)), "pending-reboot"},
		{"log_min_duration_statement", fmt.Sprint(db.SlowQueryMs), "immediate"},
		{"log_lock_waits", "1", "immediate"},
		{"log_connections", "1", "immediate"},
		{"log_disconnections", "1", "immediate"},
		{"shared_preload_libraries", "pg_stat_statements", "pending-reboot"},
	}
}

// ReplicaStandbyDelayMs is how long a read replica's replay waits for a
// conflicting query (the backup's pg_dump holds one snapshot for the whole
// dump) before cancelling it: five minutes of lag at worst, against a
// dump cancelled after PostgreSQL's default 30 s.
const ReplicaStandbyDelayMs = 300000

// ReplicaParameters are the read replicas' group: the primary's settings
// (a hot standby needs max_connections at least the primary's), plus
// hot_standby_feedback, so the primary's vacuum keeps the rows the dump's
// snapshot still reads (no cleanup conflicts; the price is bloat on the
// primary while a dump runs), and ReplicaStandbyDelayMs for the conflicts
// feedback cannot prevent (a migration's ACCESS EXCLUSIVE lock): the dump
// then fails and database-backup retries once.
func ReplicaParameters(db config.DatabaseConfig, backendMaxReplicas int) []Parameter {
	return append(PostgresParameters(db, backendMaxReplicas),
		Parameter{"hot_standby_feedback", "1", "immediate"},
		Parameter{"max_standby_streaming_delay", fmt.Sprint(ReplicaStandbyDelayMs), "immediate"},
		Parameter{"max_standby_archive_delay", fmt.Sprint(ReplicaStandbyDelayMs), "immediate"},
	)
}

func parameterArray(ps []Parameter) rds.ParameterGroupParameterArray {
	out := rds.ParameterGroupParameterArray{}
	for _, p := range ps {
		out = append(out, rds.ParameterGroupParameterArgs{Name: pulumi.String(p.Name), Value: pulumi.String(p.Value), ApplyMethod: pulumi.String(p.ApplyMethod)})
	}
	return out
}

func (d *DataTier) postgres(ctx *pulumi.Context, args Args, keyArn pulumi.StringOutput) error {
	n := args.Namer
	db := args.Database
	parent := pulumi.Parent(d)
	guarded := pulumi.Protect(args.Guards.Protect)
	identifier := n.Name("postgres")

	sg, err := clientOnlySecurityGroup(ctx, d, args, "postgres", "PostgreSQL", PostgresPort)
	if err != nil {
		return err
	}
	subnets, err := rds.NewSubnetGroup(ctx, n.Name("postgres"), &rds.SubnetGroupArgs{
		Name:        pulumi.String(identifier),
		Description: pulumi.String("Isolated subnets of " + identifier),
		SubnetIds:   args.DatabaseSubnetIds,
	}, parent)
	if err != nil {
		return fmt.Errorf("creating DB subnet group: %w", err)
	}
	paramGroup, err := rds.NewParameterGroup(ctx, n.Name("postgres"), &rds.ParameterGroupArgs{
		// A prefix: a family change replaces the group, and the new one
		// must exist beside the old while the instances move over.
		NamePrefix:  pulumi.String(identifier + "-"),
		Family:      pulumi.String(parameterFamily),
		Description: pulumi.String("TLS-only PostgreSQL 15 for " + identifier),
		Parameters:  parameterArray(PostgresParameters(db, args.BackendMaxReplicas)),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating DB parameter group: %w", err)
	}
	var replicaParams *rds.ParameterGroup
	if db.ReadReplicas > 0 {
		replicaParams, err = rds.NewParameterGroup(ctx, n.Name("postgres-replica"), &rds.ParameterGroupArgs{
			NamePrefix:  pulumi.String(identifier + "-replica-"),
			Family:      pulumi.String(parameterFamily),
			Description: pulumi.String("Read replicas of " + identifier + ": the primary's settings, and dumps not cancelled by replay"),
			Parameters:  parameterArray(ReplicaParameters(db, args.BackendMaxReplicas)),
		}, parent)
		if err != nil {
			return fmt.Errorf("creating the replicas' DB parameter group: %w", err)
		}
	}
	// RDS creates these groups on first export with no retention and no
	// encryption; created first, they get both.
	logGroups := func(instance string) ([]pulumi.Resource, error) {
		var out []pulumi.Resource
		for _, log := range postgresLogExports {
			lg, err := kit.NewLogGroup(ctx, n.Name(strings.TrimPrefix(instance, n.Prefix+"-"), log), kit.LogGroup{
				Name: pulumi.Sprintf("/aws/rds/instance/%s/%s", instance, log), RetentionDays: args.LogRetentionDays, KeyArn: args.LogsKeyArn, Keep: args.Guards.Protect,
			}, parent)
			if err != nil {
				return nil, fmt.Errorf("creating log group for %s's %s logs: %w", instance, log, err)
			}
			out = append(out, lg)
		}
		return out, nil
	}
	primaryLogs, err := logGroups(identifier)
	if err != nil {
		return err
	}
	password, err := random.NewRandomPassword(ctx, n.Name("postgres-master"), &random.RandomPasswordArgs{
		Length:  pulumi.Int(passwordLength),
		Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return fmt.Errorf("generating the master password: %w", err)
	}

	var monitoringRole pulumi.StringPtrInput
	// RDS checks the monitoring role's permissions when the instance is
	// created: the attachment must be in place, though no value flows.
	var monitoringReady []pulumi.Resource
	if db.MonitoringIntervalSeconds > 0 {
		role, err := kit.ServiceRole(ctx, n.Name("rds-monitoring"), "monitoring.rds.amazonaws.com", []string{"sts:AssumeRole"}, args.Account.AccountID,
			[]string{fmt.Sprintf("arn:%s:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole", args.Account.Partition)}, parent)
		if err != nil {
			return err
		}
		monitoringRole = role.Role.Arn
		monitoringReady = role.Attachments
	}
	var piKey pulumi.StringPtrInput
	var piRetention pulumi.IntPtrInput
	if db.PerformanceInsights {
		piKey = keyArn
		piRetention = pulumi.Int(performanceInsightsDays)
	}
	var finalSnapshot pulumi.StringPtrInput
	if args.Guards.FinalSnapshot {
		if finalSnapshot, err = FinalSnapshotID(ctx, parent, n.Name("postgres-final-snapshot"), identifier); err != nil {
			return err
		}
	}

	primary, err := rds.NewInstance(ctx, identifier, &rds.InstanceArgs{
		Identifier:               pulumi.String(identifier),
		Engine:                   pulumi.String("postgres"),
		EngineVersion:            pulumi.String(db.EngineVersion),
		InstanceClass:            pulumi.String(db.InstanceClass),
		AllocatedStorage:         pulumi.Int(db.AllocatedStorageGiB),
		MaxAllocatedStorage:      pulumi.Int(db.MaxAllocatedStorageGiB),
		StorageType:              pulumi.String("gp3"),
		StorageEncrypted:         pulumi.Bool(true),
		KmsKeyId:                 keyArn,
		DbName:                   pulumi.String(db.Name),
		Username:                 pulumi.String(db.Username),
		Password:                 password.Result,
		Port:                     pulumi.Int(PostgresPort),
		DbSubnetGroupName:        subnets.Name,
		VpcSecurityGroupIds:      pulumi.StringArray{sg.ID()},
		ParameterGroupName:       paramGroup.Name,
		PubliclyAccessible:       pulumi.Bool(false),
		CaCertIdentifier:         pulumi.String(caCertificate),
		MultiAz:                  pulumi.Bool(db.MultiAz),
		BackupRetentionPeriod:    pulumi.Int(db.BackupRetentionDays),
		BackupWindow:             pulumi.String(db.BackupWindow),
		MaintenanceWindow:        pulumi.String(db.MaintenanceWindow),
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		AllowMajorVersionUpgrade: pulumi.Bool(false),
		// When PostgreSQL 15 leaves RDS standard support the instance is
		// upgraded in its maintenance window instead of billing Extended
		// Support per vCPU-hour (the SDK's default opts in). The replicas
		// follow their primary.
		EngineLifecycleSupport: pulumi.String(rdsExtendedSupportDisabled),
		// Changes wait for the maintenance window unless someone says otherwise.
		ApplyImmediately:   pulumi.Bool(false),
		CopyTagsToSnapshot: pulumi.Bool(true),
		// Automated backups outlive the instance and expire on their own
		// retention: a deleted database can still be restored.
		DeleteAutomatedBackups:             pulumi.Bool(false),
		DeletionProtection:                 pulumi.Bool(args.Guards.DeletionProtection),
		SkipFinalSnapshot:                  pulumi.Bool(!args.Guards.FinalSnapshot),
		FinalSnapshotIdentifier:            finalSnapshot,
		EnabledCloudwatchLogsExports:       pulumi.ToStringArray(postgresLogExports),
		IamDatabaseAuthenticationEnabled:   pulumi.Bool(true),
		PerformanceInsightsEnabled:         pulumi.Bool(db.PerformanceInsights),
		PerformanceInsightsKmsKeyId:        piKey,
		PerformanceInsightsRetentionPeriod: piRetention,
		MonitoringInterval:                 pulumi.Int(db.MonitoringIntervalSeconds),
		MonitoringRoleArn:                  monitoringRole,
	}, parent, guarded,
		// The log groups must exist before RDS first exports to them.
		pulumi.DependsOn(append(primaryLogs, monitoringReady...)))
	if err != nil {
		return fmt.Errorf("creating the primary instance: %w", err)
	}

	var readers pulumi.StringArray
	ids := pulumi.StringArray{primary.Identifier}
	for _, replica := range replicaNames[:db.ReadReplicas] {
		replicaID := n.Name("postgres", replica)
		replicaLogs, err := logGroups(replicaID)
		if err != nil {
			return err
		}
		r, err := rds.NewInstance(ctx, replicaID, &rds.InstanceArgs{
			Identifier:          pulumi.String(replicaID),
			ReplicateSourceDb:   primary.Identifier,
			InstanceClass:       pulumi.String(db.InstanceClass),
			MaxAllocatedStorage: pulumi.Int(db.MaxAllocatedStorageGiB),
			StorageType:         pulumi.String("gp3"),
			// A same-region replica is encrypted with its source's key, and
			// CreateDBInstanceReadReplica refuses a KmsKeyId for it
			// ("don't specify a value for this parameter"): the key is left
			// out, and storageEncrypted only states what the replica is.
			StorageEncrypted:        pulumi.Bool(true),
			VpcSecurityGroupIds:     pulumi.StringArray{sg.ID()},
			ParameterGroupName:      replicaParams.Name,
			PubliclyAccessible:      pulumi.Bool(false),
			CaCertIdentifier:        pulumi.String(caCertificate),
			AutoMinorVersionUpgrade: pulumi.Bool(true),
			MaintenanceWindow:       pulumi.String(db.MaintenanceWindow),
			ApplyImmediately:        pulumi.Bool(false),
			DeletionProtection:      pulumi.Bool(args.Guards.DeletionProtection),
			// A replica's data is the primary's; its snapshots would be too.
			SkipFinalSnapshot:                  pulumi.Bool(true),
			EnabledCloudwatchLogsExports:       pulumi.ToStringArray(postgresLogExports),
			PerformanceInsightsEnabled:         pulumi.Bool(db.PerformanceInsights),
			PerformanceInsightsKmsKeyId:        piKey,
			PerformanceInsightsRetentionPeriod: piRetention,
			MonitoringInterval:                 pulumi.Int(db.MonitoringIntervalSeconds),
			MonitoringRoleArn:                  monitoringRole,
		}, parent, guarded, pulumi.DependsOn(append(replicaLogs, monitoringReady...)))
		if err != nil {
			return fmt.Errorf("creating read replica %s: %w", replica, err)
		}
		readers = append(readers, r.Address)
		ids = append(ids, r.Identifier)
	}

	d.DatabaseHost = primary.Address
	d.DatabasePort = primary.Port
	d.DatabaseName = pulumi.String(db.Name).ToStringOutput()
	d.DatabaseUser = pulumi.String(db.Username).ToStringOutput()
	d.DatabasePassword = pulumi.ToSecret(password.Result).(pulumi.StringOutput)
	d.DatabaseInstanceId = primary.Identifier
	d.DatabaseURL = pulumi.ToSecret(pulumi.All(primary.Address, primary.Port, password.Result).ApplyT(func(v []any) string {
		return DatabaseURL(db.Username, v[2].(string), v[0].(string), v[1].(int), db.Name, db.Pool)
	})).(pulumi.StringOutput)
	d.DatabaseReaderHosts = readers.ToStringArrayOutput()
	d.DatabaseInstanceIds = ids.ToStringArrayOutput()
	d.DatabaseReaderURL = pulumi.String("").ToStringOutput()
	if len(readers) > 0 {
		d.DatabaseReaderURL = pulumi.ToSecret(pulumi.All(readers[0], primary.Port, password.Result).ApplyT(func(v []any) string {
			return DatabaseURL(db.Username, v[2].(string), v[0].(string), v[1].(int), db.Name, db.Pool)
		})).(pulumi.StringOutput)
	}
	return nil
}
