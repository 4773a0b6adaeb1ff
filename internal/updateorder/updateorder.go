// Package updateorder checks, in the engine events of a real `pulumi up`
// (cmd/e2e), that resources ran in the order the program asks with its
// dependencies: an order the mock engine cannot show.
package updateorder

import (
	"fmt"
	"slices"
	"strings"
)

// Step is one resource event of an update: its start (the engine's
// ResourcePreEvent) or its end (ResOutputsEvent).
type Step struct {
	Started bool
	URN     string
}

// CDN checks, in the events of an up, the order components/apptier
// asks of the CDN's switch: each hostname's alias record starts only once
// the distribution and external-dns's release (with its label filter) are
// done, and the app's route, which then requires the origin header, starts
// only once every alias record is done. A stack without a CDN has no alias
// records and nothing to check.
func CDN(steps []Step) (string, []string) {
	kind := func(urn string) (typ, name string) {
		parts := strings.Split(urn, "::")
		if len(parts) < 4 {
			return "", ""
		}
		chain := strings.Split(parts[2], "$")
		return chain[len(chain)-1], parts[3]
	}
	started, done := map[string]int{}, map[string]int{}
	var aliases []string
	var dist, dns, route string
	for i, s := range steps {
		if s.Started {
			if _, seen := started[s.URN]; !seen {
				started[s.URN] = i
			}
		} else {
			done[s.URN] = i
		}
		typ, name := kind(s.URN)
		switch {
		case typ == "aws:route53/record:Record" && strings.Contains(s.URN, "components:AppTier"):
			if !slices.Contains(aliases, s.URN) {
				aliases = append(aliases, s.URN)
			}
		case typ == "aws:cloudfront/distribution:Distribution":
			dist = s.URN
		case typ == "kubernetes:helm.sh/v3:Release" && name == "external-dns":
			dns = s.URN
		case typ == "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" && name == "httproute-app":
			route = s.URN
		}
	}
	if len(aliases) == 0 {
		return "no CDN: no alias records", nil
	}
	var problems []string
	after := func(later, earlier string, what string) {
		s, ok1 := started[later]
		d, ok2 := done[earlier]
		if !ok1 || !ok2 || s < d {
			problems = append(problems, fmt.Sprintf("%s started before %s was done", later, what))
		}
	}
	for _, a := range aliases {
		after(a, dist, "the distribution")
		after(a, dns, "external-dns's release")
		after(route, a, "alias record "+a)
	}
	if len(problems) > 0 {
		return "the CDN's switch out of order", problems
	}
	return fmt.Sprintf("the CDN's switch in order: distribution and external-dns, then %d alias records, then the app route", len(aliases)), nil
}
