// Command synth runs the Pulumi program offline, under Pulumi's mock engine,
// with a stack's real Pulumi.<stack>.yaml, and writes what it would deploy:
//
//	go run ./cmd/synth --stack staging [--out build/synth/staging] [--dir .]
//
// It runs the policy pack's rules over the result (policy.json) and exits 1
// on a config problem or a mandatory violation. It needs no AWS account,
// cluster or Pulumi CLI. See README.md.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	opts, err := synth.ParseArgs(args, stderr)
	if synth.IsHelp(err) {
		return nil
	}
	if err != nil {
		return err
	}
	stack, err := synth.LoadStack(opts.Dir, opts.Stack)
	if err != nil {
		return err
	}
	res, err := synth.Run(stack, infra.Deploy)
	if err != nil {
		return fmt.Errorf("stack %s:\n%w", opts.Stack, err)
	}
	if err := synth.RenderCharts(res, synth.ChartOptions{Dir: opts.Dir, Mirror: opts.ChartMirror, Log: stderr}); err != nil {
		return fmt.Errorf("stack %s: rendering its Helm releases: %w", opts.Stack, err)
	}
	unrendered := synth.Unrendered(res)
	if unrendered != nil && opts.RequireCharts {
		return fmt.Errorf("stack %s:\n%w", opts.Stack, unrendered)
	}
	if unrendered == nil {
		if err := synth.DeriveRuntime(res); err != nil {
			return fmt.Errorf("stack %s: deriving what the operators create: %w", opts.Stack, err)
		}
	}
	pc, err := synth.LoadPolicyConfig(opts.PolicyConfig)
	if err != nil {
		return err
	}
	if err := synth.GuardsAgree(pc, res.Config.Guards.Protect, opts.PolicyConfig, opts.Stack); err != nil {
		return fmt.Errorf("stack %s: its policy pack config:\n%w", opts.Stack, err)
	}
	report, err := synth.CheckPolicies(res, pc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return err
	}
	if err := synth.Write(res, opts.Out); err != nil {
		return err
	}
	if err := synth.WritePolicy(report, opts.Out); err != nil {
		return err
	}
	// The flow check needs every release's policies and pods: without the
	// charts it would prove nothing, so it says so instead.
	var flowFailures []string
	flowLine := "flows: not checked, because not every Helm release was rendered (see above)\n"
	if unrendered == nil {
		tool, err := synth.NetpolTool(opts.Dir, stderr)
		if err != nil {
			return fmt.Errorf("stack %s: %w", opts.Stack, err)
		}
		rep, err := synth.CheckFlows(res, tool)
		if err != nil {
			return fmt.Errorf("stack %s: the flow check: %w", opts.Stack, err)
		}
		if err := synth.WriteFlows(rep, opts.Out); err != nil {
			return err
		}
		flowFailures = rep.Failures()
		flowLine = ""
		for _, f := range flowFailures {
			flowLine += "  " + f + "\n"
		}
		for _, f := range rep.Inert {
			flowLine += "  inert: " + f + "\n"
		}
		flowLine += "flows: " + rep.Summary() + " (flows.json)\n"
	}
	estimate, err := synth.Cost(res)
	if err != nil {
		return err
	}
	if err := synth.WriteCost(estimate, opts.Out); err != nil {
		return err
	}
	fmt.Fprint(stdout, synth.Summary(res, report, opts.Out))
	fmt.Fprint(stdout, flowLine)
	fmt.Fprint(stdout, synth.CostLine(estimate))
	if n := len(rules.MandatoryOnly(report.Violations)); n > 0 {
		return fmt.Errorf("%d mandatory policy violations (see %s)", n, filepath.Join(opts.Out, "policy.json"))
	}
	if n := len(flowFailures); n > 0 {
		return fmt.Errorf("%d network flow failures (see %s)", n, filepath.Join(opts.Out, "flows.json"))
	}
	return nil
}
