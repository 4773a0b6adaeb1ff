package rules

import (
	"fmt"
	"strings"
)

const (
	typeCronJob   = "kubernetes:batch/v1:CronJob"
	typeLifecycle = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	// BackupPurposeTag marks a backup bucket (tag value "backups").
	BackupPurposeTag = "scrolluniversity.io/purpose"
)

func isBackupBucket(r Resource) bool {
	return r.Type == typeBucket && Get(r.Props, "tags", BackupPurposeTag) == "backups"
}

// boundedCronJobs: a scheduled job runs once at a time, starts late only
// within a deadline, ends within one, and keeps a bounded history.
var boundedCronJobs = ResourceRule{
	Policy{"k8s-cronjob-bounded", "CronJobs forbid concurrent runs and set starting and active deadlines and history limits", Mandatory, nil},
	func(r Resource, _ Config) []string {
		if r.Type != typeCronJob {
			return nil
		}
		var missing []string
		if Get(r.Props, "spec", "concurrencyPolicy") != "Forbid" {
			missing = append(missing, "concurrencyPolicy: Forbid")
		}
		for _, f := range [][]string{
			{"spec", "startingDeadlineSeconds"}, {"spec", "successfulJobsHistoryLimit"}, {"spec", "failedJobsHistoryLimit"},
			{"spec", "jobTemplate", "spec", "activeDeadlineSeconds"},
		} {
			if Get(r.Props, f...) == nil {
				missing = append(missing, strings.Join(f[1:], "."))
			}
		}
		if len(missing) == 0 {
			return nil
		}
		return []string{fmt.Sprintf("CronJob %s has no %s; a stuck or overlapping run would go unnoticed", shortName(r), strings.Join(missing, ", "))}
	},
}

// lockedBackups: in production a compromised workload must not be able
// to delete or overwrite backups.
var lockedBackups = ResourceRule{
	Policy{"backup-bucket-locked", "production-like backup buckets have S3 Object Lock", Mandatory, productionLike},
	func(r Resource, cfg Config) []string {
		if !cfg.Bool("productionLike", false) || !isBackupBucket(r) || r.Props["objectLockEnabled"] == true {
			return nil
		}
		return []string{fmt.Sprintf("backup bucket %s has no Object Lock; set backups.objectLock (it can only be set when the bucket is created)", shortName(r))}
	},
}

// expiringBackups: a backup bucket's lifecycle expires each prefix, so
// retention is a setting, not an accident.
var expiringBackups = StackRule{
	Policy{"backup-bucket-expires", "backup buckets expire their objects by prefix", Mandatory, nil},
	func(all []Resource, _ Config) []Finding {
		expires := map[string]bool{}
		for _, r := range all {
			if r.Type != typeLifecycle {
				continue
			}
			for _, rule := range list(Get(r.Props, "rules")) {
				if Get(rule, "expiration", "days") != nil && str(Get(rule, "filter", "prefix")) != "" {
					for _, dep := range r.Dependencies {
						expires[dep] = true
					}
				}
			}
		}
		var out []Finding
		for _, b := range all {
			if isBackupBucket(b) && !expires[b.URN] {
				out = append(out, Finding{b.URN, fmt.Sprintf("backup bucket %s has no lifecycle rule expiring a prefix; backups would be kept forever or by hand", shortName(b))})
			}
		}
		return out
	},
}
