package tests

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/components/backups"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
)

const (
	typeCronJob    = "kubernetes:batch/v1:CronJob"
	typeBucketV2   = "aws:s3/bucketV2:BucketV2"
	typeObjectLock = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
	typeLifecycle  = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typeKMSKey     = "aws:kms/key:Key"
)

// The seed's names, schedules and namespace: its manual backup command,
// `kubectl create job --from=cronjob/database-backup manual-backup-$(date +%s) -n scrolluniversity`,
// names a CronJob that exists.
func TestBackupCronJobs(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		want := map[string]string{"database-backup": "0 */6 * * *", "app-backup": "0 2 * * *", "restore-drill": "0 5 * * 0"}
		for job, schedule := range want {
			cj := one(t, res, typeCronJob, job).Plain()
			for _, c := range []struct {
				what      string
				got, want any
			}{
				{"namespace", path(cj, "metadata", "namespace"), "scrolluniversity"},
				{"schedule", path(cj, "spec", "schedule"), schedule},
				{"time zone", path(cj, "spec", "timeZone"), "Etc/UTC"},
				{"concurrency", path(cj, "spec", "concurrencyPolicy"), "Forbid"},
				{"starting deadline", path(cj, "spec", "startingDeadlineSeconds") != nil, true},
				{"active deadline", path(cj, "spec", "jobTemplate", "spec", "activeDeadlineSeconds") != nil, true},
				{"history", path(cj, "spec", "failedJobsHistoryLimit"), int64(3)},
			} {
				if !equalJSON(c.got, c.want) {
					t.Errorf("%s %s: got %v, want %v", job, c.what, c.got, c.want)
				}
			}
			pod := path(cj, "spec", "jobTemplate", "spec", "template", "spec")
			if path(pod, "securityContext", "runAsNonRoot") != true || path(pod, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
				t.Errorf("%s: pod is not restricted: %v", job, path(pod, "securityContext"))
			}
			for _, list := range []string{"initContainers", "containers"} {
				for _, c := range asList(path(pod, list)) {
					if path(c, "securityContext", "readOnlyRootFilesystem") != true || !strings.Contains(path(c, "image").(string), ":") {
						t.Errorf("%s: container %v: want a read-only root and a pinned image", job, path(c, "name"))
					}
				}
			}
		}
		// The prefixes the jobs write are the ones the lifecycle expires.
		db := one(t, res, typeCronJob, "database-backup").Plain()
		upload := asList(path(db, "spec", "jobTemplate", "spec", "template", "spec", "containers"))[0]
		prefix := ""
		for _, e := range asList(path(upload, "env")) {
			if path(e, "name") == "PREFIX" {
				prefix = path(e, "value").(string)
			}
		}
		if prefix != "database/"+name {
			t.Errorf("database-backup uploads under %q, want database/%s", prefix, name)
		}
		var expiry []string
		for _, lc := range res.ByType(typeLifecycle) {
			if !strings.Contains(lc.Name, "-backups") {
				continue
			}
			for _, r := range asList(lc.Plain()["rules"]) {
				if d := path(r, "expiration", "days"); d != nil && path(r, "filter", "prefix") != "" {
					expiry = append(expiry, path(r, "filter", "prefix").(string)+"="+itoa(d.(int64)))
				}
			}
		}
		b := cfg.Backups
		wantExpiry := []string{"app/=" + itoa(int64(b.AppRetentionDays)), "database/=" + itoa(int64(b.DatabaseRetentionDays))}
		if slices.Sort(expiry); !slices.Equal(expiry, wantExpiry) {
			t.Errorf("backup bucket expiry %v, want %v", expiry, wantExpiry)
		}
		if name == "production" && (b.DatabaseRetentionDays != 90 || b.AppRetentionDays != 90 || !b.ObjectLock) {
			t.Errorf("production: want the seed's 90 days, locked; got %+v", b)
		}
		if name == "production" && cfg.Cache.SnapshotRetentionDays != 30 {
			t.Errorf("production Redis snapshots kept %d days, want the seed's 30", cfg.Cache.SnapshotRetentionDays)
		}
	})
}

// The bucket is locked in production, protected, and its key outlives the
// stack.
func TestBackupBucket(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		bucket := one(t, res, typeBucketV2, cfg.Cluster.Name+"-backups")
		locks := res.ByType(typeObjectLock)
		if cfg.Backups.ObjectLock {
			if bucket.Plain()["objectLockEnabled"] != true || len(locks) != 1 ||
				!equalJSON(path(locks[0].Plain(), "rule", "defaultRetention"), map[string]any{"mode": "GOVERNANCE", "days": 90}) {
				t.Errorf("production: want Object Lock in governance mode for 90 days, got %v %v", bucket.Plain()["objectLockEnabled"], locks)
			}
		} else if len(locks) != 0 {
			t.Errorf("staging: no Object Lock wanted")
		}
		if bucket.Protect != cfg.Guards.Protect {
			t.Errorf("bucket protect = %v, want %v", bucket.Protect, cfg.Guards.Protect)
		}
		if key := one(t, res, typeKMSKey, cfg.Cluster.Name+"-backups"); !key.RetainOnDelete {
			t.Error("the backup key is not retained on destroy")
		}
	})
}

// Each job's role may write (or only read) its own prefix, and none may
// delete.
func TestBackupRolesOwnPrefixNoDelete(t *testing.T) {
	res := synthesize(t, "production")
	cfg := stackConfig(t, "production")
	for _, j := range backups.Jobs {
		p := one(t, res, typeRolePolicy, cfg.Cluster.Name+"-"+j.Role).Plain()
		var doc struct {
			Statement []struct {
				Sid      string
				Action   any
				Resource any
			}
		}
		if err := json.Unmarshal([]byte(p["policy"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		for _, s := range doc.Statement {
			actions := stringOrList(s.Action)
			for _, a := range actions {
				if strings.Contains(strings.ToLower(a), "delete") || a == "s3:*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s may %s", j.Name, a)
				}
			}
			if s.Sid == "OwnPrefix" {
				want := "/database/production/*"
				if j.Name == backups.AppBackup {
					want = "/app/*"
				}
				for _, r := range stringOrList(s.Resource) {
					if !strings.HasSuffix(r, want) {
						t.Errorf("%s writes or reads %s, want only …%s", j.Name, r, want)
					}
				}
				if slices.Contains(actions, "s3:PutObject") != j.Writes {
					t.Errorf("%s: PutObject granted = %v, want %v", j.Name, !j.Writes, j.Writes)
				}
			}
		}
	}
}

// stringOrList is an IAM policy's Action or Resource: one string or a list.
func stringOrList(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return strs(v)
}
