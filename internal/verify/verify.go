// Package verify is the smoke test of a deployed stack: from its outputs,
// each public hostname must answer over HTTPS with a certificate the
// client trusts, redirect plain HTTP to HTTPS, send the security headers
// the edge sets, and serve the backend's readiness endpoint; behind the
// CDN, the origin asked directly must not serve the app. CI runs it
// after every `pulumi up` (go run ./cmd/verify --stack <name>).
package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Outputs are the stack outputs the checks read (`pulumi stack output
// --json`).
type Outputs struct {
	// Hostnames are the app's public hostnames.
	Hostnames []string `json:"hostnames"`
	// SecurityHeaders are the response headers the Gateway sets.
	SecurityHeaders map[string]string `json:"securityHeaders"`
	// ReadinessPath is the backend's readiness endpoint.
	ReadinessPath string `json:"readinessPath"`
	// OriginHostname is the CDN's origin, the Gateway's load balancer
	// ("" without a CDN): asked directly, it must not serve the app.
	OriginHostname string `json:"cdnOriginHostname"`
}

// ParseOutputs reads `pulumi stack output --json`.
func ParseOutputs(b []byte) (Outputs, error) {
	var o Outputs
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fmt.Errorf("reading the stack outputs: %w", err)
	}
	if len(o.Hostnames) == 0 || o.ReadinessPath == "" {
		return o, fmt.Errorf("the stack outputs have no hostnames or readinessPath: is this a deployed stack of this program?")
	}
	return o, nil
}

// Checker runs the checks.
type Checker struct {
	// Timeout bounds each request. Default 15 s.
	Timeout time.Duration
	// RootCAs are the trusted roots; nil uses the system's.
	RootCAs *x509.CertPool
	// Dial replaces name resolution (tests send every hostname to a local
	// server); nil dials normally.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Result is one check's outcome.
type Result struct {
	Host, Check string
	// Err is nil when the check passed.
	Err error
}

func (c Checker) client() *http.Client {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	transport := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}
	if c.Dial != nil {
		transport.DialContext = c.Dial
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: transport,
		// The redirect is itself checked: never follow one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// bypass asks the origin for the app's URL as a client that skips the CDN
// would: connected to the origin's address, with the app's hostname for
// TLS and Host, without the CDN's origin header. NGINX must answer 404 (no
// route matches without the header).
func (c Checker) bypass(origin, appURL string) error {
	client := c.client()
	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	client.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return dial(ctx, network, net.JoinHostPort(origin, port))
	}
	resp, err := client.Get(appURL)
	if err != nil {
		return fmt.Errorf("asking %s at %s: %w", appURL, origin, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("GET %s at the origin %s, without the CDN's header, answered %d, want 404: the origin serves clients that bypass the WAF", appURL, origin, resp.StatusCode)
	}
	return nil
}

// Run checks every hostname and returns every result, passed or not.
func (c Checker) Run(o Outputs) []Result {
	client := c.client()
	var out []Result
	for _, host := range o.Hostnames {
		get := func(u string) (*http.Response, error) {
			resp, err := client.Get(u)
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			return resp, nil
		}
		root := "https://" + host + "/"

		resp, err := get(root)
		out = append(out, Result{host, "HTTPS with a trusted certificate", func() error {
			if err != nil {
				return err
			}
			if resp.StatusCode >= 500 {
				return fmt.Errorf("GET %s answered %d", root, resp.StatusCode)
			}
			return nil
		}()})
		out = append(out, Result{host, "security headers", func() error {
			if err != nil {
				return fmt.Errorf("no HTTPS answer to read headers from")
			}
			var missing []string
			for _, name := range sortedKeys(o.SecurityHeaders) {
				if got := resp.Header.Get(name); got != o.SecurityHeaders[name] {
					missing = append(missing, fmt.Sprintf("%s = %q, want %q", name, got, o.SecurityHeaders[name]))
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("%s", strings.Join(missing, "; "))
			}
			return nil
		}()})

		plain := "http://" + host + "/some/path?q=1"
		out = append(out, Result{host, "HTTP redirects to HTTPS", func() error {
			r, err := get(plain)
			if err != nil {
				return err
			}
			loc, _ := url.Parse(r.Header.Get("Location"))
			if (r.StatusCode != http.StatusMovedPermanently && r.StatusCode != http.StatusPermanentRedirect) || loc == nil || loc.Scheme != "https" || loc.Hostname() != host {
				return fmt.Errorf("GET %s answered %d Location %q, want 301 or 308 to https://%s", plain, r.StatusCode, r.Header.Get("Location"), host)
			}
			return nil
		}()})

		ready := "https://" + host + o.ReadinessPath
		if o.OriginHostname != "" {
			out = append(out, Result{host, "the origin refuses what bypasses the CDN", c.bypass(o.OriginHostname, ready)})
		}
		out = append(out, Result{host, "backend ready", func() error {
			r, err := get(ready)
			if err != nil {
				return err
			}
			if r.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s answered %d, want 200", ready, r.StatusCode)
			}
			return nil
		}()})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Failed returns the results that did not pass.
func Failed(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Err != nil {
			out = append(out, r)
		}
	}
	return out
}

// Wait runs the checks until every one passes in the same round or the
// deadline passes, sleeping between rounds with exponential backoff from
// First to Max. A fresh deploy is not done when `pulumi up` returns:
// external-dns writes the records, cert-manager completes HTTP-01 and the
// NLB registers its targets after it. Route 53's default SOA makes
// resolvers cache an NXDOMAIN from before the record existed for up to 900
// s, so the deadline should be longer than that (cmd/verify: 20 minutes).
type Wait struct {
	// Deadline bounds the whole wait; zero runs the checks once.
	Deadline time.Duration
	// First and Max bound the sleep between rounds (defaults 5 s, 60 s).
	First, Max time.Duration
	// Sleep and Now replace the clock in tests; nil uses the real one.
	Sleep func(time.Duration)
	Now   func() time.Time
	// Round is told each round's failures (progress output); may be nil.
	Round func(n int, failed []Result)
}

// Until runs c's checks under the wait and returns the last round's
// results: all passed, or what still failed at the deadline.
func (w Wait) Until(c Checker, o Outputs) []Result {
	now, sleep := w.Now, w.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = time.Sleep
	}
	first, max := w.First, w.Max
	if first <= 0 {
		first = 5 * time.Second
	}
	if max < first {
		max = 60 * time.Second
	}
	end := now().Add(w.Deadline)
	pause := first
	for n := 1; ; n++ {
		results := c.Run(o)
		failed := Failed(results)
		if w.Round != nil {
			w.Round(n, failed)
		}
		if len(failed) == 0 || !now().Add(pause).Before(end) {
			return results
		}
		sleep(pause)
		if pause *= 2; pause > max {
			pause = max
		}
	}
}
