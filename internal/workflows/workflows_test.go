package workflows

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/internal/toolcache"
)

const repoRoot = "../.."

type workflow struct {
	On          map[string]any `yaml:"on"`
	Permissions any            `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Environment string            `yaml:"environment"`
		Concurrency map[string]any    `yaml:"concurrency"`
		Uses        string            `yaml:"uses"`
		Steps       []struct {
			Uses string            `yaml:"uses"`
			With map[string]any    `yaml:"with"`
			Run  string            `yaml:"run"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func load(t *testing.T, name string) (workflow, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w, string(b)
}

func files(t *testing.T) []string {
	t.Helper()
	out, _ := filepath.Glob(filepath.Join(repoRoot, ".github", "workflows", "*.yml"))
	if len(out) < 4 {
		t.Fatalf("found %d workflows", len(out))
	}
	return out
}

func TestActionlint(t *testing.T) {
	bins := toolcache.Lint(repoRoot).ForTest(t, "actionlint is", "ACTIONLINT_REQUIRED")
	if out, err := exec.Command(bins["actionlint"], append([]string{"-no-color", "-oneline"}, files(t)...)...).CombinedOutput(); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}

var pinned = regexp.MustCompile(`^[\w.-]+/[\w.-]+@[0-9a-f]{40}$`)

// Every action is pinned to a full commit with its version in a comment;
// every workflow grants nothing by default and each job what it needs.
func TestPinnedAndLeastPrivilege(t *testing.T) {
	versionComment := regexp.MustCompile(`uses: \S+@[0-9a-f]{40} # v\d+\.\d+\.\d+`)
	for _, path := range files(t) {
		name := filepath.Base(path)
		w, text := load(t, name)
		if perms, ok := w.Permissions.(map[string]any); !ok || len(perms) != 0 {
			t.Errorf("%s: top-level permissions %v, want {} (each job asks for its own)", name, w.Permissions)
		}
		for jobName, job := range w.Jobs {
			if job.Uses == "" && len(job.Permissions) == 0 {
				t.Errorf("%s: job %s has no permissions block", name, jobName)
			}
			for perm, level := range job.Permissions {
				if level == "write" && !slices.Contains([]string{"id-token", "pull-requests", "issues", "contents"}, perm) {
					t.Errorf("%s: job %s writes %s", name, jobName, perm)
				}
			}
			for _, s := range job.Steps {
				if s.Uses != "" && !pinned.MatchString(s.Uses) {
					t.Errorf("%s: %s is not pinned to a full commit SHA", name, s.Uses)
				}
			}
		}
		if n, m := strings.Count(text, "uses: "), len(versionComment.FindAllString(text, -1)); n != m+strings.Count(text, "uses: ./") {
			t.Errorf("%s: %d of %d actions lack a version comment", name, n-m, n)
		}
	}
	// The check fails on an unpinned action.
	if pinned.MatchString("actions/checkout@v4") {
		t.Error("a tag passed as a pin")
	}
}

func TestTriggersEnvironmentsAndConcurrency(t *testing.T) {
	pr, prText := load(t, "pull-request.yml")
	if _, ok := pr.On["pull_request"]; !ok || len(pr.On) != 1 {
		t.Errorf("pull-request.yml runs on %v, want pull_request", pr.On)
	}
	if !strings.Contains(prText, "run: bash .ci/run") || !strings.Contains(prText, "policyPacks: policy") || !strings.Contains(prText, "comment-on-pr: true") {
		t.Error("pull-request.yml must run .ci/run and a policy-checked preview commented on the pull request")
	}
	if p := pr.Jobs["preview"].Permissions; p["contents"] != "read" || p["id-token"] != "write" || p["pull-requests"] != "write" {
		t.Errorf("preview permissions %v", p)
	}

	deploy, _ := load(t, "deploy.yml")
	if _, ok := deploy.On["workflow_dispatch"]; !ok {
		t.Error("deploy.yml cannot be dispatched by hand")
	}
	push, _ := deploy.On["push"].(map[string]any)
	if !slices.Equal(toStrings(push["branches"]), []string{"main"}) {
		t.Errorf("deploy.yml deploys on push to %v, want main only", push["branches"])
	}

	stack, stackText := load(t, "deploy-stack.yml")
	job := stack.Jobs["deploy"]
	if job.Environment != "${{ inputs.stack }}" || job.Concurrency["group"] != "stack-${{ inputs.stack }}" || job.Concurrency["cancel-in-progress"] != false {
		t.Errorf("deploy-stack.yml: environment %q, concurrency %v; want the stack's environment and one group per stack", job.Environment, job.Concurrency)
	}
	for _, want := range []string{"go run ./cmd/verify --stack", "deployed-$STACK", "rolled back"} {
		if !strings.Contains(stackText, want) {
			t.Errorf("deploy-stack.yml lacks %q (smoke test and rollback)", want)
		}
	}

	drift, driftText := load(t, "drift.yml")
	if _, ok := drift.On["schedule"]; !ok || !strings.Contains(driftText, "expect-no-changes: true") || !strings.Contains(driftText, "refresh: true") {
		t.Error("drift.yml must run nightly a refreshed preview expecting no changes")
	}
	if drift.Jobs["drift"].Concurrency["group"] != "stack-${{ matrix.stack }}" {
		t.Errorf("drift.yml does not share the stack's concurrency group: %v", drift.Jobs["drift"].Concurrency)
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		out = append(out, e.(string))
	}
	return out
}
