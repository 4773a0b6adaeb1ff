package tests

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/internal/cost"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

// writeSynth writes a stack's synthesizer output to a temporary folder.
func writeSynth(t *testing.T, name string) (string, *synth.Result, rules.Report) {
	t.Helper()
	res := synthesize(t, name)
	rep, err := synth.CheckPolicies(res, packConfig(t, name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := synth.Write(res, dir); err != nil {
		t.Fatal(err)
	}
	if err := synth.WritePolicy(rep, dir); err != nil {
		t.Fatal(err)
	}
	return dir, res, rep
}

// summaryFigures are the figures the summary must give for a stack,
// computed from its file.
func summaryFigures(t *testing.T, cfg *config.Config) []string {
	t.Helper()
	zones, nats := networkShape(t, cfg)
	want := []string{
		fmt.Sprintf("VPC %s, %d zones (%s), %d NAT gateways", cfg.Network.VpcCidr, zones, strings.Join(cfg.Network.AvailabilityZones, ", "), nats),
	}
	for name, ng := range nodeGroupShapes(t, cfg) {
		prefixes := []string{name}
		if ng.zonal {
			prefixes = nil
			for _, z := range cfg.Network.AvailabilityZones {
				prefixes = append(prefixes, name+"-"+z)
			}
		}
		for _, p := range prefixes {
			want = append(want, fmt.Sprintf("%s %d/%d/%d %s %s", p, ng.min, ng.des, ng.max, strings.Join(ng.types, ","), ng.capacity))
		}
	}
	db, cache := cfg.Database, cfg.Cache
	topology := map[bool]string{true: "Multi-AZ", false: "single-AZ"}[db.MultiAz]
	want = append(want,
		fmt.Sprintf("PostgreSQL 15 on %s, %s, %d read replicas, %d-day PITR, deletion protection %v", db.InstanceClass, topology, db.ReadReplicas, db.BackupRetentionDays, cfg.Guards.DeletionProtection),
		fmt.Sprintf("max_connections %s on ", dataShapeOf(t, cfg).maxConnections),
		fmt.Sprintf("Redis 7.1 on %s, %d nodes, automatic failover %v", cache.NodeType, cache.Replicas+1, cache.AutomaticFailover))
	for name, b := range scalingOf(t, cfg) {
		want = append(want, fmt.Sprintf("%s: %d-%d pods (HPA)", name, b[0], b[1]))
	}
	o, l, bk := cfg.Observability, cfg.Logging, cfg.Backups
	want = append(want,
		fmt.Sprintf("NGINX (gateway data plane): %d pods", cfg.App.Gateway.Replicas),
		"public hostnames: "+strings.Join(cfg.App.Hostnames, ", "),
		"kube-prometheus-stack "+o.Chart,
		fmt.Sprintf("Prometheus: %d replicas, retention %dd capped at %dGiB, %dGi gp3 each", o.Prometheus.Replicas, o.Prometheus.RetentionDays, o.Prometheus.RetentionSizeGiB, o.Prometheus.StorageGiB),
		fmt.Sprintf("Alertmanager: %d replicas,", o.Alertmanager.Replicas),
		fmt.Sprintf("Elasticsearch %s: %d nodes, %dGi gp3 claims elasticsearch-data, %s", l.StackVersion, l.ElasticsearchNodes, l.StorageGiB,
			map[bool]string{true: "kept when the cluster is deleted", false: "deleted with the cluster"}[cfg.Guards.Protect]),
		fmt.Sprintf("logs kept %d days", l.RetentionDays),
		fmt.Sprintf("Kibana: %d pods; Logstash: %d pods, %dGi queue claims; Filebeat on every node", l.KibanaReplicas, l.LogstashReplicas, l.LogstashQueueGiB),
		fmt.Sprintf(`CronJobs (UTC): app-backup %q, database-backup %q, restore-drill %q`, bk.AppSchedule, bk.DatabaseSchedule, bk.DrillSchedule),
		fmt.Sprintf("; expiry app/ %dd, database/ %dd", bk.AppRetentionDays, bk.DatabaseRetentionDays),
	)
	if bk.ObjectLock {
		want = append(want, "versioned, Object Lock GOVERNANCE ")
	}
	return want
}

// The summary groups resources by component, network first, with the
// figures a reviewer checks: the stack file's, and the program's fixed
// counts (recording rules, dashboards, scrape targets).
func TestSummaryGroupsByComponent(t *testing.T) {
	fixed := []string{"recording rules, 6 dashboards",
		"scraped: backend, cert-manager, cloudwatch-exporter, elasticsearch-exporter, gateway-nginx, logstash-metrics, nginx-gateway-fabric, postgres-exporter, redis-exporter"}
	for _, name := range stacks {
		want := append(summaryFigures(t, stackConfig(t, name)), fixed...)
		_, res, rep := writeSynth(t, name)
		out := synth.Summary(res, rep, "build/synth/"+name)
		if want := fmt.Sprintf("%d alert rules,", alertRules(t, res)); !strings.Contains(out, want) {
			t.Errorf("%s summary: want %q (the PrometheusRule's alerts) in\n%s", name, want, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s summary: want %q in\n%s", name, w, out)
			}
		}
		var order []int
		for _, c := range []string{"  network ", "  cluster ", "  data ", "  app ", "  observability ", "  logging ", "  backups ", "  audit ", "  stack "} {
			order = append(order, strings.Index(out, c))
		}
		if slices.Contains(order, -1) || !slices.IsSorted(order) {
			t.Errorf("%s summary: want network, cluster, data, app, observability, logging, backups, audit, stack in that order, got positions %v", name, order)
		}
		if !strings.Contains(out, fmt.Sprintf("policy: %d policies ran", len(rules.Policies()))) {
			t.Errorf("%s summary: want the policies that ran counted:\n%s", name, out)
		}
	}
}

// outputs.json holds the stack outputs, secrets redacted; nothing written
// anywhere holds a secret in clear.
func TestOutputsFileRedactsSecrets(t *testing.T) {
	dir, res, _ := writeSynth(t, "production")
	var outputs map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &outputs); err != nil {
		t.Fatal(err)
	}
	if len(outputs) != len(res.Outputs) {
		t.Errorf("outputs.json has %d outputs, the stack %d", len(outputs), len(res.Outputs))
	}
	for _, k := range []string{"kubeconfig", "databaseUrl", "redisUrl"} {
		if outputs[k] != synth.Redacted {
			t.Errorf("output %s: want %s, got %v", k, synth.Redacted, outputs[k])
		}
	}
	if outputs["clusterName"] != "scrolluniversity-production" || outputs["appUrl"] != "https://scrolluniversity.app" {
		t.Errorf("plain outputs: got clusterName %v appUrl %v", outputs["clusterName"], outputs["appUrl"])
	}
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && (strings.Contains(string(data), synth.MockPassword) || strings.Contains(string(data), synth.StandIn("scrolluniversity:openaiApiKey"))) {
			t.Errorf("%s holds a secret in clear", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// policy.json says which policies ran and how much each judged.
func TestPolicyFileListsWhatRan(t *testing.T) {
	dir, _, _ := writeSynth(t, "staging")
	b, err := os.ReadFile(filepath.Join(dir, "policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep rules.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Policies) != len(rules.ResourceRules())+len(rules.StackRules()) {
		t.Errorf("policy.json lists %d policies, the pack has %d", len(rep.Policies), len(rules.ResourceRules())+len(rules.StackRules()))
	}
	for _, p := range rep.Policies {
		if p.Policy == "rds-tls-required" && p.Judged != 1 {
			t.Errorf("rds-tls-required judged %d resources, staging has 1 RDS instance", p.Judged)
		}
	}
	if rep.Violations == nil {
		t.Errorf("violations must be [] when clean, not absent")
	}
}

// The architecture page is a Mermaid flowchart with one box per component
// and edges only between components, labelled with what flows.
func TestArchitectureDiagram(t *testing.T) {
	for _, name := range stacks {
		dir, _, _ := writeSynth(t, name)
		b, err := os.ReadFile(filepath.Join(dir, "architecture.md"))
		if err != nil {
			t.Fatal(err)
		}
		md := string(b)
		if !strings.Contains(md, "```mermaid\nflowchart LR\n") {
			t.Fatalf("%s: no Mermaid flowchart:\n%s", name, md)
		}
		for _, box := range []string{`subgraph c_network["Network · network`, `subgraph c_cluster["Cluster · cluster`, `subgraph c_data["DataTier · data`, `subgraph c_app["AppTier · app`} {
			if !strings.Contains(md, box) {
				t.Errorf("%s: no box %s", name, box)
			}
		}
		for _, edge := range []string{`c_network -->|"ec2.Subnet"| c_cluster`, `c_cluster -->|"eks.Cluster, iam.OpenIdConnectProvider"| c_data`, `c_network -->|"ec2.Subnet, ec2.Vpc"| c_data`} {
			if !strings.Contains(md, edge) {
				t.Errorf("%s: no edge %s in\n%s", name, edge, md)
			}
		}
		// Readable whatever the stack's size: a few lines per component
		// (nine components and their edges).
		if lines := strings.Count(md, "\n"); lines > 56 {
			t.Errorf("%s: the page has %d lines; it must stay a picture of components", name, lines)
		}
	}
}

// Pulumi.yaml documents every field of every section, and the prebuilt
// binary option the CI script writes is one Pulumi's loader accepts.
func TestPulumiYAMLDescribesEverySection(t *testing.T) {
	proj, err := workspace.LoadProject(filepath.Join(repoRoot, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults("scrolluniversity", "x")
	sections := map[string]any{
		"network": cfg.Network, "cluster": cfg.Cluster, "database": cfg.Database, "cache": cfg.Cache, "app": cfg.App,
		"guards": cfg.Guards, "uploads": cfg.Uploads, "observability": cfg.Observability, "logging": cfg.Logging, "backups": cfg.Backups,
		"audit": cfg.Audit, "cdn": cfg.CDN,
	}
	if n := len(config.Keys()) - len(config.AppSecrets) - len(config.AlertingSecrets) - 1; len(sections) != n { // tags is a free map
		t.Errorf("this test knows %d sections, the program reads %d", len(sections), n)
	}
	for name, v := range sections {
		desc := proj.Config["scrolluniversity:"+name].Description
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			field, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			// A whole word: "name" inside "username" does not count.
			if field != "" && field != "-" && !regexp.MustCompile(`\b`+field+`\b`).MatchString(desc) {
				t.Errorf("Pulumi.yaml: scrolluniversity:%s's description does not mention %s", name, field)
			}
		}
	}

	text, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prebuilt := strings.Replace(string(text), "\nruntime: go\n", "\nruntime:\n  name: go\n  options:\n    binary: build/scrolluniversity\n", 1)
	if prebuilt == string(text) {
		t.Fatal("Pulumi.yaml has no plain `runtime: go` line for hack/use-prebuilt-binary to replace")
	}
	path := filepath.Join(t.TempDir(), "Pulumi.yaml")
	if err := os.WriteFile(path, []byte(prebuilt), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := workspace.LoadProject(path)
	if err != nil {
		t.Fatalf("Pulumi's loader refuses the prebuilt-binary runtime: %v", err)
	}
	if p.Runtime.Options()["binary"] != "build/scrolluniversity" {
		t.Errorf("runtime options: got %v", p.Runtime.Options())
	}
}

// The cost estimate of each stack, from its priced inputs: the EKS
// control plane, the NAT gateways, each node group at its bounds with its
// disks, the database and the cache, as the price table prices them.
func TestCostEstimate(t *testing.T) {
	prices, err := cost.Table()
	if err != nil {
		t.Fatal(err)
	}
	h := prices.HoursPerMonth
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		e, err := synth.Cost(res)
		if err != nil {
			t.Fatal(err)
		}
		lines := map[string]cost.Line{}
		sumMin, sumMax := 0.0, 0.0
		for _, l := range e.Lines {
			lines[l.Resource] = l
			sumMin += l.Min
			sumMax += l.Max
		}
		if math.Abs(sumMin-e.Min) > 0.05 || math.Abs(sumMax-e.Max) > 0.05 {
			t.Errorf("totals %.2f-%.2f are not the lines' sums %.2f-%.2f", e.Min, e.Max, sumMin, sumMax)
		}
		db := cfg.Database
		rds := prices.Hourly["rds:"+db.InstanceClass]*h + float64(db.AllocatedStorageGiB)*prices.Monthly["rds:gp3:gb"]
		if db.MultiAz {
			rds *= 2
		}
		redis := prices.Hourly["elasticache:"+cfg.Cache.NodeType] * h * float64(1+cfg.Cache.Replicas)
		ng := cfg.Cluster.NodeGroups["system"]
		system := (prices.Hourly["ec2:"+ng.InstanceTypes[0]]*h + float64(ng.DiskSizeGiB)*prices.Monthly["ebs:gp3:gb"]) * float64(ng.MinSize)
		for _, c := range []struct {
			urn  string
			want float64
		}{
			{"aws:rds/instance:Instance::" + cfg.Cluster.Name + "-postgres", rds},
			{"aws:elasticache/replicationGroup:ReplicationGroup::" + cfg.Cluster.Name + "-redis", redis},
			{"aws:eks/nodeGroup:NodeGroup::" + cfg.Cluster.Name + "-system", system},
			{"aws:eks/cluster:Cluster::" + cfg.Cluster.Name, prices.Hourly["eks:cluster"] * h},
		} {
			if got := lines[c.urn].Min; math.Abs(got-c.want) > 0.05 {
				t.Errorf("%s costs %.2f a month at minimum, want %.2f", c.urn, got, c.want)
			}
		}
		t.Logf("%s: %.0f-%.0f USD a month", name, e.Min, e.Max)
	})
}

// alertRules counts the alerts of the stack's PrometheusRule.
func alertRules(t *testing.T, res *synth.Result) int {
	t.Helper()
	n := 0
	for _, grp := range anyList(path(one(t, res, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "prometheusrule-scrolluniversity").Plain(), "spec", "groups")) {
		for _, rule := range anyList(path(grp, "rules")) {
			if path(rule, "alert") != nil {
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("the PrometheusRule holds no alert")
	}
	return n
}

func anyList(v any) []any { l, _ := v.([]any); return l }

// A stack in a region the price table has no prices for synthesizes, and
// its estimate is refused by region rather than priced at us-east-1's.
func TestCostRefusedForARegionWithoutPrices(t *testing.T) {
	res, err := synth.Run(withChanges(t,
		change{"aws:region", "", "eu-west-1"},
		change{"network", "availabilityZones", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		// The CDN's alert reads us-east-1 only (validation).
		change{"cdn", "enabled", false},
	), infra.Deploy)
	if err != nil {
		t.Fatalf("a stack in eu-west-1: %v", err)
	}
	e, err := synth.Cost(res)
	if err != nil {
		t.Fatal(err)
	}
	if line := synth.CostLine(e); !strings.HasPrefix(line, "cost: not estimated: no prices for eu-west-1: internal/cost/prices.json holds us-east-1's") || len(e.Lines) != 0 {
		t.Errorf("a stack in eu-west-1: want its estimate refused by region, got %q with %d lines", line, len(e.Lines))
	}
}

// The summary gives PostgreSQL's max_connections as the program sized it
// and says it waits for a reboot: raising a stack's replicas or pool moves
// it, and RDS applies a static parameter only at restart.
func TestSummarySaysMaxConnectionsWaitsForAReboot(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		var values []string
		for _, pg := range res.ByType(typeDBParams) {
			for _, p := range anyList(pg.Plain()["parameters"]) {
				if path(p, "name") == "max_connections" {
					values = append(values, fmt.Sprintf("%v on %s", path(p, "value"), pg.Name))
				}
			}
		}
		if len(values) == 0 {
			t.Fatal("no max_connections in the RDS parameter groups")
		}
		out := synth.Summary(res, rules.Report{}, "build/synth/"+name)
		if want := fmt.Sprintf("max_connections %s (a static parameter: a change applies at each instance's next reboot", strings.Join(values, ", ")); !strings.Contains(out, want) {
			t.Errorf("summary: want %q in\n%s", want, out)
		}
	})
}
