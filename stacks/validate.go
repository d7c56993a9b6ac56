package stacks

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
)

// Validate checks a whole profile and returns every problem, each as a
// FieldError naming its key. It is the one place validation lives.
func Validate(p *Profile) error {
	var errs []error
	add := func(err *FieldError) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(validateRegion(p.Region))
	add(validateVPCCIDR(p.Network.CIDR))
	add(intInRange(key("network", "availabilityZones"), p.Network.AvailabilityZones, 2, 6))
	if !slices.Contains(NATModes(), p.Network.NATGateways) {
		add(&FieldError{Key: key("network", "natGateways"), Value: string(p.Network.NATGateways),
			Problem: "is not a NAT gateway layout", Allowed: oneOf(NATModes())})
	}
	add(validateRetention(key("network", "flowLogRetentionDays"), p.Network.FlowLogRetentionDays))
	return errors.Join(errs...)
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)

func validateRegion(region string) *FieldError {
	if region == "" || regionPattern.MatchString(region) {
		return nil // a missing region is reported by Parse
	}
	return &FieldError{Key: RegionKey, Value: region, Problem: "is not an AWS region name",
		Allowed: `a region such as "eu-west-1" or "us-east-2"`}
}

// The private address blocks of RFC 1918. A VPC outside them would route
// someone else's public addresses into the VPC.
var privateBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// The VPC prefix lengths the subnet layout fits: at /20 the smallest subnet
// (public, database) is a /26 with 59 usable addresses.
const (
	MinVPCPrefix = 16
	MaxVPCPrefix = 20
)

func validateVPCCIDR(cidr string) *FieldError {
	k := key("network", "cidr")
	allowed := fmt.Sprintf("an IPv4 block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, prefix /%d to /%d, such as \"10.0.0.0/16\"",
		MinVPCPrefix, MaxVPCPrefix)
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return &FieldError{Key: k, Value: cidr, Problem: "is not a CIDR block", Allowed: allowed}
	}
	switch {
	case !prefix.Addr().Is4():
		return &FieldError{Key: k, Value: cidr, Problem: "is not IPv4", Allowed: allowed}
	case prefix.Masked() != prefix:
		return &FieldError{Key: k, Value: cidr, Problem: fmt.Sprintf("has host bits set (the block is %s)", prefix.Masked()), Allowed: allowed}
	case prefix.Bits() > MaxVPCPrefix:
		return &FieldError{Key: k, Value: cidr, Problem: fmt.Sprintf("is too small for three subnet tiers in up to six zones (/%d)", prefix.Bits()), Allowed: allowed}
	case prefix.Bits() < MinVPCPrefix:
		return &FieldError{Key: k, Value: cidr, Problem: fmt.Sprintf("is larger than AWS allows for a VPC (/%d)", prefix.Bits()), Allowed: allowed}
	}
	for _, block := range privateBlocks {
		if block.Contains(prefix.Addr()) && block.Bits() <= prefix.Bits() {
			return nil
		}
	}
	return &FieldError{Key: k, Value: cidr, Problem: "is not a private (RFC 1918) range", Allowed: allowed}
}

func intInRange(k string, v, lo, hi int) *FieldError {
	if v >= lo && v <= hi {
		return nil
	}
	return &FieldError{Key: k, Value: strconv.Itoa(v), Problem: "is out of range",
		Allowed: fmt.Sprintf("a whole number from %d to %d", lo, hi)}
}

// CloudWatchRetentionDays are the only retention periods CloudWatch Logs
// accepts for a log group.
func CloudWatchRetentionDays() []int {
	return []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
}

func validateRetention(k string, days int) *FieldError {
	allowed := CloudWatchRetentionDays()
	if slices.Contains(allowed, days) {
		return nil
	}
	return &FieldError{Key: k, Value: strconv.Itoa(days), Problem: "is not a retention CloudWatch Logs accepts",
		Allowed: fmt.Sprintf("one of %v days", allowed)}
}
