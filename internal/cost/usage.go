package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scrolluniversity/platform/policy/rules"
)

//go:embed usage.json
var usageJSON []byte

// Assumption is one usage figure the estimate rests on, with its reason.
type Assumption struct {
	Value float64 `json:"value"`
	Why   string  `json:"why"`
}

// Usage are the usage assumptions (usage.json).
type Usage struct {
	FlowLogGiBPerNodeMonth         Assumption `json:"flowLogGiBPerNodeMonth"`
	ControlPlaneLogGiBMonth        Assumption `json:"controlPlaneLogGiBMonth"`
	ControlPlaneLogGiBPerNodeMonth Assumption `json:"controlPlaneLogGiBPerNodeMonth"`
	DatabaseLogGiBPerInstanceMonth Assumption `json:"databaseLogGiBPerInstanceMonth"`
	LogCompression                 Assumption `json:"logCompression"`
	NatGiBPerNodeMonth             Assumption `json:"natGiBPerNodeMonth"`
	CDNMillionRequestsPerNodeMonth Assumption `json:"cdnMillionRequestsPerNodeMonth"`
	CDNGiBPerNodeMonth             Assumption `json:"cdnGiBPerNodeMonth"`
	WAFLogKiBPerRequest            Assumption `json:"wafLogKiBPerRequest"`
}

// UsageTable is the repository's usage assumptions.
func UsageTable() (Usage, error) {
	var u Usage
	if err := json.Unmarshal(usageJSON, &u); err != nil {
		return u, fmt.Errorf("reading usage.json: %w", err)
	}
	return u, nil
}

