package backups

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Names the seed fixes, and the component's own.
const (
	// DatabaseBackup and AppBackup are the seed's CronJob names: `kubectl
	// create job --from=cronjob/database-backup ... -n scrolluniversity`
	// takes a manual backup.
	DatabaseBackup = "database-backup"
	AppBackup      = "app-backup"
	// RestoreDrill restores the newest dump weekly.
	RestoreDrill = "restore-drill"
	// PartOf is the app.kubernetes.io/part-of label of everything here.
	PartOf = "backups"
	// BackupLabel marks the backup pods (egress to AWS).
	BackupLabel = "scrolluniversity.io/backup"
	// PurposeTag marks the backup bucket for the policy pack.
	PurposeTag = "scrolluniversity.io/purpose"

	backupUserJob     = "backup-db-user"
	credentialsSecret = "backup-credentials"
	scriptsConfigMap  = "backup-scripts"
	// BackupRole is the PostgreSQL role database-backup dumps as.
	BackupRole = "backup"

	httpsPort    = 443
	postgresPort = 5432
	postgresUID  = 70   // the official alpine image's postgres user
	awsCliUID    = 1000 // the AWS CLI image runs as root; any other user works with HOME=/tmp
	// accessLogDays keeps S3 access logs a year.
	accessLogDays = 365
)

// Deadlines: a run may start up to startingDeadline late (a cluster
// restart), must finish within its active deadline, and three runs of each
// outcome stay for inspection.
const (
	startingDeadlineSeconds = 600
	historyLimit            = 3
	backoffLimit            = 1
)

// DatabasePrefix is where a stack's dumps go.
func DatabasePrefix(stack string) string { return "database/" + stack }

// AppPrefix is where app-backup writes.
const AppPrefix = "app"

// Prefixes are the bucket's lifecycle rules: each prefix expires after its
// retention. A dump is written once, so its overwritten versions keep
// NoncurrentDays; an upload's copy is overwritten when the file changes,
// so its earlier versions (what a dated manifest names) keep
// AppRetentionDays: the uploads as of any of those days stay restorable.
func Prefixes(b config.BackupsConfig) []kit.PrefixExpiry {
	return []kit.PrefixExpiry{
		{Prefix: "database/", Days: b.DatabaseRetentionDays, NoncurrentDays: b.NoncurrentDays},
		{Prefix: AppPrefix + "/", Days: b.AppRetentionDays, NoncurrentDays: b.AppRetentionDays},
	}
}

// Job is one backup job: its name (CronJob and ServiceAccount), its IAM
// role's name, and the bucket prefix it writes and reads.
type Job struct {
	Name, Role string
	// Writes may put objects under the prefix; every job may read it.
	Writes bool
	// ReadsUploads is app-backup's read of the uploads bucket.
	ReadsUploads bool
	// Deadline bounds one run, in seconds.
	Deadline int
}

// Jobs are the three backup jobs.
var Jobs = []Job{
	{Name: DatabaseBackup, Role: "backup-db", Writes: true, Deadline: 3600},
	{Name: AppBackup, Role: "backup-app", Writes: true, ReadsUploads: true, Deadline: 7200},
	{Name: RestoreDrill, Role: "backup-drill"}, // DrillDeadline
}

// DrillDeadline stops a drill at twice the RTO: slower than that, the
// restore would not have been a recovery.
func DrillDeadline(b config.BackupsConfig) int { return 2 * b.DrillRtoMinutes * 60 }

func (j Job) prefix(stack string) string {
	if j.Name == AppBackup {
		return AppPrefix
	}
	return DatabasePrefix(stack)
}

