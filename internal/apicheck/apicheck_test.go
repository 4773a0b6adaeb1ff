package apicheck

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The repository root, seen from this package.
var repoRoot = filepath.Join("..", "..")

// testCRDs are what the planted objects need: the Gateway API's (as the
// check installs them) and ECK's, from ECK's Go module (the check itself
// takes ECK's from the eck-operator chart it renders).
var testCRDs = append(CRDSources, CRDSource{Release: "ECK 3.5.0", Module: "github.com/elastic/cloud-on-k8s/v3", Version: "v3.5.0", Dir: "config/crds/v1/resources", Glob: "*.k8s.elastic.co_*.yaml"})

// startServer starts the real API server with every pinned CRD. These
// tests run when APICHECK_REQUIRED=1 (.ci/run sets it), and then a server
// that is not built fails them. Otherwise they are skipped: a real server
// takes 20 s to start, and its fresh certificates make `go test` cache
// nothing, which would cost every edit-and-test loop those 20 s.
func startServer(t *testing.T) *Client {
	t.Helper()
	if os.Getenv("APICHECK_REQUIRED") == "" {
		t.Skip("set APICHECK_REQUIRED=1 to run against a real kube-apiserver (build it with `go run ./cmd/apicheck --build-only`); .ci/run does")
	}
	dir, err := CacheDir(filepath.Join(repoRoot, "tools", "kube"))
	if err != nil {
		t.Fatal(err)
	}
	bins := Binaries{APIServer: filepath.Join(dir, "kube-apiserver"), Etcd: filepath.Join(dir, "etcd")}
	for _, b := range []string{bins.APIServer, bins.Etcd} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%s is not built (run `go run ./cmd/apicheck --build-only`): %v", b, err)
		}
	}
	files, err := CRDFiles(testCRDs)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := ReadObjects(files...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(context.Background(), bins)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	c := s.Client()
	if err := c.InstallCRDs(context.Background(), crds); err != nil {
		t.Fatal(err)
	}
	return c
}

func object(src string) Object {
	objs, err := readYAML([]byte(src), "planted")
	if err != nil {
		panic(err)
	}
	return objs[0]
}

// Planted bad objects are rejected, each named with the server's message;
// good ones pass. These are the defects the mock engine let through.
func TestPlantedObjectsAreRejected(t *testing.T) {
	c := startServer(t)
	cases := []struct {
		name   string
		object string
		// want is part of the server's message; "" means accepted.
		want string
	}{
		{"namespace", `{apiVersion: v1, kind: Namespace, metadata: {name: planted}}`, ""},
		{"a good ConfigMap", `{apiVersion: v1, kind: ConfigMap, metadata: {name: good, namespace: planted}, data: {A: b}}`, ""},
		{"unknown field in a CRD object (a timeout inside a rule's match)", `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: misplaced-timeout, namespace: planted}
spec:
  parentRefs: [{name: public, namespace: nginx-gateway}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}, timeouts: {request: 10s}}]`, ".spec.rules[0].matches[0].timeouts: field not declared in schema"},
		{"the same route with the timeout where it belongs", `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: right-timeout, namespace: planted}
spec:
  parentRefs: [{name: public, namespace: nginx-gateway}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    timeouts: {request: 10s}`, ""},
		{"invalid value in a core object", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: negative-replicas, namespace: planted}
spec:
  replicas: -1
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: x, image: "busybox:1.37.0"}]}`, "spec.replicas"},
		{"a Secret redacted whole", `{apiVersion: v1, kind: Secret, metadata: {name: redacted-whole, namespace: planted}, stringData: "[secret]"}`, "stringData"},
		{"a kind no CRD serves", `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: planted}}`, "no API serves kind Widget"},
		// ECK's CRDs are installed for the Logging component: its claim
		// name is checked against the schema like any field.
		{"an Elasticsearch with a field ECK does not have", `
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata: {name: logs, namespace: planted}
spec:
  version: 8.19.0
  nodeSets: [{name: default, count: 1, zoneAwareness: true}]`, "zoneAwareness"},
	}
	var objects []Object
	for _, tc := range cases {
		objects = append(objects, object(tc.object))
	}
	// A chart's namespaced object that names no namespace goes to its
	// release's, as Helm puts it; without one it is refused.
	released := object(`{apiVersion: v1, kind: ConfigMap, metadata: {name: from-a-chart}, data: {A: b}}`)
	released.DefaultNamespace = "planted"
	objects = append(objects, released, object(`{apiVersion: v1, kind: ConfigMap, metadata: {name: nowhere}, data: {A: b}}`))
	report, err := c.Check(context.Background(), objects)
	if err != nil {
		t.Fatal(err)
	}
	rejected := map[string]string{}
	for _, r := range report.Rejected {
		rejected[r.Object.Name()] = r.Message
	}
	for i, tc := range cases {
		name := objects[i].Name()
		msg, was := rejected[name]
		switch {
		case tc.want == "" && was:
			t.Errorf("%s: want it accepted, got rejected: %s", tc.name, msg)
		case tc.want != "" && !was:
			t.Errorf("%s: want it rejected (%s), got accepted", tc.name, tc.want)
		case tc.want != "" && !strings.Contains(msg, tc.want):
			t.Errorf("%s: want the server's message to contain %q, got %s", tc.name, tc.want, msg)
		}
	}
	var out bytes.Buffer
	report.Write(&out, "")
	if _, ok := rejected["from-a-chart"]; ok {
		t.Errorf("a chart's ConfigMap without a namespace: want it in its release's, got rejected: %s", rejected["from-a-chart"])
	}
	if msg := rejected["nowhere"]; msg == "" {
		t.Error("a namespaced object with no namespace at all was accepted")
	}
	for _, want := range []string{"REJECTED HTTPRoute planted/misplaced-timeout", "REJECTED Deployment planted/negative-replicas", "10 objects, 6 rejected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report: want %q in\n%s", want, out.String())
		}
	}
}

// The servers are gone after Stop: nothing listens on their ports.
func TestStopEndsTheServers(t *testing.T) {
	c := startServer(t)
	s := c.s
	pids := []int{}
	for _, p := range s.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	s.Stop()
	for _, pid := range pids {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil {
			if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); !bytes.Contains(b, []byte(") Z ")) {
				t.Errorf("process %d still runs after Stop", pid)
			}
		}
	}
	if _, err := os.Stat(s.dir); err == nil {
		t.Errorf("data directory %s remains after Stop", s.dir)
	}
}
