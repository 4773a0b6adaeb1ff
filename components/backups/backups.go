// Package backups is the platform's backups: an encrypted, versioned
// backup bucket (Object Lock in production) with its access logged; the
// database-backup and app-backup CronJobs and a weekly restore drill, each
// with an IRSA role that may write (or read) only its own prefix and never
// delete; the backup role in PostgreSQL. Redis is backed up by
// ElastiCache's own daily snapshot (the DataTier's snapshot window and
// retention): ElastiCache refuses BGSAVE and SYNC from clients.
package backups

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/components/backups/scripts"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Database is what the backups need of PostgreSQL.
type Database struct {
	// Host is what database-backup dumps: the read replica where one
	// exists, else the primary.
	Host pulumi.StringInput
	// PrimaryHost is where the backup role is created.
	PrimaryHost pulumi.StringInput
	// Name is the application database.
	Name string
	// AdminUser and AdminPassword (secret) create the backup role.
	AdminUser     string
	AdminPassword pulumi.StringInput
}

// Args configure the component.
type Args struct {
	// Config is the backups section of the stack config.
	Config config.BackupsConfig
	// Stack names the database prefix (database/<stack>/).
	Stack string
	// Protect guards the bucket and the key (config guards.protect).
	Protect bool
	// Namespace is the app's namespace, where the jobs run next to what
	// they back up; NodePool its node group.
	Namespace, NodePool string
	// Network are the addresses the NetworkPolicies name (S3 and STS on
	// the internet, the API server for app-backup).
	Network kit.Addresses
	// NamespaceResource is the app's namespace: every object here waits
	// for it.
	NamespaceResource pulumi.Resource
	// DbClientLabel is the pod label the app namespace's policy lets reach
	// PostgreSQL.
	DbClientLabel string
	// Database is PostgreSQL.
	Database Database
	// UploadsBucket and UploadsBucketArn are the bucket app-backup copies;
	// UploadsKeyArn its key.
	UploadsBucket, UploadsBucketArn, UploadsKeyArn pulumi.StringInput
	// Settings is the stack's non-secret configuration, as JSON.
	Settings string
	// Namer names AWS resources; Account is where they live.
	Namer   kit.Namer
	Account kit.Account
	// OIDC is the cluster's OIDC provider, for the jobs' roles.
	OIDC kit.OIDC
	// KubernetesProvider and AWSProvider create every child.
	KubernetesProvider *kubernetes.Provider
	AWSProvider        pulumi.ProviderResource
}

// Backups is the component.
type Backups struct {
	pulumi.ResourceState

	// Bucket is the backup bucket's name, BucketArn its ARN; KeyArn its
	// key.
	Bucket    pulumi.StringOutput
	BucketArn pulumi.StringOutput
	KeyArn    pulumi.StringOutput
	// LogBucket receives the S3 access logs.
	LogBucket pulumi.StringOutput
	// DatabasePrefix is where database dumps go.
	DatabasePrefix pulumi.StringOutput
}

// passwordLength: 32 alphanumerics.
const passwordLength = 32

