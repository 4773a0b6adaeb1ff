package toolcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// PulumiSrcEnv names the folder of provider sources the module proxy does
// not serve (pulumi-kubernetes-v4.32.0/provider, pulumi-random-v4.19.1/provider,
// each upstream's folder at its tag, unchanged). Unset, ../shared/pulumi-src
// beside the repository is used when it exists, else each source is cloned
// from GitHub at its tag (which needs the network).
const PulumiSrcEnv = "SCROLLUNIVERSITY_PULUMI_SRC"

// SourceBuild is one binary built from a copy of an upstream module's
// source, kept in the tool cache: the Pulumi providers, whose modules the
// proxy does not serve at the versions the program pins. The copy is
// edited by Prepare (never the source itself) and built in its own module,
// as upstream builds it; nothing of it enters this repository.
type SourceBuild struct {
	// Name prefixes the cache folder ("pulumi-resource-kubernetes-v4.32.0").
	Name string
	// Repo and Tag are the upstream repository and tag; Subdir the module's
	// folder in it ("provider"); Local its folder's name under
	// $SCROLLUNIVERSITY_PULUMI_SRC ("pulumi-kubernetes-v4.32.0").
	Repo, Tag, Subdir, Local string
	// Binary and Package are the binary's name and main package in the
	// module ("./cmd/pulumi-resource-kubernetes").
	Binary, Package string
	// LDFlags are passed to go build (the version the provider reports).
	LDFlags string
	// Recipe describes Prepare, so that a change to it builds afresh.
	Recipe string
	// Prepare edits the copy (dir is the module's folder) before the build.
	Prepare func(dir string, log io.Writer) error
}

// source finds the module's folder: the mirror, else a clone at the tag.
func (b SourceBuild) source(repoRoot string, log io.Writer) (string, error) {
	mirror := os.Getenv(PulumiSrcEnv)
	if mirror == "" {
		if d := filepath.Join(repoRoot, "..", "shared", "pulumi-src"); isDir(d) {
			mirror = d
		}
	}
	if mirror != "" {
		dir := filepath.Join(mirror, b.Local, b.Subdir)
		if !isDir(dir) {
			return "", fmt.Errorf("%s: no %s/%s (the %s source at %s); set %s to a folder that has it", mirror, b.Local, b.Subdir, b.Repo, b.Tag, PulumiSrcEnv)
		}
		return dir, nil
	}
	base, err := Base()
	if err != nil {
		return "", err
	}
	clone := filepath.Join(base, "src", b.Local)
	if !isDir(clone) {
		fmt.Fprintf(log, "toolcache: cloning %s at %s (no %s)\n", b.Repo, b.Tag, PulumiSrcEnv)
		tmp := clone + ".partial"
		_ = os.RemoveAll(tmp)
		cmd := exec.Command("git", "clone", "--quiet", "--depth", "1", "--branch", b.Tag, "https://"+b.Repo, tmp)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("cloning %s at %s (offline, set %s): %w", b.Repo, b.Tag, PulumiSrcEnv, err)
		}
		if err := os.Rename(tmp, clone); err != nil {
			return "", err
		}
	}
	return filepath.Join(clone, b.Subdir), nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Path is the binary's path in the cache, keyed by the source's go.mod
// and go.sum and the recipe.
func (b SourceBuild) Path(repoRoot string, log io.Writer) (string, error) {
	src, err := b.source(repoRoot, log)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", fmt.Errorf("reading %s's source: %w", b.Name, err)
		}
		h.Write(data)
	}
	h.Write([]byte(b.Recipe + b.LDFlags + b.Package))
	base, err := Base()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, b.Name+"-"+hex.EncodeToString(h.Sum(nil))[:12], b.Binary), nil
}

// Ensure returns the binary's path, building it first when it is missing.
func (b SourceBuild) Ensure(repoRoot string, log io.Writer) (string, error) {
	out, err := b.Path(repoRoot, log)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	src, err := b.source(repoRoot, log)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(out)
	work := filepath.Join(dir, "src")
	if err := os.RemoveAll(work); err != nil {
		return "", err
	}
	if err := os.CopyFS(work, os.DirFS(src)); err != nil {
		return "", fmt.Errorf("copying %s: %w", src, err)
	}
	// The copy is ours to edit: make it writable.
	if err := filepath.Walk(work, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chmod(p, fi.Mode()|0o200)
	}); err != nil {
		return "", err
	}
	if b.Prepare != nil {
		if err := b.Prepare(work, log); err != nil {
			return "", fmt.Errorf("preparing %s: %w", b.Name, err)
		}
	}
	fmt.Fprintf(log, "toolcache: building %s from %s at %s into %s (cached for later runs)\n", b.Binary, b.Repo, b.Tag, dir)
	start := time.Now()
	tmp := out + ".partial"
	args := []string{"build", "-trimpath", "-mod=mod", "-o", tmp}
	if b.LDFlags != "" {
		args = append(args, "-ldflags", b.LDFlags)
	}
	cmd := exec.Command("go", append(args, b.Package)...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", b.Binary, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	// The copy served the build only.
	_ = os.RemoveAll(work)
	fmt.Fprintf(log, "toolcache: built %s in %s\n", b.Binary, time.Since(start).Round(time.Second))
	return out, nil
}

// goIn runs the go command in dir.
func goIn(dir string, log io.Writer, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// moduleDir is a module's folder in the module cache, downloaded first.
func moduleDir(log io.Writer, module string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", module, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Error != "" {
		return "", fmt.Errorf("downloading %s: %v %s", module, err, m.Error)
	}
	return m.Dir, nil
}

