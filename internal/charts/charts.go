// Package charts renders the Helm releases a stack installs, with their
// pinned charts and exactly the values the program passes, the way the
// Kubernetes provider's helm.sh/v3 Release does (Helm v3.20.2, client-side,
// CRDs included; tools/charts).
//
// Chart archives come from a cache keyed by chart name and version. A
// chart missing from the cache is copied in from an offline mirror folder
// when one is given (--chart-mirror or $SCROLLUNIVERSITY_CHART_MIRROR: a
// folder of <name>-<version>.tgz, as `helm pull` names them), and pulled
// from its repository or OCI registry otherwise. A chart that can be found
// nowhere is an error that names it.
package charts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// MirrorEnv names the offline mirror folder when no flag does.
const MirrorEnv = "SCROLLUNIVERSITY_CHART_MIRROR"

// CacheEnv overrides where chart archives are kept between runs.
const CacheEnv = "SCROLLUNIVERSITY_CHART_CACHE"

// Release is one Helm release as the program registers it.
type Release struct {
	// URN is the Release resource's URN.
	URN string
	// Name and Namespace are the release's.
	Name, Namespace string
	// Chart is the chart's name in its repository, or an oci:// reference.
	Chart string
	// Repo is the chart repository's URL; empty for oci:// charts.
	Repo string
	// Version is the pinned chart version.
	Version string
	// Values are the values the program passes, secrets unwrapped.
	Values map[string]any
}

// ChartName is the chart's own name: the last element of an oci://
// reference, or the name in its repository.
func (r Release) ChartName() string { return r.Chart[strings.LastIndex(r.Chart, "/")+1:] }

// ArchiveName is the file `helm pull` writes for the chart: <name>-<version>.tgz.
func (r Release) ArchiveName() string { return r.ChartName() + "-" + r.Version + ".tgz" }

// String names the chart in messages: "cert-manager v1.19.1 from https://charts.jetstack.io".
func (r Release) String() string {
	from := r.Repo
	if from == "" {
		from = strings.TrimSuffix(r.Chart, "/"+r.ChartName())
	}
	return fmt.Sprintf("chart %s %s from %s", r.ChartName(), r.Version, from)
}

// Source finds chart archives and renders them.
type Source struct {
	// Cache is the folder archives are kept in between runs.
	Cache string
	// Mirror is an offline mirror folder; empty to pull from the network.
	Mirror string
	// Tool is the chartrender binary (toolcache.Charts).
	Tool string
}

// DefaultCache is $SCROLLUNIVERSITY_CHART_CACHE, else the user's cache
// folder's scrolluniversity/charts.
func DefaultCache() (string, error) {
	if v := os.Getenv(CacheEnv); v != "" {
		return v, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding a cache folder for charts (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(dir, "scrolluniversity", "charts"), nil
}

// Archive returns the path of the release's chart archive in the cache,
// filling the cache from the mirror or the network first.
func (s Source) Archive(r Release) (string, error) {
	cached := filepath.Join(s.Cache, r.ArchiveName())
	if _, err := os.Stat(cached); err == nil {
		return cached, nil
	}
	if err := os.MkdirAll(s.Cache, 0o755); err != nil {
		return "", err
	}
	if s.Mirror != "" {
		src := filepath.Join(s.Mirror, r.ArchiveName())
		if _, err := os.Stat(src); err != nil {
			return "", fmt.Errorf("%s: not in the chart mirror %s (looked for %s)", r, s.Mirror, r.ArchiveName())
		}
		if err := copyFile(src, cached); err != nil {
			return "", fmt.Errorf("%s: copying it from the mirror: %w", r, err)
		}
		return cached, nil
	}
	// Pulled into a folder of its own and renamed, so that an interrupted
	// pull never leaves a partial archive that looks cached.
	tmp, err := os.MkdirTemp(s.Cache, ".pull-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	args := []string{"pull", "--chart", r.Chart, "--version", r.Version, "--dest", tmp}
	if r.Repo != "" {
		args = append(args, "--repo", r.Repo)
	}
	out, err := s.run(nil, args...)
	if err != nil {
		return "", fmt.Errorf("%s: pulling it: %w (offline? point --chart-mirror or $%s at a folder of chart archives)", r, err, MirrorEnv)
	}
	if err := os.Rename(strings.TrimSpace(string(out)), cached); err != nil {
		return "", err
	}
	return cached, nil
}

// Render renders a release with the cluster's Kubernetes version
// ("1.34"): the manifest as `helm template --include-crds` writes it, CRDs
// and hooks included.
func (s Source) Render(r Release, kubeVersion string) ([]byte, error) {
	archive, err := s.Archive(r)
	if err != nil {
		return nil, err
	}
	values, err := json.Marshal(r.Values)
	if err != nil {
		return nil, fmt.Errorf("release %s: encoding its values: %w", r.Name, err)
	}
	out, err := s.run(bytes.NewReader(values), "render", "--chart", archive, "--release", r.Name, "--namespace", r.Namespace, "--kube-version", kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("release %s (%s): %w", r.Name, r, err)
	}
	return out, nil
}

func (s Source) run(stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.Command(s.Tool, args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, errors.New(strings.TrimPrefix(msg, "chartrender: "))
		}
		return nil, err
	}
	return out, nil
}

// Objects parses a rendered manifest into its objects, in order; empty
// documents (a template that rendered nothing) are left out, and a v1 List
// (the load balancer controller's chart renders its IngressClass as one)
// gives its items, as Helm's client applies them.
func Objects(manifest []byte) ([]map[string]any, error) {
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(manifest))
	for i := 1; ; i++ {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		switch {
		case len(obj) == 0:
		case obj["kind"] == "List" && obj["apiVersion"] == "v1":
			items, _ := obj["items"].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					out = append(out, m)
				}
			}
		default:
			out = append(out, obj)
		}
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".partial"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// ReleaseIndex is the file of a folder of rendered releases (the
// synthesizer's build/synth/<stack>/charts) that lists them.
const ReleaseIndex = "releases.json"

// ReleaseFile is one entry of a ReleaseIndex: a rendered release and the
// file holding its manifest. Namespace is where Helm puts the release's
// namespaced objects that name none.
type ReleaseFile struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Chart     string `json:"chart"`
	Version   string `json:"version"`
	Repo      string `json:"repo,omitempty"`
	File      string `json:"file"`
}

// Release is the entry's release, without its values.
func (f ReleaseFile) Release() Release {
	return Release{Name: f.Name, Namespace: f.Namespace, Chart: f.Chart, Version: f.Version, Repo: f.Repo}
}

// ReadReleaseIndex reads the ReleaseIndex of dir.
func ReadReleaseIndex(dir string) ([]ReleaseFile, error) {
	path := filepath.Join(dir, ReleaseIndex)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the rendered charts: %w (run the synthesizer with its charts first)", err)
	}
	var out []ReleaseFile
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
