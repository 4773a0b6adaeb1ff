package apicheck

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// CRDSource is where the CRDs of one pinned release are read from: a
// directory of a Go module (found in the module cache), or files of the
// shared folder for releases the module proxy does not serve.
type CRDSource struct {
	// Release names it in messages: "Gateway API v1.4.1".
	Release string
	// Module and Version name a Go module; Dir is inside it.
	Module, Version string
	// Dir is the folder of CRD files inside the module; Glob picks the CRD
	// files in it (default "*.yaml": a folder may also hold a
	// kustomization.yaml, which is not a CRD).
	Dir, Glob string
	// SharedGlob matches files in the shared CRD folder instead.
	SharedGlob string
}

// CRDSources are the CRDs of every release the program's objects use, at
// the versions the stacks pin (TestAPICheckInstallsThePinnedCRDs in tests/ keeps them equal).
var CRDSources = []CRDSource{
	{Release: "Gateway API v1.4.1", Module: "sigs.k8s.io/gateway-api", Version: "v1.4.1", Dir: "config/crd/standard"},
	{Release: "cert-manager v1.19.1", Module: "github.com/cert-manager/cert-manager", Version: "v1.19.1", Dir: "deploy/crds"},
	{Release: "NGINX Gateway Fabric 2.4.0", SharedGlob: "ngf-v2.4.0_*.yaml"},
	{Release: "kube-prometheus-stack 88.5.3 (prometheus-operator v0.93.1)", SharedGlob: "kube-prometheus-stack-88.5.3_*.yaml"},
	// For the Logging component's Elasticsearch, Kibana, Logstash and Beat.
	{Release: "ECK 3.5.0", Module: "github.com/elastic/cloud-on-k8s/v3", Version: "v3.5.0", Dir: "config/crds/v1/resources", Glob: "*.k8s.elastic.co_*.yaml"},
}

// CRDFiles resolves every source to its files: modules through
// `go mod download -json` (the module cache), shared globs inside
// sharedDir. A source that yields no file is an error, never skipped.
func CRDFiles(sources []CRDSource, sharedDir string) ([]string, error) {
	var files []string
	for _, src := range sources {
		var found []string
		switch {
		case src.Module != "":
			dir, err := moduleDir(src.Module, src.Version)
			if err != nil {
				return nil, fmt.Errorf("CRDs of %s: %w", src.Release, err)
			}
			glob := src.Glob
			if glob == "" {
				glob = "*.yaml"
			}
			found, err = filepath.Glob(filepath.Join(dir, src.Dir, glob))
			if err != nil {
				return nil, err
			}
		case src.SharedGlob != "":
			if _, err := os.Stat(sharedDir); err != nil {
				return nil, fmt.Errorf("CRDs of %s: the shared CRD folder: %w (pass --shared-crds)", src.Release, err)
			}
			var err error
			found, err = filepath.Glob(filepath.Join(sharedDir, src.SharedGlob))
			if err != nil {
				return nil, err
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("CRDs of %s: no files found", src.Release)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
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
