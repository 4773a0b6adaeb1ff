package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAWSTagsCannotOverrideOwnership(t *testing.T) {
	cfg := Defaults("scrolluniversity", "staging")
	cfg.Tags = map[string]string{"CostCenter": "x", "Environment": "production"}
	tags := cfg.AWSTags()
	want := map[string]string{"CostCenter": "x", "Environment": "staging", "Project": "scrolluniversity", "ManagedBy": "pulumi"}
	if len(tags) != len(want) {
		t.Fatalf("want %v, got %v", want, tags)
	}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("tag %s: want %q, got %q", k, v, tags[k])
		}
	}
}

func TestKubernetesVersionWindow(t *testing.T) {
	cases := map[string]bool{
		MinKubernetesVersion: true, MaxKubernetesVersion: true, DefaultKubernetesVersion: true,
		"1.32": false, "1.37": false, "1.34.1": false, "v1.34": false, "2.0": false, "": false,
	}
	for v, want := range cases {
		if got := kubernetesVersionSupported(v); got != want {
			t.Errorf("kubernetesVersionSupported(%q): want %v, got %v", v, want, got)
		}
	}
}

// Without a stack file to point into (a program under `pulumi up` run
// elsewhere), a problem still shows the value it got.
func TestProblemsWithoutAFileShowTheValue(t *testing.T) {
	_, err := Parse("scrolluniversity", "x", map[string]string{
		"aws:region":               "us-east-1",
		"scrolluniversity:network": `{"natGateway": "perZone", "flowLogRetentionDays": "many"}`,
	})
	for _, want := range []string{
		`config scrolluniversity:network.natGateway = "perZone": unknown key; did you mean natGateways?`,
		`config scrolluniversity:network.flowLogRetentionDays = "many": want a whole number`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in\n%v", want, err)
		}
	}
}

// Under `pulumi up` the program finds its stack file in the working
// directory and names lines; without the file, problems keep their keys.
func TestLocateInDir(t *testing.T) {
	dir := t.TempDir()
	stack := "config:\n  aws:region: us-east-1\n  scrolluniversity:network:\n    natGateway: single\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.qa.yaml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("scrolluniversity", "qa", map[string]string{"aws:region": "us-east-1", "scrolluniversity:network": `{"natGateway": "single"}`})
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("want Problems, got %v", err)
	}
	want := "Pulumi.qa.yaml:4: scrolluniversity:network.natGateway = single: unknown key; did you mean natGateways?"
	if got := LocateInDir(dir, "qa", ps).Error(); !strings.Contains(got, want) {
		t.Errorf("want %q in\n%s", want, got)
	}
	if got := LocateInDir(t.TempDir(), "qa", ps).Error(); !strings.Contains(got, `config scrolluniversity:network.natGateway = "single": unknown key`) {
		t.Errorf("without a file: got\n%s", got)
	}
}
