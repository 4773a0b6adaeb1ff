package synth

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpShowsOnlyTheSynthesizersFlags(t *testing.T) {
	// The hazard is real in this binary: the Pulumi SDK registers its
	// logging flags on the default flag set, which ParseArgs must not use.
	if flag.CommandLine.Lookup("logtostderr") == nil {
		t.Fatalf("expected the Pulumi SDK's logging flags on flag.CommandLine; this test no longer proves anything")
	}
	var out bytes.Buffer
	_, err := ParseArgs([]string{"--help"}, &out)
	if !IsHelp(err) {
		t.Fatalf("--help: want ErrHelp, got %v", err)
	}
	for _, want := range []string{"Usage: go run ./cmd/synth --stack NAME", "-stack", "-out", "-dir", "-policy-config"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help: want %q in\n%s", want, out.String())
		}
	}
	for _, unwanted := range []string{"logtostderr", "alsologtostderr", "go-build", "/tmp/"} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("--help shows %q:\n%s", unwanted, out.String())
		}
	}
}

func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"--stack", "staging"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Out != filepath.Join("build", "synth", "staging") || o.PolicyConfig != filepath.Join(".", "policy", "config.staging.json") {
		t.Errorf("defaults: got %+v", o)
	}
	_, err = ParseArgs(nil, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--stack is required") {
		t.Errorf("no --stack: want it named as required, got %v", err)
	}
	_, err = ParseArgs([]string{"--stack", "staging", "extra"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("a stray argument: want it named, got %v", err)
	}
}
