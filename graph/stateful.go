package graph

// IsStateful says whether resources of the type hold state that a
// replacement or deletion would lose, or that everything else hangs off: the
// database, the cache, the backup bucket, the keys that encrypt them, the
// cluster, the VPC, the image registry and the backup vaults. The URN guard,
// the deploy gates and the protect policy all read this one list.
func IsStateful(typ string) bool {
	switch typ {
	case "aws:ec2/vpc:Vpc",
		"aws:eks/cluster:Cluster",
		"aws:kms/key:Key",
		"aws:rds/instance:Instance",
		"aws:elasticache/replicationGroup:ReplicationGroup",
		"aws:s3/bucket:Bucket",
		"aws:s3/bucketV2:BucketV2",
		"aws:backup/vault:Vault",
		"aws:ecr/repository:Repository":
		return true
	}
	return false
}

// Stateful returns the graph's stateful resources, in URN order.
func (g *Graph) Stateful() []*Resource {
	var out []*Resource
	for _, r := range g.Resources {
		if IsStateful(r.Type) {
			out = append(out, r)
		}
	}
	return out
}
