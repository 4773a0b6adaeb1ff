package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/internal/stackfiles"
)

// The model of GitHub Actions this package checks the workflows with: for
// every job as it really runs (reusable workflows expanded with their
// callers' inputs, one instance per matrix value or dispatch choice), the
// OIDC token subject GitHub gives it, the role it assumes, the stack it
// acts on, the permissions it holds and the ones its steps use.
//
// The subject follows GitHub's documented formats ("OpenID Connect
// reference", subject claims): a job in an environment gets
// repo:<repo>:environment:<name> whatever the event; otherwise a
// pull_request event gets repo:<repo>:pull_request, and a push, schedule
// or workflow_dispatch run gets repo:<repo>:ref:<the ref it ran on>
// (schedule always the default branch; the push trigger here is main
// only; a dispatch may be started on any branch, so it is checked on main
// and on another branch).

// Workflow is the part of a workflow file read here.
type Workflow struct {
	On          map[string]any `yaml:"on"`
	Permissions any            `yaml:"permissions"`
	Jobs        map[string]Job `yaml:"jobs"`
}

// Job is one job of a workflow file.
type Job struct {
	If          string            `yaml:"if"`
	RunsOn      any               `yaml:"runs-on"`
	Timeout     int               `yaml:"timeout-minutes"`
	Environment string            `yaml:"environment"`
	Permissions map[string]string `yaml:"permissions"`
	Concurrency map[string]any    `yaml:"concurrency"`
	Needs       any               `yaml:"needs"`
	Outputs     map[string]string `yaml:"outputs"`
	Strategy    struct {
		Matrix map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Uses    string            `yaml:"uses"`
	With    map[string]any    `yaml:"with"`
	Secrets any               `yaml:"secrets"`
	Env     map[string]string `yaml:"env"`
	Steps   []Step            `yaml:"steps"`
}

// Step is one step.
type Step struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	With map[string]any    `yaml:"with"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
}

// Action is a local composite action.
type Action struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Steps []Step `yaml:"steps"`
	} `yaml:"runs"`
}

// Repo is the workflows and local actions of a repository, and its stack
// files (the matrices cmd/stacks gives the workflows).
type Repo struct {
	Workflows map[string]Workflow
	Actions   map[string]Action
	Stacks    []stackfiles.Stack
}

// Load reads .github/workflows/*.yml, .github/actions/*/action.yml and the
// stack files.
func Load(root string) (*Repo, error) {
	stacks, err := stackfiles.Read(root)
	if err != nil {
		return nil, err
	}
	r := &Repo{Workflows: map[string]Workflow{}, Actions: map[string]Action{}, Stacks: stacks}
	files, _ := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	for _, f := range files {
		var w Workflow
		if err := readYAML(f, &w); err != nil {
			return nil, err
		}
		r.Workflows[filepath.Base(f)] = w
	}
	actions, _ := filepath.Glob(filepath.Join(root, ".github", "actions", "*", "action.yml"))
	for _, f := range actions {
		var a Action
		if err := readYAML(f, &a); err != nil {
			return nil, err
		}
		r.Actions["./.github/actions/"+filepath.Base(filepath.Dir(f))] = a
	}
	if len(r.Workflows) == 0 {
		return nil, fmt.Errorf("no workflows under %s", root)
	}
	return r, nil
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Role is what the check needs of one of the bootstrap's roles.
type Role struct {
	Name, Environment string
	Deploy            bool
	Subjects          []string
}

// Instance is one job as it runs: file/job[binding].
type Instance struct {
	Where       string
	Events      []string
	Environment string
	Permissions map[string]string
	RunsOn      []string
	Timeout     int
	// Steps are the job's steps with local actions expanded and every
	// ${{ inputs.* }} and ${{ matrix.* }} of the binding substituted.
	Steps []Step
	// Stack is the stack it acts on ("" for none).
	Stack string
	// RoleName is the name of the role it assumes ("" for none), from the
	// ARN the stack file gives; RoleDuration its role-duration-seconds.
	RoleName     string
	RoleDuration int
	// Command is the Pulumi command it runs (up, preview; "" for none).
	Command string
}

var exprRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// Instances expands every job of every triggered workflow.
func (r *Repo) Instances() ([]Instance, error) {
	var out []Instance
	for _, file := range sortedKeys((r.Workflows)) {
		w := r.Workflows[file]
		if _, called := w.On["workflow_call"]; called && len(w.On) == 1 {
			continue // expanded from its callers
		}
		events := sortedKeys((w.On))
		for _, name := range sortedKeys((w.Jobs)) {
			job := w.Jobs[name]
			bs, err := r.bindings(file, w, job)
			if err != nil {
				return nil, err
			}
			for _, b := range bs {
				if job.Uses != "" {
					callee, ok := r.Workflows[strings.TrimPrefix(job.Uses, "./.github/workflows/")]
					if !ok {
						return nil, fmt.Errorf("%s/%s uses %s, which is not in the repository", file, name, job.Uses)
					}
					inputs := map[string]string{}
					for k, v := range job.With {
						inputs["inputs."+k] = substitute(fmt.Sprint(v), b)
					}
					for _, cname := range sortedKeys((callee.Jobs)) {
						cj := callee.Jobs[cname]
						inst, err := r.instance(fmt.Sprintf("%s/%s%s -> %s/%s", file, name, describe(b), job.Uses, cname), events, cj, inputs)
						if err != nil {
							return nil, err
						}
						// A called workflow's jobs get at most what the caller grants.
						inst.Permissions = intersect(inst.Permissions, job.Permissions)
						out = append(out, inst)
					}
					continue
				}
				inst, err := r.instance(fmt.Sprintf("%s/%s%s", file, name, describe(b)), events, job, b)
				if err != nil {
					return nil, err
				}
				out = append(out, inst)
			}
		}
	}
	return out, nil
}

// describe names a binding by its stack.
func describe(b map[string]string) string {
	for _, k := range []string{"matrix.stack", "inputs.stack"} {
		if v, ok := b[k]; ok {
			return "[" + k + "=" + v + "]"
		}
	}
	return ""
}

var (
	fromJSONRE  = regexp.MustCompile(`^\$\{\{\s*fromJSON\((.*)\)\s*\}\}$`)
	needsOutRE  = regexp.MustCompile(`needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`)
	stepOutRE   = regexp.MustCompile(`^\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}$`)
	guardedFlag = regexp.MustCompile(`--guarded=(true|false)\b`)
)

// stackMatrix is what a matrix include of fromJSON(needs.<job>.outputs.<o>)
// holds: the job's step that writes <o> must run cmd/stacks, whose
// filter (stackfiles.Select, with --guarded; --stack is a dispatch's
// choice, so any stack) is applied to the stack files here. An expression
// naming several outputs (a || between them) is the union.
func (r *Repo) stackMatrix(file string, w Workflow, expr string) ([]map[string]string, error) {
	refs := needsOutRE.FindAllStringSubmatch(expr, -1)
	if len(refs) == 0 {
		return nil, fmt.Errorf("%s: matrix include %q is not fromJSON(needs.<job>.outputs.<name>)", file, expr)
	}
	seen := map[string]bool{}
	var out []map[string]string
	for _, ref := range refs {
		job, ok := w.Jobs[ref[1]]
		if !ok {
			return nil, fmt.Errorf("%s: matrix from needs.%s, which is no job", file, ref[1])
		}
		m := stepOutRE.FindStringSubmatch(job.Outputs[ref[2]])
		if m == nil {
			return nil, fmt.Errorf("%s: job %s's output %s is not one step's output", file, ref[1], ref[2])
		}
		var run string
		for _, st := range job.Steps {
			if st.ID == m[1] {
				run = st.Run
			}
		}
		line := regexp.MustCompile(`(?m)^.*\b` + regexp.QuoteMeta(m[2]) + `=\$\(go run \./cmd/stacks\b([^)]*)\).*$`).FindStringSubmatch(run)
		if line == nil {
			return nil, fmt.Errorf("%s: job %s's step %s does not write %s from go run ./cmd/stacks", file, ref[1], m[1], m[2])
		}
		var guarded *bool
		if g := guardedFlag.FindStringSubmatch(line[1]); g != nil {
			b := g[1] == "true"
			guarded = &b
		}
		sel, err := stackfiles.Select(r.Stacks, guarded, "")
		if err != nil {
			return nil, err
		}
		for _, s := range sel {
			if seen[s.Stack] {
				continue
			}
			seen[s.Stack] = true
			out = append(out, map[string]string{
				"matrix.stack": s.Stack, "matrix.region": s.Region, "matrix.guarded": fmt.Sprint(s.Guarded),
				"matrix.deployRole": s.DeployRole, "matrix.previewRole": s.PreviewRole,
				"matrix.previewEnvironment": s.PreviewEnvironment, "matrix.policyConfig": s.PolicyConfig,
			})
		}
	}
	return out, nil
}

// bindings are the values a job runs with: one per stack of a matrix
// from cmd/stacks, one per matrix stack value, one per dispatch choice of
// inputs.stack, or none.
func (r *Repo) bindings(file string, w Workflow, job Job) ([]map[string]string, error) {
	if inc, ok := job.Strategy.Matrix["include"].(string); ok {
		m := fromJSONRE.FindStringSubmatch(inc)
		if m == nil {
			return nil, fmt.Errorf("%s: matrix include %q is not fromJSON(...)", file, inc)
		}
		return r.stackMatrix(file, w, m[1])
	}
	return bindings(w, job), nil
}

func bindings(w Workflow, job Job) []map[string]string {
	if stacks, ok := job.Strategy.Matrix["stack"].([]any); ok {
		var out []map[string]string
		for _, s := range stacks {
			out = append(out, map[string]string{"matrix.stack": fmt.Sprint(s)})
		}
		return out
	}
	if d, ok := w.On["workflow_dispatch"].(map[string]any); ok {
		if in, ok := d["inputs"].(map[string]any); ok {
			if stack, ok := in["stack"].(map[string]any); ok {
				if opts, ok := stack["options"].([]any); ok && strings.Contains(fmt.Sprint(job.Steps, job.With), "inputs.stack") {
					var out []map[string]string
					for _, o := range opts {
						out = append(out, map[string]string{"inputs.stack": fmt.Sprint(o)})
					}
					return out
				}
			}
		}
	}
	return []map[string]string{{}}
}

func (r *Repo) instance(where string, events []string, job Job, b map[string]string) (Instance, error) {
	inst := Instance{Where: where, Events: events, Environment: substitute(job.Environment, b), Permissions: job.Permissions, Timeout: job.Timeout}
	switch ro := job.RunsOn.(type) {
	case string:
		inst.RunsOn = []string{ro}
	case []any:
		for _, l := range ro {
			inst.RunsOn = append(inst.RunsOn, fmt.Sprint(l))
		}
	}
	for _, s := range job.Steps {
		s = substituteStep(s, b)
		if a, ok := r.Actions[s.Uses]; ok {
			in := map[string]string{}
			for k, v := range a.Inputs {
				if v.Default != "" {
					in["inputs."+k] = v.Default
				}
			}
			for k, v := range s.With {
				in["inputs."+k] = fmt.Sprint(v)
			}
			for _, as := range a.Runs.Steps {
				as = substituteStep(as, in)
				inst.Steps = append(inst.Steps, as)
			}
			continue
		}
		inst.Steps = append(inst.Steps, s)
	}
	for _, s := range inst.Steps {
		switch action(s.Uses) {
		case "aws-actions/configure-aws-credentials":
			v := fmt.Sprint(s.With["role-to-assume"])
			m := regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/([A-Za-z0-9+=,.@_-]+)$`).FindStringSubmatch(v)
			if m == nil {
				return inst, fmt.Errorf("%s: role-to-assume %q is not a role ARN of a stack file (matrix.deployRole or matrix.previewRole, from cmd/stacks)", where, v)
			}
			inst.RoleName = m[1]
			fmt.Sscan(fmt.Sprint(s.With["role-duration-seconds"]), &inst.RoleDuration)
			if inst.RoleDuration == 0 {
				inst.RoleDuration = 3600 // the action's default
			}
		case "pulumi/actions":
			if c, ok := s.With["command"]; ok {
				inst.Command = fmt.Sprint(c)
				inst.Stack = fmt.Sprint(s.With["stack-name"])
			}
		}
		if m := regexp.MustCompile(`pulumi (preview|up|refresh|destroy)\b.*--stack "?\$?\{?([A-Za-z]+)`).FindStringSubmatch(s.Run); m != nil {
			inst.Command = m[1]
			inst.Stack = b["matrix.stack"]
		}
	}
	return inst, nil
}

