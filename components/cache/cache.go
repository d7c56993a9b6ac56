// Package cache is the ElastiCache Redis component: a replication group in
// the private subnets that only the cluster's nodes reach, TLS required,
// encrypted at rest with its own key, an AUTH token from secret config, and
// automatic failover across zones whenever it has a replica.
package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/firewall"
	"github.com/personalization/platform/components/internal/keys"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:cache:Cache"

// Port is Redis's port.
const Port = 6379

// Windows, in UTC, after the database's backup and maintenance windows.
const (
	SnapshotWindow    = "05:00-06:00"
	MaintenanceWindow = "sun:06:30-sun:07:30"
)

// Args configure the cache.
type Args struct {
	// Name goes into descriptions and the key alias.
	Name      string
	VpcID     pulumi.StringInput
	SubnetIDs pulumi.StringArrayInput
	// ClientSecurityGroupID is the only security group admitted on 6379.
	ClientSecurityGroupID pulumi.StringInput
	// AuthToken is the AUTH token; it is handed on only as a secret.
	AuthToken string

	EngineVersion         string
	NodeType              string
	Nodes                 int
	SnapshotRetentionDays int
	LogRetentionDays      int
	// LogKMSKeyARN encrypts the slow log.
	LogKMSKeyARN pulumi.StringInput
	Protect      bool
}

// Cache is the Redis replication group and what guards it.
type Cache struct {
	pulumi.ResourceState

	// GroupID is the replication group's id; its nodes are GroupID-001…
	GroupID         pulumi.StringOutput `pulumi:"groupId"`
	PrimaryEndpoint pulumi.StringOutput `pulumi:"primaryEndpoint"`
	ReaderEndpoint  pulumi.StringOutput `pulumi:"readerEndpoint"`
	Port            pulumi.IntOutput    `pulumi:"port"`
	KMSKeyARN       pulumi.StringOutput `pulumi:"kmsKeyArn"`
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// AuthSecretARN is the Secrets Manager secret holding the AUTH token
	// ({"token": ...}), which the External Secrets Operator syncs into the
	// cluster: the token never passes through a Kubernetes manifest.
	AuthSecretARN pulumi.StringOutput `pulumi:"authSecretArn"`
}

// New builds the cache.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cache, error) {
	if args == nil || args.Name == "" || args.AuthToken == "" || args.Nodes < 1 {
		return nil, errors.New("cache: args with a name, an AUTH token and at least one node are required")
	}
	c := &Cache{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("cache: register: %w", err)
	}
	if err := build(ctx, name, args, c); err != nil {
		return nil, fmt.Errorf("cache %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"groupId":         c.GroupID,
		"primaryEndpoint": c.PrimaryEndpoint,
		"readerEndpoint":  c.ReaderEndpoint,
		"port":            c.Port,
		"kmsKeyArn":       c.KMSKeyARN,
		"securityGroupId": c.SecurityGroupID,
		"authSecretArn":   c.AuthSecretARN,
	}); err != nil {
		return nil, fmt.Errorf("cache: register outputs: %w", err)
	}
	return c, nil
}

