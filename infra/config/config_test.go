package config

import "testing"

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