// action is an action reference without its version.
func action(uses string) string {
	if i := strings.Index(uses, "@"); i >= 0 {
		return uses[:i]
	}
	return uses
}

// substitute evaluates the expressions the workflows use with a binding:
// ${{ inputs.x }}, ${{ matrix.x }} and ${{ <binding> == 'v' && A || B }};
// anything else is left as written.
func substitute(s string, b map[string]string) string {
	cond := regexp.MustCompile(`^([a-z]+\.[a-z-]+) == '([^']*)' && (\S+) \|\| (\S+)$`)
	return exprRE.ReplaceAllStringFunc(s, func(e string) string {
		inner := exprRE.FindStringSubmatch(e)[1]
		if v, ok := b[inner]; ok {
			return v
		}
		if m := cond.FindStringSubmatch(inner); m != nil {
			if v, ok := b[m[1]]; ok {
				pick := m[4]
				if v == m[2] {
					pick = m[3]
				}
				if bv, ok := b[pick]; ok {
					return bv
				}
				return "${{ " + pick + " }}"
			}
		}
		return e
	})
}

func substituteStep(s Step, b map[string]string) Step {
	out := s
	out.With = map[string]any{}
	for k, v := range s.With {
		out.With[k] = substitute(fmt.Sprint(v), b)
	}
	out.Env = map[string]string{}
	for k, v := range s.Env {
		out.Env[k] = substitute(v, b)
	}
	out.Run = substitute(s.Run, b)
	return out
}

