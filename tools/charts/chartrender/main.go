// Command chartrender pulls, indexes and renders Helm charts with Helm's own
// library, at the version the Pulumi Kubernetes provider v4.32.0 embeds
// (helm.sh/helm/v3 v3.20.2), so that what the synthesizer shows of a Helm
// release is what the provider's helm.sh/v3 Release installs.
//
//	chartrender pull --chart NAME --repo URL --version V --dest DIR
//	chartrender pull --chart oci://REGISTRY/PATH/NAME --version V --dest DIR [--plain-http]
//	chartrender index --dir DIR --url URL
//	chartrender render --chart FILE.tgz --release NAME --namespace NS --kube-version 1.34 < values.json
//
// pull prints the path of the downloaded archive. render reads the
// release's values as JSON on stdin and writes the manifest as YAML: the
// CRDs of every crds/ folder first, then the templates, then the hooks, each
// document headed by its "# Source:" comment as `helm template` does.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chartrender:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: chartrender pull|index|render [flags]")
	}
	switch args[0] {
	case "pull":
		return pull(args[1:], stdout)
	case "index":
		return index(args[1:])
	case "render":
		return render(args[1:], stdin, stdout)
	}
	return fmt.Errorf("unknown command %q: want pull, index or render", args[0])
}

// pull downloads one chart version into dest, as `helm pull` does: from a
// chart repository's index, or from an OCI registry. Helm's repository
// configuration and cache live in a throwaway folder, so nothing a user
// configured for their own helm changes what is pulled.
func pull(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	chartRef := fs.String("chart", "", "chart name, or an oci:// reference")
	repoURL := fs.String("repo", "", "chart repository URL (empty for oci:// charts)")
	version := fs.String("version", "", "exact chart version")
	dest := fs.String("dest", "", "folder to write the archive to")
	plainHTTP := fs.Bool("plain-http", false, "talk to an OCI registry over plain HTTP (a local test registry)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *chartRef == "" || *version == "" || *dest == "" {
		return errors.New("pull needs --chart, --version and --dest")
	}
	home, err := os.MkdirTemp("", "chartrender-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	settings := cli.New()
	settings.RepositoryConfig = filepath.Join(home, "repositories.yaml")
	settings.RepositoryCache = filepath.Join(home, "cache")
	settings.RegistryConfig = filepath.Join(home, "registry.json")

	opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptCredentialsFile(settings.RegistryConfig)}
	if *plainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	rc, err := registry.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("making a registry client: %w", err)
	}
	p := action.NewPullWithOpts(action.WithConfig(&action.Configuration{RegistryClient: rc}))
	p.Settings = settings
	p.RepoURL = *repoURL
	p.Version = *version
	p.DestDir = *dest
	p.PlainHTTP = *plainHTTP
	if _, err := p.Run(*chartRef); err != nil {
		return fmt.Errorf("pulling %s %s: %w", *chartRef, *version, err)
	}
	name := (*chartRef)[strings.LastIndex(*chartRef, "/")+1:]
	path := filepath.Join(*dest, name+"-"+*version+".tgz")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("pulling %s %s: helm wrote no %s", *chartRef, *version, filepath.Base(path))
	}
	fmt.Fprintln(stdout, path)
	return nil
}

// index writes index.yaml for a folder of chart archives, as `helm repo
// index` does, so that the folder can be served as a chart repository.
func index(args []string) error {
	fs := flag.NewFlagSet("index", flag.ContinueOnError)
	dir := fs.String("dir", "", "folder of .tgz charts")
	url := fs.String("url", "", "URL the folder is served at")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *url == "" {
		return errors.New("index needs --dir and --url")
	}
	idx, err := repo.IndexDirectory(*dir, *url)
	if err != nil {
		return fmt.Errorf("indexing %s: %w", *dir, err)
	}
	idx.SortEntries()
	return idx.WriteFile(filepath.Join(*dir, "index.yaml"), 0o644)
}

// render renders one release client-side exactly as the provider's
// renderChartManifest does (ClientOnly, DryRun, IncludeCRDs), with the
// stack's Kubernetes version and Helm's built-in API versions. The pinned
// charts test .Capabilities.APIVersions only for autoscaling/v2, VPA,
// PodSecurityPolicy and OpenShift's SecurityContextConstraints (the
// platform's tests keep that list), so no CRD the stack installs changes
// what they render. lookup returns nothing, as on a first install.
func render(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	chartPath := fs.String("chart", "", "chart archive (.tgz)")
	releaseName := fs.String("release", "", "release name")
	namespace := fs.String("namespace", "", "release namespace")
	kubeVersion := fs.String("kube-version", "", "Kubernetes version of the cluster, such as 1.34")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *chartPath == "" || *releaseName == "" || *namespace == "" || *kubeVersion == "" {
		return errors.New("render needs --chart, --release, --namespace and --kube-version")
	}
	chrt, err := loader.Load(*chartPath)
	if err != nil {
		return fmt.Errorf("loading %s: %w", *chartPath, err)
	}
	var values map[string]any
	if err := json.NewDecoder(stdin).Decode(&values); err != nil {
		return fmt.Errorf("reading the values (JSON on stdin): %w", err)
	}
	kv, err := chartutil.ParseKubeVersion(*kubeVersion)
	if err != nil {
		return fmt.Errorf("--kube-version %q: %w", *kubeVersion, err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.ClientOnly = true
	install.DryRun = true
	install.IncludeCRDs = true
	install.ReleaseName = *releaseName
	install.Namespace = *namespace
	install.KubeVersion = kv
	rel, err := install.Run(chrt, values)
	if err != nil {
		return fmt.Errorf("rendering %s as release %s: %w", chrt.Name(), *releaseName, err)
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(rel.Manifest))
	b.WriteString("\n")
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, strings.TrimSpace(h.Manifest))
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}