func build(ctx *pulumi.Context, name string, args *Args, c *Cache) error {
	parent := pulumi.Parent(c)
	child := func(suffix string) string { return name + "-" + suffix }

	key, err := keys.New(ctx, child("key"), keys.Args{
		Alias:       args.Name + "-redis",
		Description: "At-rest encryption of Redis " + args.Name,
		Protect:     args.Protect,
	}, parent)
	if err != nil {
		return err
	}
	subnets, err := elasticache.NewSubnetGroup(ctx, child("subnets"), &elasticache.SubnetGroupArgs{
		Description: pulumi.String("Private subnets of Redis " + args.Name),
		SubnetIds:   args.SubnetIDs,
	}, parent)
	if err != nil {
		return fmt.Errorf("subnet group: %w", err)
	}
	sg, err := firewall.OnePortFromClient(ctx, name, firewall.Args{
		Service: "Redis", Name: args.Name, Port: Port, VpcID: args.VpcID, Client: args.ClientSecurityGroupID,
	}, parent)
	if err != nil {
		return err
	}
	slowLog, err := cloudwatch.NewLogGroup(ctx, child("slow-log"), &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.LogKMSKeyARN,
	}, parent)
	if err != nil {
		return fmt.Errorf("slow log group: %w", err)
	}

	replicated := args.Nodes >= 2
	authToken := pulumi.ToSecret(pulumi.String(args.AuthToken)).(pulumi.StringOutput)
	group, err := elasticache.NewReplicationGroup(ctx, child("redis"), &elasticache.ReplicationGroupArgs{
		Description:              pulumi.String("Redis of " + args.Name),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(args.EngineVersion),
		ParameterGroupName:       pulumi.String(ParameterGroup(args.EngineVersion)),
		NodeType:                 pulumi.String(args.NodeType),
		NumCacheClusters:         pulumi.Int(args.Nodes),
		AutomaticFailoverEnabled: pulumi.Bool(replicated),
		MultiAzEnabled:           pulumi.Bool(replicated),
		Port:                     pulumi.Int(Port),
		SubnetGroupName:          subnets.Name,
		SecurityGroupIds:         pulumi.StringArray{sg.ID()},

		TransitEncryptionEnabled: pulumi.Bool(true),
		TransitEncryptionMode:    pulumi.String("required"),
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		KmsKeyId:                 key.Arn,
		AuthToken:                authToken,
		// ROTATE keeps the old token valid beside the new one while
		// clients move over; see docs/operations.md.
		AuthTokenUpdateStrategy: pulumi.String("ROTATE"),

		SnapshotRetentionLimit:  pulumi.Int(args.SnapshotRetentionDays),
		SnapshotWindow:          pulumi.String(SnapshotWindow),
		MaintenanceWindow:       pulumi.String(MaintenanceWindow),
		AutoMinorVersionUpgrade: pulumi.Bool(true),
		LogDeliveryConfigurations: elasticache.ReplicationGroupLogDeliveryConfigurationArray{
			elasticache.ReplicationGroupLogDeliveryConfigurationArgs{
				DestinationType: pulumi.String("cloudwatch-logs"),
				Destination:     slowLog.Name,
				LogFormat:       pulumi.String("json"),
				LogType:         pulumi.String("slow-log"),
			},
		},
	}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return fmt.Errorf("replication group: %w", err)
	}

	c.GroupID = group.ID().ToStringOutput()
	c.PrimaryEndpoint = group.PrimaryEndpointAddress
	c.ReaderEndpoint = group.ReaderEndpointAddress
	c.Port = group.Port.Elem()
	c.KMSKeyARN = key.Arn
	c.SecurityGroupID = sg.ID().ToStringOutput()
	secret, err := secretsmanager.NewSecret(ctx, child("auth"), &secretsmanager.SecretArgs{
		Description:          pulumi.String("AUTH token of Redis " + args.Name),
		KmsKeyId:             key.Arn,
		RecoveryWindowInDays: pulumi.Int(7),
	}, parent)
	if err != nil {
		return fmt.Errorf("auth secret: %w", err)
	}
	if _, err := secretsmanager.NewSecretVersion(ctx, child("auth"), &secretsmanager.SecretVersionArgs{
		SecretId: secret.ID(),
		SecretString: authToken.ApplyT(func(token string) (string, error) {
			b, err := json.Marshal(map[string]string{"token": token})
			return string(b), err
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return fmt.Errorf("auth secret version: %w", err)
	}
	c.AuthSecretARN = secret.Arn
	return nil
}

// ParameterGroup is the default parameter group of a Redis version.
func ParameterGroup(engineVersion string) string {
	major, _, _ := strings.Cut(engineVersion, ".")
	if major == "6" {
		return "default.redis6.x"
	}
	return "default.redis" + major
}
