package synth

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/scrolluniversity/platform/policy/rules"
)

// What a reviewer reads first: the resources grouped by the component that
// owns them, with the figures that matter, and an architecture picture
// generated from the real graph.

// rootGroup holds what no component owns (providers, the logs key).
const rootGroup = "stack"

// Group is the resources one top-level component owns.
type Group struct {
	// Name is the component's resource name ("network", "data"), or "stack".
	Name string
	// Type is its type token ("scrolluniversity:infra:Network").
	Type      string
	Resources []Resource
}

// Groups sorts every resource under the top-level component it belongs to
// (following parents up to the stack), components in registration-stable
// name order, the stack's own resources last.
func Groups(res *Result) []Group {
	byURN := map[string]Resource{}
	for _, r := range res.Resources {
		byURN[r.URN] = r
	}
	groups := map[string]*Group{}
	for _, r := range res.Resources {
		top := topComponent(r, byURN)
		key, typ := rootGroup, ""
		if top != nil {
			key, typ = top.Name, top.Type
		}
		g, ok := groups[key]
		if !ok {
			g = &Group{Name: key, Type: typ}
			groups[key] = g
		}
		if top == nil || r.URN != top.URN {
			g.Resources = append(g.Resources, r)
		}
	}
	var out []Group
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b string) int {
		if oa, ob := componentRank(groups[a].Type), componentRank(groups[b].Type); oa != ob {
			return oa - ob
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		if k != rootGroup {
			out = append(out, *groups[k])
		}
	}
	if g, ok := groups[rootGroup]; ok {
		out = append(out, *g)
	}
	return out
}

// componentOrder is the order a reviewer reads the platform in: from the
// network up. Components not listed follow, by name.
var componentOrder = []string{
	"scrolluniversity:infra:Network", "scrolluniversity:infra:Cluster", "scrolluniversity:components:DataTier",
	"scrolluniversity:components:AppTier", "scrolluniversity:components:Observability",
	"scrolluniversity:components:Logging", "scrolluniversity:components:Backups",
	"scrolluniversity:components:Audit",
}

func componentRank(typ string) int {
	if i := slices.Index(componentOrder, typ); i >= 0 {
		return i
	}
	return len(componentOrder)
}

// topComponent is the component directly under the stack that r is (or is
// inside of), or nil for resources the stack owns directly.
func topComponent(r Resource, byURN map[string]Resource) *Resource {
	cur := r
	for {
		parent, ok := byURN[cur.Parent]
		if !ok {
			// cur's parent is the stack itself.
			if cur.Custom || strings.HasPrefix(cur.Type, "pulumi:") {
				return nil
			}
			c := cur
			return &c
		}
		cur = parent
	}
}

// groupOf maps each URN to its group's name.
func groupOf(groups []Group) map[string]string {
	out := map[string]string{}
	for _, g := range groups {
		for _, r := range g.Resources {
			out[r.URN] = g.Name
		}
	}
	return out
}

// figures are the numbers a reviewer checks for a component, by its type.
var figures = map[string]func(g Group) []string{
	"scrolluniversity:infra:Network":            networkFigures,
	"scrolluniversity:infra:Cluster":            clusterFigures,
	"scrolluniversity:components:DataTier":      dataFigures,
	"scrolluniversity:components:AppTier":       appFigures,
	"scrolluniversity:components:Observability": observabilityFigures,
	"scrolluniversity:components:Logging":       loggingFigures,
	"scrolluniversity:components:Backups":       backupsFigures,
	"scrolluniversity:components:Audit":         auditFigures,
	"scrolluniversity:components:CDN":           cdnFigures,
}

