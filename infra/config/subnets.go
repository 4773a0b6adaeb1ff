package config

import (
	"fmt"
	"net/netip"
)

// The VPC is carved the same way whatever its size (/16 to /20), so that a
// zone's subnets can be computed, reviewed and tested without AWS:
//
//	first 6/8 of the VPC   private subnets (nodes and pods), VPC/8 each, zone i at slot i
//	next 1/8               public subnets (load balancers, NAT), VPC/64 each, from slot 48
//	last 1/8               isolated subnets (RDS and ElastiCache), VPC/256 each, from slot 224,
//	                       and control-plane subnets (the EKS control plane's
//	                       network interfaces), VPC/256 each, from slot 232
//
// Pods take their IPs from the private subnets (VPC CNI), which is why they
// get the lion's share: a /16 gives each zone a /19 (8,190 addresses).
//
// The control plane gets subnets of its own, as the EKS Best Practices
// Guide recommends (at least /28, which a /20 VPC's slots still are): no pod
// or node has an address there, so a NetworkPolicy can admit the API
// server's webhook calls from these CIDRs without admitting every pod, which
// an ipBlock of the VPC (or of the private subnets) would.
const (
	minVpcPrefix = 16
	// maxVpcPrefix keeps isolated subnets at /28 or larger, the smallest AWS allows.
	maxVpcPrefix = 20
	// maxZones is how many zones the layout has room for (six of the eight
	// private slots; AWS has no region with more than six zones).
	maxZones = 6

	privateNewBits  = 3
	publicNewBits   = 6
	publicFirstNet  = 48
	isolatedNewBits = 8
	isolatedFirst   = 224
	// controlPlaneFirst follows the isolated subnets' six slots (and two
	// spare).
	controlPlaneFirst = 232
)

// ZoneSubnets are one zone's subnets.
type ZoneSubnets struct {
	Zone         string
	Public       netip.Prefix
	Private      netip.Prefix
	Isolated     netip.Prefix
	ControlPlane netip.Prefix
}

// PlanSubnets lays out the subnets for the zones, in the zones' order.
func PlanSubnets(vpcCidr string, zones []string) ([]ZoneSubnets, error) {
	vpc, err := netip.ParsePrefix(vpcCidr)
	if err != nil || !vpc.Addr().Is4() || vpc.Masked() != vpc {
		return nil, fmt.Errorf("VPC CIDR %q is not an IPv4 network CIDR", vpcCidr)
	}
	if vpc.Bits() < minVpcPrefix || vpc.Bits() > maxVpcPrefix {
		return nil, fmt.Errorf("VPC CIDR %q: prefix must be /%d to /%d", vpcCidr, minVpcPrefix, maxVpcPrefix)
	}
	if len(zones) > maxZones {
		return nil, fmt.Errorf("%d zones: the layout has room for %d", len(zones), maxZones)
	}
	plan := make([]ZoneSubnets, 0, len(zones))
	for i, zone := range zones {
		plan = append(plan, ZoneSubnets{
			Zone:     zone,
			Private:  CidrSubnet(vpc, privateNewBits, i),
			Public:   CidrSubnet(vpc, publicNewBits, publicFirstNet+i),
			Isolated: CidrSubnet(vpc, isolatedNewBits, isolatedFirst+i),
			// Same size as the isolated subnets, in the same last eighth.
			ControlPlane: CidrSubnet(vpc, isolatedNewBits, controlPlaneFirst+i),
		})
	}
	return plan, nil
}

// CidrSubnet is Terraform's cidrsubnet for IPv4: the netnum-th block of
// prefix length base+newbits inside base. Callers keep netnum in range.
func CidrSubnet(base netip.Prefix, newbits, netnum int) netip.Prefix {
	bits := base.Bits() + newbits
	b := base.Addr().As4()
	addr := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	addr |= uint32(netnum) << (32 - bits)
	out := netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)})
	return netip.PrefixFrom(out, bits)
}
