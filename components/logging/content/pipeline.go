package content

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

// pipelineFiles are the pipelines' templates and the output they share.
//
//go:embed pipeline.conf dead-letter.conf output.conf
var pipelineFiles embed.FS

// render fills the pipeline template file, with the shared output, whose
// actions are between [[ and ]].
func render(file string, data map[string]any) (string, error) {
	tmpl, err := template.New(file).Delims("[[", "]]").Option("missingkey=error").ParseFS(pipelineFiles, file, "output.conf")
	if err != nil {
		return "", fmt.Errorf("parsing the Logstash pipeline %s: %w", file, err)
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, file, data); err != nil {
		return "", fmt.Errorf("rendering the Logstash pipeline %s: %w", file, err)
	}
	return buf.String(), nil
}

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
	if a.AppNamespace == "" || a.BackendContainer == "" {
		return "", fmt.Errorf("the Logstash pipeline needs the backend's namespace and container")
	}
	redaction, err := RedactionFilter()
	if err != nil {
		return "", err
	}
	return render("pipeline.conf", map[string]any{
		"BeatsPort": BeatsPort, "Redaction": redaction, "ESEnv": a.ESEnv,
		"Dataset": Dataset, "BackendDataset": BackendDataset, "DataStreamNamespace": a.DataStreamNamespace,
		"AppNamespace": a.AppNamespace, "BackendContainer": a.BackendContainer, "AutoRouting": true,
	})
}

// DeadLetterPipeline renders the pipeline that reads the main pipeline's
// dead letter queue back into logs-dlq-<stack>.
func DeadLetterPipeline(a PipelineArgs) (string, error) {
	return render("dead-letter.conf", map[string]any{
		"ESEnv": a.ESEnv, "Dataset": DeadLetterDataset, "DataStreamNamespace": a.DataStreamNamespace,
		"Path": DeadLetterQueuePath, "PipelineID": "main", "AutoRouting": false,
	})
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
