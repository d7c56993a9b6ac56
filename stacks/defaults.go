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
			Version: "1.34",
			// Public, but only to the deploy runners' fixed egress
			// addresses, looked up by their tag: the pipelines run outside
			// the VPC, which does not exist before the first run
			// (docs/decisions/0009). The private endpoint serves the nodes.
			EndpointPublicAccess: true,
			LogRetentionDays:     7,
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
		Database: Database{
			EngineVersion:          "15",
			InstanceClass:          "db.t4g.medium",
			AllocatedStorageGiB:    20,
			MaxAllocatedStorageGiB: 100,
			BackupRetentionDays:    3,
			SlowStatementMs:        500,
			LogRetentionDays:       7,
		},
		Cache: Cache{
			EngineVersion:         "7.1",
			NodeType:              "cache.t4g.small",
			Nodes:                 1,
			SnapshotRetentionDays: 1,
			LogRetentionDays:      7,
		},
		Backup: Backup{
			// The service design's 02:00 daily pg_dump, kept 30 days.
			Schedule:              "0 2 * * *",
			RetentionDays:         30,
			NoncurrentVersionDays: 7,
			ForceDestroy:          true,
		},
	}
	p.Namespace = defaultNamespace(env)
	p.Workloads = defaultWorkloads(env)
	p.Monitoring = defaultMonitoring(env)
	p.Logging, p.Tracing = defaultObservability(env)
	p.Registry, p.Queue = defaultRegistryQueue(env)
	// Restore tests weekly, Sunday 05:00 UTC: after the daily point of 04:00.
	p.DisasterRecovery = DisasterRecovery{ContinuousRetentionDays: 14, DailyRetentionDays: 35, Schedule: "cron(0 4 ? * * *)", RestoreTestSchedule: "cron(0 5 ? * SUN *)"}
	switch env {
	case Staging:
		p.Network.CIDR = "10.20.0.0/16"
		p.Network.AvailabilityZones = 3
		p.Network.FlowLogRetentionDays = 30
		p.Cluster.LogRetentionDays = 30
		p.Database.InstanceClass = "db.r6g.large"
		p.Database.AllocatedStorageGiB = 50
		p.Database.MaxAllocatedStorageGiB = 200
		p.Database.MultiAZ = true
		p.Database.BackupRetentionDays = 7
		p.Database.LogRetentionDays = 30
		p.Cache.NodeType = "cache.r7g.large"
		p.Cache.Nodes = 2
		p.Cache.SnapshotRetentionDays = 3
		p.Cache.LogRetentionDays = 30
		p.Backup.ForceDestroy = false
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
		p.Database.InstanceClass = "db.r6g.xlarge"
		p.Database.AllocatedStorageGiB = 100
		p.Database.MaxAllocatedStorageGiB = 1000
		p.Database.MultiAZ = true
		// Two weeks of point-in-time recovery: RPO 1 h needs the
		// continuous log backups, the retention covers late discovery.
		p.Database.BackupRetentionDays = 14
		p.Database.DeletionProtection = true
		p.Database.LogRetentionDays = 365
		p.Cache.NodeType = "cache.r7g.large"
		p.Cache.Nodes = 3
		p.Cache.SnapshotRetentionDays = 7
		p.Cache.LogRetentionDays = 365
		p.Backup.ForceDestroy = false
		p.Backup.ReplicaRegion = "eu-central-1"
		p.Backup.AccessLogging = true
		p.DisasterRecovery.AWSBackup = true
		p.DisasterRecovery.Lock = true
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
