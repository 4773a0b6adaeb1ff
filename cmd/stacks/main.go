// Command stacks prints the platform's stacks, one per Pulumi.<stack>.yaml,
// with what the delivery needs of each (internal/stackfiles): the
// workflows' matrices come from it, so that a new stack file is previewed,
// priced, checked for drift and deployed without a list to edit.
//
//	go run ./cmd/stacks                  # JSON: every stack
//	go run ./cmd/stacks --guarded=false  # JSON: the stacks without production data
//	go run ./cmd/stacks --stack staging  # JSON: one stack, or an error naming the stacks
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/scrolluniversity/platform/internal/stackfiles"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stacks:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stacks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "the folder of Pulumi.yaml and the stack files")
	guarded := fs.String("guarded", "", "true or false: only the stacks whose guards.protect is that")
	only := fs.String("stack", "", "only this stack")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	all, err := stackfiles.Read(*dir)
	if err != nil {
		return err
	}
	var want *bool
	if *guarded != "" {
		b, err := strconv.ParseBool(*guarded)
		if err != nil {
			return fmt.Errorf("--guarded %q: want true or false", *guarded)
		}
		want = &b
	}
	out, err := stackfiles.Select(all, want, *only)
	if err != nil {
		return err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}
