// Command apicheck runs every Kubernetes object the synthesizer wrote for
// each stack through a real kube-apiserver, the program's own and every
// object its Helm releases render: the CRDs the rendered charts ship (and
// the Gateway API's, from its Go module) are installed first, then every
// object is server-side applied with dryRun=All and strict field
// validation.
//
//	go run ./cmd/synth --stack staging && go run ./cmd/apicheck --stack staging
//
// The first run builds kube-apiserver and etcd from the Go module proxy
// (tools/kube, about 8 minutes and 2 GB) and caches them; later runs take
// seconds. The servers listen on 127.0.0.1 only and are stopped on exit.
// It prints each rejected object with the server's message and ends with
// "N objects, M rejected"; it exits 1 when anything is rejected.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/scrolluniversity/platform/internal/apicheck"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "apicheck:", err)
		os.Exit(1)
	}
}

type stackList []string

func (s *stackList) String() string     { return strings.Join(*s, ",") }
func (s *stackList) Set(v string) error { *s = append(*s, v); return nil }

func run() error {
	var stacks stackList
	fs := flag.NewFlagSet("apicheck", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/apicheck --stack NAME [--stack NAME...] [flags]\n\n"+
			"Checks the synthesizer's manifests (build/synth/<stack>/manifests) against a real\n"+
			"kube-apiserver with the CRDs of its rendered charts installed, and what its Helm\n"+
			"releases render (build/synth/<stack>/charts). Run the synthesizer first.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.Var(&stacks, "stack", "stack whose manifests to check (repeat for several)")
	synthDir := fs.String("synth", filepath.Join("build", "synth"), "the synthesizer's output folder")
	tools := fs.String("tools", filepath.Join("tools", "kube"), "the module that builds kube-apiserver and etcd")
	buildOnly := fs.Bool("build-only", false, "build (or find cached) servers and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	bins, err := apicheck.EnsureBinaries(*tools, os.Stderr)
	if err != nil {
		return err
	}
	if *buildOnly {
		fmt.Printf("apicheck: kube-apiserver %s and etcd %s ready in %s\n", apicheck.KubernetesVersion, apicheck.EtcdVersion, filepath.Dir(bins.APIServer))
		return nil
	}
	if len(stacks) == 0 {
		return errors.New("--stack is required, e.g. --stack staging --stack production")
	}
	// Read everything before starting servers: a missing file fails fast.
	crdFiles, err := apicheck.CRDFiles(apicheck.CRDSources)
	if err != nil {
		return err
	}
	moduleCRDs, err := apicheck.ReadObjects(crdFiles...)
	if err != nil {
		return err
	}
	crds, objects := map[string][]apicheck.Object{}, map[string][]apicheck.Object{}
	for _, stack := range stacks {
		files, err := apicheck.ManifestFiles(filepath.Join(*synthDir, stack, "manifests"))
		if err != nil {
			return fmt.Errorf("stack %s: %w", stack, err)
		}
		if objects[stack], err = apicheck.ReadObjects(files...); err != nil {
			return fmt.Errorf("stack %s: %w", stack, err)
		}
		chartCRDs, chartObjects, err := apicheck.ChartObjects(filepath.Join(*synthDir, stack, "charts"))
		if err != nil {
			return fmt.Errorf("stack %s: %w", stack, err)
		}
		crds[stack] = append(slices.Clone(moduleCRDs), chartCRDs...)
		objects[stack] = append(objects[stack], chartObjects...)
	}

	// Stop the servers on Ctrl-C and SIGTERM too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	server, err := apicheck.Start(ctx, bins)
	if err != nil {
		return err
	}
	defer server.Stop()
	client := server.Client()
	fmt.Printf("apicheck: kube-apiserver %s on %s\n", apicheck.KubernetesVersion, server.URL)

	checked, rejected := 0, 0
	for _, stack := range stacks {
		// Each stack's own CRDs, applied over the last stack's: stacks may
		// pin different chart versions.
		if err := client.InstallCRDs(ctx, crds[stack]); err != nil {
			return fmt.Errorf("stack %s: %w", stack, err)
		}
		fmt.Printf("stack %s: %d CRDs installed (its charts' and the Gateway API's)\n", stack, len(crds[stack]))
		report, err := client.Check(ctx, objects[stack])
		if err != nil {
			return fmt.Errorf("stack %s: %w", stack, err)
		}
		report.Write(os.Stdout, "stack "+stack+": ")
		checked += report.Checked
		rejected += len(report.Rejected)
	}
	fmt.Printf("%d objects, %d rejected\n", checked, rejected)
	if rejected > 0 {
		return fmt.Errorf("%d objects rejected by the API server", rejected)
	}
	return nil
}
