// Package cdn is CloudFront, with an AWS WAF web ACL, in front of the
// Gateway:
//
//	viewer -> CloudFront (TLS from ACM, WAF) -> origin.<host> (the Gateway's NLB)
//	       -> NGINX, which serves the app's routes only to requests that
//	          carry the origin header CloudFront adds
//
// What each path gets at the edge:
//   - the frontend's fingerprinted static assets (cdn.staticPaths): cached
//     up to a year whatever the origin says (CachingOptimized);
//   - the rest of the frontend: cached as its Cache-Control says
//     (UseOriginCacheControlHeaders-QueryStrings), so index.html is as
//     fresh as the frontend wants;
//   - /api and the WebSocket path: never cached, every method, every
//     viewer header, cookie and query string forwarded (AllViewer);
//   - ACME's HTTP-01 challenges: plain HTTP allowed, never cached, to the
//     Gateway's HTTP listener, where cert-manager's solver answers them.
//
// Every behaviour forwards the viewer's Host (AllViewer, the host-only
// origin request policy, or a cache key holding Host), so that NGINX picks
// the hostname's listener and CloudFront checks the origin's certificate
// against that hostname, the name cert-manager's certificate is for.
//
// DNS: the app's hostnames are alias records to the distribution
// (components/apptier makes them, after external-dns runs with its label
// filter); external-dns makes only origin.<host> (the origin HTTPRoute),
// from the Gateway's address.
package cdn

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/config"
	"github.com/scrolluniversity/platform/infra/kit"
)

// Region is where CloudFront's certificate and web ACL must be.
const Region = "us-east-1"

// OriginHeader is the header CloudFront adds to every request it sends the
// origin, with the stack's secret; the app's routes serve no request
// without it.
const OriginHeader = "X-Origin-Verify"

// originSecretLength is the origin secret's length: letters and digits,
// about 285 bits.
const originSecretLength = 48

// AWS's managed CloudFront policies, by their documented IDs
// (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
// and using-managed-origin-request-policies.html). Fixed by AWS for every
// account; looking them up by name would cost a call per preview for the
// same answer.
const (
	// CachingOptimized: query strings, cookies and headers out of the cache
	// key, TTL 1 s to 1 year (default 1 day), gzip and Brotli.
	CachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	// CachingDisabled: TTL 0, nothing cached.
	CachingDisabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	// UseOriginCacheControlHeadersQueryStrings: the origin's Cache-Control
	// decides (TTL 0 when it says nothing); Host, cookies and query
	// strings in the cache key, hence forwarded.
	UseOriginCacheControlHeadersQueryStrings = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
	// AllViewer: every viewer header (Host included), cookie and query
	// string forwarded to the origin.
	AllViewer = "216adef6-5c7f-47e4-b989-5492eafa07d3"
)

// Origins of the distribution: the Gateway over HTTPS, and over HTTP for
// ACME's challenges only.
const (
	OriginHTTPS = "gateway"
	OriginHTTP  = "gateway-http"
)

// AcmeChallengePath is the behaviour of ACME's HTTP-01 challenges.
const AcmeChallengePath = "/.well-known/acme-challenge/*"

// Timeouts toward the origin: reads as long as NGINX's own 60 s proxy read
// timeout; connections kept idle shorter than NGINX keeps them (75 s), so
// that CloudFront never sends on one NGINX is closing. Both are the most
// CloudFront allows without a quota increase.
const (
	originReadTimeoutSeconds      = 60
	originKeepaliveTimeoutSeconds = 60
)

// Args configure the component.
type Args struct {
	// Config is the cdn section of the stack config.
	Config config.CDNConfig
	// Hostnames are the app's public hostnames (app.hostnames): the
	// distribution's aliases, its certificate's names (validated by DNS records
	// in ZoneId; their alias records are components/apptier's).
	Hostnames []string
	// ZoneId is the Route 53 zone of the hostnames (app.route53ZoneId).
	ZoneId string
	// WebSocketPath is the backend's WebSocket endpoint (app.webSocketPath).
	WebSocketPath string
	// Protect guards the WAF logs. group and key (guards.protect).
	Protect bool
	// Namer names AWS resources; Account is where they live.
	Namer   kit.Namer
	Account kit.Account
	// Provider is an AWS provider in us-east-1 (Region): CloudFront takes
	// its certificate and web ACL from there only.
	Provider pulumi.ProviderResource
}

