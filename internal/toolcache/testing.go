package toolcache

import (
	"os"
	"os/exec"
	"testing"
)

// ForTest returns the set's built binaries to a test. When they are not
// built the test is skipped, or fails when the environment variable
// required is "1" (as .ci/run sets it), naming what is missing.
func (s Set) ForTest(t testing.TB, what, required string) map[string]string {
	t.Helper()
	paths, err := s.Cached()
	if err != nil {
		t.Fatal(err)
	}
	if paths == nil {
		Missing(t, required, what+" not built", "go run ./cmd/buildtools")
	}
	return paths
}

// Installed returns the path of a program a test needs from the machine
// (a Debian package, say), or ends the test as Missing does.
func Installed(t testing.TB, program, required, install string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		Missing(t, required, program+" is not installed", install)
	}
	return path
}

// Missing ends a test that lacks a tool: it fails when the environment
// variable required is "1" (as .ci/run sets it, so that CI never passes by
// skipping), and is skipped otherwise. fix says how to get the tool.
func Missing(t testing.TB, required, what, fix string) {
	t.Helper()
	if os.Getenv(required) == "1" {
		t.Fatalf("%s (%s)", what, fix)
	}
	t.Skipf("%s (%s)", what, fix)
}
