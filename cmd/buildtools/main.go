// Command buildtools builds the tools CI runs from the Go module proxy
// (kube-apiserver and etcd from tools/kube; promtool, amtool and
// promqlnames from tools/prom; gofakes3 from tools/s3; actionlint from tools/lint) into the tool cache, once: a warm run
// builds nothing. Run it from the repository's root; it prints each
// binary's path.
package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/scrolluniversity/platform/internal/apicheck"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

func main() {
	sets := []toolcache.Set{apicheck.Servers(filepath.Join("tools", "kube")), toolcache.Prometheus("."), toolcache.Alertmanager("."), toolcache.KWOK("."), toolcache.S3("."), toolcache.Lint("."), toolcache.Charts("."), toolcache.Netpol("."), toolcache.PulumiCLI(".")}
	for _, s := range sets {
		paths, err := s.Ensure(os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "buildtools:", err)
			os.Exit(1)
		}
		for _, name := range slices.Sorted(maps.Keys(paths)) {
			fmt.Printf("%s\t%s\n", name, paths[name])
		}
	}
	// The real engine's Kubernetes and random providers, from their
	// sources ($SCROLLUNIVERSITY_PULUMI_SRC, ../shared/pulumi-src, or a
	// clone at their tags).
	for _, b := range toolcache.PulumiProviders() {
		p, err := b.Ensure(".", os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "buildtools:", err)
			os.Exit(1)
		}
		fmt.Printf("%s\t%s\n", b.Binary, p)
	}
}
