// Command placement runs each stack's Kubernetes objects, its own, its
// rendered charts' and the workloads its operators make, on a simulated
// cluster: the real kube-apiserver, kube-controller-manager and
// kube-scheduler over KWOK nodes shaped like the stack's node groups
// (internal/simcluster). It runs the placement scenarios and prints per
// scenario "N pods, N scheduled", each problem with the pod or workload
// named and the scheduler's or controller's reason; it exits 1 on any
// problem.
//
//	go run ./cmd/synth --stack staging && go run ./cmd/placement --stack staging
//
// Two clusters run per stack: one from the groups' desired sizes with
// every HPA at its minimum (scenarios 1, 5, 4), one at the groups' and
// HPAs' maximum (2, 7, 6, 3). Binaries come from the tool cache (go run
// ./cmd/buildtools).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/scrolluniversity/platform/internal/apicheck"
	"github.com/scrolluniversity/platform/internal/simcluster"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "placement:", err)
		os.Exit(1)
	}
}

type stackList []string

func (s *stackList) String() string     { return strings.Join(*s, ",") }
func (s *stackList) Set(v string) error { *s = append(*s, v); return nil }

func run() error {
	var stacks stackList
	fs := flag.NewFlagSet("placement", flag.ContinueOnError)
	fs.Var(&stacks, "stack", "stack to place (repeat for several)")
	synthDir := fs.String("synth", filepath.Join("build", "synth"), "the synthesizer's output folder")
	parallel := fs.Int("parallel", 4, "simulated clusters run at once (each mostly waits: 4 fit on 2 cores)")
	sequence := fs.String("sequence", "both", `"minimum" (scenarios 1, 5, 4), "maximum" (2, 7, 6, 3) or "both"`)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if len(stacks) == 0 {
		return errors.New("--stack is required, e.g. --stack staging --stack production")
	}
	if *sequence != "minimum" && *sequence != "maximum" && *sequence != "both" {
		return fmt.Errorf("--sequence %q: want minimum, maximum or both", *sequence)
	}
	kube, err := apicheck.Servers(filepath.Join("tools", "kube")).Ensure(os.Stderr)
	if err != nil {
		return err
	}
	kwok, err := toolcache.KWOK(".").Ensure(os.Stderr)
	if err != nil {
		return err
	}
	bins := simcluster.BinariesOf(kube, kwok)
	// Read every stack before starting a cluster: a missing file fails fast.
	loaded := map[string]*simcluster.Stack{}
	for _, name := range stacks {
		if loaded[name], err = simcluster.LoadStack(*synthDir, name); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	type job struct {
		stack, sequence string
		out             bytes.Buffer
		failed          int
		err             error
	}
	var jobs []*job
	for _, name := range stacks {
		for _, seq := range []string{"minimum", "maximum"} {
			if *sequence == seq || *sequence == "both" {
				jobs = append(jobs, &job{stack: name, sequence: seq})
			}
		}
	}
	sem := make(chan struct{}, max(1, *parallel))
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			began := time.Now()
			sim, err := simcluster.NewSimulation(ctx, bins, loaded[j.stack])
			if err != nil {
				j.err = err
				return
			}
			defer sim.Stop()
			var scenarios []simcluster.Scenario
			if j.sequence == "minimum" {
				scenarios, err = sim.Minimum(ctx)
			} else {
				scenarios, err = sim.Maximum(ctx)
			}
			if err != nil {
				j.err = fmt.Errorf("%w%s", err, sim.Cluster().LogTail())
				return
			}
			for _, sc := range scenarios {
				sc.Write(&j.out, "placement "+j.stack+": ")
				if !sc.OK() {
					j.failed++
				}
			}
			fmt.Fprintf(&j.out, "placement %s: %s scale done in %s\n", j.stack, j.sequence, time.Since(began).Round(time.Second))
		}()
	}
	wg.Wait()
	failed := 0
	var errs []error
	for _, j := range jobs {
		os.Stdout.Write(j.out.Bytes())
		failed += j.failed
		if j.err != nil {
			errs = append(errs, fmt.Errorf("stack %s, %s scale: %w", j.stack, j.sequence, j.err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d scenarios failed", failed)
	}
	return nil
}