// usageLines price what the stack's resources make AWS bill by use:
//
//   - CloudWatch Logs ingestion and storage of each log group (flow logs,
//     the EKS control plane, PostgreSQL), at its retention;
//   - NAT gateway data processing;
//   - public IPv4 addresses: each NAT gateway's Elastic IP and the
//     internet-facing NLB's address in every public subnet;
//   - the CloudWatch exporter's GetMetricStatistics calls: one per metric
//     and dimension value per scrape, per Prometheus replica;
//   - RDS Extended Support, zero when the instance opts out, else priced
//     per vCPU-hour from the end of standard support.
//
// Node-driven usage is priced at the node groups' minimum and maximum.
//
// Prices it lacks are added to missing.
func usageLines(p Prices, resources []Resource, hourly func(string) float64, missing *[]string) ([]Line, error) {
	u, err := UsageTable()
	if err != nil {
		return nil, err
	}
	unit := func(key string) float64 {
		v, ok := p.PerUnit[key]
		if !ok {
			*missing = append(*missing, key)
		}
		return v
	}
	month := p.HoursPerMonth
	var out []Line
	add := func(r Resource, what string, min, max float64, assumption string) {
		out = append(out, Line{Resource: r.Type + "::" + r.Name, What: what, Min: round(min), Max: round(max), Assumption: assumption})
	}

	nodesMin, nodesMax, publicSubnets, prometheusReplicas := 0.0, 0.0, 0.0, 0.0
	var exporter map[string]any
	scrapeSeconds := 0.0
	for _, r := range resources {
		in := r.Inputs
		switch r.Type {
		case "aws:eks/nodeGroup:NodeGroup":
			nodesMin += num(rules.Get(in, "scalingConfig", "minSize"))
			nodesMax += num(rules.Get(in, "scalingConfig", "maxSize"))
		case "aws:ec2/subnet:Subnet":
			if rules.Get(in, "mapPublicIpOnLaunch") == true || rules.Get(in, "tags", "Tier") == "public" {
				publicSubnets++
			}
		case "kubernetes:helm.sh/v3:Release":
			if in["chart"] == "kube-prometheus-stack" {
				prometheusReplicas = num(rules.Get(in, "values", "prometheus", "prometheusSpec", "replicas"))
			}
		case "kubernetes:core/v1:ConfigMap":
			if cfg, ok := rules.Get(in, "data", "config.yml").(string); ok && strings.Contains(cfg, "aws_metric_name") {
				if err := yaml.Unmarshal([]byte(cfg), &exporter); err != nil {
					return nil, fmt.Errorf("reading the CloudWatch exporter's config of %s: %w", r.Name, err)
				}
			}
		case "kubernetes:monitoring.coreos.com/v1:ServiceMonitor":
			if strings.Contains(r.Name, "cloudwatch-exporter") {
				for _, ep := range asList(rules.Get(in, "spec", "endpoints")) {
					if d, err := time.ParseDuration(fmt.Sprint(rules.Get(ep, "interval"))); err == nil {
						scrapeSeconds = d.Seconds()
					}
				}
			}
		}
	}
	lifecycles := map[string]any{} // RDS identifier -> engineLifecycleSupport
	for _, r := range resources {
		if r.Type == "aws:rds/instance:Instance" {
			lifecycles[fmt.Sprint(r.Inputs["identifier"])] = r.Inputs["engineLifecycleSupport"]
		}
	}
	nodes := fmt.Sprintf("%g-%g nodes", nodesMin, nodesMax)
	ingest, store := unit("cloudwatch:logs:ingest:gb"), unit("cloudwatch:logs:store:gb")

	for _, r := range resources {
		in := r.Inputs
		switch r.Type {
		case "aws:cloudwatch/logGroup:LogGroup":
			name := fmt.Sprint(in["name"])
			days := num(in["retentionInDays"])
			var min, max float64
			var what, basis string
			price := ingest
			switch {
			case strings.HasPrefix(name, "/aws/vpc/"):
				price = unit("cloudwatch:logs:vendedIngest:gb")
				min, max = u.FlowLogGiBPerNodeMonth.Value*nodesMin, u.FlowLogGiBPerNodeMonth.Value*nodesMax
				what = "CloudWatch Logs: VPC flow logs"
				basis = fmt.Sprintf("%g GiB a node a month (%s) x %s", u.FlowLogGiBPerNodeMonth.Value, u.FlowLogGiBPerNodeMonth.Why, nodes)
			case strings.HasPrefix(name, "/aws/eks/"):
				min = u.ControlPlaneLogGiBMonth.Value + u.ControlPlaneLogGiBPerNodeMonth.Value*nodesMin
				max = u.ControlPlaneLogGiBMonth.Value + u.ControlPlaneLogGiBPerNodeMonth.Value*nodesMax
				what = "CloudWatch Logs: EKS control plane"
				basis = fmt.Sprintf("%g GiB a month (%s) and %g GiB a node (%s) x %s", u.ControlPlaneLogGiBMonth.Value, u.ControlPlaneLogGiBMonth.Why, u.ControlPlaneLogGiBPerNodeMonth.Value, u.ControlPlaneLogGiBPerNodeMonth.Why, nodes)
			case strings.HasPrefix(name, "aws-waf-logs-"):
				price = unit("cloudwatch:logs:vendedIngest:gb")
				per := u.CDNMillionRequestsPerNodeMonth.Value * 1e6 * u.WAFLogKiBPerRequest.Value / (1 << 20)
				min, max = per*nodesMin, per*nodesMax
				what = "CloudWatch Logs: the WAF's"
				basis = fmt.Sprintf("%g KiB a request (%s) x %g million requests a node a month (%s) x %s", u.WAFLogKiBPerRequest.Value, u.WAFLogKiBPerRequest.Why, u.CDNMillionRequestsPerNodeMonth.Value, u.CDNMillionRequestsPerNodeMonth.Why, nodes)
			case strings.HasPrefix(name, "/aws/rds/") && strings.HasSuffix(name, "/postgresql"):
				min, max = u.DatabaseLogGiBPerInstanceMonth.Value, u.DatabaseLogGiBPerInstanceMonth.Value
				what = "CloudWatch Logs: PostgreSQL"
				basis = fmt.Sprintf("%g GiB a month (%s)", u.DatabaseLogGiBPerInstanceMonth.Value, u.DatabaseLogGiBPerInstanceMonth.Why)
			default:
				continue // the RDS upgrade logs: a few lines per engine upgrade
			}
			// At steady state the group holds retention's worth of
			// months, compressed.
			held := days / 30 * u.LogCompression.Value
			cost := func(gib float64) float64 { return gib*price + gib*held*store }
			add(r, what, cost(min), cost(max), fmt.Sprintf("%s; ingestion %.2f/GB, kept %g days, stored at %g of its size (%s) at %.2f/GB-month",
				basis, price, days, u.LogCompression.Value, u.LogCompression.Why, store))
		case "aws:cloudfront/distribution:Distribution":
			reqMin, reqMax := u.CDNMillionRequestsPerNodeMonth.Value*nodesMin, u.CDNMillionRequestsPerNodeMonth.Value*nodesMax
			per := unit("cloudfront:httpsRequests:million")
			add(r, "CloudFront HTTPS requests", reqMin*per, reqMax*per, fmt.Sprintf("%g million requests a node a month (%s) x %s; %.2f a million (North America and Europe)", u.CDNMillionRequestsPerNodeMonth.Value, u.CDNMillionRequestsPerNodeMonth.Why, nodes, per))
			out1 := unit("cloudfront:dataTransferOut:gb")
			add(r, "CloudFront data transfer to viewers", u.CDNGiBPerNodeMonth.Value*nodesMin*out1, u.CDNGiBPerNodeMonth.Value*nodesMax*out1, fmt.Sprintf("%g GiB a node a month (%s) x %s; %.3f/GB (the first 10 TB, North America and Europe)", u.CDNGiBPerNodeMonth.Value, u.CDNGiBPerNodeMonth.Why, nodes, out1))
			if rules.Str(in["webAclId"]) != "" {
				w := unit("waf:requests:million")
				add(r, "WAF requests inspected", reqMin*w, reqMax*w, fmt.Sprintf("every CloudFront request: %g million a node a month x %s; %.2f a million", u.CDNMillionRequestsPerNodeMonth.Value, nodes, w))
			}
		case "aws:ec2/natGateway:NatGateway":
			// Each gateway carries its zone's share of the nodes' traffic.
			share := 1 / float64(max(1, count(resources, "aws:ec2/natGateway:NatGateway")))
			per := unit("ec2:natGateway:gb")
			add(r, "NAT gateway data processing", u.NatGiBPerNodeMonth.Value*nodesMin*share*per, u.NatGiBPerNodeMonth.Value*nodesMax*share*per,
				fmt.Sprintf("%g GiB a node a month (%s) x %s, shared by %g gateways; %.3f/GB processed", u.NatGiBPerNodeMonth.Value, u.NatGiBPerNodeMonth.Why, nodes, 1/share, per))
			ip := hourly("vpc:publicIPv4") * month
			add(r, "public IPv4 address of the NAT gateway", ip, ip, fmt.Sprintf("one Elastic IP, %.3f an hour", hourly("vpc:publicIPv4")))
		case "kubernetes:gateway.networking.k8s.io/v1:Gateway":
			ip := hourly("vpc:publicIPv4") * month * publicSubnets
			add(r, "public IPv4 addresses of the Gateway's NLB", ip, ip, fmt.Sprintf("an internet-facing NLB holds one address in each of the %g public subnets, %.3f an hour each", publicSubnets, hourly("vpc:publicIPv4")))
		case "aws:rds/instance:Instance":
			class := fmt.Sprint(in["instanceClass"])
			lifecycle := in["engineLifecycleSupport"]
			if src, ok := in["replicateSourceDb"].(string); ok {
				// A replica has no setting of its own: it follows its
				// source (CreateDBInstanceReadReplica takes none).
				lifecycle = lifecycles[src]
			}
			if lifecycle == "open-source-rds-extended-support-disabled" {
				add(r, "RDS Extended Support", 0, 0, "opted out (engineLifecycleSupport open-source-rds-extended-support-disabled): RDS upgrades the engine at the end of standard support instead of billing Extended Support")
				continue
			}
			vcpus, ok := p.VCPUs[class]
			if !ok {
				*missing = append(*missing, "vcpus of "+class)
			}
			c := hourly("rds:extendedSupport:vcpu") * vcpus * month
			multi := 1.0
			if in["multiAz"] == true {
				multi = 2
			}
			add(r, "RDS Extended Support", 0, c*multi, fmt.Sprintf("from the end of RDS standard support for the engine's major version: %g vCPUs x %.3f a vCPU-hour (years 1-2)", vcpus*multi, hourly("rds:extendedSupport:vcpu")))
		}
	}
	if exporter != nil && scrapeSeconds > 0 && prometheusReplicas > 0 {
		calls := 0.0
		for _, m := range asList(exporter["metrics"]) {
			combos := 1.0
			for _, values := range mapOf(rules.Get(m, "aws_dimension_select")) {
				combos *= float64(max(1, len(asList(values))))
			}
			calls += combos
		}
		requests := calls * prometheusReplicas * month * 3600 / scrapeSeconds
		c := requests / 1000 * unit("cloudwatch:getMetricStatistics:1000")
		r := Resource{Type: "kubernetes:core/v1:ConfigMap", Name: "cloudwatch-exporter"}
		add(r, "CloudWatch API calls of the exporter", c, c, fmt.Sprintf("%g GetMetricStatistics calls a scrape (one per metric and dimension value), every %gs, by each of %g Prometheus replicas: %.2f million requests a month at %.2f per thousand",
			calls, scrapeSeconds, prometheusReplicas, requests/1e6, unit("cloudwatch:getMetricStatistics:1000")))
	}
	return out, nil
}

func count(resources []Resource, typ string) int {
	n := 0
	for _, r := range resources {
		if r.Type == typ {
			n++
		}
	}
	return n
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
