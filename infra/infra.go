// Package infra is the Pulumi program of the platform as a library function.
// The Pulumi entry point (main.go), the offline render, the tests and the
// deploy CLI all run Program, so what is tested is what is deployed.
package infra

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/backup"
	"github.com/personalization/platform/components/cache"
	"github.com/personalization/platform/components/cluster"
	"github.com/personalization/platform/components/database"
	"github.com/personalization/platform/components/dr"
	"github.com/personalization/platform/components/logging"
	"github.com/personalization/platform/components/network"
	"github.com/personalization/platform/components/queue"
	"github.com/personalization/platform/components/registry"
	"github.com/personalization/platform/stacks"
)

// DeployedImagesOutput is the stack output naming the image each deployed
// service runs (service → image as configured).
const DeployedImagesOutput = "deployedImages"

// Program builds the stack's platform from its profile and exports its
// outputs. A profile that fails validation stops it before any resource is
// registered.
func Program(ctx *pulumi.Context) error {
	profile, err := stacks.Load(ctx)
	if err != nil {
		return fmt.Errorf("stack %q: %w", ctx.Stack(), err)
	}
	return Build(ctx, profile)
}

// Build registers the platform of a validated profile.
func Build(ctx *pulumi.Context, profile *stacks.Profile) error {
	// One explicit provider carries the stack's region and default tags; every
	// AWS resource is created through it, so every one carries the tags.
	awsProvider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region: pulumi.String(profile.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{
			Tags: pulumi.ToStringMap(profile.Tags()),
		},
	})
	if err != nil {
		return fmt.Errorf("aws provider: %w", err)
	}
	withAWS := pulumi.Providers(awsProvider)
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, pulumi.Provider(awsProvider))
	if err != nil {
		return fmt.Errorf("caller identity: %w", err)
	}
	name := stacks.Project + "-" + profile.Stack
	// What the account holds decides what to create: look it up before
	// anything is registered, so a refusal leaves nothing half-made.
	pending, err := pendingImages(ctx, profile, awsProvider, name, caller.AccountId)
	if err != nil {
		return fmt.Errorf("stack %q: %w", ctx.Stack(), err)
	}
	allowList, err := apiAllowList(ctx, profile, awsProvider, caller.AccountId)
	if err != nil {
		return fmt.Errorf("stack %q: %w", ctx.Stack(), err)
	}
	logs, err := logging.New(ctx, "logging", &logging.Args{
		Name: name, Region: profile.Region, AccountID: caller.AccountId, Protect: profile.Protect,
	}, withAWS)
	if err != nil {
		return err
	}

	net, err := network.New(ctx, "network", &network.Args{
		Protect:              profile.Protect,
		NamePrefix:           stacks.Project + "-" + profile.Stack,
		Region:               profile.Region,
		CIDR:                 profile.Network.CIDR,
		Zones:                profile.Network.AvailabilityZones,
		NATPerZone:           profile.Network.NATGateways == stacks.NATPerAZ,
		FlowLogRetentionDays: profile.Network.FlowLogRetentionDays,
		FlowLogKMSKeyARN:     logs.KeyARN,
	}, withAWS)
	if err != nil {
		return err
	}

	clusterConfig := clusterArgs(profile, net, logs.KeyARN)
	clusterConfig.PublicAccessCIDRs = allowList
	clusterConfig.Access = clusterAccess(caller.AccountId)
	k8s, err := cluster.New(ctx, "cluster", clusterConfig, withAWS)
	if err != nil {
		return err
	}

	images, err := registry.New(ctx, "registry", &registry.Args{
		Name: name, Services: sortedServices(profile.Workloads), Region: profile.Region, AccountID: caller.AccountId,
		KeepReleases: profile.Registry.KeepReleases, UntaggedExpiryDays: profile.Registry.UntaggedExpiryDays,
		PullerARNs: pulumi.StringArray{k8s.NodeRoleARN},
		PusherARNs: pulumi.StringArray{pulumi.String("arn:aws:iam::" + caller.AccountId + ":role/" + stacks.DeployRoleName(profile.Environment))},
		Protect:    profile.Protect,
	}, withAWS)
	if err != nil {
		return err
	}
	work, err := queue.New(ctx, "queue", &queue.Args{
		Name: name, MaxReceiveCount: profile.Queue.MaxReceiveCount,
		VisibilityTimeoutSeconds: profile.Queue.VisibilityTimeoutSeconds, RetentionSeconds: profile.Queue.RetentionSeconds,
		Protect: profile.Protect,
	}, withAWS)
	if err != nil {
		return err
	}

	db, err := database.New(ctx, "database", &database.Args{
		Identifier:             name,
		DatabaseName:           "personalization",
		MasterUsername:         "personalization_admin",
		VpcID:                  net.VpcID.ToStringOutput(),
		SubnetIDs:              net.DatabaseSubnetIDs,
		ClientSecurityGroupID:  k8s.NodeSecurityGroupID,
		EngineVersion:          profile.Database.EngineVersion,
		InstanceClass:          profile.Database.InstanceClass,
		AllocatedStorageGiB:    profile.Database.AllocatedStorageGiB,
		MaxAllocatedStorageGiB: profile.Database.MaxAllocatedStorageGiB,
		MultiAZ:                profile.Database.MultiAZ,
		BackupRetentionDays:    profile.Database.BackupRetentionDays,
		DeletionProtection:     profile.Database.DeletionProtection,
		SlowStatementMs:        profile.Database.SlowStatementMs,
		LogRetentionDays:       profile.Database.LogRetentionDays,
		LogKMSKeyARN:           logs.KeyARN,
		Protect:                profile.Protect,
	}, withAWS)
	if err != nil {
		return err
	}
	redis, err := cache.New(ctx, "cache", &cache.Args{
		Name:                  name,
		VpcID:                 net.VpcID.ToStringOutput(),
		SubnetIDs:             net.PrivateSubnetIDs,
		ClientSecurityGroupID: k8s.NodeSecurityGroupID,
		AuthToken:             profile.Secrets.RedisAuthToken,
		EngineVersion:         profile.Cache.EngineVersion,
		NodeType:              profile.Cache.NodeType,
		Nodes:                 profile.Cache.Nodes,
		SnapshotRetentionDays: profile.Cache.SnapshotRetentionDays,
		LogRetentionDays:      profile.Cache.LogRetentionDays,
		LogKMSKeyARN:          logs.KeyARN,
		Protect:               profile.Protect,
	}, withAWS)
	if err != nil {
		return err
	}
	backupArgs := &backup.Args{
		Name:                  name,
		RetentionDays:         profile.Backup.RetentionDays,
		NoncurrentVersionDays: profile.Backup.NoncurrentVersionDays,
		ForceDestroy:          profile.Backup.ForceDestroy,
		AccessLogging:         profile.Backup.AccessLogging,
		Protect:               profile.Protect,
	}
	// Providers for other regions, one per region, with the same tags.
	regional := map[string]*aws.Provider{}
	providerIn := func(region string) (*aws.Provider, error) {
		if p, ok := regional[region]; ok {
			return p, nil
		}
		p, err := aws.NewProvider(ctx, "aws-dr", &aws.ProviderArgs{
			Region:      pulumi.String(region),
			DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(profile.Tags())},
		})
		if err != nil {
			return nil, fmt.Errorf("disaster recovery provider: %w", err)
		}
		regional[region] = p
		return p, nil
	}
	if profile.Backup.ReplicaRegion != "" {
		dr, err := providerIn(profile.Backup.ReplicaRegion)
		if err != nil {
			return err
		}
		backupArgs.ReplicaProvider = dr
	}
	dumps, err := backup.New(ctx, "backup", backupArgs, withAWS)
	if err != nil {
		return err
	}

	layer := &platform{profile: profile, aws: awsProvider, account: caller.AccountId, net: net, cluster: k8s, db: db, redis: redis, dumps: dumps, logs: logs,
		registry: images, queue: work, pendingImages: pending}
	services, err := kubernetesLayer(ctx, layer)
	if err != nil {
		return err
	}

	// After the Kubernetes layer: the restore-test alarms go to the
	// monitoring component's topic.
	if profile.DisasterRecovery.AWSBackup {
		copyProvider, err := providerIn(profile.CopyRegion())
		if err != nil {
			return err
		}
		d := profile.DisasterRecovery
		vaults, err := dr.New(ctx, "dr", &dr.Args{
			Name:                    name,
			ResourceARNs:            pulumi.StringArray{db.InstanceARN},
			ContinuousRetentionDays: d.ContinuousRetentionDays,
			DailyRetentionDays:      d.DailyRetentionDays,
			Schedule:                d.Schedule,
			CopyProvider:            copyProvider,
			Lock:                    d.Lock,
			Protect:                 profile.Protect,
			RestoreTest:             restoreTest(profile, db, layer.monitoring.AlarmTopicARN),
		}, withAWS)
		if err != nil {
			return err
		}
		ctx.Export("backupVaultArn", vaults.VaultARN)
		ctx.Export("backupCopyVaultArn", vaults.CopyVaultARN)
	}

	ctx.Export("environment", pulumi.String(profile.Environment))
	ctx.Export("region", pulumi.String(profile.Region))
	ctx.Export("vpcId", net.VpcID)
	ctx.Export("availabilityZones", net.AvailabilityZones)
	ctx.Export("publicSubnetIds", net.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", net.PrivateSubnetIDs)
	ctx.Export("databaseSubnetIds", net.DatabaseSubnetIDs)
	ctx.Export("clusterName", k8s.Name)
	ctx.Export("clusterEndpoint", k8s.Endpoint)
	ctx.Export("oidcProviderArn", k8s.OIDCProviderARN)
	ctx.Export("nodeSecurityGroupId", k8s.NodeSecurityGroupID)
	ctx.Export("kubeconfig", k8s.Kubeconfig)
	ctx.Export("databaseAddress", db.Address)
	ctx.Export("databasePort", db.Port)
	ctx.Export("databaseSecretArn", db.MasterSecretARN)
	ctx.Export("databaseKmsKeyArn", db.KMSKeyARN)
	ctx.Export("redisPrimaryEndpoint", redis.PrimaryEndpoint)
	ctx.Export("redisReaderEndpoint", redis.ReaderEndpoint)
	ctx.Export("redisPort", redis.Port)
	ctx.Export("redisKmsKeyArn", redis.KMSKeyARN)
	ctx.Export("imageRepositories", pulumi.ToStringMap(images.URLs))
	ctx.Export("queueUrl", work.URL)
	ctx.Export("deadLetterQueueName", work.DLQName)
	ctx.Export("backupBucketName", dumps.BucketName)
	ctx.Export("backupBucketArn", dumps.BucketARN)
	ctx.Export("backupKmsKeyArn", dumps.KMSKeyARN)
	ctx.Export("backupReplicaBucketArn", dumps.ReplicaBucketARN)
	var serviceNames []string
	for name := range services {
		serviceNames = append(serviceNames, name)
	}
	sort.Strings(serviceNames)
	ctx.Export("services", pulumi.ToStringArray(serviceNames))
	// The image each service runs, as configured: platform up reads it
	// back so that an image deployed with --image or promote stays
	// deployed, and promote reads the images a stack actually runs.
	deployed := map[string]string{}
	for _, svc := range serviceNames {
		deployed[svc] = profile.Workloads[svc].Image
	}
	ctx.Export(DeployedImagesOutput, pulumi.ToStringMap(deployed))
	// Services left out until their first image is pushed, with what to do.
	ctx.Export("pendingImages", pulumi.ToStringMap(pending))
	ctx.Export("alarmTopicArn", layer.monitoring.AlarmTopicARN)
	ctx.Export("alertRouting", layer.monitoring.AlertRouting)
	ctx.Export("grafanaService", pulumi.String(MonitoringNamespace+"/"+layer.monitoring.GrafanaService))
	return nil
}

