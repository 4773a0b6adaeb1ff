package tests

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/components/apptier"
	"github.com/scrolluniversity/platform/components/cdn"
	"github.com/scrolluniversity/platform/infra"
	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
	"github.com/scrolluniversity/platform/internal/synth"
	"github.com/scrolluniversity/platform/policy/rules"
)

const (
	typeDistribution = "aws:cloudfront/distribution:Distribution"
	typeWebACL       = "aws:wafv2/webAcl:WebAcl"
	typeRecord       = "aws:route53/record:Record"
)

// behaviour is what one path gets at the edge.
type behaviour struct {
	origin, viewer, cache, originRequest string
	methods                              int
}

// Each path's cache behaviour: static assets cached a year, the rest of
// the frontend as it says, never /api or the WebSocket, ACME's challenges
// over plain HTTP to the HTTP origin; the viewer's Host reaches the origin
// on every path.
func TestCDNCacheBehaviours(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		d := one(t, res, typeDistribution, cfg.Cluster.Name+"-cdn").Plain()
		hostOnly := one(t, res, "aws:cloudfront/originRequestPolicy:OriginRequestPolicy", cfg.Cluster.Name+"-cdn-host")
		if got := strs(path(hostOnly.Plain(), "headersConfig", "headers", "items")); !slices.Equal(got, []string{"Host"}) || path(hostOnly.Plain(), "headersConfig", "headerBehavior") != "whitelist" {
			t.Errorf("the host-only origin request policy forwards %v, want Host only", got)
		}
		hostOnlyID := hostOnly.ID
		got := map[string]behaviour{}
		var order []string
		for _, b := range path(d, "orderedCacheBehaviors").([]any) {
			p := path(b, "pathPattern").(string)
			order = append(order, p)
			orp, _ := path(b, "originRequestPolicyId").(string)
			if orp == hostOnlyID {
				orp = "host-only"
			}
			got[p] = behaviour{path(b, "targetOriginId").(string), path(b, "viewerProtocolPolicy").(string), path(b, "cachePolicyId").(string), orp, len(strs(path(b, "allowedMethods")))}
		}
		ws := cfg.App.WebSocketPath + "*"
		want := map[string]behaviour{
			cdn.AcmeChallengePath: {cdn.OriginHTTP, "allow-all", cdn.CachingDisabled, cdn.AllViewer, 2},
			"/api*":               {cdn.OriginHTTPS, "redirect-to-https", cdn.CachingDisabled, cdn.AllViewer, 7},
			ws:                    {cdn.OriginHTTPS, "redirect-to-https", cdn.CachingDisabled, cdn.AllViewer, 7},
		}
		for _, p := range cfg.CDN.StaticPaths {
			want[p] = behaviour{cdn.OriginHTTPS, "redirect-to-https", cdn.CachingOptimized, "host-only", 2}
		}
		for p, w := range want {
			if got[p] != w {
				t.Errorf("behaviour %s: want %+v, got %+v", p, w, got[p])
			}
		}
		if len(got) != len(want) {
			t.Errorf("behaviours: want %d, got %v", len(want), order)
		}
		// First match wins: nothing of the API or the WebSocket may fall
		// to a static pattern listed before it.
		if i := slices.Index(order, "/api*"); i < 0 || i > 2 || slices.Index(order, ws) > 2 {
			t.Errorf("the API and WebSocket behaviours must come before the static paths: %v", order)
		}
		def := path(d, "defaultCacheBehavior")
		if path(def, "cachePolicyId") != cdn.UseOriginCacheControlHeadersQueryStrings || path(def, "viewerProtocolPolicy") != "redirect-to-https" || path(def, "targetOriginId") != cdn.OriginHTTPS {
			t.Errorf("the default behaviour (the frontend's pages): want the origin's Cache-Control over HTTPS, got %v", def)
		}
		expectAll(t, "distribution", expectations{
			"aliases":                {strings.Join(strs(d["aliases"]), ","), strings.Join(cfg.App.Hostnames, ",")},
			"price class":            {d["priceClass"], cfg.CDN.PriceClass},
			"IPv6":                   {d["isIpv6Enabled"], true},
			"TLS":                    {path(d, "viewerCertificate", "minimumProtocolVersion"), "TLSv1.2_2021"},
			"SNI":                    {path(d, "viewerCertificate", "sslSupportMethod"), "sni-only"},
			"validated certificate":  {path(d, "viewerCertificate", "acmCertificateArn"), one(t, res, "aws:acm/certificateValidation:CertificateValidation", cfg.Cluster.Name+"-cdn").Plain()["certificateArn"]},
			"web ACL":                {d["webAclId"], one(t, res, typeWebACL, cdn.WebACLName(kit.Namer{Prefix: cfg.Cluster.Name})).State["arn"].StringValue()},
			"HTTPS origin protocol":  {path(originOf(d, cdn.OriginHTTPS), "customOriginConfig", "originProtocolPolicy"), "https-only"},
			"HTTPS origin TLS":       {strings.Join(strs(path(originOf(d, cdn.OriginHTTPS), "customOriginConfig", "originSslProtocols")), ","), "TLSv1.2"},
			"HTTP origin (ACME)":     {path(originOf(d, cdn.OriginHTTP), "customOriginConfig", "originProtocolPolicy"), "http-only"},
			"origin hostname":        {path(originOf(d, cdn.OriginHTTPS), "domainName"), cfg.CDN.OriginHostname},
			"origin hostname (ACME)": {path(originOf(d, cdn.OriginHTTP), "domainName"), cfg.CDN.OriginHostname},
		})
	})
}

