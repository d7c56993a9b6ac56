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
		Cluster: Cluster{
			Version:          "1.34",
			LogRetentionDays: 7,
			// Dev runs on one small group of spot instances.
			NodeGroups: []NodeGroup{{
				Name:          "general",
				InstanceTypes: []string{"t3.large", "t3a.large"},
				CapacityType:  Spot,
				MinSize:       1,
				DesiredSize:   2,
				MaxSize:       3,
				DiskSizeGiB:   50,
			}},
		},
	}
	switch env {
	case Staging:
		p.Network.CIDR = "10.20.0.0/16"
		p.Network.AvailabilityZones = 3
		p.Network.FlowLogRetentionDays = 30
		p.Cluster.LogRetentionDays = 30
		p.Cluster.NodeGroups = []NodeGroup{{
			Name:          "general",
			InstanceTypes: []string{"m6i.large", "m6a.large"},
			CapacityType:  OnDemand,
			MinSize:       2,
			DesiredSize:   3,
			MaxSize:       6,
			DiskSizeGiB:   50,
		}}
	case Production:
		p.Network.CIDR = "10.30.0.0/16"
		p.Network.AvailabilityZones = 3
		p.Network.NATGateways = NATPerAZ
		// A year of flow logs: the usual audit horizon (policy CW-01).
		p.Network.FlowLogRetentionDays = 365
		p.Protect = true
		p.Cluster.LogRetentionDays = 365
		// At least one node per zone, on demand: the API's 3 replicas and
		// their PodDisruptionBudget need three nodes to spread over.
		p.Cluster.NodeGroups = []NodeGroup{{
			Name:          "general",
			InstanceTypes: []string{"m6i.xlarge", "m6a.xlarge"},
			CapacityType:  OnDemand,
			MinSize:       3,
			DesiredSize:   3,
			MaxSize:       9,
			DiskSizeGiB:   100,
		}}
	}
	return p
}