// CDN is the component.
type CDN struct {
	pulumi.ResourceState
	// OriginSecret is the value of OriginHeader (secret).
	OriginSecret pulumi.StringOutput
	// DistributionId and DomainName are the distribution's.
	DistributionId pulumi.StringOutput
	DomainName     pulumi.StringOutput
	// HostedZoneId is CloudFront's zone, for alias records to DomainName.
	HostedZoneId pulumi.StringOutput
	// WebACL is the web ACL's name, the WebACL dimension of its metrics.
	WebACL string
	// WebACLArn is the web ACL's ARN.
	WebACLArn pulumi.StringOutput
}

// Rule is one rule of the web ACL, in priority order.
type Rule struct {
	// Name is the rule's name and, after the ACL's, its metric's.
	Name string
	// ManagedGroup is an AWS managed rule group (AWSManagedRules...); ""
	// for the rate-based rule.
	ManagedGroup string
	// CountOnly are rules of the group that only count, never block.
	CountOnly []string
}

// Rules are the web ACL's rules, highest priority first: the per-IP rate
// limit (the cheapest), AWS's IP reputation list, known bad inputs (Log4j,
// Java deserialization, ...), and the common rule set (OWASP Top 10
// patterns) with its 8 KB body-size rule counting only, since uploads and
// course content are larger (the Gateway limits bodies to app.maxBodySize).
func Rules() []Rule {
	return []Rule{
		{Name: "rate-per-ip"},
		{Name: "ip-reputation", ManagedGroup: "AWSManagedRulesAmazonIpReputationList"},
		{Name: "known-bad-inputs", ManagedGroup: "AWSManagedRulesKnownBadInputsRuleSet"},
		{Name: "common", ManagedGroup: "AWSManagedRulesCommonRuleSet", CountOnly: []string{"SizeRestrictions_BODY"}},
	}
}

// WebACLName is the web ACL's name: its WebACL metric dimension.
func WebACLName(n kit.Namer) string { return n.Name("edge") }

// webACLDescription is the web ACL's description.
func webACLDescription(n kit.Namer) string { return "CloudFront WAF for " + n.Prefix }

// LogGroupName is the WAF log group, which must start "aws-waf-logs-".
func LogGroupName(n kit.Namer) string { return "aws-waf-logs-" + n.Prefix }

