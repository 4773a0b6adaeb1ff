package tests

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
	"github.com/scrolluniversity/platform/internal/plain"
	"github.com/scrolluniversity/platform/internal/synth"
)

const (
	typeDBInstance   = "aws:rds/instance:Instance"
	typeDBParams     = "aws:rds/parameterGroup:ParameterGroup"
	typeDBSubnets    = "aws:rds/subnetGroup:SubnetGroup"
	typeRedis        = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeRedisParams  = "aws:elasticache/parameterGroup:ParameterGroup"
	typeRedisSubnets = "aws:elasticache/subnetGroup:SubnetGroup"
	typeSG           = "aws:ec2/securityGroup:SecurityGroup"
	typeIngressRule  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeBucket       = "aws:s3/bucketV2:BucketV2"
	typeRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
)

// dataShape is what a stack file implies for its data tier, computed from
// the file so that scaling or reshaping a stack needs no test edit: the
// tests compare the program's resources with it.
type dataShape struct {
	multiAz          bool
	replicas         int
	retention        int64
	maxConnections   string
	guarded          bool
	redisNodes       int64
	redisFailover    bool
	instanceClass    string
	performanceInsig bool
}

func dataShapeOf(t *testing.T, cfg *config.Config) dataShape {
	t.Helper()
	db, cache := cfg.Database, cfg.Cache
	// max_connections: every backend pod's pool at the HPA's maximum, plus
	// the headroom (the rule itself: TestMaxConnections).
	maxConns := cfg.App.Backend.MaxReplicas*db.Pool.Max + db.ConnectionHeadroom
	shape := dataShape{
		multiAz: db.MultiAz, replicas: db.ReadReplicas, retention: int64(db.BackupRetentionDays),
		maxConnections: strconv.Itoa(maxConns), guarded: cfg.Guards.Protect,
		redisNodes: int64(cache.Replicas + 1), redisFailover: cache.AutomaticFailover,
		instanceClass: db.InstanceClass, performanceInsig: db.PerformanceInsights,
	}
	return shape
}

// productionShape is what a stack that guards its data (guards.protect:
// true, the stack that holds production data) must have, whatever its
// name: the fixed rules of DESIGN.md's table, not one stack's figures.
// Each entry is true when the stack has it.
func productionShape(cfg *config.Config) map[string]bool {
	zones := len(cfg.Network.AvailabilityZones)
	must := map[string]bool{
		"database.multiAz":                     cfg.Database.MultiAz,
		"database.readReplicas >= 1":           cfg.Database.ReadReplicas >= 1,
		"database.backupRetentionDays >= 7":    cfg.Database.BackupRetentionDays >= 7,
		"guards.deletionProtection":            cfg.Guards.DeletionProtection,
		"guards.finalSnapshot":                 cfg.Guards.FinalSnapshot,
		"cache.automaticFailover":              cfg.Cache.AutomaticFailover,
		"network.availabilityZones: 3 or more": zones >= 3,
		"network.natGateways: perZone":         cfg.Network.NatGateways == config.NatPerZone,
		"backups.objectLock":                   cfg.Backups.ObjectLock,
	}
	for name, w := range map[string]config.WorkloadConfig{"backend": cfg.App.Backend, "frontend": cfg.App.Frontend} {
		must["app."+name+".minReplicas >= 2"] = w.MinReplicas >= 2
	}
	return must
}

// missingProductionShape lists what a guarded stack lacks of
// productionShape (nothing for an unguarded one).
func missingProductionShape(cfg *config.Config) []string {
	if !cfg.Guards.Protect {
		return nil
	}
	var out []string
	for what, ok := range productionShape(cfg) {
		if !ok {
			out = append(out, what)
		}
	}
	slices.Sort(out)
	return out
}

// A stack file that guards its data has production's shape; the rule trips
// on a copy of production made single-AZ with one NAT gateway.
func TestGuardedStacksHaveProductionShape(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		if missing := missingProductionShape(cfg); len(missing) > 0 {
			t.Errorf("stack %s guards its data (guards.protect: true) but lacks %v", name, missing)
		}
	})
	prod := stackConfig(t, "production")
	if !prod.Guards.Protect {
		t.Skip("no guarded stack to plant in")
	}
	prod.Database.MultiAz, prod.Network.NatGateways = false, config.NatSingle
	if got, want := missingProductionShape(prod), []string{"database.multiAz", "network.natGateways: perZone"}; !slices.Equal(got, want) {
		t.Errorf("planted: want %v missing, got %v", want, got)
	}
}

func dataKeyArn(t *testing.T, res *synth.Result, n kit.Namer) string {
	t.Helper()
	return one(t, res, typeKey, n.Name("data")).State["arn"].StringValue()
}