func clusterArgs(p *stacks.Profile, net *network.Network, logKey pulumi.StringInput) *cluster.Args {
	var groups []cluster.NodeGroup
	for _, ng := range p.Cluster.NodeGroups {
		var taints []cluster.Taint
		for _, t := range ng.Taints {
			taints = append(taints, cluster.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
		}
		groups = append(groups, cluster.NodeGroup{
			Name:          ng.Name,
			InstanceTypes: ng.InstanceTypes,
			Spot:          ng.CapacityType == stacks.Spot,
			MinSize:       ng.MinSize,
			DesiredSize:   ng.DesiredSize,
			MaxSize:       ng.MaxSize,
			DiskSizeGiB:   ng.DiskSizeGiB,
			Labels:        ng.Labels,
			Taints:        taints,
		})
	}
	return &cluster.Args{
		ClusterName:          stacks.Project + "-" + p.Stack,
		Region:               p.Region,
		Version:              p.Cluster.Version,
		VpcID:                net.VpcID.ToStringOutput(),
		PrivateSubnetIDs:     net.PrivateSubnetIDs,
		EndpointPublicAccess: p.Cluster.EndpointPublicAccess,
		PublicAccessCIDRs:    p.Cluster.PublicAccessCIDRs,
		AdminPrincipals:      p.Cluster.AdminPrincipals,
		LogRetentionDays:     p.Cluster.LogRetentionDays,
		LogKMSKeyARN:         logKey,
		NodeGroups:           groups,
		Protect:              p.Protect,
	}
}

// restoreTest is AWS Backup restore testing when the profile asks for it.
func restoreTest(profile *stacks.Profile, db *database.Database, alarmTopic pulumi.StringOutput) *dr.RestoreTest {
	if profile.DisasterRecovery.RestoreTestSchedule == "" {
		return nil
	}
	return &dr.RestoreTest{
		Schedule:         profile.DisasterRecovery.RestoreTestSchedule,
		SubnetGroupName:  db.SubnetGroupName,
		SecurityGroupIDs: pulumi.StringArray{db.SecurityGroupID},
		AlarmTopicARN:    alarmTopic,
	}
}