// New builds the component.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*CDN, error) {
	c := &CDN{}
	if err := ctx.RegisterComponentResource("scrolluniversity:components:CDN", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	withUS := pulumi.Provider(args.Provider)
	n, d := args.Namer, args.Config

	secret, err := random.NewRandomPassword(ctx, n.Name("cdn-origin"), &random.RandomPasswordArgs{
		Length: pulumi.Int(originSecretLength), Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generating the origin secret: %w", err)
	}
	// Secret wherever it goes (the engine marks the password's result
	// secret; this keeps it so under the mock engine too).
	c.OriginSecret = pulumi.ToSecret(secret.Result).(pulumi.StringOutput)

	certArn, err := certificate(ctx, args, parent, withUS)
	if err != nil {
		return nil, err
	}
	acl, err := webACL(ctx, args, parent, withUS)
	if err != nil {
		return nil, err
	}

	hostOnly, err := cloudfront.NewOriginRequestPolicy(ctx, n.Name("cdn-host"), &cloudfront.OriginRequestPolicyArgs{
		Name:    pulumi.String(n.Name("cdn-host")),
		Comment: pulumi.String("The viewer Host only: NGINX picks the listener by it, CloudFront checks the certificate against it"),
		HeadersConfig: &cloudfront.OriginRequestPolicyHeadersConfigArgs{
			HeaderBehavior: pulumi.String("whitelist"),
			Headers:        &cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs{Items: pulumi.ToStringArray([]string{"Host"})},
		},
		CookiesConfig:      &cloudfront.OriginRequestPolicyCookiesConfigArgs{CookieBehavior: pulumi.String("none")},
		QueryStringsConfig: &cloudfront.OriginRequestPolicyQueryStringsConfigArgs{QueryStringBehavior: pulumi.String("none")},
	}, parent, withUS)
	if err != nil {
		return nil, fmt.Errorf("creating the host-only origin request policy: %w", err)
	}

	origin := func(id, protocol string) cloudfront.DistributionOriginArgs {
		o := cloudfront.DistributionOriginArgs{
			OriginId:   pulumi.String(id),
			DomainName: pulumi.String(d.OriginHostname),
			CustomOriginConfig: &cloudfront.DistributionOriginCustomOriginConfigArgs{
				HttpPort: pulumi.Int(80), HttpsPort: pulumi.Int(443),
				OriginProtocolPolicy:   pulumi.String(protocol),
				OriginSslProtocols:     pulumi.ToStringArray([]string{"TLSv1.2"}),
				OriginReadTimeout:      pulumi.Int(originReadTimeoutSeconds),
				OriginKeepaliveTimeout: pulumi.Int(originKeepaliveTimeoutSeconds),
			},
		}
		// The secret travels only over TLS: ACME's challenges (the HTTP
		// origin) need no header, their routes are cert-manager's.
		if protocol == "https-only" {
			o.CustomHeaders = cloudfront.DistributionOriginCustomHeaderArray{
				cloudfront.DistributionOriginCustomHeaderArgs{Name: pulumi.String(OriginHeader), Value: c.OriginSecret},
			}
		}
		return o
	}
	var ordered cloudfront.DistributionOrderedCacheBehaviorArray
	for _, b := range Behaviors(d.StaticPaths, args.WebSocketPath) {
		ob := cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern:          pulumi.String(b.Path),
			TargetOriginId:       pulumi.String(b.Origin),
			ViewerProtocolPolicy: pulumi.String(b.ViewerProtocol),
			AllowedMethods:       pulumi.ToStringArray(b.Methods),
			CachedMethods:        pulumi.ToStringArray([]string{"GET", "HEAD"}),
			CachePolicyId:        pulumi.String(b.CachePolicy),
			Compress:             pulumi.Bool(b.Compress),
		}
		switch b.OriginRequest {
		case AllViewer:
			ob.OriginRequestPolicyId = pulumi.String(AllViewer)
		case hostOnlyPolicy:
			ob.OriginRequestPolicyId = hostOnly.ID()
		}
		ordered = append(ordered, ob)
	}
	dist, err := cloudfront.NewDistribution(ctx, n.Name("cdn"), &cloudfront.DistributionArgs{
		Comment:       pulumi.String("ScrollUniversity " + n.Prefix + ": the app hostnames, in front of the Gateway"),
		Enabled:       pulumi.Bool(true),
		Aliases:       pulumi.ToStringArray(args.Hostnames),
		HttpVersion:   pulumi.String("http2and3"),
		IsIpv6Enabled: pulumi.Bool(true),
		PriceClass:    pulumi.String(d.PriceClass),
		WebAclId:      acl.Arn,
		Origins:       cloudfront.DistributionOriginArray{origin(OriginHTTPS, "https-only"), origin(OriginHTTP, "http-only")},
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:       pulumi.String(OriginHTTPS),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
			AllowedMethods:       pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS"}),
			CachedMethods:        pulumi.ToStringArray([]string{"GET", "HEAD"}),
			CachePolicyId:        pulumi.String(UseOriginCacheControlHeadersQueryStrings),
			Compress:             pulumi.Bool(true),
		},
		OrderedCacheBehaviors: ordered,
		ViewerCertificate: &cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn:      certArn,
			SslSupportMethod:       pulumi.String("sni-only"),
			MinimumProtocolVersion: pulumi.String("TLSv1.2_2021"),
		},
		Restrictions: &cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
	}, parent, withUS)
	if err != nil {
		return nil, fmt.Errorf("creating the CloudFront distribution: %w", err)
	}
	c.DistributionId, c.DomainName, c.HostedZoneId = dist.ID().ToStringOutput(), dist.DomainName, dist.HostedZoneId
	c.WebACL, c.WebACLArn = WebACLName(n), acl.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"distributionId": c.DistributionId, "domainName": c.DomainName, "webAclArn": c.WebACLArn,
	})
}

