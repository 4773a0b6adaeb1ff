package apicheck

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/scrolluniversity/platform/internal/charts"
)

// CRDSource is where the CRDs of one pinned release are read from when no
// chart of the stack ships them: a folder of a Go module, found in the
// module cache. The charts' own CRDs come with their rendered manifests
// (ChartObjects).
type CRDSource struct {
	// Release names it in messages: "Gateway API v1.4.1".
	Release string
	// Module and Version name a Go module; Dir is inside it.
	Module, Version string
	// Dir is the folder of CRD files inside the module; Glob picks the CRD
	// files in it (default "*.yaml": a folder may also hold a
	// kustomization.yaml, which is not a CRD).
	Dir, Glob string
}

// CRDSources are the CRDs the program installs itself rather than through
// a chart: the Gateway API's standard channel, which the program applies
// from the release's standard-install.yaml (the same files as the module's
// config/crd/standard; TestAPICheckInstallsThePinnedCRDs in tests/ keeps
// the versions equal).
var CRDSources = []CRDSource{
	{Release: "Gateway API v1.4.1", Module: "sigs.k8s.io/gateway-api", Version: "v1.4.1", Dir: "config/crd/standard"},
}

// CRDFiles resolves every source to its files through `go mod download
// -json` (the module cache). A source that yields no file is an error,
// never skipped.
func CRDFiles(sources []CRDSource) ([]string, error) {
	var files []string
	for _, src := range sources {
		dir, err := moduleDir(src.Module, src.Version)
		if err != nil {
			return nil, fmt.Errorf("CRDs of %s: %w", src.Release, err)
		}
		glob := src.Glob
		if glob == "" {
			glob = "*.yaml"
		}
		found, err := filepath.Glob(filepath.Join(dir, src.Dir, glob))
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("CRDs of %s: no files found", src.Release)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// ChartObjects reads what the synthesizer rendered of every Helm release
// (charts/releases.json and the files it lists): the CRDs they ship, to
// install first, and their other objects, to check, each defaulting to its
// release's namespace as Helm does.
func ChartObjects(chartsDir string) (crds, objects []Object, err error) {
	releases, err := charts.ReadReleaseIndex(chartsDir)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range releases {
		file := filepath.Join(chartsDir, r.File)
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, err
		}
		objs, err := charts.Objects(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		for i, body := range objs {
			o := Object{Body: body, Source: fmt.Sprintf("%s object %d (release %s)", file, i+1, r.Name), DefaultNamespace: r.Namespace}
			if o.Kind() == "CustomResourceDefinition" {
				crds = append(crds, o)
			} else {
				objects = append(objects, o)
			}
		}
	}
	return crds, objects, nil
}

// moduleDir downloads a module (or finds it in the cache) and returns its
// directory.
func moduleDir(module, version string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", module+"@"+version).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("go mod download %s@%s: %w: %s", module, version, err, ee.Stderr)
		}
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	return info.Dir, nil
}
