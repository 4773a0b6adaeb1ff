package workflows

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/internal/stackfiles"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

const repoRoot = "../.."

type workflow = Workflow

type step = Step

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
				// No job pushes: nothing needs contents: write.
				if level == "write" && !slices.Contains([]string{"id-token", "pull-requests", "issues"}, perm) {
					t.Errorf("%s: job %s writes %s", name, jobName, perm)
				}
			}
			for _, s := range job.Steps {
				if s.Uses != "" && !strings.HasPrefix(s.Uses, "./") && !pinned.MatchString(s.Uses) {
					t.Errorf("%s: %s is not pinned to a full commit SHA", name, s.Uses)
				}
			}
		}
		if n, m := strings.Count(text, "uses: "), len(versionComment.FindAllString(text, -1)); n != m+strings.Count(text, "uses: ./") {
			t.Errorf("%s: %d of %d actions lack a version comment", name, n-m, n)
		}
	}
	// The local actions' steps too.
	actions, _ := filepath.Glob(filepath.Join(repoRoot, ".github", "actions", "*", "action.yml"))
	if len(actions) == 0 {
		t.Fatal("no local actions found")
	}
	for _, path := range actions {
		var a Action
		if err := readYAML(path, &a); err != nil {
			t.Fatal(err)
		}
		for _, s := range a.Runs.Steps {
			if s.Uses != "" && !pinned.MatchString(s.Uses) {
				t.Errorf("%s: %s is not pinned to a full commit SHA", path, s.Uses)
			}
		}
	}
	// The check fails on an unpinned action.
	if pinned.MatchString("actions/checkout@v4") {
		t.Error("a tag passed as a pin")
	}
}

func TestTriggersEnvironmentsAndConcurrency(t *testing.T) {
	ci, _ := load(t, "ci.yml")
	if _, ok := ci.On["pull_request"]; !ok {
		t.Error("ci.yml does not check pull requests")
	}
	if push, _ := ci.On["push"].(map[string]any); !slices.Equal(toStrings(push["branches"]), []string{"main"}) {
		t.Errorf("ci.yml must also run on main (its tool cache is what new pull requests restore), got %v", ci.On["push"])
	}
	if !slices.ContainsFunc(ci.Jobs["check"].Steps, func(s step) bool { return s.Run == "bash .ci/run" }) {
		t.Error("ci.yml does not run .ci/run")
	}
	pr, _ := load(t, "pull-request.yml")
	if _, ok := pr.On["pull_request"]; !ok || len(pr.On) != 1 {
		t.Errorf("pull-request.yml runs on %v, want pull_request", pr.On)
	}
	if pr.Jobs["preview"].If != "github.event.pull_request.head.repo.full_name == github.repository" {
		t.Errorf("preview runs for forks, which get no OIDC token: if = %q", pr.Jobs["preview"].If)
	}
	// Which environment each stack's preview runs in: TestInstancesAreWhatGitHubRuns.

	deploy, _ := load(t, "deploy.yml")
	push, _ := deploy.On["push"].(map[string]any)
	if !slices.Equal(toStrings(push["branches"]), []string{"main"}) || !slices.Contains(toStrings(push["paths-ignore"]), "docs/**") {
		t.Errorf("deploy.yml deploys on push to %v ignoring %v, want main only, documentation ignored", push["branches"], push["paths-ignore"])
	}
	stack, _ := load(t, "deploy-stack.yml")
	job := stack.Jobs["deploy"]
	if job.Environment != "${{ inputs.stack }}" || job.Concurrency["group"] != "stack-${{ inputs.stack }}" || job.Concurrency["cancel-in-progress"] != false {
		t.Errorf("deploy-stack.yml: environment %q, concurrency %v; want the stack's environment and one group per stack", job.Environment, job.Concurrency)
	}
	var smoke string
	for _, s := range job.Steps {
		if strings.Contains(s.Run, "cmd/verify") {
			smoke = s.Run
		}
		if strings.Contains(s.Run, "git checkout") || strings.Contains(s.Run, "git tag") || strings.Contains(s.Run, "pulumi up") {
			t.Errorf("deploy-stack.yml step %q: the deploy runs no other ref and no second up", s.Run)
		}
	}
	if !strings.Contains(smoke, "--wait") {
		t.Errorf("the smoke test does not wait for DNS and certificates: %q", smoke)
	}
	drift, _ := load(t, "drift.yml")
	if _, ok := drift.On["schedule"]; !ok {
		t.Error("drift.yml does not run nightly")
	}
	if drift.Jobs["drift"].Concurrency["group"] != "stack-${{ matrix.stack }}" {
		t.Errorf("drift.yml does not share the stack's concurrency group: %v", drift.Jobs["drift"].Concurrency)
	}
	var preview string
	for _, s := range drift.Jobs["drift"].Steps {
		if strings.Contains(s.Run, "pulumi preview") {
			preview = s.Run
		}
	}
	if !strings.Contains(preview, "--refresh") || !strings.Contains(preview, "--json") {
		t.Errorf("drift's preview %q: want --refresh and --json (classified by cmd/drift)", preview)
	}
}