// jobPolicy lets a job write (if it writes) and read its own prefix, list
// it, and use the backup key through S3; app-backup also reads the uploads
// bucket. No job may delete: S3's delete actions are granted to none, and
// with versioning an overwrite keeps the old version (locked in
// production).
func jobPolicy(ctx *pulumi.Context, j Job, args Args, bucketArn, keyArn pulumi.StringInput, parent pulumi.ResourceOrInvokeOption) pulumi.StringOutput {
	prefix := j.prefix(args.Stack)
	objectActions := []string{"s3:GetObject"}
	keyActions := []string{"kms:Decrypt"}
	if j.Writes {
		objectActions = append(objectActions, "s3:PutObject")
		keyActions = append(keyActions, "kms:GenerateDataKey")
	}
	viaS3 := iam.GetPolicyDocumentStatementConditionArray{iam.GetPolicyDocumentStatementConditionArgs{
		Test: pulumi.String("StringEquals"), Variable: pulumi.String("kms:ViaService"), Values: pulumi.StringArray{pulumi.String("s3." + args.Account.Region + ".amazonaws.com")},
	}}
	statements := iam.GetPolicyDocumentStatementArray{
		iam.GetPolicyDocumentStatementArgs{
			Sid: pulumi.String("OwnPrefix"), Actions: pulumi.ToStringArray(objectActions),
			Resources: pulumi.StringArray{pulumi.Sprintf("%s/%s/*", bucketArn, prefix)},
		},
		iam.GetPolicyDocumentStatementArgs{
			Sid: pulumi.String("ListOwnPrefix"), Actions: pulumi.ToStringArray([]string{"s3:ListBucket"}),
			Resources: pulumi.StringArray{bucketArn},
			Conditions: iam.GetPolicyDocumentStatementConditionArray{iam.GetPolicyDocumentStatementConditionArgs{
				Test: pulumi.String("StringLike"), Variable: pulumi.String("s3:prefix"), Values: pulumi.ToStringArray([]string{prefix + "/*", prefix + "/"}),
			}},
		},
		iam.GetPolicyDocumentStatementArgs{
			Sid: pulumi.String("BackupKey"), Actions: pulumi.ToStringArray(keyActions),
			Resources: pulumi.StringArray{keyArn}, Conditions: viaS3,
		},
	}
	if j.ReadsUploads {
		statements = append(statements,
			iam.GetPolicyDocumentStatementArgs{
				Sid: pulumi.String("ReadUploads"), Actions: pulumi.ToStringArray([]string{"s3:GetObject", "s3:ListBucket"}),
				Resources: pulumi.StringArray{args.UploadsBucketArn, pulumi.Sprintf("%s/*", args.UploadsBucketArn)},
			},
			iam.GetPolicyDocumentStatementArgs{
				Sid: pulumi.String("UploadsKey"), Actions: pulumi.ToStringArray([]string{"kms:Decrypt"}),
				Resources: pulumi.StringArray{args.UploadsKeyArn}, Conditions: viaS3,
			})
	}
	return iam.GetPolicyDocumentOutput(ctx, iam.GetPolicyDocumentOutputArgs{Statements: statements}, parent).Json()
}

// ManifestResource is an API group's resources app-backup exports.
type ManifestResource struct {
	Group     string
	Resources []string
}

// ManifestResources are what app-backup reads (never Secrets).
var ManifestResources = []ManifestResource{
	{"", []string{"services", "configmaps", "namespaces", "serviceaccounts"}},
	{"apps", []string{"deployments", "statefulsets", "daemonsets"}},
	{"batch", []string{"cronjobs"}},
	{"autoscaling", []string{"horizontalpodautoscalers"}},
	{"policy", []string{"poddisruptionbudgets"}},
	{"networking.k8s.io", []string{"networkpolicies"}},
	{"gateway.networking.k8s.io", []string{"gateways", "httproutes"}},
}

func env(name string, value pulumi.StringInput) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), Value: value}
}

func secretEnv(name, key string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
		Name: pulumi.String(credentialsSecret), Key: pulumi.String(key),
	}}}
}

func envArray(envs []corev1.EnvVarArgs) corev1.EnvVarArray {
	out := make(corev1.EnvVarArray, 0, len(envs))
	for _, e := range envs {
		out = append(out, e)
	}
	return out
}

