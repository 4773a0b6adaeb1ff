package tests

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/internal/stackfiles"
	"github.com/scrolluniversity/platform/internal/synth"
)

// The two tests here run this package's per-stack tests again, in a child
// of this test binary, on a copy of the stack files: one with a stack file
// added, one with production's backend raised to the most validation
// allows. Each passes only if no test needs an edit for it.

// perStackTests are this package's tests that run per stack (they call
// forEachStack or range over stacks), read from its source so that a test
// added later is included without an edit here.
func perStackTests(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Recv != nil || copyTests[fn.Name.Name] {
				continue
			}
			perStack := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && (id.Name == "forEachStack" || id.Name == "stacks") {
					perStack = true
				}
				return !perStack
			})
			if perStack {
				out = append(out, fn.Name.Name)
			}
		}
	}
	slices.Sort(out)
	if len(out) < 40 {
		t.Fatalf("found %d per-stack tests, want the 40 or more this package has", len(out))
	}
	return out
}

var copyTests = map[string]bool{"TestANewStackFileIsCoveredAsItIs": true, "TestRaisingAMaximumNeedsNoTestEdit": true}

// stackCopy writes Pulumi.yaml and the shipped stack files, with edits
// (file name to its new text, "" to leave out), to a fresh folder.
func stackCopy(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(repoRoot, "Pulumi*.yaml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range edits {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runPerStackTests runs every per-stack test on the copy's stacks named,
// in a child of this test binary, and fails with its output if any fails.
func runPerStackTests(t *testing.T, dir string, only ...string) {
	t.Helper()
	names := perStackTests(t)
	cmd := exec.Command(os.Args[0], "-test.run", "^("+strings.Join(names, "|")+")$", "-test.count=1", "-test.timeout=20m")
	cmd.Env = append(os.Environ(), envStacksDir+"="+dir, envStacksOnly+"="+strings.Join(only, ","))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the per-stack tests on %v of %s failed (%v); a test that needs an edit for it asserts a figure instead of a relation:\n%s", only, dir, err, tail(string(out), 120))
	}
	t.Logf("%d per-stack tests passed on %v", len(names), only)
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// A new stack file alone makes CI synthesize, test and check it: .ci/run
// finds it, and every per-stack test passes on it with no table to fill
// in. The new stack is staging's file renamed dev (its names, roles and
// tags), as a team adding an environment would start.
func TestANewStackFileIsCoveredAsItIs(t *testing.T) {
	staging, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.staging.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dev := strings.ReplaceAll(string(staging), "staging", "dev")
	dev = strings.Replace(dev, "vpcCidr: 10.10.0.0/16", "vpcCidr: 10.30.0.0/16", 1)
	dir := stackCopy(t, map[string]string{"Pulumi.dev.yaml": dev})

	// .ci/run's list of stacks, run as it is written there.
	ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	loop := regexp.MustCompile(`(?m)^for f in Pulumi\.\*\.yaml; do .*; done$`).FindString(string(ci))
	if loop == "" {
		t.Fatal(".ci/run has no `for f in Pulumi.*.yaml; do ...; done` line listing the stacks")
	}
	cmd := exec.Command("bash", "-c", "stacks=()\n"+loop+"\necho \"${stacks[*]}\"")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf(".ci/run's stack list: %v", err)
	}
	if got := strings.Fields(string(out)); !slices.Contains(got, "dev") || !slices.Equal(got, synth.Stacks(dir)) {
		t.Errorf(".ci/run lists %v; want every stack file's, %v", got, synth.Stacks(dir))
	}

	runPerStackTests(t, dir, "dev")
}

// Raising a stack's maximum needs no test edit: production's backend is
// raised to the most that validation allows (its node pool and quota
// bound it), and every per-stack test passes on the copy.
func TestRaisingAMaximumNeedsNoTestEdit(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(    backend:\n(?:      .*\n)*?      maxReplicas: )(\d+)$`)
	m := re.FindStringSubmatch(string(orig))
	if m == nil {
		t.Fatal("Pulumi.production.yaml: no app.backend.maxReplicas line")
	}
	current, _ := strconv.Atoi(m[2])
	with := func(n int) string { return re.ReplaceAllString(string(orig), "${1}"+strconv.Itoa(n)) }
	valid := func(n int) bool {
		dir := stackCopy(t, map[string]string{"Pulumi.production.yaml": with(n)})
		s, err := synth.LoadStack(dir, "production")
		if err != nil {
			t.Fatal(err)
		}
		_, err = synth.Check(s)
		return err == nil
	}
	most := current
	for valid(most + 1) {
		most++
	}
	if most == current {
		t.Fatalf("production's backend maxReplicas %d is already the most validation allows; this test needs room to raise it", current)
	}
	t.Logf("production's backend maxReplicas raised from %d to %d, the most validation allows", current, most)
	runPerStackTests(t, stackCopy(t, map[string]string{"Pulumi.production.yaml": with(most)}), "production")
}

// What the delivery reads of a stack file (internal/stackfiles, a YAML
// reader of a few keys) is what the program reads of it.
func TestStackFilesReadAsTheProgramDoes(t *testing.T) {
	for _, name := range stacks {
		s, err := stackfiles.ReadOne(stacksRoot, name)
		if err != nil {
			t.Fatal(err)
		}
		cfg := stackConfig(t, name)
		if s.Guarded != cfg.Guards.Protect || s.Region != cfg.Region || s.DeployRole != cfg.Cluster.DeployerRoleArn || !slices.Contains(cfg.Cluster.ViewerRoleArns, s.PreviewRole) {
			t.Errorf("stack %s: the delivery reads %+v; the program guards.protect %v, region %s, deployer %s, viewers %v",
				name, s, cfg.Guards.Protect, cfg.Region, cfg.Cluster.DeployerRoleArn, cfg.Cluster.ViewerRoleArns)
		}
	}
}