// The CLI version every Pulumi step installs is the SDK's in go.mod.
func TestPulumiVersionPinned(t *testing.T) {
	v, err := os.ReadFile(filepath.Join(repoRoot, ".pulumi.version"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, _ := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if !strings.Contains(string(gomod), "github.com/pulumi/pulumi/sdk/v3 v"+strings.TrimSpace(string(v))) {
		t.Errorf(".pulumi.version %s is not go.mod's Pulumi SDK", v)
	}
	r, err := Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := r.Instances()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		for _, s := range in.Steps {
			if action(s.Uses) == "pulumi/actions" && s.With["pulumi-version-file"] != ".pulumi.version" {
				t.Errorf("%s: a pulumi/actions step without pulumi-version-file: .pulumi.version (it would use whatever CLI the runner has)", in.Where)
			}
		}
	}
}

// testRoles mirror the bootstrap's table (tests/bootstrap_test.go checks
// the real workflows against the real trust policies): here they carry
// the planted mismatches.
func testRoles() []Role {
	const r = "repo:o/r:"
	return []Role{
		{"scrolluniversity-staging-deploy", "staging", true, []string{r + "environment:staging"}},
		{"scrolluniversity-staging-preview", "staging", false, []string{r + "pull_request", r + "ref:refs/heads/main"}},
		{"scrolluniversity-production-deploy", "production", true, []string{r + "environment:production"}},
		{"scrolluniversity-production-preview", "production", false, []string{r + "environment:production-preview", r + "ref:refs/heads/main"}},
	}
}

func TestInstancesAreWhatGitHubRuns(t *testing.T) {
	r, err := Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := r.Instances()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ins {
		if in.RoleName != "" {
			got = append(got, fmt.Sprintf("%s %s %s %s env=%q %d", in.Where, in.Command, in.Stack, in.RoleName, in.Environment, in.RoleDuration))
		}
	}
	want := []string{
		`deploy.yml/guarded[matrix.stack=production] -> ./.github/workflows/deploy-stack.yml/deploy up production scrolluniversity-production-deploy env="production" 14400`,
		`deploy.yml/preview[matrix.stack=production] preview production scrolluniversity-production-preview env="" 3600`,
		`deploy.yml/preview[matrix.stack=staging] preview staging scrolluniversity-staging-preview env="" 3600`,
		`deploy.yml/unguarded[matrix.stack=staging] -> ./.github/workflows/deploy-stack.yml/deploy up staging scrolluniversity-staging-deploy env="staging" 14400`,
		`drift.yml/drift[matrix.stack=production] preview production scrolluniversity-production-preview env="" 3600`,
		`drift.yml/drift[matrix.stack=staging] preview staging scrolluniversity-staging-preview env="" 3600`,
		`pull-request.yml/preview[matrix.stack=production] preview production scrolluniversity-production-preview env="production-preview" 3600`,
		`pull-request.yml/preview[matrix.stack=staging] preview staging scrolluniversity-staging-preview env="" 3600`,
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("instances that assume roles:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIdentityAndPermissions(t *testing.T) {
	check := func(t *testing.T, mutate func(*Repo), roles []Role) []string {
		t.Helper()
		r, err := Load(repoRoot)
		if err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(r)
		}
		ins, err := r.Instances()
		if err != nil {
			t.Fatal(err)
		}
		return append(CheckIdentity(ins, roles, "o/r"), CheckPermissions(ins, r)...)
	}
	if got := check(t, nil, testRoles()); len(got) > 0 {
		t.Fatalf("the workflows as committed:\n%s", strings.Join(got, "\n"))
	}
	job := func(r *Repo, file, name string, edit func(*Job)) {
		j := r.Workflows[file].Jobs[name]
		edit(&j)
		r.Workflows[file].Jobs[name] = j
	}
	planted := []struct {
		name   string
		mutate func(*Repo)
		roles  func([]Role) []Role
		want   string
	}{
		{"production preview out of its environment", func(r *Repo) {
			job(r, "pull-request.yml", "preview", func(j *Job) { j.Environment = "" })
		}, nil, "pull-request.yml/preview[matrix.stack=production]: its token says repo:o/r:pull_request, which scrolluniversity-production-preview does not trust"},
		{"a trust that admits every pull request to production", nil, func(rs []Role) []Role {
			rs[3].Subjects = append(rs[3].Subjects, "repo:o/r:pull_request")
			return rs
		}, "scrolluniversity-production-preview trusts repo:o/r:pull_request, which no job that assumes it has"},
		{"drift's old trust (pull requests only)", nil, func(rs []Role) []Role {
			rs[1].Subjects = rs[1].Subjects[:1]
			return rs
		}, "drift.yml/drift[matrix.stack=staging]: its token says repo:o/r:ref:refs/heads/main, which scrolluniversity-staging-preview does not trust"},
		{"a trust of any branch", nil, func(rs []Role) []Role {
			rs[1].Subjects = append(rs[1].Subjects, "repo:o/r:ref:refs/heads/some-branch")
			return rs
		}, "a run from another branch (repo:o/r:ref:refs/heads/some-branch) may assume scrolluniversity-staging-preview"},
		{"production deployed with staging's role", func(r *Repo) {
			job(r, "deploy.yml", "guarded", func(j *Job) {
				j.With = maps.Clone(j.With)
				j.With["role-to-assume"] = "arn:aws:iam::123456789012:role/scrolluniversity-staging-deploy"
			})
		}, nil, `acts on stack "production" with scrolluniversity-staging-deploy, a role of staging`},
		{"a production stack file whose preview waits for no reviewer", func(r *Repo) {
			for i := range r.Stacks {
				if r.Stacks[i].Stack == "production" {
					r.Stacks[i].PreviewEnvironment = ""
				}
			}
		}, nil, "pull-request.yml/preview[matrix.stack=production]: its token says repo:o/r:pull_request, which scrolluniversity-production-preview does not trust"},
		{"credentials shorter than the deploy", func(r *Repo) {
			j := r.Workflows["deploy-stack.yml"].Jobs["deploy"]
			for i, s := range j.Steps {
				if s.Uses == "./.github/actions/pulumi" {
					delete(j.Steps[i].With, "role-duration-seconds")
				}
			}
		}, nil, "credentials last 3600 s, the job up to 10800 s"},
		{"a deploy on a GitHub-hosted runner", func(r *Repo) {
			job(r, "deploy-stack.yml", "deploy", func(j *Job) { j.RunsOn = "ubuntu-24.04" })
		}, nil, "runs pulumi up on [ubuntu-24.04], which cannot reach the clusters"},
		{"a permission nothing uses", func(r *Repo) {
			job(r, "ci.yml", "check", func(j *Job) { j.Permissions = map[string]string{"contents": "read", "issues": "write"} })
		}, nil, `ci.yml/check: issues is "write", its steps use ""`},
		{"a permission missing", func(r *Repo) {
			job(r, "drift.yml", "drift", func(j *Job) { delete(j.Permissions, "deployments") })
		}, nil, `deployments is "", its steps use "read"`},
		{"id-token without a role", func(r *Repo) {
			job(r, "ci.yml", "check", func(j *Job) { j.Permissions = map[string]string{"contents": "read", "id-token": "write"} })
		}, nil, "ci.yml/check: holds id-token: write but assumes no role"},
		{"secrets handed down", func(r *Repo) {
			job(r, "deploy.yml", "unguarded", func(j *Job) { j.Secrets = "inherit" })
		}, nil, "deploy.yml/unguarded passes secrets to ./.github/workflows/deploy-stack.yml"},
		{"checkout keeps its token", func(r *Repo) {
			job(r, "ci.yml", "check", func(j *Job) { j.Steps[0].With = map[string]any{} })
		}, nil, "ci.yml/check: checkout leaves the job's token in .git/config"},
	}
	for _, tc := range planted {
		t.Run(tc.name, func(t *testing.T) {
			roles := testRoles()
			if tc.roles != nil {
				roles = tc.roles(roles)
			}
			got := check(t, tc.mutate, roles)
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("want a problem containing %q, got:\n%s", tc.want, strings.Join(got, "\n"))
			}
		})
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

// Every stack file is previewed, priced, checked for drift and deployable
// by the workflows, whose matrices come from the stack files (cmd/stacks):
// a stack file added is covered with no edit to a workflow, shown here
// with one added to the repository as the workflows see it.
func TestEveryStackIsInTheWorkflows(t *testing.T) {
	r, err := Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stacks) < 2 {
		t.Fatalf("found %d stack files", len(r.Stacks))
	}
	dev := r.Stacks[slices.IndexFunc(r.Stacks, func(s stackfiles.Stack) bool { return !s.Guarded })]
	dev.Stack, dev.DeployRole, dev.PreviewRole = "dev", "arn:aws:iam::123456789012:role/scrolluniversity-dev-deploy", "arn:aws:iam::123456789012:role/scrolluniversity-dev-preview"
	r.Stacks = append(r.Stacks, dev)
	ins, err := r.Instances()
	if err != nil {
		t.Fatal(err)
	}
	places := []struct{ where, command string }{
		{"pull-request.yml/preview[", "preview"}, {"pull-request.yml/cost[", ""}, {"drift.yml/drift[", "preview"},
		{"deploy.yml/preview[", "preview"},
	}
	for _, s := range r.Stacks {
		for _, p := range places {
			if !slices.ContainsFunc(ins, func(in Instance) bool {
				return strings.HasPrefix(in.Where, p.where+"matrix.stack="+s.Stack+"]") && in.Command == p.command
			}) {
				t.Errorf("stack %s has no instance of %s (command %q)", s.Stack, p.where, p.command)
			}
		}
		deployJob := map[bool]string{true: "guarded", false: "unguarded"}[s.Guarded]
		if !slices.ContainsFunc(ins, func(in Instance) bool {
			return strings.HasPrefix(in.Where, "deploy.yml/"+deployJob+"[matrix.stack="+s.Stack+"] -> ") && in.Command == "up" && in.Stack == s.Stack && in.Environment == s.Stack
		}) {
			t.Errorf("stack %s is not deployed by deploy.yml/%s in its environment", s.Stack, deployJob)
		}
	}
}
