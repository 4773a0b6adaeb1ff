// Package drift is what the nightly drift workflow decides with: which
// commit a stack last deployed (GitHub's deployment records, which only
// the workflow's environment jobs write), whether a deploy is running or
// waiting (then the check stands aside rather than queue into the stack's
// concurrency group, where it would cancel a waiting deploy), and what a
// refreshed preview says: drift, clean, or a check that could not run,
// which is reported apart from drift.
package drift

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// Verdict is a refreshed preview's meaning.
type Verdict string

const (
	Clean Verdict = "clean"
	Drift Verdict = "drift"
	// Failed: the preview did not run to the end (credentials, the
	// cluster unreachable, a program error); nothing is known of drift.
	Failed Verdict = "failed"
)

// preview is the part of `pulumi preview --json` read here: the CLI's
// display.PreviewDigest at v3.274.1 (pkg/display/json.go: steps with op
// and urn, diagnostics with severity and message, changeSummary).
type preview struct {
	Steps []struct {
		Op          string   `json:"op"`
		URN         string   `json:"urn"`
		DiffReasons []string `json:"diffReasons"`
	} `json:"steps"`
	Diagnostics []struct {
		URN      string `json:"urn"`
		Message  string `json:"message"`
		Severity string `json:"severity"`
	} `json:"diagnostics"`
	ChangeSummary map[string]int `json:"changeSummary"`
}

// unchanged are the step operations that change nothing.
var unchanged = []string{"same", "read", "refresh"}

// Report is a classified preview.
type Report struct {
	Verdict Verdict
	// Changes are "op urn (reasons)" lines of a drifted stack; Errors the
	// error diagnostics of a failed one.
	Changes, Errors []string
}

// Classify reads the preview's JSON and its exit status.
func Classify(out []byte, exitCode int) Report {
	var p preview
	if err := json.Unmarshal(out, &p); err != nil {
		return Report{Verdict: Failed, Errors: []string{fmt.Sprintf("the preview printed no JSON (exit %d): %v", exitCode, err)}}
	}
	var r Report
	for _, d := range p.Diagnostics {
		if d.Severity == "error" {
			r.Errors = append(r.Errors, strings.TrimSpace(d.URN+" "+strings.TrimSpace(d.Message)))
		}
	}
	if len(r.Errors) > 0 || (exitCode != 0 && len(p.Steps) == 0) {
		if len(r.Errors) == 0 {
			r.Errors = []string{fmt.Sprintf("the preview exited %d without steps", exitCode)}
		}
		r.Verdict = Failed
		return r
	}
	for _, s := range p.Steps {
		if slices.Contains(unchanged, s.Op) {
			continue
		}
		line := s.Op + " " + s.URN
		if len(s.DiffReasons) > 0 {
			line += " (" + strings.Join(s.DiffReasons, ", ") + ")"
		}
		r.Changes = append(r.Changes, line)
	}
	sort.Strings(r.Changes)
	if r.Verdict = Clean; len(r.Changes) > 0 {
		r.Verdict = Drift
	}
	return r
}

// GitHub is the little of GitHub's REST API used here.
type GitHub struct {
	// API is the API's root (GITHUB_API_URL), Repository "owner/name",
	// Token the job's GITHUB_TOKEN.
	API, Repository, Token string
	Client                 *http.Client
}

func (g GitHub) get(path string, into any) error {
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(g.API, "/")+"/repos/"+g.Repository+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Authorization", "Bearer "+g.Token)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	c := g.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// LastDeployed is the commit of the environment's newest deployment whose
// latest status is success: the deploy job of that environment finished,
// smoke test included. "" when there is none yet.
func (g GitHub) LastDeployed(environment string) (string, error) {
	var deployments []struct {
		ID  int64  `json:"id"`
		SHA string `json:"sha"`
	}
	if err := g.get("/deployments?per_page=30&environment="+url.QueryEscape(environment), &deployments); err != nil {
		return "", err
	}
	for _, d := range deployments { // newest first
		var statuses []struct {
			State string `json:"state"`
		}
		if err := g.get(fmt.Sprintf("/deployments/%d/statuses?per_page=1", d.ID), &statuses); err != nil {
			return "", err
		}
		if len(statuses) > 0 && statuses[0].State == "success" {
			return d.SHA, nil
		}
	}
	return "", nil
}

// busyStates are the run states of a deploy that holds or waits for the
// stack's concurrency group.
var busyStates = []string{"in_progress", "queued", "waiting", "pending", "requested"}

// DeployBusy says whether a run of the workflow file is running or
// waiting (for a reviewer, or for the group).
func (g GitHub) DeployBusy(workflow string) (bool, error) {
	for _, s := range busyStates {
		var runs struct {
			TotalCount int `json:"total_count"`
		}
		if err := g.get("/actions/workflows/"+url.PathEscape(workflow)+"/runs?per_page=1&status="+s, &runs); err != nil {
			return false, err
		}
		if runs.TotalCount > 0 {
			return true, nil
		}
	}
	return false, nil
}