func ofType(g Group, typ string) []Resource {
	var out []Resource
	for _, r := range g.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func networkFigures(g Group) []string {
	zones := map[string]bool{}
	for _, s := range ofType(g, "aws:ec2/subnet:Subnet") {
		if z, ok := s.Plain()["availabilityZone"].(string); ok {
			zones[z] = true
		}
	}
	vpc := ""
	if v := ofType(g, "aws:ec2/vpc:Vpc"); len(v) == 1 {
		vpc, _ = v[0].Plain()["cidrBlock"].(string)
	}
	return []string{fmt.Sprintf("VPC %s, %d zones (%s), %d NAT gateways, %d subnets",
		vpc, len(zones), strings.Join(slices.Sorted(maps.Keys(zones)), ", "), len(ofType(g, "aws:ec2/natGateway:NatGateway")), len(ofType(g, "aws:ec2/subnet:Subnet")))}
}

func clusterFigures(g Group) []string {
	var out []string
	for _, c := range ofType(g, "aws:eks/cluster:Cluster") {
		p := c.Plain()
		out = append(out, fmt.Sprintf("EKS %v, Kubernetes %v", p["name"], p["version"]))
	}
	var groups []string
	for _, ng := range ofType(g, "aws:eks/nodeGroup:NodeGroup") {
		p := ng.Plain()
		sc, _ := p["scalingConfig"].(map[string]any)
		types, _ := p["instanceTypes"].([]any)
		var ts []string
		for _, t := range types {
			ts = append(ts, fmt.Sprint(t))
		}
		groups = append(groups, fmt.Sprintf("%s %v/%v/%v %s %v", strings.TrimSuffix(fmt.Sprint(p["nodeGroupNamePrefix"]), "-"),
			sc["minSize"], sc["desiredSize"], sc["maxSize"], strings.Join(ts, ","), p["capacityType"]))
	}
	sort.Strings(groups)
	out = append(out, fmt.Sprintf("%d node groups (min/desired/max):", len(groups)))
	for _, g := range groups {
		out = append(out, "  "+g)
	}
	return out
}

func dataFigures(g Group) []string {
	var out []string
	var primary map[string]any
	replicas := 0
	for _, db := range ofType(g, "aws:rds/instance:Instance") {
		p := db.Plain()
		if p["replicateSourceDb"] != nil {
			replicas++
		} else {
			primary = p
		}
	}
	if primary != nil {
		topology := "single-AZ"
		if primary["multiAz"] == true {
			topology = "Multi-AZ"
		}
		out = append(out, fmt.Sprintf("PostgreSQL %v on %v, %s, %d read replicas, %v-day PITR, deletion protection %v",
			primary["engineVersion"], primary["instanceClass"], topology, replicas, primary["backupRetentionPeriod"], primary["deletionProtection"]))
	}
	// A static parameter changes nothing until the instance restarts: the
	// summary says so where a scaling change moves it.
	var maxConns []string
	for _, pg := range ofType(g, "aws:rds/parameterGroup:ParameterGroup") {
		for _, param := range asList(pg.Plain()["parameters"]) {
			if rules.Get(param, "name") == "max_connections" {
				maxConns = append(maxConns, fmt.Sprintf("%v on %s", rules.Get(param, "value"), pg.Name))
			}
		}
	}
	if len(maxConns) > 0 {
		out = append(out, fmt.Sprintf("max_connections %s (a static parameter: a change applies at each instance's next reboot; docs/RUNBOOK.md, DatabaseConnectionsNearMax)", strings.Join(maxConns, ", ")))
	}
	for _, r := range ofType(g, "aws:elasticache/replicationGroup:ReplicationGroup") {
		p := r.Plain()
		out = append(out, fmt.Sprintf("Redis %v on %v, %v nodes, automatic failover %v", p["engineVersion"], p["nodeType"], p["numCacheClusters"], p["automaticFailoverEnabled"]))
	}
	for _, b := range ofType(g, "aws:s3/bucketV2:BucketV2") {
		out = append(out, fmt.Sprintf("bucket %v", b.Plain()["bucket"]))
	}
	return out
}

func appFigures(g Group) []string {
	var out []string
	for _, h := range ofType(g, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler") {
		p := h.Plain()
		out = append(out, fmt.Sprintf("%v: %v-%v pods (HPA)", rules.Get(p, "spec", "scaleTargetRef", "name"), rules.Get(p, "spec", "minReplicas"), rules.Get(p, "spec", "maxReplicas")))
	}
	sort.Strings(out)
	for _, r := range ofType(g, "kubernetes:helm.sh/v3:Release") {
		if r.Name == "nginx-gateway-fabric" {
			out = append(out, fmt.Sprintf("NGINX (gateway data plane): %v pods", rules.Get(r.Plain(), "values", "nginx", "replicas")))
		}
	}
	for _, gw := range ofType(g, "kubernetes:gateway.networking.k8s.io/v1:Gateway") {
		var hosts []string
		listeners, _ := rules.Get(gw.Plain(), "spec", "listeners").([]any)
		for _, l := range listeners {
			if h, ok := rules.Get(l, "hostname").(string); ok {
				hosts = append(hosts, h)
			}
		}
		out = append(out, "public hostnames: "+strings.Join(hosts, ", "))
	}
	return out
}

func observabilityFigures(g Group) []string {
	var out []string
	for _, r := range ofType(g, "kubernetes:helm.sh/v3:Release") {
		v := r.Plain()
		prom := func(path ...string) any {
			return rules.Get(v, append([]string{"values", "prometheus", "prometheusSpec"}, path...)...)
		}
		out = append(out,
			fmt.Sprintf("kube-prometheus-stack %v", v["version"]),
			fmt.Sprintf("Prometheus: %v replicas, retention %v capped at %v, %v gp3 each", prom("replicas"), prom("retention"), prom("retentionSize"),
				prom("storageSpec", "volumeClaimTemplate", "spec", "resources", "requests", "storage")),
			fmt.Sprintf("Alertmanager: %v replicas, %v receivers", rules.Get(v, "values", "alertmanager", "alertmanagerSpec", "replicas"),
				len(asList(rules.Get(v, "values", "alertmanager", "config", "receivers")))))
	}
	alerts, records := 0, 0
	for _, r := range ofType(g, "kubernetes:monitoring.coreos.com/v1:PrometheusRule") {
		for _, grp := range asList(rules.Get(r.Plain(), "spec", "groups")) {
			for _, rule := range asList(rules.Get(grp, "rules")) {
				if rules.Get(rule, "alert") != nil {
					alerts++
				} else {
					records++
				}
			}
		}
	}
	var monitors []string
	for _, typ := range []string{"kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "kubernetes:monitoring.coreos.com/v1:PodMonitor"} {
		for _, m := range ofType(g, typ) {
			monitors = append(monitors, fmt.Sprint(rules.Get(m.Plain(), "metadata", "name")))
		}
	}
	sort.Strings(monitors)
	dashboards := 0
	for _, cm := range ofType(g, "kubernetes:core/v1:ConfigMap") {
		if rules.Get(cm.Plain(), "metadata", "labels", "grafana_dashboard") != nil {
			dashboards++
		}
	}
	return append(out,
		fmt.Sprintf("%d alert rules, %d recording rules, %d dashboards", alerts, records, dashboards),
		"scraped: "+strings.Join(monitors, ", "))
}

func loggingFigures(g Group) []string {
	var out []string
	for _, es := range ofType(g, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch") {
		p := es.Plain()
		for _, ns := range asList(rules.Get(p, "spec", "nodeSets")) {
			claim := asList(rules.Get(ns, "volumeClaimTemplates"))
			kept := "deleted with the cluster"
			if rules.Get(p, "spec", "volumeClaimDeletePolicy") == "DeleteOnScaledownOnly" {
				kept = "kept when the cluster is deleted"
			}
			if len(claim) > 0 {
				out = append(out, fmt.Sprintf("Elasticsearch %v: %v nodes, %v gp3 claims %v, %s", rules.Get(p, "spec", "version"), rules.Get(ns, "count"),
					rules.Get(claim[0], "spec", "resources", "requests", "storage"), rules.Get(claim[0], "metadata", "name"), kept))
			}
		}
	}
	for _, cm := range ofType(g, "kubernetes:core/v1:ConfigMap") {
		if policy, ok := rules.Get(cm.Plain(), "data", "ilm-policy.json").(string); ok {
			var doc map[string]any
			if json.Unmarshal([]byte(policy), &doc) == nil {
				out = append(out, fmt.Sprintf("logs kept %v days (ILM delete phase)", strings.TrimSuffix(fmt.Sprint(rules.Get(doc, "policy", "phases", "delete", "min_age")), "d")))
			}
		}
	}
	var kb, ls, lsClaim any
	for _, k := range ofType(g, "kubernetes:kibana.k8s.elastic.co/v1:Kibana") {
		kb = rules.Get(k.Plain(), "spec", "count")
	}
	for _, l := range ofType(g, "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash") {
		ls = rules.Get(l.Plain(), "spec", "count")
		if c := asList(rules.Get(l.Plain(), "spec", "volumeClaimTemplates")); len(c) > 0 {
			lsClaim = rules.Get(c[0], "spec", "resources", "requests", "storage")
		}
	}
	beat := ""
	if len(ofType(g, "kubernetes:beat.k8s.elastic.co/v1beta1:Beat")) > 0 {
		beat = "; Filebeat on every node"
	}
	return append(out, fmt.Sprintf("Kibana: %v pods; Logstash: %v pods, %v queue claims%s", kb, ls, lsClaim, beat))
}

func backupsFigures(g Group) []string {
	var out []string
	var jobs []string
	for _, cj := range ofType(g, "kubernetes:batch/v1:CronJob") {
		p := cj.Plain()
		jobs = append(jobs, fmt.Sprintf("%v %q", rules.Get(p, "metadata", "name"), rules.Get(p, "spec", "schedule")))
	}
	sort.Strings(jobs)
	out = append(out, "CronJobs (UTC): "+strings.Join(jobs, ", "))
	for _, b := range ofType(g, "aws:s3/bucketV2:BucketV2") {
		p := b.Plain()
		if rules.Get(p, "tags", "scrolluniversity.io/purpose") != "backups" {
			continue
		}
		lock := "no Object Lock"
		for _, l := range ofType(g, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2") {
			r := rules.Get(l.Plain(), "rule", "defaultRetention")
			lock = fmt.Sprintf("Object Lock %v %v days", rules.Get(r, "mode"), rules.Get(r, "days"))
		}
		var expiry []string
		for _, lc := range ofType(g, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2") {
			for _, r := range asList(rules.Get(lc.Plain(), "rules")) {
				if d := rules.Get(r, "expiration", "days"); d != nil && rules.Get(r, "filter", "prefix") != "" {
					expiry = append(expiry, fmt.Sprintf("%v %vd", rules.Get(r, "filter", "prefix"), d))
				}
			}
		}
		sort.Strings(expiry)
		out = append(out, fmt.Sprintf("bucket %v: SSE-KMS, versioned, %s; expiry %s", p["bucket"], lock, strings.Join(expiry, ", ")))
	}
	return out
}

func auditFigures(g Group) []string {
	trails := ofType(g, "aws:cloudtrail/trail:Trail")
	if len(trails) == 0 {
		return []string{"no trail of its own: an existing trail records the account (audit.existingTrailArn)"}
	}
	var out []string
	for _, t := range trails {
		p := t.Plain()
		var selectors []string
		for _, sel := range asList(p["advancedEventSelectors"]) {
			selectors = append(selectors, fmt.Sprint(rules.Get(sel, "name")))
		}
		out = append(out, fmt.Sprintf("trail %v: multi-region %v, log file validation %v, SSE-KMS %v; selects %s",
			p["name"], p["isMultiRegionTrail"], p["enableLogFileValidation"], p["kmsKeyId"] != nil, strings.Join(selectors, ", ")))
	}
	for _, l := range ofType(g, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2") {
		r := rules.Get(l.Plain(), "rule", "defaultRetention")
		out = append(out, fmt.Sprintf("log files locked (%v) and kept %v days", rules.Get(r, "mode"), rules.Get(r, "days")))
	}
	return out
}

func cdnFigures(g Group) []string {
	var out []string
	for _, d := range ofType(g, "aws:cloudfront/distribution:Distribution") {
		p := d.Plain()
		var cached, uncached []string
		for _, b := range asList(p["orderedCacheBehaviors"]) {
			path := fmt.Sprint(rules.Get(b, "pathPattern"))
			if rules.Get(b, "cachePolicyId") == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" {
				uncached = append(uncached, path)
			} else {
				cached = append(cached, path)
			}
		}
		out = append(out, fmt.Sprintf("CloudFront for %s (%v, TLS %v) -> %v",
			strings.Join(strs(p["aliases"]), ", "), p["priceClass"], rules.Get(p, "viewerCertificate", "minimumProtocolVersion"), rules.Get(asList(p["origins"])[0], "domainName")),
			fmt.Sprintf("cached at the edge: %s; never: %s; the rest as the origin's Cache-Control says", strings.Join(cached, ", "), strings.Join(uncached, ", ")))
	}
	for _, a := range ofType(g, "aws:wafv2/webAcl:WebAcl") {
		p := a.Plain()
		var names []string
		for _, r := range asList(p["rules"]) {
			n := fmt.Sprint(rules.Get(r, "name"))
			if l := rules.Get(r, "statement", "rateBasedStatement", "limit"); l != nil {
				n += fmt.Sprintf(" (%v per 5 min per IP)", l)
			}
			names = append(names, n)
		}
		out = append(out, fmt.Sprintf("WAF %v: %s", p["name"], strings.Join(names, ", ")))
	}
	return out
}