func clusterSecurityGroup(t *testing.T, res *synth.Result, cfg *config.Config) string {
	t.Helper()
	c := one(t, res, typeCluster, cfg.Cluster.Name)
	return path(plain.Map(c.State), "vpcConfig", "clusterSecurityGroupId").(string)
}

func subnetIDs(t *testing.T, res *synth.Result, n kit.Namer, tier string, zones []string) []string {
	t.Helper()
	var ids []string
	for _, z := range zones {
		ids = append(ids, one(t, res, typeSubnet, n.Name(tier, z)).ID)
	}
	return ids
}

func TestPostgres(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		want := dataShapeOf(t, cfg)
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		primary := one(t, res, typeDBInstance, n.Name("postgres"))
		in := primary.Plain()
		expectAll(t, "primary", expectations{
			"engine": {in["engine"], "postgres"},
			// The major only: a pinned minor breaks the first update after
			// RDS's automatic minor upgrade.
			"engineVersion":              {in["engineVersion"], "15"},
			"instanceClass":              {in["instanceClass"], want.instanceClass},
			"multiAz":                    {in["multiAz"], want.multiAz},
			"storageEncrypted":           {in["storageEncrypted"], true},
			"kmsKeyId":                   {in["kmsKeyId"], dataKeyArn(t, res, n)},
			"storageType":                {in["storageType"], "gp3"},
			"publiclyAccessible":         {in["publiclyAccessible"], false},
			"backupRetentionPeriod":      {in["backupRetentionPeriod"], want.retention},
			"backupWindow":               {in["backupWindow"], "02:00-02:30"},
			"maintenanceWindow":          {in["maintenanceWindow"], "sun:05:00-sun:06:00"},
			"autoMinorVersionUpgrade":    {in["autoMinorVersionUpgrade"], true},
			"deletionProtection":         {in["deletionProtection"], want.guarded},
			"skipFinalSnapshot":          {in["skipFinalSnapshot"], !want.guarded},
			"protect":                    {primary.Protect, want.guarded},
			"performanceInsightsEnabled": {in["performanceInsightsEnabled"], want.performanceInsig},
			"logs exported":              {strings.Join(strs(in["enabledCloudwatchLogsExports"]), ","), "postgresql,upgrade"},
			"password is secret":         {primary.IsSecretInput("password"), true},
			// No RDS Extended Support billing after PostgreSQL 15's standard
			// support ends (aws review 15).
			"engineLifecycleSupport": {in["engineLifecycleSupport"], "open-source-rds-extended-support-disabled"},
		})
		if in["maxAllocatedStorage"].(int64) <= in["allocatedStorage"].(int64) {
			t.Errorf("storage autoscaling off: max %v <= allocated %v", in["maxAllocatedStorage"], in["allocatedStorage"])
		}

		// Replicas: exactly as many as the stack says, each encrypted, private, guarded alike.
		var replicas []synth.Resource
		for _, r := range res.ByType(typeDBInstance) {
			if r.Plain()["replicateSourceDb"] != nil {
				replicas = append(replicas, r)
			}
		}
		if len(replicas) != want.replicas {
			t.Fatalf("read replicas: want %d, got %d", want.replicas, len(replicas))
		}
		for _, r := range replicas {
			p := r.Plain()
			if p["replicateSourceDb"] != primary.ID || p["storageEncrypted"] != true || p["publiclyAccessible"] != false || r.Protect != want.guarded {
				t.Errorf("replica %s: want an encrypted, private replica of %s, protect=%v; got %v protect=%v", r.Name, primary.ID, want.guarded, p, r.Protect)
			}
			// RDS refuses a KMS key for a same-region replica, which its
			// source's key encrypts (aws review 3).
			if _, ok := p["kmsKeyId"]; ok {
				t.Errorf("replica %s sends kmsKeyId %v; a same-region replica must not", r.Name, p["kmsKeyId"])
			}
		}
		readers := strs(res.Outputs["databaseReaderHosts"].Value)
		if len(readers) != want.replicas {
			t.Errorf("databaseReaderHosts: want %d, got %v", want.replicas, readers)
		}

		// Isolated subnets only.
		sn := one(t, res, typeDBSubnets, n.Name("postgres")).Plain()
		if got, wantIDs := strs(sn["subnetIds"]), subnetIDs(t, res, n, "isolated", cfg.Network.AvailabilityZones); !slices.Equal(got, wantIDs) {
			t.Errorf("DB subnets: want the isolated subnets %v, got %v", wantIDs, got)
		}

		// TLS forced, connections sized for the pools.
		params := map[string]string{}
		for _, p := range one(t, res, typeDBParams, n.Name("postgres")).Plain()["parameters"].([]any) {
			params[path(p, "name").(string)] = path(p, "value").(string)
		}
		for k, v := range map[string]string{"rds.force_ssl": "1", "ssl_min_protocol_version": "TLSv1.2", "max_connections": want.maxConnections, "log_min_duration_statement": "500"} {
			if params[k] != v {
				t.Errorf("parameter %s: want %s, got %q", k, v, params[k])
			}
		}
	})
}