func intersect(callee, caller map[string]string) map[string]string {
	rank := map[string]int{"none": 0, "read": 1, "write": 2}
	out := map[string]string{}
	for k, v := range callee {
		if c, ok := caller[k]; ok {
			if rank[c] < rank[v] {
				v = c
			}
			if v != "none" {
				out[k] = v
			}
		}
	}
	return out
}

// Subjects are the token subjects an instance's runs carry, each with
// whether it is the intended one (false: a dispatch from another branch,
// which must not be trusted).
func (i Instance) Subjects(repo string) map[string]bool {
	if i.Environment != "" {
		return map[string]bool{"repo:" + repo + ":environment:" + i.Environment: true}
	}
	out := map[string]bool{}
	for _, e := range i.Events {
		switch e {
		case "pull_request":
			out["repo:"+repo+":pull_request"] = true
		case "push", "schedule":
			out["repo:"+repo+":ref:refs/heads/main"] = true
		case "workflow_dispatch":
			out["repo:"+repo+":ref:refs/heads/main"] = true
			out["repo:"+repo+":ref:refs/heads/some-branch"] = false
		}
	}
	return out
}

// DeliveryLabel is the delivery runners' label: every job that talks to
// a cluster runs there.
const DeliveryLabel = "scrolluniversity-delivery"

