// Command synth runs the Pulumi program offline, under Pulumi's mock engine,
// with a stack's real Pulumi.<stack>.yaml, and writes what it would deploy:
//
//	go run ./cmd/synth --stack staging [--out build/synth/staging] [--dir .]
//
// It runs the policy pack's rules over the result (policy.json) and exits 1
// on a mandatory violation. It needs no AWS account, cluster or Pulumi CLI.
// See README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run() error {
	stackName := flag.String("stack", "", "stack to synthesize (reads Pulumi.<stack>.yaml)")
	out := flag.String("out", "", "output folder (default build/synth/<stack>)")
	dir := flag.String("dir", ".", "folder holding Pulumi.yaml and the stack files")
	policyConfig := flag.String("policy-config", "", "policy pack config (default <dir>/policy/config.<stack>.json; missing means the pack's defaults)")
	flag.Parse()
	if *stackName == "" {
		return fmt.Errorf("--stack is required, e.g. --stack staging")
	}
	if *out == "" {
		*out = filepath.Join("build", "synth", *stackName)
	}
	stack, err := synth.LoadStack(*dir, *stackName)
	if err != nil {
		return err
	}
	if err := synth.CheckKeys(stack, config.Keys()); err != nil {
		return err
	}
	res, err := synth.Run(stack, infra.Deploy)
	if err != nil {
		return fmt.Errorf("stack %s:\n%w", *stackName, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := synth.Write(res, *out); err != nil {
		return err
	}
	if *policyConfig == "" {
		*policyConfig = filepath.Join(*dir, "policy", "config."+*stackName+".json")
	}
	pc, err := synth.LoadPolicyConfig(*policyConfig)
	if err != nil {
		return err
	}
	violations, err := synth.CheckPolicies(res, pc)
	if err != nil {
		return err
	}
	if err := synth.WritePolicy(violations, *out); err != nil {
		return err
	}
	fmt.Print(synth.Summary(res, *out))
	mandatory := 0
	for _, v := range violations {
		fmt.Printf("  policy %s [%s] %s\n    %s\n", v.Policy, v.Level, v.URN, v.Message)
		if v.Level == rules.Mandatory {
			mandatory++
		}
	}
	fmt.Printf("policy: %d violations, %d mandatory\n", len(violations), mandatory)
	if mandatory > 0 {
		return fmt.Errorf("%d mandatory policy violations (see %s)", mandatory, filepath.Join(*out, "policy.json"))
	}
	return nil
}
