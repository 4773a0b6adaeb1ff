package tests

import (
	"testing"

	"github.com/scrolluniversity/platform/infra/kit"
)

func TestNamer(t *testing.T) {
	n := kit.Namer{Prefix: "scrolluniversity-production"}
	cases := []struct {
		parts []string
		want  string
	}{
		{[]string{"vpc"}, "scrolluniversity-production-vpc"},
		{[]string{"private", "us-east-1a"}, "scrolluniversity-production-private-us-east-1a"},
		{[]string{"admin", "Platform_Admins"}, "scrolluniversity-production-admin-platform-admins"},
		{[]string{"a/b", "", "c"}, "scrolluniversity-production-a-b--c"},
	}
	for _, tc := range cases {
		if got := n.Name(tc.parts...); got != tc.want {
			t.Errorf("Name(%q): want %s, got %s", tc.parts, tc.want, got)
		}
	}
}
