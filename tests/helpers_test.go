// Package tests runs the whole program, per stack, under the shared mock
// engine (internal/synth) with the real Pulumi.<stack>.yaml, and asserts on
// what it registered. It is black-box: exported API and the recorded graph.
package tests

import (
	"cmp"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

// repoRoot is the repository: Pulumi.yaml, the stack files, the policy
// pack's configs, the tools.
const repoRoot = ".."

// stacksRoot holds the Pulumi.yaml and stack files the whole-program tests
// run: the repository's, or a copy given in $SCROLLUNIVERSITY_TEST_STACKS_DIR
// (the copies TestANewStackFileIsCoveredAsItIs and
// TestRaisingAMaximumNeedsNoTestEdit make and run these tests on).
var stacksRoot = cmp.Or(os.Getenv(envStacksDir), repoRoot)

const (
	envStacksDir  = "SCROLLUNIVERSITY_TEST_STACKS_DIR"
	envStacksOnly = "SCROLLUNIVERSITY_TEST_STACKS"
)

// stacks are the stacks of stacksRoot, one per Pulumi.<stack>.yaml (or
// the comma-separated ones of $SCROLLUNIVERSITY_TEST_STACKS); every
// whole-program test runs against each.
var stacks = func() []string {
	all := synth.Stacks(stacksRoot)
	only := os.Getenv(envStacksOnly)
	if only == "" {
		return all
	}
	var out []string
	for _, s := range strings.Split(only, ",") {
		if slices.Contains(all, s) {
			out = append(out, s)
		}
	}
	return out
}()

var (
	runsMu sync.Mutex
	runs   = map[string]*synth.Result{}
)

// loadStack reads a shipped stack file.
func loadStack(t *testing.T, name string) *synth.Stack {
	t.Helper()
	s, err := synth.LoadStack(stacksRoot, name)
	if err != nil {
		t.Fatalf("loading stack %s: %v", name, err)
	}
	return s
}

// synthesize runs the program for a shipped stack once per test binary and
// shares the result: the program is deterministic, so every test sees the
// same graph.
func synthesize(t *testing.T, name string) *synth.Result {
	t.Helper()
	runsMu.Lock()
	defer runsMu.Unlock()
	if res, ok := runs[name]; ok {
		return res
	}
	res, err := synth.Run(loadStack(t, name), infra.Deploy)
	if err != nil {
		t.Fatalf("synthesizing stack %s: %v", name, err)
	}
	runs[name] = res
	return res
}

// stackConfig parses a shipped stack's config the way the program does.
func stackConfig(t *testing.T, name string) *config.Config {
	t.Helper()
	s := loadStack(t, name)
	cfg, err := config.Parse(s.Project, s.Name, s.Config)
	if err != nil {
		t.Fatalf("parsing stack %s: %v", name, err)
	}
	return cfg
}

// forEachStack runs a subtest per shipped stack.
func forEachStack(t *testing.T, fn func(t *testing.T, name string, res *synth.Result, cfg *config.Config)) {
	t.Helper()
	for _, name := range stacks {
		t.Run(name, func(t *testing.T) {
			fn(t, name, synthesize(t, name), stackConfig(t, name))
		})
	}
}

// one returns the only resource of a type with a name, or fails.
func one(t *testing.T, res *synth.Result, typ, name string) synth.Resource {
	t.Helper()
	r, ok := res.Find(typ, name)
	if !ok {
		t.Fatalf("no %s named %q", typ, name)
	}
	return r
}

// path digs into plain values: path(m, "vpcConfig", "publicAccessCidrs").
// It is the policy rules' walk, so tests read resources as the rules do.
func path(v any, keys ...string) any { return rules.Get(v, keys...) }

// strs converts a plain []any of strings (or passes a []string through:
// stack output values keep their Go types).
func strs(v any) []string {
	if s, ok := v.([]string); ok {
		return s
	}
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// policyDoc is an IAM policy document as the AWS provider renders it.
type policyDoc struct {
	Statement []struct {
		Effect    string
		Action    any
		Resource  any
		Principal map[string]any
		Condition map[string]map[string]any
	}
}

func parsePolicy(t *testing.T, doc any) policyDoc {
	t.Helper()
	s, ok := doc.(string)
	if !ok {
		t.Fatalf("policy is %T, want a JSON string", doc)
	}
	var p policyDoc
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, s)
	}
	return p
}

// list normalizes an IAM field that is a string or a list of strings.
func list(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		return strs(x)
	}
	return nil
}

// expectations name values that must be equal: what -> {got, want}.
type expectations map[string]struct{ got, want any }

// expectAll reports every expectation of a subject that does not hold.
func expectAll(t *testing.T, subject string, e expectations) {
	t.Helper()
	for what, c := range e {
		if c.got != c.want {
			t.Errorf("%s %s: want %v, got %v", subject, what, c.want, c.got)
		}
	}
}
