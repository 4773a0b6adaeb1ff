package toolcache

import (
	"os"
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
		if os.Getenv(required) == "1" {
			t.Fatalf("%s not built: run go run ./cmd/buildtools", what)
		}
		t.Skipf("%s not built (go run ./cmd/buildtools)", what)
	}
	return paths
}
