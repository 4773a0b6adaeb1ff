package synth

import (
	"fmt"
	"strings"
	"testing"
)

// fakeStack is a stack of two components: net (n resources) and app (a
// resource that uses a value of net's first, and one that only waits for
// it).
func fakeStack(n int) *Result {
	const stack = "urn:pulumi:s::p::"
	res := &Result{Stack: "s"}
	res.Resources = append(res.Resources,
		Resource{URN: stack + "scrolluniversity:infra:Network::net", Type: "scrolluniversity:infra:Network", Name: "net"},
		Resource{URN: stack + "scrolluniversity:components:AppTier::app", Type: "scrolluniversity:components:AppTier", Name: "app"},
	)
	for i := range n {
		typ := fmt.Sprintf("aws:ec2/kind%d:Kind%d", i%40, i%40)
		res.Resources = append(res.Resources, Resource{URN: fmt.Sprintf("%snet$%s::r%d", stack, typ, i), Type: typ, Name: fmt.Sprintf("r%d", i), Custom: true, Parent: stack + "scrolluniversity:infra:Network::net"})
	}
	first := res.Resources[2].URN
	res.Resources = append(res.Resources,
		Resource{URN: stack + "app$aws:iam/role:Role::uses", Type: "aws:iam/role:Role", Name: "uses", Custom: true, Parent: stack + "scrolluniversity:components:AppTier::app",
			Dependencies: []string{first}, DataDependencies: []string{first}},
		Resource{URN: stack + "app$aws:iam/role:Role::waits", Type: "aws:iam/role:Role", Name: "waits", Custom: true, Parent: stack + "scrolluniversity:components:AppTier::app",
			Dependencies: []string{stack + "net$x::ordering-only"}},
	)
	return res
}

func TestArchitectureArrowsAreDataFlowsBetweenComponents(t *testing.T) {
	md := Architecture(fakeStack(10))
	if !strings.Contains(md, `c_net -->|"ec2.Kind0"| c_app`) {
		t.Errorf("want an arrow net -> app labelled with the kind whose value flows:\n%s", md)
	}
	if n := strings.Count(md, "-->"); n != 1 {
		t.Errorf("want exactly one arrow (an ordering-only dependency draws none), got %d:\n%s", n, md)
	}
}

// The page stays a picture of components however many resources there are.
func TestArchitectureStaysReadableAt400Resources(t *testing.T) {
	small, large := Architecture(fakeStack(10)), Architecture(fakeStack(400))
	if strings.Count(large, "\n") != strings.Count(small, "\n") {
		t.Errorf("the page grew with the resources: %d lines at 10, %d at 400", strings.Count(small, "\n"), strings.Count(large, "\n"))
	}
	if !strings.Contains(large, "+") || !strings.Contains(large, "more resources of") {
		t.Errorf("a box must fold what does not fit into one line:\n%s", large)
	}
	if len(large) > 3000 {
		t.Errorf("the page is %d bytes for 400 resources", len(large))
	}
}

func TestGroupsFollowParentsToTheTopComponent(t *testing.T) {
	groups := Groups(fakeStack(3))
	var names []string
	for _, g := range groups {
		names = append(names, fmt.Sprintf("%s=%d", g.Name, len(g.Resources)))
	}
	if got := strings.Join(names, " "); got != "net=3 app=2" {
		t.Errorf("groups: want net=3 app=2 (network first), got %s", got)
	}
}
