// Package toolcache builds command-line tools from a wrapper Go module
// (tools/kube, tools/prom: each its own go.mod, so that their dependencies
// never touch the platform's) and keeps the binaries between runs, keyed by
// the module's go.mod, go.sum and any local sources, so that a version
// change builds afresh and a warm run builds nothing.
package toolcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Set is a wrapper module and the binaries built from it.
type Set struct {
	// Name prefixes the cache folder ("kube-v1.36.3-etcd-v3.6.8").
	Name string
	// Dir is the wrapper module's directory.
	Dir string
	// Inputs are the module's files, besides go.mod and go.sum, that the
	// binaries are built from (local main packages).
	Inputs []string
	// Targets are binary names and the packages they are built from.
	Targets []Target
}

// Target is one binary.
type Target struct {
	Binary, Package string
	// Stubs are generated files the package embeds that its module's
	// published source lacks, as paths inside the module StubModule (the
	// Alertmanager server embeds its web UI's build output, made by npm in
	// its release process and absent from the module proxy's zip). The
	// build then uses a copy of that module, kept in the cache folder,
	// with each stub an empty page; the Go code built is the module's.
	Stubs      []string
	StubModule string
	// LDFlags are passed to go build (a version the module's build
	// stamps in at release).
	LDFlags string
}

// Base is where every set is cached: $SCROLLUNIVERSITY_TOOLS_CACHE, else
// $APICHECK_CACHE (its older name), else the user's cache directory.
func Base() (string, error) {
	for _, env := range []string{"SCROLLUNIVERSITY_TOOLS_CACHE", "APICHECK_CACHE"} {
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
	}
	userCache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding a cache directory (set SCROLLUNIVERSITY_TOOLS_CACHE): %w", err)
	}
	return filepath.Join(userCache, "scrolluniversity", "apicheck"), nil
}

// CacheDir is the set's folder, keyed by its module files.
func (s Set) CacheDir() (string, error) {
	base, err := Base()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range append([]string{"go.mod", "go.sum"}, s.Inputs...) {
		b, err := os.ReadFile(filepath.Join(s.Dir, f))
		if err != nil {
			return "", fmt.Errorf("reading the %s build module: %w", s.Name, err)
		}
		h.Write(b)
	}
	for _, t := range s.Targets {
		if t.LDFlags != "" {
			h.Write([]byte(t.Binary + "\x00" + t.LDFlags))
		}
	}
	return filepath.Join(base, s.Name+"-"+hex.EncodeToString(h.Sum(nil))[:12]), nil
}

// Paths are the binaries' paths in the cache, by binary name, built or
// not.
func (s Set) Paths() (map[string]string, error) {
	dir, err := s.CacheDir()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, t := range s.Targets {
		out[t.Binary] = filepath.Join(dir, t.Binary)
	}
	return out, nil
}

// Cached returns the binaries' paths if every one is built, else nil.
func (s Set) Cached() (map[string]string, error) {
	paths, err := s.Paths()
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, nil
		}
	}
	return paths, nil
}

// Ensure returns the binaries' paths, building those missing first; log
// receives the build's progress.
func (s Set) Ensure(log io.Writer) (map[string]string, error) {
	paths, err := s.Paths()
	if err != nil {
		return nil, err
	}
	for _, t := range s.Targets {
		out := paths[t.Binary]
		if _, err := os.Stat(out); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "toolcache: building %s into %s (cached for later runs)\n", t.Package, filepath.Dir(out))
		start := time.Now()
		// Built under a temporary name and renamed, so that an interrupted
		// build never leaves a half-written binary that looks cached.
		tmp := out + ".partial"
		args := []string{"build", "-trimpath", "-o", tmp}
		if t.LDFlags != "" {
			args = append(args, "-ldflags", t.LDFlags)
		}
		if len(t.Stubs) > 0 {
			modfile, err := s.stubbed(t, filepath.Dir(out))
			if err != nil {
				return nil, err
			}
			args = append(args, "-modfile="+modfile)
		}
		cmd := exec.Command("go", append(args, t.Package)...)
		cmd.Dir = s.Dir
		cmd.Stdout, cmd.Stderr = log, log
		err := cmd.Run()
		if len(t.Stubs) > 0 {
			// The copy served the build only.
			_ = os.RemoveAll(filepath.Join(filepath.Dir(out), "src-"+t.Binary))
		}
		if err != nil {
			return nil, fmt.Errorf("building %s: %w", t.Package, err)
		}
		if err := os.Rename(tmp, out); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "toolcache: built %s in %s\n", t.Binary, time.Since(start).Round(time.Second))
	}
	return paths, nil
}