func strs(v any) []string {
	var out []string
	for _, e := range asList(v) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// Summary is the report printed on stdout: per component its resource
// count and figures, the policy pack's run, and what was written.
func Summary(res *Result, rep rules.Report, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s: %d resources, %d Kubernetes objects\n", res.Stack, len(res.Resources), len(Manifests(res)))
	for _, g := range Groups(res) {
		what := g.Type
		if what == "" {
			what = "providers and what the components share"
		}
		fmt.Fprintf(&b, "  %-12s %3d resources  %s\n", g.Name, len(g.Resources), what)
		if f := figures[g.Type]; f != nil {
			for _, line := range f(g) {
				fmt.Fprintf(&b, "                 %s\n", line)
			}
		}
	}
	judged, mandatory := 0, 0
	for _, p := range rep.Policies {
		judged += p.Judged
	}
	for _, v := range rep.Violations {
		if v.Level == rules.Mandatory {
			mandatory++
		}
		fmt.Fprintf(&b, "  policy %s [%s] %s\n    %s\n", v.Policy, v.Level, v.URN, v.Message)
	}
	b.WriteString(chartSummary(res))
	fmt.Fprintf(&b, "policy: %d policies ran, %d resource checks, %d violations, %d mandatory\n", len(rep.Policies), judged, len(rep.Violations), mandatory)
	charts := ""
	if len(res.Charts) > 0 {
		charts = " charts/,"
	}
	fmt.Fprintf(&b, "wrote %s: resources.json, manifests/,%s outputs.json, policy.json, architecture.md, graph.dot\n", filepath.Clean(dir), charts)
	return b.String()
}

// Outputs are the stack outputs as outputs.json holds them: secrets
// redacted, everything else as the program exports it.
func Outputs(res *Result) map[string]any {
	out := map[string]any{}
	for name, o := range res.Outputs {
		if o.Secret {
			out[name] = Redacted
			continue
		}
		out[name] = o.Value
	}
	return out
}

// maxTypesPerBox bounds the resource lines in a component's box; the rest
// are counted in one line, so the picture stays readable at 400 resources.
const maxTypesPerBox = 8

// Architecture is a Markdown page with a Mermaid flowchart of the stack,
// generated from the real graph: one box per component holding its key
// resources (by kind, with counts), and edges between components only,
// labelled with the kinds of resource whose values flow along them.
func Architecture(res *Result) string {
	groups := Groups(res)
	owner := groupOf(groups)
	id := func(name string) string { return "c_" + strings.NewReplacer("-", "_", ".", "_").Replace(name) }

	var b strings.Builder
	fmt.Fprintf(&b, "# Architecture of stack %s\n\n", res.Stack)
	b.WriteString("Generated by `go run ./cmd/synth` from the resources the program registers. " +
		"Each box is a component with its resources by kind; an arrow points from a component to one that uses its resources' values, " +
		"labelled with what flows.\n\n")
	b.WriteString("```mermaid\nflowchart LR\n")
	for _, g := range groups {
		title := g.Name
		if g.Type != "" {
			title = g.Type[strings.LastIndex(g.Type, ":")+1:] + " · " + g.Name
		}
		fmt.Fprintf(&b, "  subgraph %s[\"%s (%d)\"]\n", id(g.Name), title, len(g.Resources))
		counts := map[string]int{}
		for _, r := range g.Resources {
			if r.Custom {
				counts[kind(r.Type)]++
			}
		}
		kinds := slices.SortedFunc(maps.Keys(counts), func(a, c string) int {
			if counts[a] != counts[c] {
				return counts[c] - counts[a]
			}
			return strings.Compare(a, c)
		})
		var lines []string
		for i, k := range kinds {
			if i == maxTypesPerBox {
				rest := 0
				for _, k := range kinds[i:] {
					rest += counts[k]
				}
				lines = append(lines, fmt.Sprintf("+%d more resources of %d other kinds", rest, len(kinds)-i))
				break
			}
			lines = append(lines, fmt.Sprintf("%s ×%d", k, counts[k]))
		}
		if f := figures[g.Type]; f != nil {
			var head []string
			for _, line := range f(g) {
				head = append(head, strings.TrimSpace(line))
			}
			lines = append(append(head, "──────────"), lines...)
		}
		fmt.Fprintf(&b, "    %s_r[\"%s\"]\n", id(g.Name), mermaidText(strings.Join(lines, "\n")))
		b.WriteString("  end\n")
	}
	// Edges: from the component that owns a value to the one that uses it.
	flows := map[[2]string]map[string]bool{}
	byURN := map[string]Resource{}
	for _, r := range res.Resources {
		byURN[r.URN] = r
	}
	for _, r := range res.Resources {
		// Values that flow only: DependsOn ordering is not an arrow.
		for _, d := range r.DataDependencies {
			from, to := owner[d], owner[r.URN]
			dep, ok := byURN[d]
			if !ok || from == "" || to == "" || from == to || !dep.Custom {
				continue
			}
			key := [2]string{from, to}
			if flows[key] == nil {
				flows[key] = map[string]bool{}
			}
			flows[key][kind(dep.Type)] = true
		}
	}
	for _, key := range slices.SortedFunc(maps.Keys(flows), func(a, c [2]string) int {
		return strings.Compare(a[0]+"\x00"+a[1], c[0]+"\x00"+c[1])
	}) {
		what := slices.Sorted(maps.Keys(flows[key]))
		if len(what) > 3 {
			what = append(what[:3], fmt.Sprintf("+%d", len(what)-3))
		}
		fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", id(key[0]), mermaidText(strings.Join(what, ", ")), id(key[1]))
	}
	b.WriteString("```\n")
	return b.String()
}

// kind is a type token's short name: AWS types with their service
// ("aws:ec2/subnet:Subnet" -> "ec2.Subnet", so IAM and Kubernetes Roles
// are told apart), Kubernetes kinds as they are, providers as such.
func kind(typ string) string {
	parts := strings.Split(typ, ":")
	k := parts[len(parts)-1]
	switch {
	case parts[0] == "pulumi" && len(parts) == 3 && parts[1] == "providers":
		return k + " provider"
	case parts[0] == "aws" && len(parts) == 3:
		mod, _, _ := strings.Cut(parts[1], "/")
		return mod + "." + k
	case parts[0] == "kubernetes" && k == "Release":
		return "HelmRelease"
	}
	return k
}

// mermaidText escapes text for a quoted Mermaid label; newlines become
// line breaks.
func mermaidText(s string) string {
	s = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
	return strings.ReplaceAll(s, "\n", "<br/>")
}