func originOf(d map[string]any, id string) any {
	for _, o := range path(d, "origins").([]any) {
		if path(o, "originId") == id {
			return o
		}
	}
	return nil
}

// The web ACL: the rate rule first at the configured limit, the three
// managed groups, the 8 KB body rule of the common set counting only,
// metrics and logs on, credentials redacted from the logs.
func TestWebACLRules(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		aclName := cfg.Cluster.Name + "-edge"
		acl := one(t, res, typeWebACL, aclName)
		p := acl.Plain()
		// What WAF's API takes as a description (EntityDescription):
		// CreateWebACL refuses anything else.
		if desc := fmt.Sprint(p["description"]); !regexp.MustCompile(`^[\w+=:#@/\-,\.][\w+=:#@/\-,\.\s]+[\w+=:#@/\-,\.]$`).MatchString(desc) {
			t.Errorf("web ACL description %q: WAF refuses it", desc)
		}
		if p["scope"] != "CLOUDFRONT" || path(p, "defaultAction", "allow") == nil {
			t.Errorf("web ACL: want CLOUDFRONT scope allowing what no rule blocks, got scope %v, default %v", p["scope"], p["defaultAction"])
		}
		var got []string
		for _, r := range path(p, "rules").([]any) {
			desc := fmt.Sprintf("%v:%v", path(r, "priority"), path(r, "name"))
			if g := path(r, "statement", "managedRuleGroupStatement"); g != nil {
				desc += fmt.Sprintf(" %v/%v", path(g, "vendorName"), path(g, "name"))
				for _, o := range rules.List(path(g, "ruleActionOverrides")) {
					if path(o, "actionToUse", "count") != nil {
						desc += fmt.Sprintf(" count:%v", path(o, "name"))
					}
				}
				if path(r, "overrideAction", "none") == nil {
					desc += " (group's actions overridden)"
				}
			}
			if rb := path(r, "statement", "rateBasedStatement"); rb != nil {
				desc += fmt.Sprintf(" rate %v per %vs by %v, block %v", path(rb, "limit"), path(rb, "evaluationWindowSec"), path(rb, "aggregateKeyType"), path(r, "action", "block") != nil)
			}
			if path(r, "visibilityConfig", "cloudwatchMetricsEnabled") != true || path(r, "visibilityConfig", "metricName") != aclName+"-"+path(r, "name").(string) {
				t.Errorf("rule %v: want its metrics on, as %s-%v", path(r, "name"), aclName, path(r, "name"))
			}
			got = append(got, desc)
		}
		want := []string{
			fmt.Sprintf("0:rate-per-ip rate %d per 300s by IP, block true", cfg.CDN.RateLimitPerFiveMinutes),
			"1:ip-reputation AWS/AWSManagedRulesAmazonIpReputationList",
			"2:known-bad-inputs AWS/AWSManagedRulesKnownBadInputsRuleSet",
			"3:common AWS/AWSManagedRulesCommonRuleSet count:SizeRestrictions_BODY",
		}
		if !slices.Equal(got, want) {
			t.Errorf("web ACL rules:\n got %q\nwant %q", got, want)
		}

		logging := one(t, res, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", aclName).Plain()
		group := one(t, res, typeLogGroup, cdn.LogGroupName(kit.Namer{Prefix: cfg.Cluster.Name}))
		if strs(logging["logDestinationConfigs"])[0] != group.State["arn"].StringValue() || logging["resourceArn"] != acl.State["arn"].StringValue() {
			t.Errorf("WAF logs: want the ACL's logs in %s, got %v", group.Name, logging)
		}
		var redacted []string
		for _, f := range path(logging, "redactedFields").([]any) {
			redacted = append(redacted, fmt.Sprint(path(f, "singleHeader", "name")))
		}
		if !slices.Equal(redacted, []string{"authorization", "cookie"}) {
			t.Errorf("WAF logs redact %v, want authorization and cookie", redacted)
		}
		g := group.Plain()
		if days, _ := rules.Int(g["retentionInDays"]); days != cfg.CDN.LogRetentionDays || g["kmsKeyId"] != one(t, res, typeKMSKey, cfg.Cluster.Name+"-waf-logs").State["arn"].StringValue() {
			t.Errorf("WAF log group: want %d days under the WAF logs key, got %v days, key %v", cfg.CDN.LogRetentionDays, g["retentionInDays"], g["kmsKeyId"])
		}
		if group.Protect != cfg.Guards.Protect {
			t.Errorf("WAF log group protect %v, want guards.protect %v", group.Protect, cfg.Guards.Protect)
		}
	})
}