// CheckIdentity derives every instance's subjects and role and checks
// them against the roles' trust: every job that assumes a role can (its
// intended subject is trusted, the role is of the stack it acts on, a
// deploy role only for `up` in the stack's environment, with credentials
// outlasting the job), no run from another ref can, and no role trusts a
// subject no job of its has.
func CheckIdentity(instances []Instance, roles []Role, repo string) []string {
	var problems []string
	byName := map[string]Role{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	used := map[string]bool{} // role + " " + subject
	for _, in := range instances {
		if in.RoleName == "" {
			if in.Permissions["id-token"] == "write" {
				problems = append(problems, in.Where+": holds id-token: write but assumes no role")
			}
			if in.Command != "" {
				problems = append(problems, fmt.Sprintf("%s: runs pulumi %s without a role", in.Where, in.Command))
			}
			continue
		}
		role, ok := byName[in.RoleName]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: assumes %s, which no bootstrap role is", in.Where, in.RoleName))
			continue
		}
		if in.Permissions["id-token"] != "write" {
			problems = append(problems, in.Where+": assumes a role without id-token: write")
		}
		if in.Stack != role.Environment {
			problems = append(problems, fmt.Sprintf("%s: acts on stack %q with %s, a role of %s", in.Where, in.Stack, in.RoleName, role.Environment))
		}
		if role.Deploy && (in.Command != "up" || in.Environment != role.Environment) {
			problems = append(problems, fmt.Sprintf("%s: the deploy role %s outside an up in environment %s (command %q, environment %q)", in.Where, in.RoleName, role.Environment, in.Command, in.Environment))
		}
		if !role.Deploy && in.Command != "preview" {
			problems = append(problems, fmt.Sprintf("%s: the preview role %s for %q", in.Where, in.RoleName, in.Command))
		}
		if in.Command == "up" && in.RoleDuration < in.Timeout*60 {
			problems = append(problems, fmt.Sprintf("%s: credentials last %d s, the job up to %d s", in.Where, in.RoleDuration, in.Timeout*60))
		}
		if in.Command != "" && !slices.Contains(in.RunsOn, DeliveryLabel) {
			problems = append(problems, fmt.Sprintf("%s: runs pulumi %s on %v, which cannot reach the clusters; want %s", in.Where, in.Command, in.RunsOn, DeliveryLabel))
		}
		for sub, intended := range in.Subjects(repo) {
			trusted := slices.Contains(role.Subjects, sub)
			switch {
			case intended && !trusted:
				problems = append(problems, fmt.Sprintf("%s: its token says %s, which %s does not trust", in.Where, sub, in.RoleName))
			case !intended && trusted:
				problems = append(problems, fmt.Sprintf("%s: a run from another branch (%s) may assume %s", in.Where, sub, in.RoleName))
			case intended:
				used[in.RoleName+" "+sub] = true
			}
		}
	}
	for _, r := range roles {
		for _, s := range r.Subjects {
			if !used[r.Name+" "+s] {
				problems = append(problems, fmt.Sprintf("%s trusts %s, which no job that assumes it has", r.Name, s))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// NeededPermissions is what an instance's steps use, by the rules below.
func NeededPermissions(in Instance) map[string]string {
	need := map[string]string{}
	grant := func(k, v string) {
		if need[k] != "write" {
			need[k] = v
		}
	}
	for _, s := range in.Steps {
		text := s.Run + fmt.Sprint(s.With)
		switch action(s.Uses) {
		case "actions/checkout":
			grant("contents", "read")
		case "aws-actions/configure-aws-credentials":
			grant("id-token", "write")
		case "pulumi/actions":
			if s.With["comment-on-pr"] == "true" {
				grant("pull-requests", "write")
			}
		case "actions/github-script":
			if slices.Contains(in.Events, "pull_request") && strings.Contains(text, "issues.") {
				grant("pull-requests", "write") // comments on the pull request
			} else if regexp.MustCompile(`issues\.(create|update|createComment)\b`).MatchString(text) {
				grant("issues", "write")
			}
		}
		if strings.Contains(text, "drift\" busy") || strings.Contains(text, "drift busy") {
			grant("actions", "read")
		}
		if strings.Contains(text, "drift\" deployed") || strings.Contains(text, "drift deployed") {
			grant("deployments", "read")
		}
	}
	return need
}

// CheckPermissions says where a job holds more or less than its steps use,
// gives secrets, writes contents, or leaves checkout's token in .git.
func CheckPermissions(instances []Instance, repo *Repo) []string {
	var problems []string
	for _, in := range instances {
		need := NeededPermissions(in)
		for _, k := range sortedKeys((union(need, in.Permissions))) {
			if need[k] != in.Permissions[k] {
				problems = append(problems, fmt.Sprintf("%s: %s is %q, its steps use %q", in.Where, k, in.Permissions[k], need[k]))
			}
		}
		for _, s := range in.Steps {
			if action(s.Uses) == "actions/checkout" && s.With["persist-credentials"] != "false" {
				problems = append(problems, in.Where+": checkout leaves the job's token in .git/config (persist-credentials: false)")
			}
			for k, v := range s.Env {
				if strings.Contains(v, "secrets.") {
					problems = append(problems, fmt.Sprintf("%s: step env %s reads a secret; no job here uses one", in.Where, k))
				}
			}
		}
	}
	for _, file := range sortedKeys((repo.Workflows)) {
		for name, job := range repo.Workflows[file].Jobs {
			if job.Secrets != nil {
				problems = append(problems, fmt.Sprintf("%s/%s passes secrets to %s; no job here uses one", file, name, job.Uses))
			}
			for k, v := range job.Env {
				if strings.Contains(v, "secrets.") {
					problems = append(problems, fmt.Sprintf("%s/%s: env %s reads a secret; no job here uses one", file, name, k))
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func union(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