// New builds the component.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Backups, error) {
	b := args.Config
	c := &Backups{}
	opts = append(opts, pulumi.Providers(args.KubernetesProvider, args.AWSProvider))
	if err := ctx.RegisterComponentResource("scrolluniversity:components:Backups", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	n := args.Namer

	key, err := kit.NewKey(ctx, n.Name("backups"), args.Account, kit.KeyArgs{
		Description: "Backups of " + n.Prefix + ": database dumps, application data",
		// Backups must outlive the stack: the key is never deleted with it.
		Retain: true,
	}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, err
	}
	logs, err := kit.NewPrivateBucket(ctx, n.Name("access-logs"), kit.PrivateBucketArgs{
		Bucket: n.Name("access-logs", args.Account.AccountID), AcceptsAccessLogs: true, AccountID: args.Account.AccountID,
		NoncurrentVersionDays: b.NoncurrentDays, AbortIncompleteMultipartDays: 1, ExpireCurrentDays: accessLogDays,
		Protect: args.Protect,
	}, parent)
	if err != nil {
		return nil, err
	}
	lock := 0
	if b.ObjectLock {
		lock = min(b.DatabaseRetentionDays, b.AppRetentionDays)
	}
	bucket, err := kit.NewPrivateBucket(ctx, n.Name("backups"), kit.PrivateBucketArgs{
		Bucket: n.Name("backups", args.Account.AccountID), KmsKeyArn: key.Arn,
		NoncurrentVersionDays: b.NoncurrentDays, AbortIncompleteMultipartDays: 1,
		Prefixes:       Prefixes(b),
		ObjectLockDays: lock,
		LogBucket:      logs.Bucket.Bucket, LogPrefix: "backups/",
		Tags:    map[string]string{PurposeTag: "backups"},
		Protect: args.Protect,
	}, parent)
	if err != nil {
		return nil, err
	}
	// The uploads bucket's access is logged here too (FSBP S3.9).
	if _, err := s3.NewBucketLoggingV2(ctx, n.Name("uploads-access-logs"), &s3.BucketLoggingV2Args{
		Bucket: args.UploadsBucket, TargetBucket: logs.Bucket.Bucket, TargetPrefix: pulumi.String("uploads/"),
	}, parent); err != nil {
		return nil, fmt.Errorf("logging the uploads bucket: %w", err)
	}

	roles := map[string]*kit.Role{}
	for _, job := range Jobs {
		role, err := args.OIDC.Role(ctx, n.Name(job.Role), kit.IRSAArgs{
			Namespace: args.Namespace, ServiceAccount: job.Name,
			Policy: jobPolicy(ctx, job, args, bucket.Bucket.Arn, key.Arn, parent),
		}, parent)
		if err != nil {
			return nil, err
		}
		roles[job.Name] = role
	}

	inNS := []pulumi.ResourceOption{parent}
	if args.NamespaceResource != nil {
		inNS = append(inNS, pulumi.DependsOn([]pulumi.Resource{args.NamespaceResource}))
	}
	for _, job := range Jobs {
		if _, err := corev1.NewServiceAccount(ctx, job.Name, &corev1.ServiceAccountArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String(job.Name), Namespace: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(kit.Labels(PartOf, job.Name)),
				Annotations: pulumi.StringMap{"eks.amazonaws.com/role-arn": roles[job.Name].Role.Arn},
			},
			// Only app-backup reads the API (the manifests it exports).
			AutomountServiceAccountToken: pulumi.Bool(job.Name == AppBackup),
		}, inNS...); err != nil {
			return nil, fmt.Errorf("creating ServiceAccount %s: %w", job.Name, err)
		}
	}
	if err := manifestReader(ctx, args.Namespace, inNS); err != nil {
		return nil, err
	}
	if err := kit.NewNetworkPolicies(ctx, args.Namespace, PartOf, []kit.NetworkPolicy{
		// S3 and STS (IRSA) over HTTPS; app-backup also reads the
		// objects' manifests from the API server.
		kit.Egress("backups-to-aws", kit.Pods(map[string]string{BackupLabel: "true"}), args.Network.InternetPeers(), httpsPort),
		kit.Egress("app-backup-to-api-server", kit.Pods(kit.SelectorLabels(PartOf, AppBackup)), args.Network.APIServerPeers(), httpsPort),
	}, inNS...); err != nil {
		return nil, err
	}

	// The backup role: read-only, created by a Job as the master user.
	creds, err := kit.NewRoleCredentials(ctx, n.Name("postgres-backup"), passwordLength, parent)
	if err != nil {
		return nil, err
	}
	secret, err := kit.NewSecret(ctx, args.Namespace, credentialsSecret, kit.Labels(PartOf, credentialsSecret), pulumi.StringMap{
		"backup-password": creds.Password, "backup-verifier": creds.Verifier, "admin-password": args.Database.AdminPassword,
	}, inNS...)
	if err != nil {
		return nil, err
	}
	files, err := corev1.NewConfigMap(ctx, scriptsConfigMap, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(scriptsConfigMap), Namespace: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(kit.Labels(PartOf, scriptsConfigMap))},
		Data: pulumi.StringMap{
			"dump.sh": pulumi.String(scripts.Dump), "upload.sh": pulumi.String(scripts.Upload),
			"fetch-latest.sh": pulumi.String(scripts.FetchLatest), "restore-drill.sh": pulumi.String(scripts.RestoreDrill),
			"app-backup.sh": pulumi.String(scripts.AppBackup), "backup-user.sql": pulumi.String(scripts.BackupUser),
			"settings.json": pulumi.String(args.Settings),
		},
	}, inNS...)
	if err != nil {
		return nil, fmt.Errorf("creating the backup scripts: %w", err)
	}
	checksum := creds.Checksum(scripts.BackupUser)
	userJob, err := batchv1.NewJob(ctx, backupUserJob, BackupUserJob(args, checksum), append(inNS,
		pulumi.DependsOn([]pulumi.Resource{secret, files}),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "15m", Update: "15m"}),
		pulumi.DeleteBeforeReplace(true))...)
	if err != nil {
		return nil, fmt.Errorf("creating the backup-user Job: %w", err)
	}

	for _, spec := range CronJobs(args, bucket.Bucket.Bucket, key.Arn) {
		deps := []pulumi.Resource{files, secret, roles[spec.job.Name].Role}
		deps = append(deps, roles[spec.job.Name].Attachments...)
		if spec.job.Name == DatabaseBackup {
			deps = append(deps, userJob)
		}
		if _, err := batchv1.NewCronJob(ctx, spec.job.Name, spec.args, append(inNS, pulumi.DependsOn(deps))...); err != nil {
			return nil, fmt.Errorf("creating CronJob %s: %w", spec.job.Name, err)
		}
	}

	c.Bucket = bucket.Bucket.Bucket
	c.BucketArn = bucket.Bucket.Arn
	c.KeyArn = key.Arn
	c.LogBucket = logs.Bucket.Bucket
	c.DatabasePrefix = pulumi.String(DatabasePrefix(args.Stack)).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"bucket": c.Bucket, "logBucket": c.LogBucket}); err != nil {
		return nil, err
	}
	return c, nil
}

// manifestReader lets app-backup read the platform's objects, Secrets
// excepted.
func manifestReader(ctx *pulumi.Context, namespace string, opts []pulumi.ResourceOption) error {
	var rules []kit.Rule
	for _, r := range ManifestResources {
		rules = append(rules, kit.Rule{Groups: []string{r.Group}, Resources: r.Resources, Verbs: []string{"get", "list"}})
	}
	_, err := kit.NewGrant(ctx, kit.Grant{
		Name: AppBackup + "-read", Labels: kit.Labels(PartOf, AppBackup), Rules: rules,
		ServiceAccount: AppBackup, ServiceAccountNamespace: namespace,
	}, opts...)
	return err
}
