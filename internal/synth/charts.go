package synth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/scrolluniversity/platform/internal/charts"
	"github.com/scrolluniversity/platform/internal/toolcache"
	"github.com/scrolluniversity/platform/policy/rules"
)

// typeRelease is the Kubernetes provider's Helm release.
const typeRelease = "kubernetes:helm.sh/v3:Release"

// Rendered is what one Helm release of the stack renders.
type Rendered struct {
	Release charts.Release
	// Manifest is the release as `helm template --include-crds` writes it.
	Manifest []byte
	// Objects are the manifest's objects, in order.
	Objects []map[string]any
	// Err says why the release could not be rendered; nil when it was.
	Err error
}

// ChartOptions say where charts come from.
type ChartOptions struct {
	// Dir is the repository's root, where tools/charts builds the renderer.
	Dir string
	// Mirror is an offline mirror folder of chart archives; empty to pull
	// from each chart's repository.
	Mirror string
	// Cache is the chart cache; empty for charts.DefaultCache.
	Cache string
	// Log receives the renderer's build progress.
	Log io.Writer
}

// Releases are the Helm releases the program registered, sorted by name,
// with the values it passes (secret values as "[secret]": a rendered
// chart is written to disk).
func Releases(res *Result) []charts.Release {
	var out []charts.Release
	for _, r := range res.ByType(typeRelease) {
		in := r.Redacted()
		rel := charts.Release{
			URN: r.URN, Name: str(in["name"]), Namespace: str(in["namespace"]),
			Chart: str(in["chart"]), Version: str(in["version"]),
		}
		if opts, ok := in["repositoryOpts"].(map[string]any); ok {
			rel.Repo = str(opts["repo"])
		}
		rel.Values, _ = in["values"].(map[string]any)
		if rel.Values == nil {
			rel.Values = map[string]any{}
		}
		out = append(out, rel)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KubernetesVersion is the EKS cluster's Kubernetes version ("1.34"), which
// the charts are rendered for.
func KubernetesVersion(res *Result) (string, error) {
	for _, r := range res.ByType("aws:eks/cluster:Cluster") {
		if v := str(r.Plain()["version"]); v != "" {
			return v, nil
		}
	}
	return "", errors.New("the stack registers no EKS cluster with a version")
}

// RenderCharts renders every Helm release of the result and records them
// in res.Charts. A release that cannot be rendered (no renderer, chart not
// found, a template error) keeps its reason in Err; the caller decides
// whether that is fatal (Unrendered).
func RenderCharts(res *Result, opts ChartOptions) error {
	releases := Releases(res)
	res.Charts = nil
	if len(releases) == 0 {
		return nil
	}
	kube, err := KubernetesVersion(res)
	if err != nil {
		return err
	}
	src := charts.Source{Cache: opts.Cache, Mirror: opts.Mirror}
	if src.Cache == "" {
		if src.Cache, err = charts.DefaultCache(); err != nil {
			return err
		}
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	tool, toolErr := toolcache.Charts(opts.Dir).Ensure(log)
	for _, rel := range releases {
		r := Rendered{Release: rel}
		switch {
		case toolErr != nil:
			r.Err = fmt.Errorf("no chart renderer: %w", toolErr)
		default:
			src.Tool = tool["chartrender"]
			r.Manifest, r.Err = src.Render(rel, kube)
			if r.Err == nil {
				r.Objects, r.Err = charts.Objects(r.Manifest)
			}
		}
		res.Charts = append(res.Charts, r)
	}
	return nil
}

// Unrendered is an error naming every release that could not be rendered,
// or nil.
func Unrendered(res *Result) error {
	var errs []error
	for _, c := range res.Charts {
		if c.Err != nil {
			errs = append(errs, fmt.Errorf("release %s not rendered: %w", c.Release.Name, c.Err))
		}
	}
	return errors.Join(errs...)
}

// TypeToken is the Pulumi type token the Kubernetes provider gives an
// object of this apiVersion and kind: "kubernetes:apps/v1:Deployment",
// "kubernetes:core/v1:Service".
func TypeToken(apiVersion, kind string) string {
	if !strings.Contains(apiVersion, "/") {
		apiVersion = "core/" + apiVersion
	}
	return "kubernetes:" + apiVersion + ":" + kind
}

// Identity is how objects are named in reports: Kind namespace/name.
func Identity(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if ns, _ := meta["namespace"].(string); ns != "" {
		return kind + " " + ns + "/" + name
	}
	return kind + " " + name
}

// chartPolicyResources are the rendered objects as the policy rules read
// resources. The Release installs them itself, so CrossGuard under `pulumi
// up` never sees them; the synthesizer judges them here. Each is named by
// its release's URN and its own identity, and carries the release's
// namespace where the chart leaves it to Helm.
func chartPolicyResources(res *Result) []rules.Resource {
	var out []rules.Resource
	for _, c := range NamespacedObjects(res) {
		apiVersion, kind := str(c.Object["apiVersion"]), str(c.Object["kind"])
		name := str(rules.Get(c.Object, "metadata", "name"))
		typ := TypeToken(apiVersion, kind)
		out = append(out, rules.Resource{URN: c.URN + "$" + typ + "::" + name, Type: typ, Name: name, Props: c.Object})
	}
	return out
}

// clusterScoped are the built-in cluster-scoped kinds the pinned charts
// render; the kinds of the CRDs they ship say their own scope.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "PriorityClass": true,
	"IngressClass": true, "APIService": true, "StorageClass": true, "PersistentVolume": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
}

// ChartObject is one object a rendered release installs, with its
// release's name and URN.
type ChartObject struct {
	Release string
	URN     string
	Object  map[string]any
}

// NamespacedObjects are the objects of every rendered release, in release
// order, with the release's namespace filled in where Helm fills it: a
// namespaced object that names none (cluster-scoped kinds, built in or of
// the CRDs the charts and the Gateway API ship, stay without).
func NamespacedObjects(res *Result) []ChartObject {
	cluster := maps.Clone(clusterScoped)
	cluster["GatewayClass"] = true // Gateway API, applied by the program
	for _, c := range res.Charts {
		for _, o := range c.Objects {
			if str(o["kind"]) == "CustomResourceDefinition" && str(rules.Get(o, "spec", "scope")) == "Cluster" {
				cluster[str(rules.Get(o, "spec", "names", "kind"))] = true
			}
		}
	}
	var out []ChartObject
	for _, c := range res.Charts {
		for _, o := range c.Objects {
			if meta, _ := o["metadata"].(map[string]any); meta != nil && meta["namespace"] == nil && !cluster[str(o["kind"])] {
				o = withNamespace(o, meta, c.Release.Namespace)
			}
			out = append(out, ChartObject{Release: c.Release.Name, URN: c.Release.URN, Object: o})
		}
	}
	return out
}

// withNamespace is a copy of the object in a namespace.
func withNamespace(obj, meta map[string]any, ns string) map[string]any {
	out := maps.Clone(obj)
	m := maps.Clone(meta)
	m["namespace"] = ns
	out["metadata"] = m
	return out
}

// writeCharts writes charts/<release>.yaml for each rendered release, as
// Helm renders it, and charts/releases.json listing them.
func writeCharts(res *Result, dir string) error {
	if len(res.Charts) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	index := []charts.ReleaseFile{}
	for _, c := range res.Charts {
		if c.Err != nil {
			continue
		}
		file := c.Release.Name + ".yaml"
		if err := os.WriteFile(filepath.Join(dir, file), c.Manifest, 0o644); err != nil {
			return err
		}
		index = append(index, charts.ReleaseFile{Name: c.Release.Name, Namespace: c.Release.Namespace, Chart: c.Release.Chart, Version: c.Release.Version, Repo: c.Release.Repo, File: file})
	}
	return writeJSON(filepath.Join(dir, charts.ReleaseIndex), index)
}

// workloadKinds are the kinds the summary lists per release.
var workloadKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

// chartSummary lists each release's workloads, and each release that
// could not be rendered with its reason.
func chartSummary(res *Result) string {
	if len(res.Charts) == 0 {
		return ""
	}
	var b bytes.Buffer
	rendered := 0
	for _, c := range res.Charts {
		if c.Err == nil {
			rendered++
		}
	}
	fmt.Fprintf(&b, "\nHelm releases: %d of %d rendered (charts/<release>.yaml)\n", rendered, len(res.Charts))
	for _, c := range res.Charts {
		if c.Err != nil {
			fmt.Fprintf(&b, "  %-30s NOT RENDERED: %v\n", c.Release.Name, c.Err)
			continue
		}
		byKind := map[string][]string{}
		for _, o := range c.Objects {
			kind := str(o["kind"])
			if slices.Contains(workloadKinds, kind) {
				meta, _ := o["metadata"].(map[string]any)
				byKind[kind] = append(byKind[kind], str(meta["name"]))
			}
		}
		var parts []string
		for _, k := range workloadKinds {
			if names := byKind[k]; len(names) > 0 {
				sort.Strings(names)
				parts = append(parts, k+" "+strings.Join(names, ", "))
			}
		}
		fmt.Fprintf(&b, "  %-30s %s %s, %d objects: %s\n", c.Release.Name, c.Release.ChartName(), c.Release.Version, len(c.Objects), strings.Join(parts, "; "))
	}
	return b.String()
}

func str(v any) string { s, _ := v.(string); return s }
