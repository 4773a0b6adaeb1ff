package verify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var headers = map[string]string{"Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload", "X-Frame-Options": "DENY"}

// edge is a local stand-in for the Gateway: an HTTPS server and a plain
// HTTP one, each broken in one way when asked.
type edge struct {
	https, http *httptest.Server
}

func newEdge(t *testing.T, breakWhat string) *edge {
	t.Helper()
	e := &edge{}
	e.https = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			if !(breakWhat == "headers" && k == "X-Frame-Options") {
				w.Header().Set(k, v)
			}
		}
		if r.URL.Path == "/api/health/ready" {
			if breakWhat == "ready" {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		if breakWhat == "5xx" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	e.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if breakWhat == "redirect" {
			w.Write([]byte("plain"))
			return
		}
		http.Redirect(w, r, "https://"+strings.Split(r.Host, ":")[0]+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	t.Cleanup(func() { e.https.Close(); e.http.Close() })
	return e
}

// checker sends app.example.com's HTTPS to the TLS server and HTTP to the
// plain one, and trusts the TLS server's certificate unless untrusted.
func (e *edge) checker(trusted bool) Checker {
	c := Checker{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		target := e.https.Listener.Addr().String()
		if strings.HasSuffix(addr, ":80") {
			target = e.http.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, target)
	}}
	if trusted {
		c.RootCAs = e.https.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	}
	return c
}

func failures(results []Result) map[string]string {
	out := map[string]string{}
	for _, r := range results {
		if r.Err != nil {
			out[r.Check] = r.Err.Error()
		}
	}
	return out
}

func TestChecks(t *testing.T) {
	// httptest's certificate names example.com.
	outputs := Outputs{Hostnames: []string{"example.com"}, SecurityHeaders: headers, ReadinessPath: "/api/health/ready"}
	for _, tc := range []struct {
		name, breakWhat string
		trusted         bool
		wantFailed      string // the check that must fail; "" for none
		wantMessage     string
	}{
		{"a healthy edge", "", true, "", ""},
		{"an untrusted certificate", "", false, "HTTPS with a trusted certificate", "certificate"},
		{"a 502 from the gateway", "5xx", true, "HTTPS with a trusted certificate", "answered 502"},
		{"a missing header", "headers", true, "security headers", `X-Frame-Options = "", want "DENY"`},
		{"no redirect", "redirect", true, "HTTP redirects to HTTPS", "answered 200"},
		{"backend not ready", "ready", true, "backend ready", "answered 503, want 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEdge(t, tc.breakWhat)
			got := failures(e.checker(tc.trusted).Run(outputs))
			if tc.wantFailed == "" {
				if len(got) != 0 {
					t.Fatalf("want every check to pass, got %v", got)
				}
				return
			}
			if msg, ok := got[tc.wantFailed]; !ok || !strings.Contains(msg, tc.wantMessage) {
				t.Errorf("want %q to fail with %q, got %v", tc.wantFailed, tc.wantMessage, got)
			}
		})
	}
}

func TestParseOutputs(t *testing.T) {
	o, err := ParseOutputs([]byte(`{"hostnames":["a.example"],"readinessPath":"/api/health/ready","securityHeaders":{"X-Frame-Options":"DENY"},"vpcId":"vpc-1"}`))
	if err != nil || o.Hostnames[0] != "a.example" || o.SecurityHeaders["X-Frame-Options"] != "DENY" {
		t.Fatalf("ParseOutputs = %+v, %v", o, err)
	}
	if _, err := ParseOutputs([]byte(`{"vpcId":"vpc-1"}`)); err == nil {
		t.Error("outputs without hostnames were accepted")
	}
}
