package apicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// fieldManager owns what the check applies.
const fieldManager = "apicheck"

// crdEstablishTimeout bounds how long a CRD may take to be served.
const crdEstablishTimeout = 60 * time.Second

// Object is one Kubernetes object read from a manifest file.
type Object struct {
	// Source is the file (and document) it came from.
	Source string
	Body   map[string]any
	// DefaultNamespace is the namespace a namespaced object without one
	// goes to: its Helm release's (Helm's client fills it in likewise).
	DefaultNamespace string
}

// APIVersion, Kind, Name and Namespace read the object's identity.
func (o Object) APIVersion() string { s, _ := o.Body["apiVersion"].(string); return s }
func (o Object) Kind() string       { s, _ := o.Body["kind"].(string); return s }
func (o Object) meta(k string) string {
	m, _ := o.Body["metadata"].(map[string]any)
	s, _ := m[k].(string)
	return s
}
func (o Object) Name() string { return o.meta("name") }

// inNamespace is a copy of the object in a namespace.
func (o Object) inNamespace(ns string) Object {
	body := map[string]any{}
	for k, v := range o.Body {
		body[k] = v
	}
	meta := map[string]any{}
	if m, ok := o.Body["metadata"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	meta["namespace"] = ns
	body["metadata"] = meta
	o.Body = body
	return o
}
func (o Object) Namespace() string { return o.meta("namespace") }

// ID is how the report names an object: Kind namespace/name.
func (o Object) ID() string {
	if ns := o.Namespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", o.Kind(), ns, o.Name())
	}
	return fmt.Sprintf("%s %s", o.Kind(), o.Name())
}

// ReadObjects reads every YAML document of the files (a file may hold
// several, separated by ---); empty documents are skipped.
func ReadObjects(files ...string) ([]Object, error) {
	var out []Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := readYAML(data, f)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// readYAML reads the documents of one YAML stream; source names them.
func readYAML(data []byte, source string) ([]Object, error) {
	var out []Object
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var body map[string]any
		err := dec.Decode(&body)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i+1, err)
		}
		if len(body) == 0 {
			continue
		}
		src := source
		if i > 0 {
			src = fmt.Sprintf("%s#%d", source, i+1)
		}
		out = append(out, Object{Source: src, Body: body})
	}
	return out, nil
}

// ManifestFiles are the one-object-per-file manifests the synthesizer wrote
// to dir (all.yaml, their concatenation, is left out).
func ManifestFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "all.yaml" })
	if len(files) == 0 {
		return nil, fmt.Errorf("no manifests in %s: run the synthesizer first", dir)
	}
	sort.Strings(files)
	return files, nil
}

// Rejection is an object the server refused, with its message.
type Rejection struct {
	Object  Object
	Message string
}

// Report is the outcome of checking a set of objects.
type Report struct {
	Checked  int
	Rejected []Rejection
	// Warnings are what the server accepted but warned about (Pod
	// Security warnings on workload templates, deprecated fields).
	Warnings []string
}

// Write prints every rejection with its server message, every warning, and
// the closing line "N objects, M rejected".
func (r Report) Write(w io.Writer, label string) {
	for _, rej := range r.Rejected {
		fmt.Fprintf(w, "REJECTED %s%s (%s):\n  %s\n", label, rej.Object.ID(), rej.Object.Source, rej.Message)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning %s%s\n", label, warn)
	}
	fmt.Fprintf(w, "%s%d objects, %d rejected\n", label, r.Checked, len(r.Rejected))
}

// resourceInfo is what discovery says about a kind.
type resourceInfo struct {
	plural     string
	namespaced bool
}

// Client talks to the running server.
type Client struct {
	s         *Server
	discovery map[string]map[string]resourceInfo // groupVersion -> kind -> info
}

// Client returns a client of the server.
func (s *Server) Client() *Client {
	return &Client{s: s, discovery: map[string]map[string]resourceInfo{}}
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) (int, []byte, []string, error) {
	u := c.s.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.s.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.s.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header.Values("Warning"), err
}