// stubbed copies t.StubModule out of the module cache into dir, writes
// its stubs, and returns a go.mod (beside its go.sum) that replaces the
// module with the copy.
func (s Set) stubbed(t Target, dir string) (string, error) {
	list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", t.StubModule)
	list.Dir = s.Dir
	src, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("finding %s in the module cache: %w", t.StubModule, err)
	}
	copyDir := filepath.Join(dir, "src-"+t.Binary)
	if err := os.RemoveAll(copyDir); err != nil {
		return "", err
	}
	if err := os.CopyFS(copyDir, os.DirFS(strings.TrimSpace(string(src)))); err != nil {
		return "", fmt.Errorf("copying %s: %w", t.StubModule, err)
	}
	for _, stub := range t.Stubs {
		p := filepath.Join(copyDir, stub)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		page := "<!doctype html><title>" + t.Binary + "</title><p>This build has no web UI: its assets are not in the module's source.\n"
		if err := os.WriteFile(p, []byte(page), 0o644); err != nil {
			return "", err
		}
	}
	mod, err := os.ReadFile(filepath.Join(s.Dir, "go.mod"))
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(filepath.Join(s.Dir, "go.sum"))
	if err != nil {
		return "", err
	}
	modfile := filepath.Join(dir, "build-"+t.Binary+".mod")
	mod = append(mod, []byte(fmt.Sprintf("\nreplace %s => %s\n", t.StubModule, copyDir))...)
	if err := os.WriteFile(modfile, mod, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(strings.TrimSuffix(modfile, ".mod")+".sum", sum, 0o644); err != nil {
		return "", err
	}
	return modfile, nil
}

// Prometheus is promtool and amtool at the versions tools/prom pins
// (Prometheus v3.16.0, whose Go module is v0.316.0, and Alertmanager
// v0.35.0), and promqlnames, which lists the metrics a PromQL expression
// reads with Prometheus's own parser.
func Prometheus(repoRoot string) Set {
	return Set{
		Name:    "prom-v3.16.0-am-v0.35.0",
		Dir:     filepath.Join(repoRoot, "tools", "prom"),
		Inputs:  []string{filepath.Join("promqlnames", "main.go")},
		Targets: []Target{{Binary: "promtool", Package: "github.com/prometheus/prometheus/cmd/promtool"}, {Binary: "amtool", Package: "github.com/prometheus/alertmanager/cmd/amtool"}, {Binary: "promqlnames", Package: "./promqlnames"}},
	}
}

// Alertmanager is the Alertmanager server v0.35.0, amtool's release
// (tools/alertmanager), for tests that run the rendered configuration and
// measure what it sends (the heartbeat's period). Its web UI is a stub:
// the UI's build output is not in the module's source.
func Alertmanager(repoRoot string) Set {
	return Set{
		Name: "alertmanager-v0.35.0",
		Dir:  filepath.Join(repoRoot, "tools", "alertmanager"),
		Targets: []Target{{
			Binary: "alertmanager", Package: "github.com/prometheus/alertmanager/cmd/alertmanager",
			StubModule: "github.com/prometheus/alertmanager",
			Stubs:      []string{"ui/app/dist/elm/index.html", "ui/app/dist/mantine/index.html"},
		}},
	}
}

// KWOK is KWOK v0.8.0 (tools/kwok), which simulates nodes for the
// placement check: it keeps the nodes it manages Ready and marks the pods
// bound to them Running and Ready; kwokstages prints the stages KWOK's
// release embeds, which kwok needs as its configuration.
func KWOK(repoRoot string) Set {
	return Set{
		Name:    "kwok-v0.8.0",
		Dir:     filepath.Join(repoRoot, "tools", "kwok"),
		Inputs:  []string{filepath.Join("kwokstages", "main.go")},
		Targets: []Target{{Binary: "kwok", Package: "sigs.k8s.io/kwok/cmd/kwok"}, {Binary: "kwokstages", Package: "./kwokstages"}},
	}
}

// S3 is gofakes3 v1.2.0, an S3-compatible server the backup scripts' tests
// upload to and download from on loopback (tools/s3).
func S3(repoRoot string) Set {
	return Set{
		Name:    "gofakes3-v1.2.0",
		Dir:     filepath.Join(repoRoot, "tools", "s3"),
		Targets: []Target{{Binary: "gofakes3", Package: "github.com/johannesboyne/gofakes3/cmd/gofakes3"}},
	}
}

// Lint is actionlint v1.7.12, which checks the GitHub workflows
// (tools/lint).
func Lint(repoRoot string) Set {
	return Set{
		Name:    "actionlint-v1.7.12",
		Dir:     filepath.Join(repoRoot, "tools", "lint"),
		Targets: []Target{{Binary: "actionlint", Package: "github.com/rhysd/actionlint/cmd/actionlint"}},
	}
}

// Charts is chartrender, which pulls, indexes and renders Helm charts
// with Helm v3.20.2, the version the Kubernetes provider v4.32.0 embeds
// (tools/charts).
func Charts(repoRoot string) Set {
	return Set{
		Name:    "helm-v3.20.2",
		Dir:     filepath.Join(repoRoot, "tools", "charts"),
		Inputs:  []string{filepath.Join("chartrender", "main.go")},
		Targets: []Target{{Binary: "chartrender", Package: "./chartrender"}},
	}
}

// Netpol is netpolcheck, which judges connections against NetworkPolicies
// with cyclonus v0.5.6's matcher (tools/netpol).
func Netpol(repoRoot string) Set {
	return Set{
		Name:    "cyclonus-v0.5.6",
		Dir:     filepath.Join(repoRoot, "tools", "netpol"),
		Inputs:  []string{filepath.Join("netpolcheck", "main.go")},
		Targets: []Target{{Binary: "netpolcheck", Package: "./netpolcheck"}},
	}
}
