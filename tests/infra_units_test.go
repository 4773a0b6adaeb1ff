package tests

import (
	"encoding/json"
	"github.com/scrolluniversity/platform/infra/foundation"
	"strings"
	"testing"
)

func TestEKSTaintEffect(t *testing.T) {
	for in, want := range map[string]string{"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"} {
		if got := foundation.EKSTaintEffect(in); got != want {
			t.Errorf("foundation.EKSTaintEffect(%s): want %s, got %s", in, want, got)
		}
	}
}

func TestNodeVolumeDevice(t *testing.T) {
	for ami, want := range map[string]string{"AL2023_x86_64_STANDARD": "/dev/xvda", "AL2023_ARM_64_STANDARD": "/dev/xvda", "BOTTLEROCKET_x86_64": "/dev/xvdb"} {
		if got := foundation.NodeVolumeDevice(ami); got != want {
			t.Errorf("foundation.NodeVolumeDevice(%s): want %s, got %s", ami, want, got)
		}
	}
}

func TestKubeconfigUsesGetToken(t *testing.T) {
	s, err := foundation.Kubeconfig("c1", "https://x.eks.amazonaws.com", "Q0E=", "eu-west-1")
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