// The origin answers CloudFront only: CloudFront adds the secret header to
// every request to either origin, every rule of the app's route requires
// exactly that header and value, and the secret stays a secret.
func TestOriginLockdown(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		d := one(t, res, typeDistribution, cfg.Cluster.Name+"-cdn")
		secret := one(t, res, "random:index/randomPassword:RandomPassword", cfg.Cluster.Name+"-cdn-origin").State["result"].StringValue()
		h := rules.List(path(originOf(d.Plain(), cdn.OriginHTTPS), "customHeaders"))
		if len(h) != 1 || path(h[0], "name") != cdn.OriginHeader || path(h[0], "value") != secret {
			t.Errorf("origin %s: want header %s with the origin secret, got %v", cdn.OriginHTTPS, cdn.OriginHeader, h)
		}
		// Plain HTTP (ACME's challenges) never carries the secret.
		if h := path(originOf(d.Plain(), cdn.OriginHTTP), "customHeaders"); h != nil {
			t.Errorf("origin %s (plain HTTP) sends headers %v", cdn.OriginHTTP, h)
		}
		if !d.IsSecretInput("origins") {
			t.Errorf("the distribution's origins carry the origin secret: they must be a secret input")
		}
		route := one(t, res, typeHTTPRoute, "httproute-app")
		if !route.IsSecretInput("spec") {
			t.Errorf("the app route carries the origin secret: its spec must be a secret input")
		}
		for i, rule := range path(route.Plain(), "spec", "rules").([]any) {
			for _, m := range path(rule, "matches").([]any) {
				h := path(m, "headers").([]any)
				if len(h) != 1 || path(h[0], "type") != "Exact" || path(h[0], "name") != cdn.OriginHeader || path(h[0], "value") != secret {
					t.Errorf("app route rule %d (%v): want it to require %s with the origin secret, got %v", i, path(m, "path", "value"), cdn.OriginHeader, h)
				}
			}
		}
		// NGINX takes the viewer's address from the entry CloudFront
		// appends to X-Forwarded-For (the last), for the rate limit.
		rewrite := path(one(t, res, typeRelease, "nginx-gateway-fabric").Plain(), "values", "nginx", "config", "rewriteClientIP")
		if path(rewrite, "mode") != "XForwardedFor" || path(rewrite, "setIPRecursively") != false {
			t.Errorf("NGINX behind CloudFront: want the client IP from X-Forwarded-For's last entry, got %v", rewrite)
		}
	})
}

