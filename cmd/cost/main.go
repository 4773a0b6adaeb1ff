// Command cost compares two cost.json files the synthesizer wrote (main's
// and a pull request's) and prints the change as Markdown, for the pull
// request's comment:
//
//	go run ./cmd/cost diff --base main/cost.json --head pr/cost.json --stack staging
//
// A missing base (main without an estimate yet) shows the head alone.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/scrolluniversity/platform/internal/cost"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "diff" {
		fmt.Fprintln(os.Stderr, "usage: cost diff --base FILE --head FILE --stack NAME")
		os.Exit(2)
	}
	fl := flag.NewFlagSet("diff", flag.ExitOnError)
	base := fl.String("base", "", "main's cost.json")
	head := fl.String("head", "", "the change's cost.json")
	stack := fl.String("stack", "", "the stack's name, for the title")
	fl.Parse(os.Args[2:])
	h, err := read(*head)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
	b, err := read(*base)
	if errors.Is(err, fs.ErrNotExist) {
		b = nil
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
	fmt.Print(cost.Diff(*stack, b, h))
}

func read(path string) (*cost.Estimate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e cost.Estimate
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}
