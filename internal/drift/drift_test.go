package drift

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		exit       int
		want       Verdict
		lines      []string
	}{
		{"nothing changed", `{"steps":[{"op":"same","urn":"u1"},{"op":"refresh","urn":"u2"},{"op":"read","urn":"u3"}],"changeSummary":{"same":3}}`, 0, Clean, nil},
		{"a hand edit", `{"steps":[{"op":"same","urn":"u1"},{"op":"update","urn":"urn:pulumi:production::scrolluniversity::aws:rds/instance:Instance::db","diffReasons":["backupRetentionPeriod"]}],"changeSummary":{"same":1,"update":1}}`, 255, Drift,
			[]string{"update urn:pulumi:production::scrolluniversity::aws:rds/instance:Instance::db (backupRetentionPeriod)"}},
		{"a deleted resource", `{"steps":[{"op":"create","urn":"u9"}]}`, 255, Drift, []string{"create u9"}},
		{"the cluster unreachable", `{"diagnostics":[{"urn":"urn:k8s","message":"configured Kubernetes cluster is unreachable","severity":"error"}],"steps":[{"op":"same","urn":"u1"}]}`, 255, Failed,
			[]string{"urn:k8s configured Kubernetes cluster is unreachable"}},
		{"no JSON at all (credentials)", `error: failed to decrypt`, 255, Failed, nil},
		{"exit without steps", `{}`, 1, Failed, []string{"the preview exited 1 without steps"}},
		{"warnings are not failures", `{"diagnostics":[{"message":"deprecated","severity":"warning"}],"steps":[{"op":"same","urn":"u"}]}`, 0, Clean, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify([]byte(tc.json), tc.exit)
			if r.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s (%+v)", r.Verdict, tc.want, r)
			}
			got := append(r.Changes, r.Errors...)
			if tc.lines != nil && !slices.Equal(got, tc.lines) {
				t.Errorf("lines %q, want %q", got, tc.lines)
			}
		})
	}
}

// A stand-in for GitHub's REST API with deployments and runs.
func fakeGitHub(t *testing.T, deployments map[string][]string, statuses map[string]string, busy map[string]int) GitHub {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/repos/o/r")
		switch {
		case p == "/deployments":
			var out []string
			for i, sha := range deployments[r.URL.Query().Get("environment")] {
				out = append(out, fmt.Sprintf(`{"id": %d, "sha": %q}`, i+1, sha))
			}
			fmt.Fprintf(w, "[%s]", strings.Join(out, ","))
		case strings.HasPrefix(p, "/deployments/"):
			id := strings.Split(p, "/")[2]
			if s, ok := statuses[id]; ok {
				fmt.Fprintf(w, `[{"state": %q}]`, s)
			} else {
				fmt.Fprint(w, `[]`)
			}
		case p == "/actions/workflows/deploy.yml/runs":
			fmt.Fprintf(w, `{"total_count": %d}`, busy[r.URL.Query().Get("status")])
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return GitHub{API: srv.URL, Repository: "o/r", Token: "tok"}
}

func TestLastDeployedAndBusy(t *testing.T) {
	// Newest first: a failed deploy (smoke test red), then one that passed.
	gh := fakeGitHub(t, map[string][]string{"production": {"bad", "good", "older"}}, map[string]string{"1": "failure", "2": "success", "3": "success"}, map[string]int{"waiting": 1})
	if sha, err := gh.LastDeployed("production"); err != nil || sha != "good" {
		t.Errorf("LastDeployed = %q, %v; want the newest successful deployment", sha, err)
	}
	if sha, err := gh.LastDeployed("staging"); err != nil || sha != "" {
		t.Errorf("no deployment yet: got %q, %v", sha, err)
	}
	if busy, err := gh.DeployBusy("deploy.yml"); err != nil || !busy {
		t.Errorf("a deploy waiting for its reviewer: busy = %v, %v", busy, err)
	}
	idle := fakeGitHub(t, nil, nil, nil)
	if busy, err := idle.DeployBusy("deploy.yml"); err != nil || busy {
		t.Errorf("no deploy: busy = %v, %v", busy, err)
	}
	idle.Token = "wrong"
	if _, err := idle.LastDeployed("production"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a refused token: %v", err)
	}
}
