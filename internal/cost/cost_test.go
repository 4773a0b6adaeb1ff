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
		{Type: "aws:rds/instance:Instance", Name: "db", Inputs: map[string]any{"instanceClass": "db.r6g.large", "allocatedStorage": 100, "maxAllocatedStorage": 100, "multiAz": true,
			"engineLifecycleSupport": "open-source-rds-extended-support-disabled"}},
		{Type: "aws:elasticache/replicationGroup:ReplicationGroup", Name: "redis", Inputs: map[string]any{"nodeType": "cache.t4g.medium", "numCacheClusters": 3}},
	}
	e, err := Compute("test", p, res)
	if err != nil {
		t.Fatal(err)
	}
	node := 0.192*730 + 100*0.08
	rds := 2 * (0.225*730 + 100*0.115)
	// The NAT gateway's Elastic IP, and its data processing at 20 GiB a
	// node (usage.json) for 1-3 nodes.
	usage := 0.005*730 + 20*0.045
	want := 0.10*730 + 0.045*730 + node + rds + 3*0.065*730 + usage
	wantMax := want - node + 3*node + 2*20*0.045
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

func line(t *testing.T, e Estimate, what string) Line {
	t.Helper()
	var found []Line
	for _, l := range e.Lines {
		if l.What == what {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one line %q, got %d in %+v", what, len(found), e.Lines)
	}
	if found[0].Assumption == "" {
		t.Errorf("line %q states no assumption", what)
	}
	return found[0]
}

// What AWS bills by use is priced from usage.json, each line with its
// assumption: log ingestion and storage at the group's retention, public
// IPv4 addresses, the exporter's CloudWatch calls, and RDS Extended
// Support (nothing when the instance opts out; a replica follows its
// source).
func TestUsageLines(t *testing.T) {
	p := table(t)
	exporter := "metrics:\n- {aws_namespace: AWS/RDS, aws_metric_name: CPUUtilization, aws_dimension_select: {DBInstanceIdentifier: [a, b]}}\n" +
		"- {aws_namespace: AWS/ElastiCache, aws_metric_name: Evictions, aws_dimension_select: {CacheClusterId: [r-001, r-002, r-003], CacheNodeId: ['0001']}}\n"
	res := []Resource{
		{Type: "aws:eks/nodeGroup:NodeGroup", Name: "c-workload", Inputs: map[string]any{"instanceTypes": []any{"m6i.large"}, "scalingConfig": map[string]any{"minSize": 2, "maxSize": 10}}},
		{Type: "aws:cloudwatch/logGroup:LogGroup", Name: "flow", Inputs: map[string]any{"name": "/aws/vpc/c/flow-logs", "retentionInDays": 90}},
		{Type: "aws:cloudwatch/logGroup:LogGroup", Name: "upgrade", Inputs: map[string]any{"name": "/aws/rds/instance/db/upgrade", "retentionInDays": 90}},
		{Type: "aws:ec2/subnet:Subnet", Name: "public-a", Inputs: map[string]any{"tags": map[string]any{"Tier": "public"}}},
		{Type: "aws:ec2/subnet:Subnet", Name: "public-b", Inputs: map[string]any{"tags": map[string]any{"Tier": "public"}}},
		{Type: "aws:ec2/subnet:Subnet", Name: "private-a", Inputs: map[string]any{"tags": map[string]any{"Tier": "private"}}},
		{Type: "kubernetes:gateway.networking.k8s.io/v1:Gateway", Name: "public"},
		{Type: "kubernetes:helm.sh/v3:Release", Name: "kps", Inputs: map[string]any{"chart": "kube-prometheus-stack", "values": map[string]any{"prometheus": map[string]any{"prometheusSpec": map[string]any{"replicas": 2}}}}},
		{Type: "kubernetes:core/v1:ConfigMap", Name: "cloudwatch-exporter", Inputs: map[string]any{"data": map[string]any{"config.yml": exporter}}},
		{Type: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", Name: "servicemonitor-cloudwatch-exporter", Inputs: map[string]any{"spec": map[string]any{"endpoints": []any{map[string]any{"interval": "60s"}}}}},
		{Type: "aws:rds/instance:Instance", Name: "db", Inputs: map[string]any{"identifier": "db", "instanceClass": "db.r6g.large", "allocatedStorage": 20, "maxAllocatedStorage": 100}},
		{Type: "aws:rds/instance:Instance", Name: "replica", Inputs: map[string]any{"identifier": "replica", "instanceClass": "db.r6g.large", "replicateSourceDb": "db"}},
	}
	e, err := Compute("test", p, res)
	if err != nil {
		t.Fatal(err)
	}
	flow := line(t, e, "CloudWatch Logs: VPC flow logs")
	perGiB := 0.50 + 90.0/30*0.2*0.03
	if flow.Min != round(3*2*perGiB) || flow.Max != round(3*10*perGiB) || !strings.Contains(flow.Assumption, "kept 90 days") {
		t.Errorf("flow logs: want %.2f-%.2f, got %+v", 3*2*perGiB, 3*10*perGiB, flow)
	}
	if ip := line(t, e, "public IPv4 addresses of the Gateway's NLB"); ip.Min != round(2*0.005*730) {
		t.Errorf("NLB addresses: want two public subnets' worth, got %+v", ip)
	}
	// 2 + 3 calls a scrape, every minute, by 2 replicas.
	calls := line(t, e, "CloudWatch API calls of the exporter")
	if want := round(5 * 2 * 730 * 60 / 1000 * 0.01); calls.Min != want || !strings.Contains(calls.Assumption, "5 GetMetricStatistics calls a scrape") {
		t.Errorf("exporter calls: want %.2f, got %+v", want, calls)
	}
	// Neither instance opts out: both priced, the replica as its source.
	for _, l := range e.Lines {
		if l.What == "RDS Extended Support" && l.Max != round(2*0.100*730) {
			t.Errorf("Extended Support of %s: want %.2f at most, got %+v", l.Resource, 2*0.100*730, l)
		}
	}
	res[10].Inputs["engineLifecycleSupport"] = "open-source-rds-extended-support-disabled"
	e, err = Compute("test", p, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.Lines {
		if l.What == "RDS Extended Support" && (l.Max != 0 || !strings.Contains(l.Assumption, "opted out")) {
			t.Errorf("opted out (the replica with its source): want 0, got %+v", l)
		}
	}
	// A class without its vCPUs cannot be priced.
	res[10].Inputs["engineLifecycleSupport"] = nil
	res[10].Inputs["instanceClass"], res[11].Inputs["instanceClass"] = "db.r6g.large", "db.t4g.medium"
	p.VCPUs = map[string]float64{"db.t4g.medium": 2}
	if _, err := Compute("test", p, res); err == nil || !strings.Contains(err.Error(), "vcpus of db.r6g.large") {
		t.Errorf("an RDS class without vCPUs: want an error naming it, got %v", err)
	}
}

// A stack in a region the table does not price gets no estimate, and says
// why, by region; the table's own region is estimated. The pull request's
// comment says it too.
func TestARegionWithoutPricesIsRefusedByName(t *testing.T) {
	p := table(t)
	if _, refused := ForRegion("dev", p.Region, p); refused {
		t.Errorf("the table's own region %s is refused", p.Region)
	}
	e, refused := ForRegion("dev", "eu-west-1", p)
	if !refused || e.Min != 0 || e.Max != 0 || len(e.Lines) != 0 {
		t.Fatalf("eu-west-1: want a refused, empty estimate, got %+v", e)
	}
	if want := "no prices for eu-west-1: internal/cost/prices.json holds us-east-1's of " + p.Date; !strings.HasPrefix(e.Refused, want) {
		t.Errorf("refusal %q, want it to start %q", e.Refused, want)
	}
	base := &Estimate{Min: 100, Max: 200, Currency: "USD"}
	if got := Diff("dev", base, &e); !strings.Contains(got, "Not estimated: no prices for eu-west-1") {
		t.Errorf("the comment does not say why there is no estimate:\n%s", got)
	}
}