func TestRedis(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		want := dataShapeOf(t, cfg)
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		group := one(t, res, typeRedis, n.Name("redis"))
		in := group.Plain()
		expectAll(t, "Redis", expectations{
			"engineVersion":            {in["engineVersion"], "7.1"},
			"numCacheClusters":         {in["numCacheClusters"], want.redisNodes},
			"automaticFailoverEnabled": {in["automaticFailoverEnabled"], want.redisFailover},
			"multiAzEnabled":           {in["multiAzEnabled"], want.redisFailover},
			"transitEncryptionEnabled": {in["transitEncryptionEnabled"], true},
			"transitEncryptionMode":    {in["transitEncryptionMode"], "required"},
			"atRestEncryptionEnabled":  {in["atRestEncryptionEnabled"], true},
			"kmsKeyId":                 {in["kmsKeyId"], dataKeyArn(t, res, n)},
			"auth token is secret":     {group.IsSecretInput("authToken"), true},
			"snapshotWindow":           {in["snapshotWindow"], "04:00-05:00"},
			"snapshotRetentionLimit":   {in["snapshotRetentionLimit"], int64(cfg.Cache.SnapshotRetentionDays)},
			"protect":                  {group.Protect, want.guarded},
		})
		sn := one(t, res, typeRedisSubnets, n.Name("redis")).Plain()
		if got, wantIDs := strs(sn["subnetIds"]), subnetIDs(t, res, n, "isolated", cfg.Network.AvailabilityZones); !slices.Equal(got, wantIDs) {
			// In the isolated subnets, where no pod has an address, the
			// clients' NetworkPolicy egress to the cache admits no pod.
			t.Errorf("cache subnets: want the isolated subnets %v, got %v", wantIDs, got)
		}
		pg := one(t, res, typeRedisParams, n.Name("redis")).Plain()
		if pg["family"] != "redis7" || path(pg["parameters"].([]any)[0], "value") != "volatile-lru" {
			t.Errorf("Redis parameter group: want redis7 with maxmemory-policy volatile-lru, got %v", pg)
		}
	})
}

// PostgreSQL and Redis each admit their one port from the cluster security
// group, and nothing else.
func TestDataSecurityGroupsAdmitOnlyTheCluster(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		clusterSG := clusterSecurityGroup(t, res, cfg)
		for sgName, port := range map[string]int64{"postgres": 5432, "redis": 6379} {
			sg := one(t, res, typeSG, n.Name(sgName))
			if sg.Plain()["ingress"] != nil || sg.Plain()["egress"] != nil {
				t.Errorf("%s security group has inline rules: %v", sgName, sg.Plain())
			}
			var rules []map[string]any
			for _, r := range res.ByType(typeIngressRule) {
				if r.Plain()["securityGroupId"] == sg.ID {
					rules = append(rules, r.Plain())
				}
			}
			if len(rules) != 1 {
				t.Fatalf("%s: want exactly one ingress rule, got %d", sgName, len(rules))
			}
			r := rules[0]
			if r["referencedSecurityGroupId"] != clusterSG || r["fromPort"] != port || r["toPort"] != port || r["ipProtocol"] != "tcp" || r["cidrIpv4"] != nil || r["cidrIpv6"] != nil {
				t.Errorf("%s ingress: want tcp/%d from %s only, got %v", sgName, port, clusterSG, r)
			}
		}
		for _, r := range res.ByType(typeIngressRule) {
			if cidr, ok := r.Plain()["cidrIpv4"]; ok && cidr == "0.0.0.0/0" {
				t.Errorf("%s admits the internet", r.Name)
			}
		}
	})
}

