package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
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
		// Scratch is an EBS volume of the run's own, sized from config; the
		// emptyDirs that remain fit inside the pod's ephemeral-storage limit
		// (the kubelet counts them against it and evicts past it: a 20 Gi
		// emptyDir under a 256 Mi limit evicted every dump over 256 Mi).
		for job := range want {
			pod := path(one(t, res, typeCronJob, job).Plain(), "spec", "jobTemplate", "spec", "template", "spec")
			var emptyDirs, podLimit int64
			for _, v := range asList(path(pod, "volumes")) {
				if path(v, "name") == "work" {
					if got := path(v, "ephemeral", "volumeClaimTemplate", "spec", "resources", "requests", "storage"); got != fmt.Sprintf("%dGi", cfg.Backups.ScratchGiB) {
						t.Errorf("%s: scratch volume %v, want an ephemeral volume of %d Gi", job, path(v, "ephemeral"), cfg.Backups.ScratchGiB)
					}
				}
				if l, ok := path(v, "emptyDir", "sizeLimit").(string); ok {
					emptyDirs += quantity(t, l)
				}
			}
			// The pod's limit: the sum of its containers', or its largest init container's.
			for _, c := range asList(path(pod, "containers")) {
				podLimit += quantity(t, path(c, "resources", "limits", "ephemeral-storage").(string))
			}
			for _, c := range asList(path(pod, "initContainers")) {
				podLimit = max(podLimit, quantity(t, path(c, "resources", "limits", "ephemeral-storage").(string)))
			}
			if emptyDirs > podLimit {
				t.Errorf("%s: emptyDirs of %d bytes under an ephemeral-storage limit of %d: the kubelet evicts the pod before they fill", job, emptyDirs, podLimit)
			}
		}
		drill := one(t, res, typeCronJob, "restore-drill").Plain()
		if got := path(drill, "spec", "jobTemplate", "spec", "activeDeadlineSeconds"); got != int64(2*cfg.Backups.DrillRtoMinutes*60) {
			t.Errorf("the drill stops after %v s, want twice the RTO", got)
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
		// An upload's earlier copies (what the dated manifests name) stay
		// as long as the copies; a dump's overwritten versions NoncurrentDays.
		var noncurrent []string
		for _, lc := range res.ByType(typeLifecycle) {
			if !strings.Contains(lc.Name, "-backups") {
				continue
			}
			for _, r := range asList(lc.Plain()["rules"]) {
				if d := path(r, "noncurrentVersionExpiration", "noncurrentDays"); d != nil {
					noncurrent = append(noncurrent, fmt.Sprint(path(r, "filter", "prefix"))+"="+itoa(d.(int64)))
				}
			}
		}
		if slices.Sort(noncurrent); !slices.Equal(noncurrent, []string{"app/=" + itoa(int64(b.AppRetentionDays)), "database/=" + itoa(int64(b.NoncurrentDays))}) {
			t.Errorf("noncurrent expiry %v: want app/ at appRetentionDays and database/ at noncurrentDays, and no bucket-wide rule (S3 applies the earliest)", noncurrent)
		}
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
		locks := bucketResources(res, typeObjectLock, bucket.Plain()["bucket"])
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

// quantity reads a Kubernetes quantity the way these files write them.
func quantity(t *testing.T, q string) int64 {
	t.Helper()
	q = strings.TrimSpace(q)
	units := []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(q, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				t.Fatalf("quantity %q", q)
			}
			return v * u.mult
		}
	}
	v, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		t.Fatalf("quantity %q", q)
	}
	return v
}

// The read replicas dump without recovery conflicts from vacuum, and wait
// five minutes before cancelling for a lock; the primary keeps
// PostgreSQL's defaults.
func TestReplicaParameterGroup(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		groups := map[string]map[string]string{}
		for _, g := range res.ByType("aws:rds/parameterGroup:ParameterGroup") {
			ps := map[string]string{}
			for _, p := range asList(g.Plain()["parameters"]) {
				ps[path(p, "name").(string)] = path(p, "value").(string)
			}
			groups[g.Name] = ps
		}
		primary := cfg.Cluster.Name + "-postgres"
		if _, ok := groups[primary]["hot_standby_feedback"]; ok {
			t.Error("the primary's group sets hot_standby_feedback")
		}
		replica, ok := groups[primary+"-replica"]
		if cfg.Database.ReadReplicas == 0 {
			if ok {
				t.Error("a replica parameter group without replicas")
			}
			return
		}
		if !ok || replica["hot_standby_feedback"] != "1" || replica["max_standby_streaming_delay"] != "300000" || replica["max_connections"] != groups[primary]["max_connections"] {
			t.Fatalf("replica parameters %v", replica)
		}
		for _, r := range res.ByType(typeDBInstance) {
			p := r.Plain()
			if p["replicateSourceDb"] == nil {
				continue
			}
			if !slices.Contains(r.DataDependencies, one(t, res, "aws:rds/parameterGroup:ParameterGroup", primary+"-replica").URN) {
				t.Errorf("replica %s does not use the replicas' parameter group", r.Name)
			}
		}
	})
}

// bucketResources are the resources of a type that configure the named
// bucket (their bucket input).
func bucketResources(res *synth.Result, typ string, bucket any) []synth.Resource {
	var out []synth.Resource
	for _, r := range res.ByType(typ) {
		if r.Plain()["bucket"] == bucket {
			out = append(out, r)
		}
	}
	return out
}
