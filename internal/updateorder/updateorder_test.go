package updateorder

import (
	"strings"
	"testing"
)

const (
	urnDist  = "urn:pulumi:s::scrolluniversity::scrolluniversity:components:CDN$aws:cloudfront/distribution:Distribution::su-cdn"
	urnDNS   = "urn:pulumi:s::scrolluniversity::scrolluniversity:components:AppTier$kubernetes:helm.sh/v3:Release::external-dns"
	urnAlias = "urn:pulumi:s::scrolluniversity::scrolluniversity:components:AppTier$aws:route53/record:Record::su-cdn-app-example-a"
	urnRoute = "urn:pulumi:s::scrolluniversity::scrolluniversity:components:AppTier$kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::httproute-app"
)

func steps(seq ...string) []Step {
	var out []Step
	for _, s := range seq {
		op, urn, _ := strings.Cut(s, " ")
		out = append(out, Step{Started: op == "start", URN: urn})
	}
	return out
}

func TestCDNOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []Step
		want  string // a problem that must be reported; "" for none
	}{
		{"in order", steps("start "+urnDist, "start "+urnDNS, "done "+urnDNS, "done "+urnDist, "start "+urnAlias, "done "+urnAlias, "start "+urnRoute, "done "+urnRoute), ""},
		{"alias before external-dns", steps("start "+urnDist, "done "+urnDist, "start "+urnDNS, "start "+urnAlias, "done "+urnDNS, "done "+urnAlias, "start "+urnRoute, "done "+urnRoute), "external-dns's release"},
		{"route before the alias", steps("start "+urnDist, "done "+urnDist, "start "+urnDNS, "done "+urnDNS, "start "+urnAlias, "start "+urnRoute, "done "+urnAlias, "done "+urnRoute), "alias record"},
		{"alias before the distribution", steps("start "+urnDNS, "done "+urnDNS, "start "+urnDist, "start "+urnAlias, "done "+urnAlias, "done "+urnDist, "start "+urnRoute), "the distribution"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := CDN(tc.steps)
			got := strings.Join(problems, "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
	if msg, problems := CDN(steps("start " + urnRoute)); len(problems) != 0 || !strings.Contains(msg, "no CDN") {
		t.Errorf("a stack without a CDN: %q %v", msg, problems)
	}
}
