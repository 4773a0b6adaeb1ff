package content

import (
	"bytes"
	_ "embed"
	"fmt"
	"text/template"
)

//go:embed pipeline.conf
var pipelineTemplate string

// BeatsPort is where Logstash's beats input listens.
const BeatsPort = 5044

// Dataset is the data stream of every container's lines but the
// backend's: logs-kubernetes-<namespace>.
const Dataset = "kubernetes"

// BackendDataset is the backend's parsed lines' data stream:
// logs-backend-<namespace>.
const BackendDataset = "backend"

// DeadLetterDataset is the events Elasticsearch rejected, read back from
// Logstash's dead letter queue: logs-dlq-<namespace>.
const DeadLetterDataset = "dlq"

// DeadLetterPipelineID is the Logstash pipeline that reads the dead letter
// queue of the pipeline "main".
const DeadLetterPipelineID = "dlq"

// Datasets are every data stream's dataset the pipelines write.
var Datasets = []string{Dataset, BackendDataset, DeadLetterDataset}

// PipelineArgs fill the pipeline's template.
type PipelineArgs struct {
	// ESEnv is the prefix of the variables ECK sets for the
	// elasticsearchRefs entry's clusterName (upper-cased).
	ESEnv string
	// DataStreamNamespace is the data streams' namespace (the stack).
	DataStreamNamespace string
	// AppNamespace and BackendContainer name the only container whose
	// lines are parsed as JSON.
	AppNamespace, BackendContainer string
}

// Pipeline renders the Logstash pipeline with the redaction filter.
func Pipeline(a PipelineArgs) (string, error) {
	redaction, err := RedactionFilter()
	if err != nil {
		return "", err
	}
	tmpl, err := template.New("pipeline.conf").Delims("[[", "]]").Option("missingkey=error").Parse(pipelineTemplate)
	if err != nil {
		return "", fmt.Errorf("parsing the Logstash pipeline: %w", err)
	}
	var buf bytes.Buffer
	if a.AppNamespace == "" || a.BackendContainer == "" {
		return "", fmt.Errorf("the Logstash pipeline needs the backend's namespace and container")
	}
	err = tmpl.Execute(&buf, map[string]any{
		"BeatsPort": BeatsPort, "Redaction": redaction, "ESEnv": a.ESEnv,
		"Dataset": Dataset, "BackendDataset": BackendDataset, "DataStreamNamespace": a.DataStreamNamespace,
		"AppNamespace": a.AppNamespace, "BackendContainer": a.BackendContainer,
	})
	return buf.String(), err
}

//go:embed dead-letter.conf
var deadLetterTemplate string

// DeadLetterPipeline renders the pipeline that reads the main pipeline's
// dead letter queue back into logs-dlq-<stack>.
func DeadLetterPipeline(a PipelineArgs) (string, error) {
	tmpl, err := template.New("dead-letter.conf").Delims("[[", "]]").Option("missingkey=error").Parse(deadLetterTemplate)
	if err != nil {
		return "", fmt.Errorf("parsing the dead letter pipeline: %w", err)
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, map[string]any{
		"ESEnv": a.ESEnv, "Dataset": DeadLetterDataset, "DataStreamNamespace": a.DataStreamNamespace,
		"Path": DeadLetterQueuePath, "PipelineID": "main",
	})
	return buf.String(), err
}

// DeadLetterQueuePath is where Logstash keeps its dead letter queues:
// path.data (ECK mounts the logstash-data claim there) and
// dead_letter_queue.
const DeadLetterQueuePath = "/usr/share/logstash/data/dead_letter_queue"

// SetupScript applies the ILM policy, the index template and the data
// view (setup.sh).
//
//go:embed setup.sh
var SetupScript string
