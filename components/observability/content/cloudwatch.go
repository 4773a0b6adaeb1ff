package content

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// CloudWatchMetric is one CloudWatch metric cloudwatch_exporter reads.
type CloudWatchMetric struct {
	Namespace, Name string
	Dimensions      []string
	Statistics      []string
}

// CloudWatchMetrics are the managed stores' metrics Prometheus cannot get
// from inside: replica lag, free storage, CPU, connections, evictions.
// The exporter names them aws_<namespace>_<metric>_<statistic>, snake-cased
// (aws_rds_replica_lag_average, aws_elasticache_evictions_sum).
var CloudWatchMetrics = []CloudWatchMetric{
	{"AWS/RDS", "ReplicaLag", []string{"DBInstanceIdentifier"}, []string{"Average", "Maximum"}},
	{"AWS/RDS", "FreeStorageSpace", []string{"DBInstanceIdentifier"}, []string{"Average", "Minimum"}},
	{"AWS/RDS", "CPUUtilization", []string{"DBInstanceIdentifier"}, []string{"Average", "Maximum"}},
	{"AWS/RDS", "DatabaseConnections", []string{"DBInstanceIdentifier"}, []string{"Average", "Maximum"}},
	{"AWS/RDS", "FreeableMemory", []string{"DBInstanceIdentifier"}, []string{"Average"}},
	{"AWS/ElastiCache", "Evictions", []string{"CacheClusterId", "CacheNodeId"}, []string{"Sum"}},
	{"AWS/ElastiCache", "EngineCPUUtilization", []string{"CacheClusterId", "CacheNodeId"}, []string{"Average", "Maximum"}},
	{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", []string{"CacheClusterId", "CacheNodeId"}, []string{"Average"}},
	{"AWS/ElastiCache", "CacheHitRate", []string{"CacheClusterId", "CacheNodeId"}, []string{"Average"}},
}

// CloudWatchMetricName is the Prometheus name cloudwatch_exporter gives a
// CloudWatch metric and statistic: its toSnakeCase splits only where a
// lower-case letter or digit meets a capital ("CPUUtilization" becomes
// "cpuutilization").
func CloudWatchMetricName(namespace, metric, statistic string) string {
	snake := func(s string) string {
		var b strings.Builder
		for i, r := range s {
			if i > 0 && r >= 'A' && r <= 'Z' {
				prev := s[i-1]
				if (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9') {
					b.WriteByte('_')
				}
			}
			b.WriteRune(r)
		}
		return strings.ToLower(b.String())
	}
	ns := strings.ToLower(strings.ReplaceAll(namespace, "/", "_"))
	stat := map[string]string{"Sum": "sum", "SampleCount": "sample_count", "Minimum": "minimum", "Maximum": "maximum", "Average": "average"}[statistic]
	return ns + "_" + snake(metric) + "_" + stat
}

// Dimension values the exporter asks for; listing every dimension's values
// (aws_dimension_select) spares it ListMetrics calls.
type CloudWatchTargets struct {
	// DBInstanceIdentifier: the primary and its read replicas.
	DBInstanceIdentifier []string
	// CacheClusterId: the replication group's member clusters; each has
	// one node, 0001.
	CacheClusterId []string
	// WebACL is the CDN's web ACL ("" without one): its BlockedRequests,
	// all rules together (Rule "ALL"). A CloudFront web ACL's metrics
	// are in us-east-1 and carry no Region dimension.
	WebACL string
}

// WAFBlockedRequests is the web ACL's metric the exporter reads.
var WAFBlockedRequests = CloudWatchMetric{"AWS/WAFV2", "BlockedRequests", []string{"WebACL", "Rule"}, []string{"Sum"}}

// cloudWatchPeriodSeconds: RDS and ElastiCache publish every minute;
// CloudWatch settles a minute's value within a few minutes, hence the delay.
const (
	cloudWatchPeriodSeconds = 60
	cloudWatchRangeSeconds  = 600
	cloudWatchDelaySeconds  = 300
)

// CloudWatchConfig is cloudwatch_exporter's configuration.
func CloudWatchConfig(region string, t CloudWatchTargets) (string, error) {
	values := map[string][]string{
		"DBInstanceIdentifier": t.DBInstanceIdentifier,
		"CacheClusterId":       t.CacheClusterId,
		"CacheNodeId":          {"0001"},
		"WebACL":               {t.WebACL},
		"Rule":                 {"ALL"},
	}
	var metrics []map[string]any
	all := CloudWatchMetrics
	if t.WebACL != "" {
		all = append(slices.Clone(all), WAFBlockedRequests)
	}
	for _, m := range all {
		sel := map[string]any{}
		for _, d := range m.Dimensions {
			sel[d] = values[d]
		}
		metrics = append(metrics, map[string]any{
			"aws_namespace":        m.Namespace,
			"aws_metric_name":      m.Name,
			"aws_dimensions":       m.Dimensions,
			"aws_dimension_select": sel,
			"aws_statistics":       m.Statistics,
		})
	}
	out, err := yaml.Marshal(map[string]any{
		"region":         region,
		"period_seconds": cloudWatchPeriodSeconds,
		"range_seconds":  cloudWatchRangeSeconds,
		"delay_seconds":  cloudWatchDelaySeconds,
		// CloudWatch's timestamps are minutes old; Prometheus would drop
		// them as out of order next to its own scrapes' times.
		"set_timestamp": false,
		"metrics":       metrics,
	})
	return string(out), err
}
