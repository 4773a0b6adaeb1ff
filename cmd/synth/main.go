// Command synth runs the Pulumi program offline, under Pulumi's mock engine,
// with a stack's real Pulumi.<stack>.yaml, and writes what it would deploy:
//
//	go run ./cmd/synth --stack staging [--out build/synth/staging] [--dir .]
//
// It needs no AWS account, cluster or Pulumi CLI. See README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
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
	fmt.Print(synth.Summary(res, *out))
	return nil
}
