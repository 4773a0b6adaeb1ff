package cost

import (
	"strings"
	"testing"
)

func table(t *testing.T) Prices {
	t.Helper()
	p, err := Table()
	if err != nil {
		t.Fatal(err)
	}
	if p.Region == "" || p.Date == "" || p.Source == "" || p.HoursPerMonth != 730 {
		t.Fatalf("the price table must name its region, date and source: %+v", p)
	}
	return p
}

func TestComputeFromPricedInputs(t *testing.T) {
	p := table(t)
	res := []Resource{
		{Type: "aws:eks/cluster:Cluster", Name: "c"},
		{Type: "aws:ec2/natGateway:NatGateway", Name: "nat-a"},
		{Type: "aws:ec2/launchTemplate:LaunchTemplate", Name: "c-nodes-workload", Inputs: map[string]any{"blockDeviceMappings": []any{map[string]any{"ebs": map[string]any{"volumeSize": 100}}}}},
		{Type: "aws:eks/nodeGroup:NodeGroup", Name: "c-workload-us-east-1a", Inputs: map[string]any{
			"instanceTypes": []any{"m6i.xlarge"}, "scalingConfig": map[string]any{"minSize": 1, "maxSize": 3}}},
		{Type: "aws:rds/instance:Instance", Name: "db", Inputs: map[string]any{"instanceClass": "db.r6g.large", "allocatedStorage": 100, "maxAllocatedStorage": 100, "multiAz": true}},
		{Type: "aws:elasticache/replicationGroup:ReplicationGroup", Name: "redis", Inputs: map[string]any{"nodeType": "cache.t4g.medium", "numCacheClusters": 3}},
	}
	e, err := Compute("test", p, res)
	if err != nil {
		t.Fatal(err)
	}
	node := 0.192*730 + 100*0.08
	rds := 2 * (0.225*730 + 100*0.115)
	want := 0.10*730 + 0.045*730 + node + rds + 3*0.065*730
	wantMax := want - node + 3*node
	if round(want) != e.Min || round(wantMax) != e.Max {
		t.Errorf("estimate %.2f-%.2f, want %.2f-%.2f\n%+v", e.Min, e.Max, want, wantMax, e.Lines)
	}
}

func TestUnpricedInstanceTypeFails(t *testing.T) {
	_, err := Compute("test", table(t), []Resource{{Type: "aws:eks/nodeGroup:NodeGroup", Name: "gpu", Inputs: map[string]any{
		"instanceTypes": []any{"p5.48xlarge"}, "scalingConfig": map[string]any{"minSize": 0, "maxSize": 1}}}})
	if err == nil || !strings.Contains(err.Error(), "ec2:p5.48xlarge") {
		t.Errorf("an unpriced instance type must fail, got %v", err)
	}
	_, err = Compute("test", table(t), []Resource{{Type: "aws:rds/instance:Instance", Name: "db", Inputs: map[string]any{"instanceClass": "db.x2g.16xlarge"}}})
	if err == nil || !strings.Contains(err.Error(), "rds:db.x2g.16xlarge") {
		t.Errorf("an unpriced RDS class must fail, got %v", err)
	}
}

func TestDiff(t *testing.T) {
	base := &Estimate{Currency: "USD", Min: 100, Max: 200, Lines: []Line{{Resource: "a", What: "x", Min: 100, Max: 200}}}
	head := &Estimate{Currency: "USD", Min: 150, Max: 260, Lines: []Line{{Resource: "a", What: "x", Min: 150, Max: 260}}}
	out := Diff("staging", base, head)
	for _, want := range []string{"| minimum scale | 100 | 150 | +50 |", "| maximum scale | 200 | 260 | +60 |", "| a | x | 150-260 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(Diff("staging", nil, head), "main has no estimate") {
		t.Error("a missing base must say so")
	}
}
