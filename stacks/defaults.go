package stacks

// Defaults returns the profile every stack of the tier starts from; stack
// configuration overrides it field by field. Dev is small and cheap, staging
// has production's shape at a smaller size, production is highly available.
func Defaults(env Environment) Profile {
	p := Profile{
		Environment: env,
		Network: Network{
			CIDR:                 "10.0.0.0/16",
			AvailabilityZones:    2,
			NATGateways:          NATSingle,
			FlowLogRetentionDays: 7,
		},
	}
	switch env {
	case Staging:
		p.Network.CIDR = "10.20.0.0/16"
		p.Network.AvailabilityZones = 3
		p.Network.FlowLogRetentionDays = 30
	case Production:
		p.Network.CIDR = "10.30.0.0/16"
		p.Network.AvailabilityZones = 3
		p.Network.NATGateways = NATPerAZ
		// A year of flow logs: the usual audit horizon (policy CW-01).
		p.Network.FlowLogRetentionDays = 365
	}
	return p
}