// resource finds the kind's REST resource through discovery; ok is false
// when no API (built in or CRD) serves it.
func (c *Client) resource(ctx context.Context, apiVersion, kind string) (resourceInfo, bool, error) {
	kinds, cached := c.discovery[apiVersion]
	if !cached {
		path := "/apis/" + apiVersion
		if !strings.Contains(apiVersion, "/") {
			path = "/api/" + apiVersion
		}
		status, body, _, err := c.do(ctx, http.MethodGet, path, nil, "", nil)
		if err != nil {
			return resourceInfo{}, false, err
		}
		kinds = map[string]resourceInfo{}
		if status == http.StatusOK {
			var list struct {
				Resources []struct {
					Name       string `json:"name"`
					Kind       string `json:"kind"`
					Namespaced bool   `json:"namespaced"`
				} `json:"resources"`
			}
			if err := json.Unmarshal(body, &list); err != nil {
				return resourceInfo{}, false, fmt.Errorf("discovery of %s: %w", apiVersion, err)
			}
			for _, r := range list.Resources {
				if !strings.Contains(r.Name, "/") {
					kinds[r.Kind] = resourceInfo{plural: r.Name, namespaced: r.Namespaced}
				}
			}
		}
		c.discovery[apiVersion] = kinds
	}
	info, ok := kinds[kind]
	return info, ok, nil
}

func objectPath(apiVersion string, info resourceInfo, namespace, name string) string {
	p := "/apis/" + apiVersion
	if !strings.Contains(apiVersion, "/") {
		p = "/api/" + apiVersion
	}
	if info.namespaced {
		p += "/namespaces/" + url.PathEscape(namespace)
	}
	return p + "/" + info.plural + "/" + url.PathEscape(name)
}

// apply server-side applies one object, strictly; with dryRun the server
// validates and admits it but stores nothing. It returns the server's
// refusal as a message ("" when accepted) and its warnings.
func (c *Client) apply(ctx context.Context, o Object, dryRun bool) (string, []string, error) {
	apiVersion, kind := o.APIVersion(), o.Kind()
	if apiVersion == "" || kind == "" || o.Name() == "" {
		return "object has no apiVersion, kind or metadata.name", nil, nil
	}
	info, ok, err := c.resource(ctx, apiVersion, kind)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return fmt.Sprintf("no API serves kind %s in %s: its CRD is not installed (add its source to the check) or the apiVersion is wrong", kind, apiVersion), nil, nil
	}
	if info.namespaced && o.Namespace() == "" && o.DefaultNamespace != "" {
		o = o.inNamespace(o.DefaultNamespace)
	}
	if info.namespaced && o.Namespace() == "" {
		return fmt.Sprintf("%s is namespaced but the object has no metadata.namespace", kind), nil, nil
	}
	body, err := json.Marshal(o.Body)
	if err != nil {
		return "", nil, err
	}
	q := url.Values{"fieldManager": {fieldManager}, "fieldValidation": {"Strict"}, "force": {"true"}}
	if dryRun {
		q.Set("dryRun", "All")
	}
	status, resp, warnings, err := c.do(ctx, http.MethodPatch, objectPath(apiVersion, info, o.Namespace(), o.Name()), q, "application/apply-patch+yaml", body)
	if err != nil {
		return "", nil, err
	}
	if status >= 200 && status < 300 {
		return "", warnings, nil
	}
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(resp, &st) == nil && st.Message != "" {
		return st.Message, warnings, nil
	}
	return fmt.Sprintf("HTTP %d: %s", status, strings.TrimSpace(string(resp))), warnings, nil
}

// Apply server-side applies one object for real; msg is the server's
// refusal ("" when it is stored).
func (c *Client) Apply(ctx context.Context, o Object) (msg string, warnings []string, err error) {
	return c.apply(ctx, o, false)
}

