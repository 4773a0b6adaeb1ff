package infra

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNamer(t *testing.T) {
	n := Namer{Prefix: "scrolluniversity-production"}
	cases := []struct {
		parts []string
		want  string
	}{
		{[]string{"vpc"}, "scrolluniversity-production-vpc"},
		{[]string{"private", "us-east-1a"}, "scrolluniversity-production-private-us-east-1a"},
		{[]string{"admin", "Platform_Admins"}, "scrolluniversity-production-admin-platform-admins"},
		{[]string{"a/b", "", "c"}, "scrolluniversity-production-a-b--c"},
	}
	for _, tc := range cases {
		if got := n.Name(tc.parts...); got != tc.want {
			t.Errorf("Name(%q): want %s, got %s", tc.parts, tc.want, got)
		}
	}
}

func TestBaseTagsCannotBeOverridden(t *testing.T) {
	cfg := DefaultConfig("scrolluniversity", "staging")
	cfg.Tags = map[string]string{"CostCenter": "x", "Environment": "production"}
	tags := BaseTags(cfg)
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

func TestEKSTaintEffect(t *testing.T) {
	for in, want := range map[string]string{"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"} {
		if got := EKSTaintEffect(in); got != want {
			t.Errorf("EKSTaintEffect(%s): want %s, got %s", in, want, got)
		}
	}
}

func TestNodeVolumeDevice(t *testing.T) {
	for ami, want := range map[string]string{"AL2023_x86_64_STANDARD": "/dev/xvda", "AL2023_ARM_64_STANDARD": "/dev/xvda", "BOTTLEROCKET_x86_64": "/dev/xvdb"} {
		if got := NodeVolumeDevice(ami); got != want {
			t.Errorf("NodeVolumeDevice(%s): want %s, got %s", ami, want, got)
		}
	}
}

func TestKubeconfigUsesGetToken(t *testing.T) {
	s, err := Kubeconfig("c1", "https://x.eks.amazonaws.com", "Q0E=", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	var kc map[string]any
	if err := json.Unmarshal([]byte(s), &kc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, want := range []string{`"server": "https://x.eks.amazonaws.com"`, `"certificate-authority-data": "Q0E="`, `"command": "aws"`, `"--cluster-name",`, `"eu-west-1"`, `"current-context": "c1"`} {
		if !strings.Contains(s, want) {
			t.Errorf("kubeconfig lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "token:") || strings.Contains(s, `"token"`) {
		t.Errorf("kubeconfig embeds a static token")
	}
}
