package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scrolluniversity/platform/infra/config"
)

// readmeCommands are the commands of a Markdown text's sh code blocks, one
// per line, comments and blank lines left out.
func readmeCommands(text string) []string {
	var out []string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1) {
		for _, line := range strings.Split(block[1], "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				out = append(out, line)
			}
		}
	}
	return out
}

var envPrefix = regexp.MustCompile(`^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+`)

// ciCommands are .ci/run's command lines, continuations joined and the
// environment assignments in front of them left out.
func ciCommands(text string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		out = append(out, envPrefix.ReplaceAllString(line, ""))
	}
	return out
}

// unrun splits the README's commands into those .ci/run runs as written
// and those this test must run itself.
func unrun(readme, ci string) (inCI, toRun []string) {
	have := ciCommands(ci)
	for _, c := range readmeCommands(readme) {
		if slices.Contains(have, envPrefix.ReplaceAllString(c, "")) {
			inCI = append(inCI, c)
		} else {
			toRun = append(toRun, c)
		}
	}
	return inCI, toRun
}

// The README is a map: under 250 lines, its links resolve and reach every
// page of docs/, the Kubernetes range it states is the code's, and every
// command in its code blocks is run, by .ci/run as written there or here.
func TestReadmeIsAMapWhoseCommandsRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if n := strings.Count(readme, "\n"); n >= 250 {
		t.Errorf("README.md has %d lines; keep it under 250 and move the rest to docs/", n)
	}
	for _, l := range regexp.MustCompile(`\]\(([^)#]+)(#[^)]*)?\)`).FindAllStringSubmatch(readme, -1) {
		if _, err := os.Stat(filepath.Join(repoRoot, l[1])); err != nil {
			t.Errorf("README.md links %s, which does not exist", l[1])
		}
	}
	pages, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	for _, p := range pages {
		if rel := "docs/" + filepath.Base(p); !strings.Contains(readme, rel) {
			t.Errorf("README.md does not point to %s", rel)
		}
	}
	if want := "`cluster.kubernetesVersion` may be " + config.MinKubernetesVersion + " or " + config.MaxKubernetesVersion; !strings.Contains(readme, want) {
		t.Errorf("README.md's Kubernetes range is not the code's: want %q", want)
	}

	ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	inCI, toRun := unrun(readme, string(ci))
	if !slices.Contains(inCI, "go test ./...") {
		t.Errorf("the README's test command is not the one .ci/run runs (README commands found in .ci/run: %v)", inCI)
	}
	for _, c := range toRun {
		t.Run(c, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", c)
			cmd.Dir = repoRoot
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("README.md's command %q: %v\n%s", c, err, tail(string(out), 40))
			}
		})
	}

	// The split trips: a command neither .ci/run nor this test runs as
	// written would be run here, and fail.
	_, planted := unrun("```sh\n# a comment\nFOO=1 go test ./...\npulumi up --stack dev\n```\n", "  X=1 \\\n  go test ./...\n")
	if !slices.Equal(planted, []string{"pulumi up --stack dev"}) {
		t.Errorf("planted: want only the pulumi command left to run, got %v", planted)
	}
}