func TestUploadsBucketGuards(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		key := n.Name("uploads")
		bucket := one(t, res, typeBucket, key)
		if guarded := cfg.Guards.Protect; bucket.Protect != guarded {
			t.Errorf("uploads bucket protect: want %v, got %v", guarded, bucket.Protect)
		}
		if bucket.Plain()["forceDestroy"] != false {
			t.Errorf("uploads bucket may be force-destroyed")
		}
		pab := one(t, res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", key).Plain()
		for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			if pab[k] != true || pab["bucket"] != bucket.ID {
				t.Errorf("public access block %s: want true on %s, got %v", k, bucket.ID, pab)
			}
		}
		if own := one(t, res, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", key).Plain(); path(own, "rule", "objectOwnership") != "BucketOwnerEnforced" {
			t.Errorf("ownership: got %v", own)
		}
		sse := one(t, res, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", key).Plain()
		rule := sse["rules"].([]any)[0]
		if path(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") != "aws:kms" || path(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId") != dataKeyArn(t, res, n) || path(rule, "bucketKeyEnabled") != true {
			t.Errorf("encryption: want SSE-KMS with the data key and a bucket key, got %v", rule)
		}
		if v := one(t, res, "aws:s3/bucketVersioningV2:BucketVersioningV2", key).Plain(); path(v, "versioningConfiguration", "status") != "Enabled" {
			t.Errorf("versioning: got %v", v)
		}
		lc := one(t, res, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", key).Plain()["rules"].([]any)[0]
		if path(lc, "noncurrentVersionExpiration", "noncurrentDays") != int64(cfg.Uploads.NoncurrentVersionDays) || path(lc, "abortIncompleteMultipartUpload", "daysAfterInitiation") != int64(cfg.Uploads.AbortIncompleteMultipartDays) || path(lc, "status") != "Enabled" {
			t.Errorf("lifecycle: got %v", lc)
		}
		doc := parsePolicy(t, one(t, res, "aws:s3/bucketPolicy:BucketPolicy", key).Plain()["policy"])
		s := doc.Statement[0]
		if len(doc.Statement) != 1 || s.Effect != "Deny" || !slices.Equal(list(s.Condition["Bool"]["aws:SecureTransport"]), []string{"false"}) ||
			!slices.Equal(list(s.Resource), []string{bucket.State["arn"].StringValue(), bucket.State["arn"].StringValue() + "/*"}) {
			t.Errorf("bucket policy: want one Deny of non-TLS on the bucket and its objects, got %+v", doc)
		}
	})
}

func TestBackendRoleIsScopedToTheUploadsBucket(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		n := kit.Namer{Prefix: cfg.Cluster.Name}
		role := one(t, res, typeRole, n.Name("backend"))
		trust := parsePolicy(t, role.Plain()["assumeRolePolicy"])
		subject := "system:serviceaccount:" + cfg.App.Namespace + ":" + cfg.App.BackendServiceAccount
		var subs []string
		for k, v := range trust.Statement[0].Condition["StringEquals"] {
			if strings.HasSuffix(k, ":sub") {
				subs = append(subs, list(v)...)
			}
		}
		if len(trust.Statement) != 1 || !slices.Equal(subs, []string{subject}) {
			t.Errorf("backend trust: want exactly subject %s, got %v", subject, trust.Statement)
		}
		policy := parsePolicy(t, one(t, res, typeRolePolicy, n.Name("backend")).Plain()["policy"])
		bucketArn := one(t, res, typeBucket, n.Name("uploads")).State["arn"].StringValue()
		for _, s := range policy.Statement {
			for _, action := range list(s.Action) {
				if action == "*" || action == "s3:*" {
					t.Errorf("backend policy grants %s", action)
				}
			}
			for _, r := range list(s.Resource) {
				switch {
				case strings.HasPrefix(list(s.Action)[0], "s3:") && r != bucketArn && r != bucketArn+"/*":
					t.Errorf("backend policy names %s; want only %s and its objects", r, bucketArn)
				case strings.HasPrefix(list(s.Action)[0], "kms:") && r != dataKeyArn(t, res, n):
					t.Errorf("backend KMS grant names %s; want only the data key", r)
				}
			}
		}
		if res.Outputs["backendRoleArn"].Value != role.State["arn"].StringValue() {
			t.Errorf("backendRoleArn output: want %s, got %v", role.State["arn"].StringValue(), res.Outputs["backendRoleArn"].Value)
		}
	})
}

func TestConnectionStringsAreSecret(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		for key, prefix := range map[string]string{"databaseUrl": "postgresql://" + cfg.Database.Username + ":", "redisUrl": "rediss://:"} {
			out, ok := res.Outputs[key]
			if !ok {
				t.Fatalf("output %s missing", key)
			}
			if !out.Secret {
				t.Errorf("output %s is not secret", key)
			}
			if s, _ := out.Value.(string); !strings.HasPrefix(s, prefix) || !strings.Contains(s, synth.MockPassword) {
				t.Errorf("output %s: want %s... with the generated credential", key, prefix)
			}
		}
		db := res.Outputs["databaseUrl"].Value.(string)
		for _, want := range []string{"sslmode=require", "connection_limit=50", "/" + cfg.Database.Name + "?"} {
			if !strings.Contains(db, want) {
				t.Errorf("databaseUrl lacks %s", want)
			}
		}
		for _, plain := range []string{"databaseHost", "redisPrimaryHost", "uploadsBucket"} {
			if res.Outputs[plain].Secret {
				t.Errorf("output %s should not be secret", plain)
			}
		}
	})
}