// Get reads path (such as /api/v1/pods) and decodes the JSON answer into v.
func (c *Client) Get(ctx context.Context, path string, query url.Values, v any) error {
	status, body, _, err := c.do(ctx, http.MethodGet, path, query, "", nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", path, status, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, v)
}

// MergePatch applies a JSON merge patch to path (such as a node's status
// subresource).
func (c *Client) MergePatch(ctx context.Context, path string, patch any) error {
	body, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	status, resp, _, err := c.do(ctx, http.MethodPatch, path, nil, "application/merge-patch+json", body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("PATCH %s: HTTP %d: %s", path, status, strings.TrimSpace(string(resp)))
	}
	return nil
}

// Post creates body at path (such as a pod's eviction subresource) and
// returns the HTTP status and the server's message (empty on success).
func (c *Client) Post(ctx context.Context, path string, body any) (int, string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, "", err
	}
	status, resp, _, err := c.do(ctx, http.MethodPost, path, nil, "application/json", b)
	if err != nil || (status >= 200 && status < 300) {
		return status, "", err
	}
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(resp, &st) == nil && st.Message != "" {
		return status, st.Message, nil
	}
	return status, strings.TrimSpace(string(resp)), nil
}

// Delete deletes path at once (grace period 0: there is no kubelet to
// confirm a pod stopped), and what it owns in the background (a Job's
// pods too: the API's default for Jobs orphans them).
func (c *Client) Delete(ctx context.Context, path string) error {
	status, body, _, err := c.do(ctx, http.MethodDelete, path, url.Values{"gracePeriodSeconds": {"0"}, "propagationPolicy": {"Background"}}, "", nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK && status != http.StatusAccepted && status != http.StatusNotFound {
		return fmt.Errorf("DELETE %s: HTTP %d: %s", path, status, strings.TrimSpace(string(body)))
	}
	return nil
}

// InstallCRDs creates the CRDs for real and waits until each is served.
// A CRD the server refuses fails the install.
func (c *Client) InstallCRDs(ctx context.Context, crds []Object) error {
	for _, crd := range crds {
		if crd.Kind() != "CustomResourceDefinition" {
			return fmt.Errorf("%s: not a CustomResourceDefinition", crd.Source)
		}
		msg, _, err := c.apply(ctx, crd, false)
		if err != nil {
			return err
		}
		if msg != "" {
			return fmt.Errorf("installing CRD %s (%s): %s", crd.Name(), crd.Source, msg)
		}
	}
	for _, crd := range crds {
		if err := c.waitEstablished(ctx, crd.Name()); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) waitEstablished(ctx context.Context, name string) error {
	deadline := time.Now().Add(crdEstablishTimeout)
	for {
		status, body, _, err := c.do(ctx, http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, nil, "", nil)
		if err != nil {
			return err
		}
		if status == http.StatusOK {
			var crd struct {
				Status struct {
					Conditions []struct{ Type, Status string } `json:"conditions"`
				} `json:"status"`
			}
			if err := json.Unmarshal(body, &crd); err != nil {
				return err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == "Established" && cond.Status == "True" {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s was not established within %s", name, crdEstablishTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Check validates the objects. Namespaces are applied for real first (the
// objects inside them need them to exist, and a namespace carries the Pod
// Security labels the workloads are admitted against); every other object
// is applied with dryRun=All. Each object is applied with strict field
// validation.
func (c *Client) Check(ctx context.Context, objects []Object) (Report, error) {
	var r Report
	ordered := slices.Clone(objects)
	sort.SliceStable(ordered, func(i, j int) bool {
		return ordered[i].Kind() == "Namespace" && ordered[j].Kind() != "Namespace"
	})
	// Discovery is cached per check: CRDs installed since an earlier
	// check are seen.
	c.discovery = map[string]map[string]resourceInfo{}
	for _, o := range ordered {
		r.Checked++
		msg, warnings, err := c.apply(ctx, o, o.Kind() != "Namespace")
		if err != nil {
			return r, fmt.Errorf("applying %s: %w", o.ID(), err)
		}
		if msg != "" {
			r.Rejected = append(r.Rejected, Rejection{Object: o, Message: msg})
		}
		for _, w := range warnings {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %s", o.ID(), strings.Trim(strings.TrimPrefix(w, "299 - "), `"`)))
		}
	}
	return r, nil
}
