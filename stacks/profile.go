// Package stacks holds the environment profile: the one typed description of
// a stack's platform, its per-environment defaults, and its validation.
//
// Only this package reads Pulumi configuration. Components take typed
// arguments built from a Profile, so environments differ by data and not by
// `if env == "production"` scattered through the code.
package stacks

// Project is the Pulumi project name; it is also the namespace of every
// project configuration key ("personalization-platform:network").
const Project = "personalization-platform"

// Environment is the tier a stack belongs to. It picks the defaults.
type Environment string

// The environment tiers, cheapest first.
const (
	Dev        Environment = "dev"
	Staging    Environment = "staging"
	Production Environment = "production"
)

// Environments lists every tier, in order.
func Environments() []Environment { return []Environment{Dev, Staging, Production} }

// Profile is the whole platform of one stack: defaulted, then validated.
type Profile struct {
	// Stack is the Pulumi stack name ("dev", "production", "dev-alice").
	Stack string `json:"-"`
	// Environment is the tier; it defaults to the stack name.
	Environment Environment `json:"environment"`
	// Region is the AWS region, from the provider's `aws:region` key.
	Region string `json:"region"`

	Network Network `json:"network"`
}

// NATMode says how many NAT gateways the network has.
type NATMode string

// The NAT gateway layouts.
const (
	// NATSingle is one NAT gateway in the first zone: cheap, but a zone
	// outage cuts every private subnet's egress.
	NATSingle NATMode = "single"
	// NATPerAZ is one NAT gateway per zone, each zone's private subnet routed
	// through its own: no cross-zone dependency.
	NATPerAZ NATMode = "perAz"
)

// NATModes lists the allowed NAT layouts.
func NATModes() []NATMode { return []NATMode{NATSingle, NATPerAZ} }

// Network is the VPC's shape. Subnet CIDRs are computed from CIDR, never
// configured one by one.
type Network struct {
	// CIDR is the VPC's IPv4 range, a private (RFC 1918) block from /16 to /20.
	CIDR string `json:"cidr"`
	// AvailabilityZones is how many zones the subnets span (2 to 6).
	AvailabilityZones int `json:"availabilityZones"`
	// NATGateways is "single" or "perAz".
	NATGateways NATMode `json:"natGateways"`
	// FlowLogRetentionDays is how long VPC flow logs are kept; one of the
	// values CloudWatch Logs accepts.
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`
}

// Tags are the tags every AWS resource of the stack carries, through the AWS
// provider's default tags.
func (p *Profile) Tags() map[string]string {
	return map[string]string{
		"project":     Project,
		"environment": string(p.Environment),
		"managed-by":  "pulumi",
	}
}
