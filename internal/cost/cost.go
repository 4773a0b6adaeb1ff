// Package cost estimates a stack's monthly AWS cost, at its minimum and
// maximum scale, from the resources the synthesizer recorded and the price
// table prices.json (its region, date and source are named in it). Every
// instance type and class the stack uses must be priced: an unpriced one
// is an error, never a zero.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/scrolluniversity/platform/policy/rules"
)

//go:embed prices.json
var pricesJSON []byte

// Prices is the price table.
type Prices struct {
	Region        string             `json:"region"`
	Currency      string             `json:"currency"`
	Date          string             `json:"date"`
	Source        string             `json:"source"`
	HoursPerMonth float64            `json:"hoursPerMonth"`
	Hourly        map[string]float64 `json:"hourly"`
	Monthly       map[string]float64 `json:"monthly"`
	// PerUnit are usage prices: per GB, per thousand requests.
	PerUnit map[string]float64 `json:"perUnit"`
	// VCPUs of the RDS classes, which Extended Support bills by.
	VCPUs map[string]float64 `json:"vcpus"`
	Notes string             `json:"notes"`
}

// Table is the repository's price table.
func Table() (Prices, error) {
	var p Prices
	if err := json.Unmarshal(pricesJSON, &p); err != nil {
		return p, fmt.Errorf("reading prices.json: %w", err)
	}
	return p, nil
}