// hostOnlyPolicy stands for the component's own origin request policy
// (its ID is known only once it exists).
const hostOnlyPolicy = "host-only"

// Behavior is one ordered cache behaviour of the distribution.
type Behavior struct {
	Path, Origin, ViewerProtocol string
	Methods                      []string
	CachePolicy                  string
	// OriginRequest is AllViewer, hostOnlyPolicy, or "" (the cache key's
	// values only).
	OriginRequest string
	Compress      bool
}

// Behaviors are the ordered cache behaviours, first match wins: ACME's
// challenges, the API and the WebSocket path (their prefixes as the app's
// HTTPRoute matches them, and whatever follows), then the static paths.
func Behaviors(staticPaths []string, webSocketPath string) []Behavior {
	every := []string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
	out := []Behavior{
		{Path: AcmeChallengePath, Origin: OriginHTTP, ViewerProtocol: "allow-all", Methods: []string{"GET", "HEAD"}, CachePolicy: CachingDisabled, OriginRequest: AllViewer},
	}
	for _, prefix := range []string{"/api", webSocketPath} {
		out = append(out, Behavior{Path: prefix + "*", Origin: OriginHTTPS, ViewerProtocol: "redirect-to-https", Methods: every, CachePolicy: CachingDisabled, OriginRequest: AllViewer})
	}
	for _, p := range staticPaths {
		out = append(out, Behavior{Path: p, Origin: OriginHTTPS, ViewerProtocol: "redirect-to-https", Methods: []string{"GET", "HEAD"}, CachePolicy: CachingOptimized, OriginRequest: hostOnlyPolicy, Compress: true})
	}
	return out
}

// certificate is the distribution's certificate, for every hostname,
// validated through DNS in the hostnames' zone; ACM renews it while the
// records stay.
func certificate(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	n := args.Namer
	hosts := args.Hostnames
	cert, err := acm.NewCertificate(ctx, n.Name("cdn"), &acm.CertificateArgs{
		DomainName:              pulumi.String(hosts[0]),
		SubjectAlternativeNames: pulumi.ToStringArray(hosts[1:]),
		ValidationMethod:        pulumi.String("DNS"),
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("requesting the CloudFront certificate: %w", err)
	}
	var fqdns pulumi.StringArray
	for _, h := range hosts {
		// ACM lists the options as a set: find the hostname's by name.
		option := func(field func(acm.CertificateDomainValidationOption) *string) pulumi.StringOutput {
			return cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) (string, error) {
				i := slices.IndexFunc(opts, func(o acm.CertificateDomainValidationOption) bool { return o.DomainName != nil && *o.DomainName == h })
				if i < 0 || field(opts[i]) == nil {
					return "", fmt.Errorf("ACM gave no DNS validation record for %s", h)
				}
				return *field(opts[i]), nil
			}).(pulumi.StringOutput)
		}
		record, err := route53.NewRecord(ctx, n.Name("cdn-validation", h), &route53.RecordArgs{
			ZoneId:  pulumi.String(args.ZoneId),
			Name:    option(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordName }),
			Type:    option(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordType }),
			Records: pulumi.StringArray{option(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordValue })},
			Ttl:     pulumi.Int(300),
			// ACM gives the same record to every certificate of the name:
			// a replacement certificate finds its record there already.
			AllowOverwrite: pulumi.Bool(true),
		}, opts...)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("creating the validation record of %s: %w", h, err)
		}
		fqdns = append(fqdns, record.Fqdn)
	}
	valid, err := acm.NewCertificateValidation(ctx, n.Name("cdn"), &acm.CertificateValidationArgs{
		CertificateArn: cert.Arn, ValidationRecordFqdns: fqdns,
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("waiting for the CloudFront certificate: %w", err)
	}
	return valid.CertificateArn, nil
}

