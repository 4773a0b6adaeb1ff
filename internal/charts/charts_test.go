package charts_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/internal/charts"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

// chartArchive packs a one-template chart as `helm package` would.
func chartArchive(t *testing.T, name, version string) []byte {
	t.Helper()
	files := map[string]string{
		name + "/Chart.yaml":          "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n",
		name + "/values.yaml":         "replicas: 1\n",
		name + "/templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  kube: {{ .Capabilities.KubeVersion.Minor | quote }}\n",
		name + "/templates/hook.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: post-install\n",
		name + "/crds/crd.yaml":       "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, path := range []string{name + "/Chart.yaml", name + "/values.yaml", name + "/templates/cm.yaml", name + "/templates/hook.yaml", name + "/crds/crd.yaml"} {
		body := files[path]
		if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMirrorFillsTheCacheOnce(t *testing.T) {
	mirror, cache := t.TempDir(), t.TempDir()
	archive := chartArchive(t, "widget", "1.2.3")
	if err := os.WriteFile(filepath.Join(mirror, "widget-1.2.3.tgz"), archive, 0o644); err != nil {
		t.Fatal(err)
	}
	src := charts.Source{Cache: cache, Mirror: mirror, Tool: "/nonexistent/chartrender"}
	rel := charts.Release{Name: "widget", Chart: "widget", Repo: "https://charts.example.com", Version: "1.2.3"}
	got, err := src.Archive(rel)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "widget-1.2.3.tgz"); got != want {
		t.Fatalf("archive at %s, want %s", got, want)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, archive) {
		t.Fatal("the cached archive differs from the mirror's")
	}
	// Cached: found again with the mirror gone, and no pull attempted (the
	// tool does not exist).
	if err := os.Remove(filepath.Join(mirror, "widget-1.2.3.tgz")); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Archive(rel); err != nil {
		t.Fatalf("cached archive not found again: %v", err)
	}
}

func TestAChartTheMirrorLacksIsNamed(t *testing.T) {
	src := charts.Source{Cache: t.TempDir(), Mirror: t.TempDir(), Tool: "/nonexistent/chartrender"}
	rel := charts.Release{Name: "nginx-gateway-fabric", Chart: "oci://ghcr.io/nginx/charts/nginx-gateway-fabric", Version: "2.4.0"}
	_, err := src.Archive(rel)
	if err == nil {
		t.Fatal("a chart missing from the mirror was accepted")
	}
	for _, want := range []string{"chart nginx-gateway-fabric 2.4.0 from oci://ghcr.io/nginx/charts", "not in the chart mirror " + src.Mirror, "nginx-gateway-fabric-2.4.0.tgz"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestAPullThatFailsSaysHowToWorkOffline(t *testing.T) {
	src := charts.Source{Cache: t.TempDir(), Tool: "/bin/false"}
	_, err := src.Archive(charts.Release{Name: "cert-manager", Chart: "cert-manager", Repo: "https://charts.jetstack.io", Version: "v1.19.1"})
	if err == nil || !strings.Contains(err.Error(), "chart cert-manager v1.19.1 from https://charts.jetstack.io: pulling it") || !strings.Contains(err.Error(), charts.MirrorEnv) {
		t.Fatalf("got %v, want the chart named and the mirror variable suggested", err)
	}
}

// chartrender returns the built renderer, or ends the test as CI requires.
func chartrender(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return toolcache.Charts(root).ForTest(t, "chartrender", "CHARTS_REQUIRED")["chartrender"]
}

// TestPullFromARepositoryThenRender is the online path, against a chart
// repository served on loopback: index it as `helm repo index` does, pull
// the chart by name and version through its index, then render it.
func TestPullFromARepositoryThenRender(t *testing.T) {
	tool := chartrender(t)
	repoDir := t.TempDir()
	archive := chartArchive(t, "widget", "1.2.3")
	if err := os.WriteFile(filepath.Join(repoDir, "widget-1.2.3.tgz"), archive, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	defer srv.Close()
	if out, err := exec.Command(tool, "index", "--dir", repoDir, "--url", srv.URL).CombinedOutput(); err != nil {
		t.Fatalf("indexing: %v: %s", err, out)
	}

	src := charts.Source{Cache: t.TempDir(), Tool: tool}
	rel := charts.Release{Name: "shop", Namespace: "apps", Chart: "widget", Repo: srv.URL, Version: "1.2.3", Values: map[string]any{"replicas": 3}}
	path, err := src.Archive(rel)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, archive) {
		t.Fatal("the pulled archive differs from the repository's")
	}
	if _, err := src.Archive(charts.Release{Name: "shop", Chart: "widget", Repo: srv.URL, Version: "9.9.9"}); err == nil || !strings.Contains(err.Error(), "chart widget 9.9.9") {
		t.Errorf("a version the repository lacks: got %v, want an error naming it", err)
	}

	manifest, err := src.Render(rel, "1.34")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := charts.Objects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o["kind"].(string)+"/"+o["metadata"].(map[string]any)["name"].(string))
	}
	// CRDs first, then the templates, then the hooks.
	want := []string{"CustomResourceDefinition/widgets.example.com", "ConfigMap/shop-settings", "ConfigMap/shop-hook"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("rendered %v, want %v", names, want)
	}
	data := objs[1]["data"].(map[string]any)
	if data["replicas"] != "3" || data["kube"] != "34" {
		t.Errorf("values or Kubernetes version not applied: data = %v, want replicas 3 and minor 34", data)
	}
	if _, err := src.Render(charts.Release{Name: "Bad_Name", Namespace: "apps", Chart: "widget", Repo: srv.URL, Version: "1.2.3"}, "1.34"); err == nil || !strings.Contains(err.Error(), "release Bad_Name") {
		t.Errorf("an invalid release name: got %v, want Helm's refusal naming the release", err)
	}
}