// container runs one embedded script.
func container(name, image, script string, uid int, envs ...corev1.EnvVarArgs) corev1.ContainerArgs {
	envs = append(envs, env("WORK", pulumi.String("/work")), env("HOME", pulumi.String("/tmp")))
	return corev1.ContainerArgs{
		Name: pulumi.String(name), Image: pulumi.String(image),
		Command:         pulumi.ToStringArray([]string{"sh", "/scripts/" + script}),
		Env:             envArray(envs),
		Resources:       kit.Resources(config.BackupJobResources),
		SecurityContext: kit.ContainerSecurity(uid),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("work"), MountPath: pulumi.String("/work")},
			corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
			corev1.VolumeMountArgs{Name: pulumi.String("scripts"), MountPath: pulumi.String("/scripts"), ReadOnly: pulumi.Bool(true)},
		},
	}
}

// podSpec is a backup pod: restricted, read-only root, the scratch volume
// shared between its containers, no API token unless app-backup's.
func podSpec(args Args, sa string, fsGroup int, main corev1.ContainerArgs, init ...corev1.ContainerArgs) *corev1.PodSpecArgs {
	spec := &corev1.PodSpecArgs{
		ServiceAccountName: pulumi.String(sa),
		RestartPolicy:      pulumi.String("Never"),
		NodeSelector:       pulumi.StringMap{config.PoolLabel: pulumi.String(args.NodePool)},
		SecurityContext: &corev1.PodSecurityContextArgs{
			RunAsNonRoot: pulumi.Bool(true), FsGroup: pulumi.Int(fsGroup),
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{main},
		Volumes: corev1.VolumeArray{
			// The dump (and in the drill the restored database) on an EBS
			// volume of the run's own, made with the pod and deleted with
			// it: an emptyDir would count against the pod's
			// ephemeral-storage limit and evict it once the dump passes it.
			corev1.VolumeArgs{Name: pulumi.String("work"), Ephemeral: &corev1.EphemeralVolumeSourceArgs{
				VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplateArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(kit.Labels(PartOf, "scratch"))},
					Spec: &corev1.PersistentVolumeClaimSpecArgs{
						AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
						Resources: &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{
							"storage": pulumi.String(fmt.Sprintf("%dGi", args.Config.ScratchGiB)),
						}},
					},
				},
			}},
			corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("256Mi")}},
			corev1.VolumeArgs{Name: pulumi.String("scripts"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(scriptsConfigMap)}},
		},
	}
	if len(init) > 0 {
		inits := corev1.ContainerArray{}
		for _, c := range init {
			inits = append(inits, c)
		}
		spec.InitContainers = inits
	}
	return spec
}

// CronJobSpec is one CronJob's args with the job it runs.
type CronJobSpec struct {
	job  Job
	args *batchv1.CronJobArgs
}

