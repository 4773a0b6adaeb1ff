package synth

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/scrolluniversity/platform/internal/charts"
)

// Options are the synthesizer's command line.
type Options struct {
	// Stack is the stack to synthesize (Pulumi.<stack>.yaml).
	Stack string
	// Out is the output folder; default build/synth/<stack>.
	Out string
	// Dir holds Pulumi.yaml and the stack files; default ".".
	Dir string
	// PolicyConfig is the policy pack config; default
	// <dir>/policy/config.<stack>.json (missing means the pack's defaults).
	PolicyConfig string
	// ChartMirror is an offline folder of chart archives; default
	// $SCROLLUNIVERSITY_CHART_MIRROR, and empty to pull each chart from its
	// repository.
	ChartMirror string
	// RequireCharts makes a release that cannot be rendered an error (CI);
	// otherwise the summary names it and the run goes on.
	RequireCharts bool
}

// ErrHelp is returned by ParseArgs when the user asked for help, which
// has been printed.
var ErrHelp = flag.ErrHelp

// ParseArgs reads the synthesizer's flags. It uses a flag set of its own:
// the Pulumi SDK registers logging flags on the default one, which have
// nothing to do here, and the usage names the command as a user types it,
// not the binary `go run` builds in its cache.
func ParseArgs(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Stack, "stack", "", "stack to synthesize (reads Pulumi.<stack>.yaml); required")
	fs.StringVar(&o.Out, "out", "", "output folder (default build/synth/<stack>)")
	fs.StringVar(&o.Dir, "dir", ".", "folder holding Pulumi.yaml and the stack files")
	fs.StringVar(&o.PolicyConfig, "policy-config", "", "policy pack config (default <dir>/policy/config.<stack>.json; missing means the pack's defaults)")
	fs.StringVar(&o.ChartMirror, "chart-mirror", os.Getenv(charts.MirrorEnv), "offline folder of Helm chart archives (<name>-<version>.tgz); default $"+charts.MirrorEnv+", else each chart is pulled from its repository")
	fs.BoolVar(&o.RequireCharts, "require-charts", false, "fail when a Helm release cannot be rendered (CI), instead of naming it in the summary")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/synth --stack NAME [flags]\n\n"+
			"Runs the program under Pulumi's mock engine with Pulumi.NAME.yaml and writes\n"+
			"architecture.md, outputs.json, policy.json, resources.json, manifests/, charts/ and graph.dot.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %v; flags only, e.g. --stack staging", fs.Args())
	}
	if o.Stack == "" {
		return o, fmt.Errorf("--stack is required; the stacks here are %v", Stacks(o.Dir))
	}
	if o.Out == "" {
		o.Out = filepath.Join("build", "synth", o.Stack)
	}
	if o.PolicyConfig == "" {
		o.PolicyConfig = filepath.Join(o.Dir, "policy", "config."+o.Stack+".json")
	}
	return o, nil
}

// IsHelp reports whether ParseArgs's error was a request for help.
func IsHelp(err error) bool { return errors.Is(err, ErrHelp) }