// DNS: the hostnames are Pulumi's alias records to the distribution (A and
// AAAA), the certificate is validated in the zone, and external-dns sees
// only the origin route, which names the origin hostname.
func TestCDNNames(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		d := one(t, res, typeDistribution, cfg.Cluster.Name+"-cdn")
		for _, h := range cfg.App.Hostnames {
			for _, typ := range []string{"A", "AAAA"} {
				r := one(t, res, typeRecord, fmt.Sprintf("%s-cdn-%s-%s", cfg.Cluster.Name, strings.ReplaceAll(h, ".", "-"), strings.ToLower(typ))).Plain()
				alias := path(r, "aliases").([]any)
				if r["name"] != h || r["type"] != typ || r["zoneId"] != cfg.App.Route53ZoneId || len(alias) != 1 ||
					path(alias[0], "name") != d.State["domainName"].StringValue() || path(alias[0], "zoneId") != "Z2FDTNDATAQYW2" {
					t.Errorf("%s %s: want an alias to the distribution in zone %s, got %v", h, typ, cfg.App.Route53ZoneId, r)
				}
			}
			v := one(t, res, typeRecord, fmt.Sprintf("%s-cdn-validation-%s", cfg.Cluster.Name, strings.ReplaceAll(h, ".", "-"))).Plain()
			if v["type"] != "CNAME" || !strings.HasSuffix(fmt.Sprint(v["name"]), "."+h+".") || v["zoneId"] != cfg.App.Route53ZoneId {
				t.Errorf("%s: want ACM's validation CNAME in the zone, got %v", h, v)
			}
		}
		// The hostnames move to the CDN only once external-dns runs with
		// its label filter, and the app's route requires the origin header
		// only once they have moved.
		dns := one(t, res, typeRelease, "external-dns").URN
		route := one(t, res, typeHTTPRoute, "httproute-app")
		for _, r := range res.ByType(typeRecord) {
			if path(r.Plain(), "aliases") == nil {
				continue
			}
			if !slices.Contains(r.Dependencies, dns) {
				t.Errorf("alias record %s does not wait for external-dns's release", r.Name)
			}
			if !slices.Contains(route.Dependencies, r.URN) {
				t.Errorf("the app route does not wait for alias record %s", r.Name)
			}
		}
		cert := one(t, res, "aws:acm/certificate:Certificate", cfg.Cluster.Name+"-cdn").Plain()
		if names := append([]string{cert["domainName"].(string)}, strs(cert["subjectAlternativeNames"])...); !slices.Equal(names, cfg.App.Hostnames) || cert["validationMethod"] != "DNS" {
			t.Errorf("certificate: want %v validated by DNS, got %v", cfg.App.Hostnames, cert)
		}

		filter := path(one(t, res, typeRelease, "external-dns").Plain(), "values", "labelFilter")
		if filter != apptier.DNSLabel+"="+apptier.DNSLabelValue {
			t.Errorf("external-dns labelFilter: got %v", filter)
		}
		var labelled []string
		for _, r := range res.ByType(typeHTTPRoute) {
			if path(r.Plain(), "metadata", "labels", apptier.DNSLabel) == apptier.DNSLabelValue {
				labelled = append(labelled, r.Name)
			}
		}
		if !slices.Equal(labelled, []string{"httproute-origin"}) {
			t.Errorf("routes external-dns sees: want only the origin route, got %v", labelled)
		}
		origin := one(t, res, typeHTTPRoute, "httproute-origin").Plain()
		if got := strs(path(origin, "spec", "hostnames")); !slices.Equal(got, []string{cfg.CDN.OriginHostname}) {
			t.Errorf("origin route hostnames: want %s, got %v", cfg.CDN.OriginHostname, got)
		}
	})
}