// webACL is the distribution's WAF: Rules, every request allowed that no
// rule blocks, each rule's metrics and samples, and its logs kept.
func webACL(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*wafv2.WebAcl, error) {
	n, d := args.Namer, args.Config
	name := WebACLName(n)
	visibility := func(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
		return wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(true), MetricName: pulumi.String(metric),
		}
	}
	var rules wafv2.WebAclRuleArray
	for i, r := range Rules() {
		rule := wafv2.WebAclRuleArgs{
			Name: pulumi.String(r.Name), Priority: pulumi.Int(i), VisibilityConfig: visibility(name + "-" + r.Name),
		}
		if r.ManagedGroup == "" {
			rule.Action = &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}}
			rule.Statement = &wafv2.WebAclRuleStatementArgs{RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit: pulumi.Int(d.RateLimitPerFiveMinutes), AggregateKeyType: pulumi.String("IP"), EvaluationWindowSec: pulumi.Int(300),
			}}
		} else {
			var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
			for _, count := range r.CountOnly {
				overrides = append(overrides, wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
					Name: pulumi.String(count),
					ActionToUse: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
						Count: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{},
					},
				})
			}
			// A rule group's own rules block; "none" keeps their actions.
			rule.OverrideAction = &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}}
			rule.Statement = &wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
				VendorName: pulumi.String("AWS"), Name: pulumi.String(r.ManagedGroup), RuleActionOverrides: overrides,
			}}
		}
		rules = append(rules, rule)
	}
	acl, err := wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Name: pulumi.String(name),
		// WAF's descriptions take letters, digits, spaces and +=:#@/-,.
		// only (EntityDescription in its API).
		Description:   pulumi.String(webACLDescription(n)),
		Scope:         pulumi.String("CLOUDFRONT"),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(true), MetricName: pulumi.String(name),
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the web ACL: %w", err)
	}

	// The logs, in the web ACL's region, with a key of that region.
	acct := args.Account
	acct.Region = Region
	group := LogGroupName(n)
	key, err := kit.NewKey(ctx, n.Name("waf-logs"), acct, kit.KeyArgs{
		Description:       "WAF logs of " + n.Prefix + "'s CloudFront distribution",
		ServicePrincipals: []kit.ServiceKeyUse{kit.LogsKeyUse(acct, []string{group})},
		Retain:            args.Protect,
	}, append(opts, pulumi.Protect(args.Protect))...)
	if err != nil {
		return nil, err
	}
	logs, err := kit.NewLogGroup(ctx, group, kit.LogGroup{
		Name: pulumi.String(group), RetentionDays: d.LogRetentionDays, KeyArn: key.Arn, Keep: args.Protect,
	}, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := wafv2.NewWebAclLoggingConfiguration(ctx, name, &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn:           acl.Arn,
		LogDestinationConfigs: pulumi.StringArray{logs.Arn},
		// Credentials stay out of the logs.
		RedactedFields: wafv2.WebAclLoggingConfigurationRedactedFieldArray{
			wafv2.WebAclLoggingConfigurationRedactedFieldArgs{SingleHeader: &wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs{Name: pulumi.String("authorization")}},
			wafv2.WebAclLoggingConfigurationRedactedFieldArgs{SingleHeader: &wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs{Name: pulumi.String("cookie")}},
		},
	}, opts...); err != nil {
		return nil, fmt.Errorf("sending the web ACL's logs to %s: %w", group, err)
	}
	return acl, nil
}
