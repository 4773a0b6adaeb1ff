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
	"errors"
	"flag"
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
	// A flag set of its own: the Pulumi SDK registers logging flags on the
	// default one, which have nothing to do here.
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stackName := fs.String("stack", "", "stack to synthesize (reads Pulumi.<stack>.yaml); required")
	out := fs.String("out", "", "output folder (default build/synth/<stack>)")
	dir := fs.String("dir", ".", "folder holding Pulumi.yaml and the stack files")
	policyConfig := fs.String("policy-config", "", "policy pack config (default <dir>/policy/config.<stack>.json; missing means the pack's defaults)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/synth --stack NAME [flags]\n\n"+
			"Runs the program under Pulumi's mock engine with Pulumi.NAME.yaml and writes\n"+
			"resources.json, manifests/, outputs.json, policy.json, architecture.md and graph.dot.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *stackName == "" {
		fs.Usage()
		return fmt.Errorf("--stack is required; the stacks here are %v", synth.Stacks(*dir))
	}
	if *out == "" {
		*out = filepath.Join("build", "synth", *stackName)
	}
	stack, err := synth.LoadStack(*dir, *stackName)
	if err != nil {
		return err
	}
	res, err := synth.Run(stack, infra.Deploy)
	if err != nil {
		return fmt.Errorf("stack %s:\n%w", *stackName, err)
	}
	if *policyConfig == "" {
		*policyConfig = filepath.Join(*dir, "policy", "config."+*stackName+".json")
	}
	pc, err := synth.LoadPolicyConfig(*policyConfig)
	if err != nil {
		return err
	}
	report, err := synth.CheckPolicies(res, pc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := synth.Write(res, *out); err != nil {
		return err
	}
	if err := synth.WritePolicy(report, *out); err != nil {
		return err
	}
	fmt.Fprint(stdout, synth.Summary(res, report, *out))
	if n := len(rules.MandatoryOnly(report.Violations)); n > 0 {
		return fmt.Errorf("%d mandatory policy violations (see %s)", n, filepath.Join(*out, "policy.json"))
	}
	return nil
}
