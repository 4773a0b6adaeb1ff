package config

import (
	"net/netip"
	"testing"
)

func TestCidrSubnet(t *testing.T) {
	cases := []struct {
		base            string
		newbits, netnum int
		want            string
	}{
		{"10.0.0.0/16", 3, 0, "10.0.0.0/19"},
		{"10.0.0.0/16", 3, 5, "10.0.160.0/19"},
		{"10.0.0.0/16", 6, 48, "10.0.192.0/22"},
		{"10.0.0.0/16", 8, 224, "10.0.224.0/24"},
		{"10.20.0.0/20", 8, 229, "10.20.14.80/28"},
		{"172.16.0.0/12", 4, 15, "172.31.0.0/16"},
	}
	for _, tc := range cases {
		got := CidrSubnet(netip.MustParsePrefix(tc.base), tc.newbits, tc.netnum)
		if got.String() != tc.want {
			t.Errorf("CidrSubnet(%s, %d, %d): want %s, got %s", tc.base, tc.newbits, tc.netnum, tc.want, got)
		}
	}
}

func TestPlanSubnetsLayout(t *testing.T) {
	plan, err := PlanSubnets("10.20.0.0/16", []string{"us-east-1a", "us-east-1b", "us-east-1c"})
	if err != nil {
		t.Fatal(err)
	}
	want := []ZoneSubnets{
		{"us-east-1a", netip.MustParsePrefix("10.20.192.0/22"), netip.MustParsePrefix("10.20.0.0/19"), netip.MustParsePrefix("10.20.224.0/24"), netip.MustParsePrefix("10.20.232.0/24")},
		{"us-east-1b", netip.MustParsePrefix("10.20.196.0/22"), netip.MustParsePrefix("10.20.32.0/19"), netip.MustParsePrefix("10.20.225.0/24"), netip.MustParsePrefix("10.20.233.0/24")},
		{"us-east-1c", netip.MustParsePrefix("10.20.200.0/22"), netip.MustParsePrefix("10.20.64.0/19"), netip.MustParsePrefix("10.20.226.0/24"), netip.MustParsePrefix("10.20.234.0/24")},
	}
	for i := range want {
		if plan[i] != want[i] {
			t.Errorf("zone %d: want %+v, got %+v", i, want[i], plan[i])
		}
	}
}

// For every VPC size and zone count the layout allows, no two subnets
// overlap and every subnet is inside the VPC.
func TestPlanSubnetsNeverOverlap(t *testing.T) {
	zones := []string{"a", "b", "c", "d", "e", "f"}
	for bits := minVpcPrefix; bits <= maxVpcPrefix; bits++ {
		vpc := netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), bits)
		plan, err := PlanSubnets(vpc.String(), zones)
		if err != nil {
			t.Fatalf("/%d: %v", bits, err)
		}
		var all []netip.Prefix
		for _, z := range plan {
			all = append(all, z.Public, z.Private, z.Isolated, z.ControlPlane)
		}
		for i, a := range all {
			if !vpc.Contains(a.Addr()) || a.Bits() < vpc.Bits() || a.Bits() > 28 {
				t.Errorf("/%d: subnet %s outside the VPC or smaller than /28", bits, a)
			}
			for _, b := range all[i+1:] {
				if a.Overlaps(b) {
					t.Errorf("/%d: %s overlaps %s", bits, a, b)
				}
			}
		}
	}
}

func TestPlanSubnetsRefuses(t *testing.T) {
	cases := map[string][]string{
		"10.0.0.0/15":  {"a", "b"},
		"10.0.0.0/21":  {"a", "b"},
		"10.0.0.1/16":  {"a", "b"},
		"not-a-cidr":   {"a", "b"},
		"fd00::/48":    {"a", "b"},
		"10.0.0.0/16 ": {"a", "b"},
	}
	for cidr, zones := range cases {
		if _, err := PlanSubnets(cidr, zones); err == nil {
			t.Errorf("PlanSubnets(%q): want an error", cidr)
		}
	}
	if _, err := PlanSubnets("10.0.0.0/16", []string{"a", "b", "c", "d", "e", "f", "g"}); err == nil {
		t.Errorf("seven zones: want an error")
	}
}
