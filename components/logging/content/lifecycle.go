package content

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Names of what the setup Job applies.
const (
	// ILMPolicy is the log data streams' lifecycle policy.
	ILMPolicy = "scrolluniversity-logs"
	// IndexTemplate makes logs-kubernetes-* data streams use ILMPolicy;
	// its priority beats Elasticsearch's built-in logs-*-* template (100).
	IndexTemplate         = "scrolluniversity-logs-kubernetes"
	indexTemplatePriority = 500
	// DataView is Kibana's view of the log data streams.
	DataView = "logs-kubernetes"
)

// Lifecycle sizes the ILM policy.
type Lifecycle struct {
	// RetentionDays deletes a backing index this long after its rollover.
	RetentionDays int
	// RolloverGiB and RolloverHours roll the write index over.
	RolloverGiB, RolloverHours int
	// Replicas of each shard: 1 with three or more nodes, 0 with one.
	Replicas int
}

// ILMPolicyBody is the PUT _ilm/policy/<ILMPolicy> body: hot with rollover
// by size and age, delete after the retention.
func ILMPolicyBody(l Lifecycle) ([]byte, error) {
	return json.Marshal(map[string]any{
		"policy": map[string]any{
			"_meta": map[string]any{"managed_by": "pulumi", "description": "ScrollUniversity container logs"},
			"phases": map[string]any{
				"hot": map[string]any{"actions": map[string]any{
					"rollover": map[string]any{
						"max_primary_shard_size": fmt.Sprintf("%dgb", l.RolloverGiB),
						"max_age":                fmt.Sprintf("%dh", l.RolloverHours),
					},
				}},
				"delete": map[string]any{
					"min_age": fmt.Sprintf("%dd", l.RetentionDays),
					"actions": map[string]any{"delete": map[string]any{}},
				},
			},
		},
	})
}

// IndexTemplateBody is the PUT _index_template/<IndexTemplate> body.
func IndexTemplateBody(l Lifecycle) ([]byte, error) {
	return json.Marshal(map[string]any{
		"index_patterns": IndexPatterns(),
		"data_stream":    map[string]any{},
		"priority":       indexTemplatePriority,
		// Elasticsearch's own logs mappings and settings, and the ECS
		// dynamic mappings (client.geo.location as a geo_point), as the
		// built-in logs@template composes them; then ours.
		"composed_of": []string{"logs@mappings", "logs@settings", "ecs@mappings"},
		"template": map[string]any{
			// The backend's parsed line is one flattened field: its keys are
			// searchable (app.req.url: ...) and no two lines can disagree on
			// a sub-field's type. The dead letters' original is a string.
			"mappings": map[string]any{"properties": map[string]any{
				"app": map[string]any{"type": "flattened"},
				"dlq": map[string]any{"properties": map[string]any{
					"reason":   map[string]any{"type": "text"},
					"original": map[string]any{"type": "text", "index": false},
				}},
			}},
			"settings": map[string]any{
				"index.lifecycle.name":     ILMPolicy,
				"index.number_of_replicas": l.Replicas,
				"index.number_of_shards":   1,
			},
		},
		"_meta": map[string]any{"managed_by": "pulumi"},
	})
}

// DataViewBody is the POST /api/data_views/data_view body; override makes
// it idempotent.
func DataViewBody() ([]byte, error) {
	return json.Marshal(map[string]any{
		"override": true,
		"data_view": map[string]any{
			"id":            DataView,
			"name":          "Kubernetes logs",
			"title":         strings.Join(IndexPatterns(), ","),
			"timeFieldName": "@timestamp",
		},
	})
}

// ExporterRole is the role of the user elasticsearch_exporter logs in as:
// cluster and index statistics, read-only.
const ExporterRole = "prometheus-exporter"

// ExporterRoleBody is the PUT _security/role/<ExporterRole> body.
func ExporterRoleBody() ([]byte, error) {
	return json.Marshal(map[string]any{
		"cluster": []string{"monitor"},
		"indices": []any{map[string]any{"names": []string{"*"}, "privileges": []string{"monitor"}}},
	})
}

// IndexPatterns are the data streams the index template and the data view
// cover: every dataset the pipelines write.
func IndexPatterns() []string {
	out := make([]string, len(Datasets))
	for i, d := range Datasets {
		out[i] = "logs-" + d + "-*"
	}
	return out
}
