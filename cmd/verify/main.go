// Command verify is the smoke test of a deployed stack: each hostname
// answers over HTTPS with a trusted certificate, redirects HTTP to HTTPS,
// sends the edge's security headers, and the backend is ready. It reads
// the stack's outputs with `pulumi stack output --json --stack <name>` (or
// from --outputs FILE). It keeps checking with backoff until every check
// passes in one round, or --wait (20 minutes) has passed, and then exits 1
// naming what still fails.
//
//	go run ./cmd/verify --stack staging
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/scrolluniversity/platform/internal/verify"
)

func main() {
	stack := flag.String("stack", "", "the Pulumi stack whose outputs name the hostnames")
	file := flag.String("outputs", "", "read the outputs from this JSON file instead of `pulumi stack output --json`")
	wait := flag.Duration("wait", 20*time.Minute, "keep checking, with backoff, until every check passes or this long has passed (0: check once); longer than Route 53's 900 s negative caching")
	flag.Parse()
	if (*stack == "") == (*file == "") {
		fmt.Fprintln(os.Stderr, "verify: give --stack NAME or --outputs FILE")
		os.Exit(2)
	}
	var raw []byte
	var err error
	if *file != "" {
		raw, err = os.ReadFile(*file)
	} else {
		raw, err = exec.Command("pulumi", "stack", "output", "--json", "--stack", *stack).Output()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify: reading the stack outputs:", err)
		os.Exit(2)
	}
	outputs, err := verify.ParseOutputs(raw)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(2)
	}
	w := verify.Wait{Deadline: *wait, Round: func(n int, failed []verify.Result) {
		if len(failed) > 0 {
			fmt.Fprintf(os.Stderr, "round %d: %d checks not passing yet (first: %s: %s: %v)\n", n, len(failed), failed[0].Host, failed[0].Check, failed[0].Err)
		}
	}}
	failed := 0
	for _, r := range w.Until(verify.Checker{}, outputs) {
		status := "ok  "
		if r.Err != nil {
			status = "FAIL"
			failed++
		}
		fmt.Printf("%s %s: %s", status, r.Host, r.Check)
		if r.Err != nil {
			fmt.Printf(": %v", r.Err)
		}
		fmt.Println()
	}
	if failed > 0 {
		fmt.Printf("%d checks failed\n", failed)
		os.Exit(1)
	}
	fmt.Println("every check passed")
}
