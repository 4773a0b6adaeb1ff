package tests

import (
	"fmt"
	"slices"
	"testing"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

const typeTrail = "aws:cloudtrail/trail:Trail"

// The account's trail: every region and the global services, log file
// validation, the audit key, the management events and the S3 data events
// of the two buckets that hold student data, in a bucket locked and kept
// for the compliance retention, written only by this trail.
func TestAuditTrail(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		trailName := cfg.Cluster.Name + "-audit"
		trail := one(t, res, typeTrail, trailName)
		p := trail.Plain()
		key := one(t, res, typeKMSKey, trailName)
		bucketName := fmt.Sprintf("%s-audit-trail-%s", cfg.Cluster.Name, synth.MockAccountID)
		expectAll(t, "trail", expectations{
			"isMultiRegionTrail":         {p["isMultiRegionTrail"], true},
			"includeGlobalServiceEvents": {p["includeGlobalServiceEvents"], true},
			"enableLogFileValidation":    {p["enableLogFileValidation"], true},
			"enableLogging":              {p["enableLogging"], true},
			"s3BucketName":               {p["s3BucketName"], bucketName},
			"kmsKeyId":                   {p["kmsKeyId"], key.State["arn"].StringValue()},
			"protect":                    {trail.Protect, cfg.Guards.Protect},
			"key retained":               {key.RetainOnDelete, true},
		})
		sel := p["advancedEventSelectors"].([]any)
		if len(sel) != 2 || !equalJSON(path(sel[0], "fieldSelectors"), []any{map[string]any{"field": "eventCategory", "equals": []any{"Management"}}}) {
			t.Errorf("first selector: want every management event, got %v", sel)
		}
		want := []any{
			map[string]any{"field": "eventCategory", "equals": []any{"Data"}},
			map[string]any{"field": "resources.type", "equals": []any{"AWS::S3::Object"}},
			map[string]any{"field": "resources.ARN", "startsWiths": []any{
				fmt.Sprintf("arn:aws:s3:::%s-uploads-%s/", cfg.Cluster.Name, synth.MockAccountID),
				fmt.Sprintf("arn:aws:s3:::%s-backups-%s/", cfg.Cluster.Name, synth.MockAccountID),
			}},
		}
		if len(sel) == 2 && !equalJSON(path(sel[1], "fieldSelectors"), want) {
			t.Errorf("second selector: want the uploads and backups buckets' object events, got %v", path(sel[1], "fieldSelectors"))
		}

		bucket := one(t, res, typeBucketV2, cfg.Cluster.Name+"-audit-trail")
		if !bucket.RetainOnDelete || bucket.Protect != cfg.Guards.Protect {
			t.Errorf("the trail bucket: retained on destroy %v (want true), protect %v (want %v)", bucket.RetainOnDelete, bucket.Protect, cfg.Guards.Protect)
		}
		locks := bucketResources(res, typeObjectLock, bucketName)
		if bucket.Plain()["objectLockEnabled"] != true || len(locks) != 1 ||
			!equalJSON(path(locks[0].Plain(), "rule", "defaultRetention"), map[string]any{"mode": "GOVERNANCE", "days": cfg.Audit.RetentionDays}) {
			t.Errorf("want the trail's log files locked in governance mode for %d days, got %v", cfg.Audit.RetentionDays, locks)
		}
		expired := false
		for _, lc := range bucketResources(res, typeLifecycle, bucketName) {
			for _, r := range path(lc.Plain(), "rules").([]any) {
				if d, _ := rules.Int(path(r, "expiration", "days")); d == cfg.Audit.RetentionDays {
					expired = true
				}
			}
		}
		if !expired {
			t.Errorf("want the trail's log files expired after %d days", cfg.Audit.RetentionDays)
		}
		if cfg.Cluster.LogRetentionDays < cfg.Audit.RetentionDays {
			t.Errorf("EKS control-plane logs (the Kubernetes audit log) kept %d days, less than the audit retention %d", cfg.Cluster.LogRetentionDays, cfg.Audit.RetentionDays)
		}

		// Only this trail may write, and only under AWSLogs/<account>/.
		doc := parsePolicy(t, bucketResources(res, "aws:s3/bucketPolicy:BucketPolicy", bucketName)[0].Plain()["policy"])
		trailArn := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", cfg.Region, synth.MockAccountID, trailName)
		var writes []string
		for _, st := range doc.Statement {
			if st.Principal["Service"] != "cloudtrail.amazonaws.com" {
				continue
			}
			if st.Condition["StringEquals"]["aws:SourceArn"] != trailArn {
				t.Errorf("CloudTrail statement %v: want aws:SourceArn %s, got %v", st.Action, trailArn, st.Condition)
			}
			if slices.Contains(list(st.Action), "s3:PutObject") {
				writes = append(writes, list(st.Resource)...)
			}
		}
		if want := fmt.Sprintf("arn:aws:s3:::%s/AWSLogs/%s/*", bucketName, synth.MockAccountID); !slices.Equal(writes, []string{want}) {
			t.Errorf("CloudTrail may write %v, want only %s", writes, want)
		}
		// The key policy sections CloudTrail requires, and no more: data
		// keys under a trail's encryption context, DescribeKey for this
		// trail; never Decrypt (the bucket has no Bucket Key, which would
		// need it).
		var grants []string
		for _, st := range parsePolicy(t, key.Plain()["policy"]).Statement {
			if st.Principal["Service"] != "cloudtrail.amazonaws.com" {
				continue
			}
			for _, a := range list(st.Action) {
				grants = append(grants, fmt.Sprintf("%s %v", a, st.Condition))
			}
		}
		wantGrants := []string{
			fmt.Sprintf("kms:GenerateDataKey* map[StringLike:map[kms:EncryptionContext:aws:cloudtrail:arn:arn:aws:cloudtrail:*:%s:trail/*]]", synth.MockAccountID),
			fmt.Sprintf("kms:DescribeKey map[StringEquals:map[aws:SourceArn:%s]]", trailArn),
		}
		if !slices.Equal(grants, wantGrants) {
			t.Errorf("CloudTrail's key grants:\n%v\nwant\n%v", grants, wantGrants)
		}
		enc := bucketResources(res, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", bucketName)
		if len(enc) != 1 || path(enc[0].Plain()["rules"].([]any)[0], "bucketKeyEnabled") != false ||
			path(enc[0].Plain()["rules"].([]any)[0], "applyServerSideEncryptionByDefault", "kmsMasterKeyId") != key.State["arn"].StringValue() {
			t.Errorf("the trail bucket: want SSE-KMS with the audit key and no Bucket Key (CloudTrail would need kms:Decrypt), got %v", enc)
		}
		if got := res.Outputs["auditTrailArn"].Value; got != trail.State["arn"].StringValue() {
			t.Errorf("auditTrailArn output %v, want the trail's ARN %v", got, trail.State["arn"].StringValue())
		}
	})
}

// Where a trail already records the account, the stack makes none (no
// second copy of every management event) and names that one.
func TestAnExistingTrailIsNamedNotCopied(t *testing.T) {
	arn := "arn:aws:cloudtrail:us-east-1:111122223333:trail/organization-trail"
	res, err := synth.Run(withChanges(t, change{"audit", "trail", "existing"}, change{"audit", "existingTrailArn", arn}), infra.Deploy)
	if err != nil {
		t.Fatal(err)
	}
	if trails := res.ByType(typeTrail); len(trails) != 0 {
		t.Errorf("want no trail of the stack's own, got %d", len(trails))
	}
	if _, ok := res.Find(typeBucketV2, "scrolluniversity-production-audit-trail"); ok {
		t.Error("want no trail bucket")
	}
	if got := res.Outputs["auditTrailArn"].Value; got != arn {
		t.Errorf("auditTrailArn output %v, want %s", got, arn)
	}
}