// Priced are the instance types (service "ec2": m6i.large), classes
// ("rds": db.r6g.large) or node types ("elasticache": cache.t4g.medium)
// the table prices, sorted: config validation refuses any other, so that
// a type the estimate cannot price never gets that far.
func (p Prices) Priced(service string) []string {
	var out []string
	for k := range p.Hourly {
		if t, ok := strings.CutPrefix(k, service+":"); ok && strings.Contains(t, ".") {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Resource is what the estimate reads of one resource: its type, name and
// plain inputs.
type Resource struct {
	Type, Name string
	Inputs     map[string]any
}

// Line is one priced resource.
type Line struct {
	Resource string  `json:"resource"`
	What     string  `json:"what"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	// Assumption is the usage a usage-priced line rests on (usage.json).
	Assumption string `json:"assumption,omitempty"`
}

// Estimate is a stack's monthly cost.
type Estimate struct {
	Stack    string  `json:"stack"`
	Currency string  `json:"currency"`
	Region   string  `json:"region"`
	Prices   string  `json:"prices"`
	Min      float64 `json:"monthlyMin"`
	Max      float64 `json:"monthlyMax"`
	Lines    []Line  `json:"resources"`
	Notes    string  `json:"notes"`
	// Refused says why there is no estimate (a region the table has no
	// prices for); Min, Max and Lines are then empty.
	Refused string `json:"refused,omitempty"`
}

// ForRegion is an estimate refused, by name, for a stack in a region the
// table does not price: its prices are one region's, and another's differ
// (by 10 to 30 percent, and not alike for every service), so they are not
// passed off as the stack's.
func ForRegion(stack, region string, p Prices) (Estimate, bool) {
	if region == p.Region {
		return Estimate{}, false
	}
	return Estimate{Stack: stack, Currency: p.Currency, Region: region, Prices: p.Date + ", " + p.Source,
		Refused: fmt.Sprintf("no prices for %s: internal/cost/prices.json holds %s's of %s; add %s's to estimate this stack", region, p.Region, p.Date, region)}, true
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return 0
}

func gib(q any) float64 {
	s, _ := q.(string)
	var n float64
	switch {
	case strings.HasSuffix(s, "Gi"):
		fmt.Sscanf(strings.TrimSuffix(s, "Gi"), "%g", &n)
	case strings.HasSuffix(s, "Ti"):
		fmt.Sscanf(strings.TrimSuffix(s, "Ti"), "%g", &n)
		n *= 1024
	}
	return n
}

// Compute prices the resources; it fails on anything it cannot price.
func Compute(stack string, p Prices, resources []Resource) (Estimate, error) {
	e := Estimate{Stack: stack, Currency: p.Currency, Region: p.Region, Prices: p.Date + ", " + p.Source, Notes: p.Notes}
	month := p.HoursPerMonth
	var missing []string
	hourly := func(key string) float64 {
		v, ok := p.Hourly[key]
		if !ok {
			missing = append(missing, key)
		}
		return v
	}
	add := func(r Resource, what string, min, max float64) {
		e.Lines = append(e.Lines, Line{Resource: r.Type + "::" + r.Name, What: what, Min: round(min), Max: round(max)})
	}
	templates := map[string]float64{} // launch template name -> root disk GiB
	for _, r := range resources {
		if r.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
			for _, bd := range asList(rules.Get(r.Inputs, "blockDeviceMappings")) {
				templates[r.Name] += num(rules.Get(bd, "ebs", "volumeSize"))
			}
		}
	}
	natGateways, nlbs := 0, 0
	for _, r := range resources {
		in := r.Inputs
		switch r.Type {
		case "aws:eks/cluster:Cluster":
			c := hourly("eks:cluster") * month
			add(r, "EKS control plane", c, c)
		case "aws:ec2/natGateway:NatGateway":
			natGateways++
			c := hourly("ec2:natGateway") * month
			add(r, "NAT gateway (hours)", c, c)
		case "aws:eks/nodeGroup:NodeGroup":
			types := asList(in["instanceTypes"])
			if len(types) == 0 {
				missing = append(missing, "instance type of node group "+r.Name)
				continue
			}
			// The first listed type prices the group (the most expensive
			// of a spot list is listed first); disks at gp3.
			price := hourly("ec2:" + fmt.Sprint(types[0]))
			for _, t := range types[1:] {
				price = math.Max(price, hourly("ec2:"+fmt.Sprint(t)))
			}
			// Launch templates are "<cluster>-nodes-<group>", groups
			// "<cluster>-<group>[-<zone>]".
			disk := 0.0
			for name, size := range templates {
				if cluster, group, ok := strings.Cut(name, "-nodes-"); ok && (r.Name == cluster+"-"+group || strings.HasPrefix(r.Name, cluster+"-"+group+"-")) {
					disk = size
				}
			}
			per := price*month + disk*p.Monthly["ebs:gp3:gb"]
			add(r, fmt.Sprintf("node group of %v, %g-%g nodes", types, num(rules.Get(in, "scalingConfig", "minSize")), num(rules.Get(in, "scalingConfig", "maxSize"))),
				per*num(rules.Get(in, "scalingConfig", "minSize")), per*num(rules.Get(in, "scalingConfig", "maxSize")))
		case "aws:rds/instance:Instance":
			c := hourly("rds:"+fmt.Sprint(in["instanceClass"])) * month
			// A replica sets no allocatedStorage (it follows its source), so
			// its storage is not counted: the estimate is short by the
			// source's storage per replica.
			storage := num(in["allocatedStorage"])
			s := storage * p.Monthly["rds:gp3:gb"]
			if in["multiAz"] == true {
				c, s = 2*c, 2*s
			}
			maxStorage := num(in["maxAllocatedStorage"]) * p.Monthly["rds:gp3:gb"]
			if in["multiAz"] == true {
				maxStorage *= 2
			}
			if in["replicateSourceDb"] != nil {
				add(r, fmt.Sprintf("RDS read replica %v", in["instanceClass"]), c, c)
				continue
			}
			add(r, fmt.Sprintf("RDS %v, %g GiB (autoscaling up to %g)", in["instanceClass"], storage, num(in["maxAllocatedStorage"])), c+s, c+math.Max(s, maxStorage))
		case "aws:elasticache/replicationGroup:ReplicationGroup":
			c := hourly("elasticache:"+fmt.Sprint(in["nodeType"])) * month * num(in["numCacheClusters"])
			add(r, fmt.Sprintf("ElastiCache %g x %v", num(in["numCacheClusters"]), in["nodeType"]), c, c)
		case "aws:kms/key:Key":
			c := p.Monthly["kms:key"]
			add(r, "KMS key", c, c)
		case "aws:wafv2/webAcl:WebAcl":
			rulesN := float64(len(asList(in["rules"])))
			c := p.Monthly["waf:webAcl"] + rulesN*p.Monthly["waf:rule"]
			add(r, fmt.Sprintf("WAF web ACL and its %g rules", rulesN), c, c)
		case "kubernetes:core/v1:Service":
			if rules.Get(in, "spec", "type") == "LoadBalancer" {
				nlbs++
			}
		}
		// Persistent volumes the cluster's gp3 StorageClass provisions:
		// the stack's own claims and those of ECK's and the charts'.
		for _, claim := range claims(r) {
			c := claim.gib * claim.count * p.Monthly["ebs:gp3:gb"]
			add(r, fmt.Sprintf("gp3 volumes %s: %g x %g GiB", claim.name, claim.count, claim.gib), c, c)
		}
	}
	// The gateway's NLB is made by the load balancer controller for the
	// NGINX Service that NGF provisions: one per stack with a Gateway.
	for _, r := range resources {
		if r.Type == "kubernetes:gateway.networking.k8s.io/v1:Gateway" {
			c := hourly("elb:nlb") * month
			add(r, "Network Load Balancer (hours) of the Gateway", c, c)
		}
	}
	usage, err := usageLines(p, resources, hourly, &missing)
	if err != nil {
		return e, err
	}
	e.Lines = append(e.Lines, usage...)
	if len(missing) > 0 {
		sort.Strings(missing)
		return e, fmt.Errorf("no price for %s in internal/cost/prices.json; add them (the estimate never counts an unpriced resource as free)", strings.Join(missing, ", "))
	}
	sort.Slice(e.Lines, func(i, j int) bool { return e.Lines[i].Resource < e.Lines[j].Resource })
	for _, l := range e.Lines {
		e.Min += l.Min
		e.Max += l.Max
	}
	e.Min, e.Max = round(e.Min), round(e.Max)
	return e, nil
}

type claim struct {
	name       string
	count, gib float64
}

// claims are the gp3 volumes a resource asks for.
func claims(r Resource) []claim {
	in := r.Inputs
	switch r.Type {
	case "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch":
		var out []claim
		for _, ns := range asList(rules.Get(in, "spec", "nodeSets")) {
			for _, c := range asList(rules.Get(ns, "volumeClaimTemplates")) {
				out = append(out, claim{"elasticsearch " + fmt.Sprint(rules.Get(c, "metadata", "name")), num(rules.Get(ns, "count")), gib(rules.Get(c, "spec", "resources", "requests", "storage"))})
			}
		}
		return out
	case "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash":
		var out []claim
		for _, c := range asList(rules.Get(in, "spec", "volumeClaimTemplates")) {
			out = append(out, claim{"logstash " + fmt.Sprint(rules.Get(c, "metadata", "name")), num(rules.Get(in, "spec", "count")), gib(rules.Get(c, "spec", "resources", "requests", "storage"))})
		}
		return out
	case "kubernetes:helm.sh/v3:Release":
		if in["chart"] != "kube-prometheus-stack" {
			return nil
		}
		prom := rules.Get(in, "values", "prometheus", "prometheusSpec")
		am := rules.Get(in, "values", "alertmanager", "alertmanagerSpec")
		return []claim{
			{"prometheus", num(rules.Get(prom, "replicas")), gib(rules.Get(prom, "storageSpec", "volumeClaimTemplate", "spec", "resources", "requests", "storage"))},
			{"alertmanager", num(rules.Get(am, "replicas")), gib(rules.Get(am, "storage", "volumeClaimTemplate", "spec", "resources", "requests", "storage"))},
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

// Diff is the Markdown comment of a change's monthly cost against main's.
func Diff(stack string, base, head *Estimate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Monthly cost of `%s`\n\n", stack)
	if head.Refused != "" {
		fmt.Fprintf(&b, "Not estimated: %s.\n", head.Refused)
		return b.String()
	}
	if base != nil && base.Refused != "" {
		base = nil
	}
	if base == nil {
		fmt.Fprintf(&b, "%.0f-%.0f %s a month (main has no estimate to compare with).\n", head.Min, head.Max, head.Currency)
		return b.String()
	}
	fmt.Fprintf(&b, "| | main | this change | change |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| minimum scale | %.0f | %.0f | %+.0f |\n", base.Min, head.Min, head.Min-base.Min)
	fmt.Fprintf(&b, "| maximum scale | %.0f | %.0f | %+.0f |\n", base.Max, head.Max, head.Max-base.Max)
	before := map[string]Line{}
	for _, l := range base.Lines {
		before[l.Resource+"|"+l.What] = l
	}
	var changed []string
	seen := map[string]bool{}
	for _, l := range head.Lines {
		k := l.Resource + "|" + l.What
		seen[k] = true
		if o, ok := before[k]; !ok || o.Min != l.Min || o.Max != l.Max {
			changed = append(changed, fmt.Sprintf("| %s | %s | %.0f-%.0f |", l.Resource, l.What, l.Min, l.Max))
		}
	}
	for k, l := range before {
		if !seen[k] {
			changed = append(changed, fmt.Sprintf("| %s | %s (removed) | -%.0f |", l.Resource, l.What, l.Min))
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		b.WriteString("\n| resource | what | monthly |\n|---|---|---|\n" + strings.Join(changed, "\n") + "\n")
	}
	fmt.Fprintf(&b, "\n%s prices of %s.\n", head.Region, head.Prices)
	return b.String()
}
