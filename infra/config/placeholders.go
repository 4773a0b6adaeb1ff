package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Placeholders are the values in a valid config that stand for something
// real and cannot be deployed: the documentation address ranges (RFC 5737),
// the AWS documentation's example account, example hosted-zone IDs and
// access keys, and the reserved example domains (RFC 2606). The offline
// synthesizer keeps them (the committed stack files use them); `pulumi up`
// refuses them and `pulumi preview` warns (infra.Program), so that nothing
// is created against an endpoint allow-list nobody can reach or an access
// entry for a principal that does not exist. docs/DEPLOYMENT.md lists the
// values to replace.
func Placeholders(c *Config) Problems {
	p := &problems{project: c.Project}
	for i, cidr := range c.Cluster.PublicAccessCidrs {
		if r, ok := documentationRange(cidr); ok {
			p.add(fmt.Sprintf("cluster.publicAccessCidrs[%d]", i), cidr, "inside %s, a documentation range (RFC 5737) nothing sends from: list the addresses CI and your admins reach the API from, or none for a private endpoint", r)
		}
	}
	type role struct{ key, arn string }
	roles := []role{{"cluster.deployerRoleArn", c.Cluster.DeployerRoleArn}}
	for i, arn := range c.Cluster.AdminRoleArns {
		roles = append(roles, role{fmt.Sprintf("cluster.adminRoleArns[%d]", i), arn})
	}
	for i, arn := range c.Cluster.ViewerRoleArns {
		roles = append(roles, role{fmt.Sprintf("cluster.viewerRoleArns[%d]", i), arn})
	}
	for _, r := range roles {
		key, arn := r.key, r.arn
		if strings.Contains(arn, ":"+ExampleAccountID+":") {
			p.add(key, arn, "account %s is the AWS documentation's example: name a role of the account the stack deploys to (EKS refuses an access entry for a principal that does not exist)", ExampleAccountID)
		}
	}
	if z := c.App.Route53ZoneId; strings.HasPrefix(z, "Z0123456789") || strings.Contains(strings.ToUpper(z), "EXAMPLE") {
		p.add("app.route53ZoneId", z, "an example hosted-zone ID: want the ID of the zone that holds the hostnames (`aws route53 list-hosted-zones-by-name`)")
	}
	if u := c.Observability.Receivers.SmtpUsername; strings.Contains(strings.ToUpper(u), "EXAMPLE") {
		p.add("observability.receivers.smtpUsername", u, "an example access key ID: want the SES SMTP user's access key ID")
	}
	named := []struct{ key, value string }{
		{"app.acmeEmail", c.App.AcmeEmail},
		{"observability.receivers.emailTo", c.Observability.Receivers.EmailTo},
		{"observability.receivers.emailFrom", c.Observability.Receivers.EmailFrom},
	}
	for i, h := range c.App.Hostnames {
		named = append(named, struct{ key, value string }{fmt.Sprintf("app.hostnames[%d]", i), h})
	}
	for _, n := range named {
		if d, ok := exampleDomain(n.value); ok {
			p.add(n.key, n.value, "%s is reserved for examples (RFC 2606): want the real name", d)
		}
	}
	return p.list
}

// ExampleAccountID is the account ID of the AWS documentation's examples.
const ExampleAccountID = "123456789012"

// documentationRanges are RFC 5737's TEST-NET-1, -2 and -3.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
}

// documentationRange is the documentation range a CIDR overlaps, if any.
func documentationRange(cidr string) (netip.Prefix, bool) {
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, false
	}
	for _, r := range documentationRanges {
		if r.Overlaps(pfx) && pfx.Bits() >= r.Bits() {
			return r, true
		}
	}
	return netip.Prefix{}, false
}

// exampleDomain is the reserved domain a hostname or an address's domain
// is in (example.com, .org, .net; the .example, .test and .invalid TLDs).
func exampleDomain(v string) (string, bool) {
	host := strings.ToLower(v)
	if _, after, ok := strings.Cut(host, "@"); ok {
		host = after
	}
	for _, d := range []string{"example.com", "example.org", "example.net", "example", "test", "invalid"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return d, true
		}
	}
	return "", false
}