// Without the CDN the edge is what it was: no CloudFront, no WAF, no
// origin header, the app's routes point the hostnames at the load
// balancer, NGINX sees clients' own addresses, no WAF alert or metric.
func TestWithoutCDN(t *testing.T) {
	res, err := synth.Run(withChanges(t, change{"cdn", "enabled", false}), infra.Deploy)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{typeDistribution, typeWebACL, typeRecord, "aws:acm/certificate:Certificate"} {
		if n := len(res.ByType(typ)); n != 0 {
			t.Errorf("%d %s without a CDN", n, typ)
		}
	}
	var labelled []string
	for _, r := range res.ByType(typeHTTPRoute) {
		if path(r.Plain(), "metadata", "labels", apptier.DNSLabel) == apptier.DNSLabelValue {
			labelled = append(labelled, r.Name)
		}
		if strings.Contains(fmt.Sprint(r.Plain()), cdn.OriginHeader) {
			t.Errorf("route %s requires the origin header without a CDN", r.Name)
		}
	}
	slices.Sort(labelled)
	if !slices.Equal(labelled, []string{"httproute-app", "httproute-https-redirect"}) {
		t.Errorf("routes external-dns sees without a CDN: want the app's and the redirect, got %v", labelled)
	}
	if v := path(one(t, res, typeRelease, "nginx-gateway-fabric").Plain(), "values", "nginx", "config"); v != nil {
		t.Errorf("NGINX without a CDN rewrites client addresses: %v", v)
	}
	cw := path(one(t, res, typeConfigMap, "cloudwatch-exporter").Plain(), "data", "config.yml")
	if strings.Contains(fmt.Sprint(cw), "WAFV2") {
		t.Errorf("the exporter reads the WAF's metrics without a CDN")
	}
	if _, ok := res.Outputs["cdnDomainName"]; ok {
		t.Errorf("cdnDomainName output without a CDN")
	}
}

// The WAF's blocked requests reach Prometheus and its alert: the exporter
// reads the web ACL's BlockedRequests, and the rule names the ACL.
func TestWAFAlertWiring(t *testing.T) {
	forEachStack(t, func(t *testing.T, name string, res *synth.Result, cfg *config.Config) {
		acl := cfg.Cluster.Name + "-edge"
		cw := fmt.Sprint(path(one(t, res, typeConfigMap, "cloudwatch-exporter").Plain(), "data", "config.yml"))
		if !strings.Contains(cw, "aws_namespace: AWS/WAFV2") || !strings.Contains(cw, "- "+acl) {
			t.Errorf("exporter config: want AWS/WAFV2 BlockedRequests of %s, got\n%s", acl, cw)
		}
		found := false
		for _, r := range res.ByType("kubernetes:monitoring.coreos.com/v1:PrometheusRule") {
			s := fmt.Sprint(r.Plain())
			if strings.Contains(s, "WafBlockedRequestsSpike") && strings.Contains(s, fmt.Sprintf(`web_acl="%s"`, acl)) && strings.Contains(s, fmt.Sprintf("> %d", cfg.CDN.BlockedRequestsAlert)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no WafBlockedRequestsSpike rule on %s over %d", acl, cfg.CDN.BlockedRequestsAlert)
		}
		if _, ok := res.Outputs["cdnDomainName"]; !ok {
			t.Errorf("no cdnDomainName output")
		}
	})
}