// withVersion rewrites a Pulumi package schema's "version".
func withVersion(schema []byte, version string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(schema, &doc); err != nil {
		return nil, err
	}
	doc["version"] = version
	return json.Marshal(doc)
}

const (
	// KubernetesProviderVersion and RandomProviderVersion are the plugin
	// versions the program asks for (go.mod's SDKs).
	KubernetesProviderVersion = "4.32.0"
	RandomProviderVersion     = "4.19.1"
	// kubernetesSchemaModule is the module proxy's provider/v4 whose zip
	// holds the generated schema.json the v4.32.0 source lacks (it is made
	// at release); its content is v4.25.0's, labelled 4.32.0 here. The
	// provider reads it for GetSchema only, not to apply objects.
	kubernetesSchemaModule = "github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199"
)

// PulumiProviders are the Kubernetes and random providers the real
// engine loads, built from their sources at the tags the program's SDKs
// pin.
func PulumiProviders() []SourceBuild {
	return []SourceBuild{
		{
			Name: "pulumi-resource-kubernetes-v" + KubernetesProviderVersion, Repo: "github.com/pulumi/pulumi-kubernetes", Tag: "v" + KubernetesProviderVersion,
			Subdir: "provider", Local: "pulumi-kubernetes-v" + KubernetesProviderVersion,
			Binary: "pulumi-resource-kubernetes", Package: "./cmd/pulumi-resource-kubernetes",
			LDFlags: "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=" + KubernetesProviderVersion,
			Recipe: "sdk/v4 from the proxy at the same version; fluxcd/pkg/ssa v0.78.0; pulumi pkg and sdk v3.248.0 with PackageSpec.Provider a pointer; " +
				"schema.json of " + kubernetesSchemaModule + " labelled " + KubernetesProviderVersion + " as schema-embed.json; terraform-mapping-embed.json",
			Prepare: func(dir string, log io.Writer) error {
				// The tag's go.mod replaces the SDK with ../sdk, inside its
				// repository: the proxy's sdk/v4 of the same version instead.
				// Two of its requirements are not served here: fluxcd/pkg/ssa's
				// pseudo-version (v0.78.0, the oldest served, instead) and
				// pulumi pkg/sdk v3.243.0 (v3.248.0, the nearest served above
				// it, instead, whose PackageSpec.Provider is a pointer: the one
				// line of the provider's schema generator that sets it is
				// adapted).
				if err := goIn(dir, log, "mod", "edit", "-dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4",
					"-require=github.com/pulumi/pulumi-kubernetes/sdk/v4@v"+KubernetesProviderVersion,
					"-require=github.com/fluxcd/pkg/ssa@v0.78.0",
					"-require=github.com/pulumi/pulumi/pkg/v3@v3.248.0", "-require=github.com/pulumi/pulumi/sdk/v3@v3.248.0"); err != nil {
					return err
				}
				gen := filepath.Join(dir, "pkg", "gen", "schema.go")
				src, err := os.ReadFile(gen)
				if err != nil {
					return err
				}
				if n := strings.Count(string(src), "Provider: pschema.ResourceSpec{"); n != 1 {
					return fmt.Errorf("%s: want one `Provider: pschema.ResourceSpec{` to adapt, found %d", gen, n)
				}
				if err := os.WriteFile(gen, []byte(strings.Replace(string(src), "Provider: pschema.ResourceSpec{", "Provider: &pschema.ResourceSpec{", 1)), 0o644); err != nil {
					return err
				}
				// The release embeds generated copies of two files: the
				// mapping as it is, the schema from the module proxy.
				cmdDir := filepath.Join(dir, "cmd", "pulumi-resource-kubernetes")
				mapping, err := os.ReadFile(filepath.Join(cmdDir, "terraform-mapping.json"))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(cmdDir, "terraform-mapping-embed.json"), mapping, 0o644); err != nil {
					return err
				}
				schemaDir, err := moduleDir(log, kubernetesSchemaModule)
				if err != nil {
					return err
				}
				schema, err := os.ReadFile(filepath.Join(schemaDir, "cmd", "pulumi-resource-kubernetes", "schema.json"))
				if err != nil {
					return err
				}
				if schema, err = withVersion(schema, KubernetesProviderVersion); err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(cmdDir, "schema-embed.json"), schema, 0o644)
			},
		},
		{
			Name: "pulumi-resource-random-v" + RandomProviderVersion, Repo: "github.com/pulumi/pulumi-random", Tag: "v" + RandomProviderVersion,
			Subdir: "provider", Local: "pulumi-random-v" + RandomProviderVersion,
			Binary: "pulumi-resource-random", Package: "./cmd/pulumi-resource-random",
			LDFlags: "-X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=" + RandomProviderVersion,
			Recipe:  "schema-embed.json from schema.json with its version",
			Prepare: func(dir string, log io.Writer) error {
				// The release embeds schema-embed.json, made from schema.json
				// by its Makefile; the source has schema.json only.
				cmd := filepath.Join(dir, "cmd", "pulumi-resource-random")
				schema, err := os.ReadFile(filepath.Join(cmd, "schema.json"))
				if err != nil {
					return err
				}
				if schema, err = withVersion(schema, RandomProviderVersion); err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(cmd, "schema-embed.json"), schema, 0o644)
			},
		},
	}
}

// PulumiCLI is the Pulumi CLI of the platform's SDK version (tools/pulumi).
func PulumiCLI(repoRoot string) Set {
	return Set{
		Name: "pulumi-cli-v3.274.1",
		Dir:  filepath.Join(repoRoot, "tools", "pulumi"),
		// Stamped with its version, as its release is: the Automation API
		// asks the CLI's version before using newer flags.
		Targets: []Target{{Binary: "pulumi", Package: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
			LDFlags: "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.274.1"}},
	}
}
