package apicheck

import (
	"os"
	"path/filepath"
	"testing"
)

// ChartObjects reads the synthesizer's charts/: CRDs apart, a List's
// items one by one, each object defaulting to its release's namespace.
func TestChartObjectsSplitsCRDsAndFlattensLists(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("releases.json", `[{"name": "lbc", "namespace": "kube-system", "chart": "aws-load-balancer-controller", "version": "1.14.0", "file": "lbc.yaml"}]`)
	write("lbc.yaml", `# Source: crds/crds.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: targetgroupbindings.elbv2.k8s.aws}
---
# Source: templates/ingressclass.yaml
apiVersion: v1
kind: List
items:
- {apiVersion: elbv2.k8s.aws/v1beta1, kind: IngressClassParams, metadata: {name: alb}}
- {apiVersion: networking.k8s.io/v1, kind: IngressClass, metadata: {name: alb}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: lbc}
`)
	crds, objects, err := ChartObjects(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != 1 || crds[0].Name() != "targetgroupbindings.elbv2.k8s.aws" {
		t.Errorf("CRDs: want the one CRD, got %v", crds)
	}
	var kinds []string
	for _, o := range objects {
		kinds = append(kinds, o.Kind())
		if o.DefaultNamespace != "kube-system" {
			t.Errorf("%s: default namespace %q, want the release's kube-system", o.ID(), o.DefaultNamespace)
		}
	}
	if want := []string{"IngressClassParams", "IngressClass", "ServiceAccount"}; len(kinds) != 3 || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
		t.Errorf("objects: want %v, got %v", want, kinds)
	}
	if _, _, err := ChartObjects(t.TempDir()); err == nil {
		t.Error("a folder without releases.json was accepted")
	}
}
