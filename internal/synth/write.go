package synth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// resourceJSON is one entry of resources.json.
type resourceJSON struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// ID is the mock engine's resource ID (the placement check joins node
	// groups to their subnets' zones by it).
	ID             string         `json:"id,omitempty"`
	Parent         string         `json:"parent"`
	Dependencies   []string       `json:"dependencies"`
	Provider       string         `json:"provider"`
	Protect        bool           `json:"protect"`
	RetainOnDelete bool           `json:"retainOnDelete"`
	Inputs         map[string]any `json:"inputs"`
}

// Write writes resources.json, manifests/, charts/ (what each rendered Helm
// release installs), outputs.json, architecture.md and graph.dot to dir,
// replacing what an earlier run wrote there.
func Write(res *Result, dir string) error {
	for _, stale := range []string{"resources.json", "graph.dot", "manifests", "charts", "runtime.yaml", "outputs.json", "architecture.md"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o755); err != nil {
		return err
	}
	entries := make([]resourceJSON, 0, len(res.Resources))
	for _, r := range res.Resources {
		deps := r.Dependencies
		if deps == nil {
			deps = []string{}
		}
		entries = append(entries, resourceJSON{
			URN: r.URN, Type: r.Type, Name: r.Name, ID: r.ID, Parent: r.Parent, Dependencies: deps,
			Provider: r.Provider, Protect: r.Protect, RetainOnDelete: r.RetainOnDelete, Inputs: r.Redacted(),
		})
	}
	if err := writeJSON(filepath.Join(dir, "resources.json"), entries); err != nil {
		return err
	}
	if err := writeManifests(res, filepath.Join(dir, "manifests")); err != nil {
		return err
	}
	if err := writeCharts(res, filepath.Join(dir, "charts")); err != nil {
		return err
	}
	if err := writeRuntime(res, filepath.Join(dir, "runtime.yaml")); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "outputs.json"), Outputs(res)); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "architecture.md"), []byte(Architecture(res)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "graph.dot"), []byte(Graph(res)), 0o644)
}

func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Manifest is one Kubernetes object as it would be applied.
type Manifest struct {
	// File is the manifest's file name under manifests/.
	File   string
	Object map[string]any
}

// Manifests returns every Kubernetes object the program registered (not the
// provider, nor Helm releases, which are not objects), secrets redacted,
// sorted by file name.
func Manifests(res *Result) []Manifest {
	var out []Manifest
	for _, r := range res.Resources {
		if !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		obj := r.Redacted()
		kind, _ := obj["kind"].(string)
		if kind == "" {
			continue
		}
		if kind == "Secret" {
			// data holds base64: a redacted entry is written as the base64
			// of the marker, so that the manifest stays valid.
			if data, ok := obj["data"].(map[string]any); ok {
				for k, v := range data {
					if v == Redacted {
						data[k] = base64.StdEncoding.EncodeToString([]byte(Redacted))
					}
				}
			}
		}
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		ns, _ := meta["namespace"].(string)
		parts := []string{strings.ToLower(kind)}
		if ns != "" {
			parts = append(parts, ns)
		}
		parts = append(parts, name)
		out = append(out, Manifest{File: strings.Join(parts, "_") + ".yaml", Object: obj})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

func writeManifests(res *Result, dir string) error {
	var all bytes.Buffer
	for i, m := range Manifests(res) {
		b, err := marshalYAML(m.Object)
		if err != nil {
			return fmt.Errorf("rendering %s: %w", m.File, err)
		}
		if err := os.WriteFile(filepath.Join(dir, m.File), b, 0o644); err != nil {
			return err
		}
		if i > 0 {
			all.WriteString("---\n")
		}
		all.Write(b)
	}
	return os.WriteFile(filepath.Join(dir, "all.yaml"), all.Bytes(), 0o644)
}

// writeRuntime writes runtime.yaml: the objects EKS and the operators will
// create (res.Runtime), each naming its source, for a reviewer to read.
// They are not manifests to apply.
func writeRuntime(res *Result, path string) error {
	if len(res.Runtime) == 0 {
		return nil
	}
	var all bytes.Buffer
	all.WriteString("# What EKS and the operators create at runtime from this stack (internal/operated);\n# derived for the flow check, not applied.\n")
	for i, o := range res.Runtime {
		b, err := marshalYAML(o)
		if err != nil {
			return err
		}
		if i > 0 {
			all.WriteString("---\n")
		}
		all.Write(b)
	}
	return os.WriteFile(path, all.Bytes(), 0o644)
}

// Graph renders the dependency graph in Graphviz dot: solid edges are
// dependencies (an arrow from a resource to what it needs), dashed edges
// point from a child to its parent component.
func Graph(res *Result) string {
	var b strings.Builder
	b.WriteString("digraph platform {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n")
	for _, r := range res.Resources {
		shape := ""
		if !r.Custom {
			shape = ", style=rounded"
		}
		fmt.Fprintf(&b, "  %q [label=%q%s];\n", r.URN, r.Type+"\n"+r.Name, shape)
	}
	for _, r := range res.Resources {
		if r.Parent != "" {
			if _, ok := res.ByURN(r.Parent); ok {
				fmt.Fprintf(&b, "  %q -> %q [style=dashed, color=gray];\n", r.URN, r.Parent)
			}
		}
		for _, d := range r.Dependencies {
			fmt.Fprintf(&b, "  %q -> %q;\n", r.URN, d)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// marshalYAML renders with the two-space indent kubectl uses.
func marshalYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
