package verify

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

var headers = map[string]string{"Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload", "X-Frame-Options": "DENY"}

// edge is a local stand-in for the Gateway: an HTTPS server and a plain
// HTTP one, each broken in one way when asked.
type edge struct {
	https, http, origin *httptest.Server
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
	// The CDN's origin asked directly: NGINX matches no route without the
	// CDN's header, unless the lockdown is broken.
	e.origin = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if breakWhat != "open-origin" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(func() { e.https.Close(); e.http.Close(); e.origin.Close() })
	return e
}

// checker sends app.example.com's HTTPS to the TLS server and HTTP to the
// plain one, and trusts the TLS server's certificate unless untrusted.
func (e *edge) checker(trusted bool) Checker {
	c := Checker{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		target := e.https.Listener.Addr().String()
		switch {
		case strings.HasPrefix(addr, "origin."):
			target = e.origin.Listener.Addr().String()
		case strings.HasSuffix(addr, ":80"):
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
	outputs := Outputs{Hostnames: []string{"example.com"}, SecurityHeaders: headers, ReadinessPath: "/api/health/ready", OriginHostname: "origin.example.com"}
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
		{"an origin that serves without the CDN", "open-origin", true, "the origin refuses what bypasses the CDN", "answered 200, want 404"},
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

// A deploy that becomes healthy after some rounds passes within the
// deadline; one that never does fails at the deadline, having slept with
// capped exponential backoff and no longer than the deadline.
func TestWaitUntilHealthyOrDeadline(t *testing.T) {
	outputs := Outputs{Hostnames: []string{"example.com"}, SecurityHeaders: headers, ReadinessPath: "/api/health/ready"}
	for _, tc := range []struct {
		name        string
		healthyFrom int // the round from which the backend is ready; 0 never
		wantRounds  int
		wantPassed  bool
		wantSleeps  []time.Duration
	}{
		{"ready at once", 1, 1, true, nil},
		{"ready in round 4", 4, 4, true, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second}},
		// 5+10+20+40+60+60+60+60 = 315 s; the next 60 s would pass 6 minutes.
		{"never ready", 0, 9, false, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute, time.Minute, time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			round := 0
			ready := newEdge(t, "")
			broken := newEdge(t, "ready")
			clock := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
			var sleeps []time.Duration
			w := Wait{Deadline: 6 * time.Minute, Max: time.Minute,
				Now:   func() time.Time { return clock },
				Sleep: func(d time.Duration) { sleeps = append(sleeps, d); clock = clock.Add(d) },
				Round: func(n int, _ []Result) { round = n },
			}
			// Each round asks the edge of its own round: broken until healthyFrom.
			c := Checker{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				e := broken
				if tc.healthyFrom > 0 && round+1 >= tc.healthyFrom {
					e = ready
				}
				return e.checker(true).Dial(ctx, network, addr)
			}}
			// Trust both stand-ins' certificates.
			pool := ready.checker(true).RootCAs
			for _, cert := range broken.https.TLS.Certificates {
				for _, der := range cert.Certificate {
					if parsed, err := x509.ParseCertificate(der); err == nil {
						pool.AddCert(parsed)
					}
				}
			}
			c.RootCAs = pool
			results := w.Until(c, outputs)
			if round != tc.wantRounds || (len(Failed(results)) == 0) != tc.wantPassed {
				t.Errorf("%d rounds, failed %v; want %d rounds, passed %v", round, failures(results), tc.wantRounds, tc.wantPassed)
			}
			if !slices.Equal(sleeps, tc.wantSleeps) {
				t.Errorf("slept %v, want %v", sleeps, tc.wantSleeps)
			}
		})
	}
	// A zero deadline checks once.
	calls := 0
	Wait{Round: func(int, []Result) { calls++ }, Sleep: func(time.Duration) { t.Error("slept with no deadline") }}.Until(newEdge(t, "ready").checker(true), outputs)
	if calls != 1 {
		t.Errorf("%d rounds with no deadline", calls)
	}
}
