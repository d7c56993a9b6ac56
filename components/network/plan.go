package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// ZoneSubnets are the three subnets of one availability zone.
type ZoneSubnets struct {
	Public   netip.Prefix
	Private  netip.Prefix
	Database netip.Prefix
}

// MaxZones is how many zones the layout has room for.
const MaxZones = 6

// smallestSubnetBits is the longest prefix a subnet may have: AWS keeps five
// addresses of each subnet, and a /28 is the smallest subnet AWS allows.
const smallestSubnetBits = 26

// PlanSubnets lays out the subnets of a VPC over zones availability zones.
//
// The VPC is cut in eighths. Eighths 0–5 are the private subnets, one per
// zone: they hold the cluster's nodes and, with the VPC CNI, every pod's
// address, so they get the most room. Eighth 6 is cut in eight again for the
// public subnets (load balancers, NAT gateways), eighth 7 likewise for the
// database subnets. A /16 thus gives /19 private and /22 public and database
// subnets. The layout depends only on the VPC block and the zone index, so
// adding a zone later never moves an existing subnet.
func PlanSubnets(vpc netip.Prefix, zones int) ([]ZoneSubnets, error) {
	if !vpc.Addr().Is4() || vpc.Masked() != vpc {
		return nil, fmt.Errorf("subnet plan: VPC block %s is not a canonical IPv4 CIDR", vpc)
	}
	if zones < 1 || zones > MaxZones {
		return nil, fmt.Errorf("subnet plan: %d zones asked, the layout has room for 1 to %d", zones, MaxZones)
	}
	if vpc.Bits()+6 > smallestSubnetBits {
		return nil, fmt.Errorf("subnet plan: VPC block %s is too small: its public and database subnets would be /%d, smaller than /%d",
			vpc, vpc.Bits()+6, smallestSubnetBits)
	}
	publicBlock := cidrSubnet(vpc, 3, 6)
	databaseBlock := cidrSubnet(vpc, 3, 7)
	plan := make([]ZoneSubnets, zones)
	for i := range plan {
		plan[i] = ZoneSubnets{
			Private:  cidrSubnet(vpc, 3, i),
			Public:   cidrSubnet(publicBlock, 3, i),
			Database: cidrSubnet(databaseBlock, 3, i),
		}
	}
	if err := checkPlan(vpc, plan); err != nil {
		return nil, fmt.Errorf("subnet plan: %w", err)
	}
	return plan, nil
}

// checkPlan holds the layout to its invariants: every subnet inside the VPC,
// no two overlapping.
func checkPlan(vpc netip.Prefix, plan []ZoneSubnets) error {
	var all []netip.Prefix
	for _, z := range plan {
		all = append(all, z.Public, z.Private, z.Database)
	}
	for i, a := range all {
		if !vpc.Contains(a.Addr()) || a.Bits() < vpc.Bits() {
			return fmt.Errorf("subnet %s lies outside the VPC %s", a, vpc)
		}
		for _, b := range all[i+1:] {
			if a.Overlaps(b) {
				return fmt.Errorf("subnets %s and %s overlap", a, b)
			}
		}
	}
	return nil
}

// cidrSubnet is Terraform's cidrsubnet for IPv4: the index-th block of
// parent's prefix length plus newBits.
func cidrSubnet(parent netip.Prefix, newBits, index int) netip.Prefix {
	base := parent.Addr().As4()
	bits := parent.Bits() + newBits
	n := binary.BigEndian.Uint32(base[:]) | uint32(index)<<(32-bits)
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], n)
	return netip.PrefixFrom(netip.AddrFrom4(out), bits)
}
