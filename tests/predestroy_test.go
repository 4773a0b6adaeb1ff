package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeTools writes pulumi, aws and kubectl stand-ins that log every call
// and answer from the script's environment: LEFT_<name> is how many more
// times a "get"/"get-resources" of that kind still finds something.
func fakeTools(t *testing.T) (dir, log string) {
	t.Helper()
	dir = t.TempDir()
	log = filepath.Join(dir, "calls.log")
	tool := `#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "` + log + `"
count() { # count <name>: prints "found" while the counter file says so
  f="` + dir + `/left-$1"; n=$(cat "$f" 2>/dev/null || echo 0)
  if [ "$n" -gt 0 ]; then echo $((n-1)) > "$f"; echo "found-$1"; fi
}
case "$(basename "$0") $1 $2" in
  "pulumi stack output") echo scrolluniversity-staging ;;
  "pulumi config get") echo us-east-1 ;;
  "kubectl get services") count services ;;
  "kubectl get persistentvolumes") count volumes ;;
  "aws resourcegroupstaggingapi get-resources")
    case "$*" in *elbv2.k8s.aws/cluster*) count lb ;; *) count ebs ;; esac ;;
esac
`
	for _, name := range []string{"pulumi", "aws", "kubectl"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(tool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, log
}

func runPreDestroy(t *testing.T, dir string, left map[string]int, interval string) (string, error) {
	t.Helper()
	for k, n := range left {
		if err := os.WriteFile(filepath.Join(dir, "left-"+k), []byte(strconv.Itoa(n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot, "hack", "pre-destroy"), "staging")
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "PRE_DESTROY_INTERVAL="+interval, "PRE_DESTROY_TIMEOUT=2")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// hack/pre-destroy deletes the Gateways and waits until the load
// balancer controller has removed what it made, then the volume holders
// and every claim, and waits until the EBS CSI driver has deleted the
// volumes, in that order; what stays past the timeout fails it, named.
func TestPreDestroyEmptiesTheControllersResourcesInOrder(t *testing.T) {
	dir, log := fakeTools(t)
	out, err := runPreDestroy(t, dir, map[string]int{"services": 2, "lb": 1, "volumes": 1, "ebs": 2}, "0")
	if err != nil {
		t.Fatalf("pre-destroy: %v\n%s", err, out)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	calls := string(b)
	order := []string{
		"aws eks update-kubeconfig --name scrolluniversity-staging --region us-east-1",
		"kubectl delete gateways.gateway.networking.k8s.io --all --all-namespaces",
		"kubectl get services --all-namespaces -l gateway.networking.k8s.io/gateway-name",
		"Key=elbv2.k8s.aws/cluster,Values=scrolluniversity-staging",
		"kubectl delete elasticsearches.elasticsearch.k8s.elastic.co --all",
		"kubectl delete prometheuses.monitoring.coreos.com --all",
		"kubectl delete persistentvolumeclaims --all --all-namespaces",
		"kubectl get persistentvolumes",
		"Key=ebs.csi.aws.com/cluster-name,Values=scrolluniversity-staging",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(calls[at:], want)
		if i < 0 {
			t.Fatalf("want %q after position %d in the calls:\n%s", want, at, calls)
		}
		at += i
	}
	if n := strings.Count(calls, "kubectl get services"); n != 3 {
		t.Errorf("want the Services polled until gone (3 calls), got %d", n)
	}
	if !strings.Contains(out, "pulumi destroy --stack staging") {
		t.Errorf("want the next step named, got:\n%s", out)
	}

	// A volume that never goes fails the run and is named.
	dir, _ = fakeTools(t)
	out, err = runPreDestroy(t, dir, map[string]int{"ebs": 99}, "1")
	if err == nil || !strings.Contains(out, "EBS volumes of the cluster still present") || !strings.Contains(out, "found-ebs") {
		t.Errorf("a volume left behind: want a failure naming it, got err=%v\n%s", err, out)
	}
}
