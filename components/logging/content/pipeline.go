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

// Dataset is the data streams' dataset: logs-kubernetes-<namespace>.
const Dataset = "kubernetes"

// PipelineArgs fill the pipeline's template.
type PipelineArgs struct {
	// ESEnv is the prefix of the variables ECK sets for the
	// elasticsearchRefs entry's clusterName (upper-cased).
	ESEnv string
	// DataStreamNamespace is the data streams' namespace (the stack).
	DataStreamNamespace string
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
	err = tmpl.Execute(&buf, map[string]any{
		"BeatsPort": BeatsPort, "Redaction": redaction, "ESEnv": a.ESEnv,
		"Dataset": Dataset, "DataStreamNamespace": a.DataStreamNamespace,
	})
	return buf.String(), err
}

// SetupScript applies the ILM policy, the index template and the data
// view (setup.sh).
//
//go:embed setup.sh
var SetupScript string