// CronJobs are database-backup (pg_dump, then the upload), app-backup
// and the restore drill (download, then the restore), on the configured
// schedules, in UTC, one run at a time.
func CronJobs(args Args, bucket, keyArn pulumi.StringInput) []CronJobSpec {
	b := args.Config
	img := b.Images
	aws := []corev1.EnvVarArgs{env("BUCKET", bucket), env("KMS_KEY_ID", keyArn), env("AWS_REGION", pulumi.String(args.Account.Region))}
	db := []corev1.EnvVarArgs{
		env("PGHOST", args.Database.Host), env("PGPORT", pulumi.String(fmt.Sprint(postgresPort))),
		env("PGDATABASE", pulumi.String(args.Database.Name)), env("PGUSER", pulumi.String(BackupRole)),
		env("PGSSLMODE", pulumi.String("require")), secretEnv("PGPASSWORD", "backup-password"),
	}
	out := []CronJobSpec{}
	for _, j := range Jobs {
		var spec *corev1.PodSpecArgs
		schedule := b.DatabaseSchedule
		labels := kit.Labels(PartOf, j.Name)
		labels[BackupLabel] = "true"
		switch j.Name {
		case DatabaseBackup:
			labels[args.DbClientLabel] = "true"
			spec = podSpec(args, j.Name, postgresUID,
				container("upload", img.AwsCli, "upload.sh", awsCliUID, append(aws, env("PREFIX", pulumi.String(DatabasePrefix(args.Stack))))...),
				container("dump", img.Postgres, "dump.sh", postgresUID, db...))
		case AppBackup:
			schedule = b.AppSchedule
			spec = podSpec(args, j.Name, awsCliUID,
				container("backup", img.AwsCli, "app-backup.sh", awsCliUID, append(aws,
					env("UPLOADS_BUCKET", args.UploadsBucket), env("SETTINGS", pulumi.String("/scripts/settings.json")))...))
		case RestoreDrill:
			schedule = b.DrillSchedule
			j.Deadline = DrillDeadline(b)
			f := b.DrillFreshness
			spec = podSpec(args, j.Name, postgresUID,
				container("restore", img.Postgres, "restore-drill.sh", postgresUID, env("DRILL_TABLES", pulumi.String(strings.Join(b.DrillTables, " "))),
					env("FRESH_TABLE", pulumi.String(f.Table)), env("FRESH_COLUMN", pulumi.String(f.Column)), env("FRESH_MAX_HOURS", pulumi.String(fmt.Sprint(f.MaxAgeHours)))),
				container("fetch", img.AwsCli, "fetch-latest.sh", awsCliUID, append(aws, env("PREFIX", pulumi.String(DatabasePrefix(args.Stack))))...))
		}
		out = append(out, CronJobSpec{job: j, args: &batchv1.CronJobArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(j.Name), Namespace: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(kit.Labels(PartOf, j.Name))},
			Spec: &batchv1.CronJobSpecArgs{
				Schedule:                   pulumi.String(schedule),
				TimeZone:                   pulumi.String("Etc/UTC"),
				ConcurrencyPolicy:          pulumi.String("Forbid"),
				StartingDeadlineSeconds:    pulumi.Int(startingDeadlineSeconds),
				SuccessfulJobsHistoryLimit: pulumi.Int(historyLimit),
				FailedJobsHistoryLimit:     pulumi.Int(historyLimit),
				JobTemplate: &batchv1.JobTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(kit.Labels(PartOf, j.Name))},
					Spec: &batchv1.JobSpecArgs{
						BackoffLimit:          pulumi.Int(backoffLimit),
						ActiveDeadlineSeconds: pulumi.Int(j.Deadline),
						Template: &corev1.PodTemplateSpecArgs{
							Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
							Spec:     spec,
						},
					},
				},
			},
		}})
	}
	return out
}

// BackupUserJob creates or updates the backup role (backup-user.sql) as
// the master user on the primary; its template's checksum replaces it when
// the password changes.
func BackupUserJob(args Args, checksum pulumi.StringInput) *batchv1.JobArgs {
	labels := kit.Labels(PartOf, backupUserJob)
	labels[args.DbClientLabel] = "true"
	c := container("psql", args.Config.Images.Postgres, "", postgresUID,
		env("PGHOST", args.Database.PrimaryHost), env("PGPORT", pulumi.String(fmt.Sprint(postgresPort))),
		env("PGDATABASE", pulumi.String(args.Database.Name)), env("PGUSER", pulumi.String(args.Database.AdminUser)),
		env("PGSSLMODE", pulumi.String("require")), secretEnv("PGPASSWORD", "admin-password"), secretEnv("VERIFIER", "backup-verifier"))
	c.Command = pulumi.ToStringArray([]string{"sh", "-c", `exec psql -X -v verifier="$VERIFIER" -f /scripts/backup-user.sql`})
	spec := podSpec(args, "default", postgresUID, c)
	spec.RestartPolicy = pulumi.String("OnFailure")
	spec.AutomountServiceAccountToken = pulumi.Bool(false)
	return &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(backupUserJob), Namespace: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(kit.Labels(PartOf, backupUserJob))},
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(6),
			ActiveDeadlineSeconds: pulumi.Int(600),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels), Annotations: pulumi.StringMap{"scrolluniversity.io/verifier-checksum": checksum}},
				Spec:     spec,
			},
		},
	}
}
