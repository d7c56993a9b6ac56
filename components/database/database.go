// Package database is the RDS PostgreSQL component: an instance in the
// database subnets that only the cluster's nodes reach, encrypted with its
// own key, with TLS forced, point-in-time recovery, Performance Insights and
// enhanced monitoring, and a master password RDS keeps in Secrets Manager.
package database

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/firewall"
	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:database:Database"

// Port is PostgreSQL's port.
const Port = 5432

// Windows, in UTC. The nightly pg_dump runs at 02:00; the automated backup
// and the maintenance window come after it and never overlap each other.
const (
	BackupWindow      = "03:00-03:30"
	MaintenanceWindow = "sun:04:00-sun:05:00"
)

// LogExports are the PostgreSQL logs exported to CloudWatch.
func LogExports() []string { return []string{"postgresql", "upgrade"} }

// Args configure the database.
type Args struct {
	// Identifier is the instance's identifier. It is set, not auto-named,
	// because the log groups RDS writes to are named after it and are
	// created first, with a retention.
	Identifier string
	// DatabaseName is the application database created in the instance.
	DatabaseName string
	// MasterUsername is the administrative user; its password is managed by
	// RDS in Secrets Manager and rotated there.
	MasterUsername string

	VpcID     pulumi.StringInput
	SubnetIDs pulumi.StringArrayInput
	// ClientSecurityGroupID is the only security group admitted on 5432:
	// the cluster's nodes (and so its pods).
	ClientSecurityGroupID pulumi.StringInput

	EngineVersion          string
	InstanceClass          string
	AllocatedStorageGiB    int
	MaxAllocatedStorageGiB int
	MultiAZ                bool
	BackupRetentionDays    int
	DeletionProtection     bool
	SlowStatementMs        int
	LogRetentionDays       int
	// LogKMSKeyARN encrypts the exported logs.
	LogKMSKeyARN pulumi.StringInput
	// Protect protects the instance and its key.
	Protect bool
}

// Database is the PostgreSQL instance and what guards it.
type Database struct {
	pulumi.ResourceState

	Address         pulumi.StringOutput `pulumi:"address"`
	Port            pulumi.IntOutput    `pulumi:"port"`
	InstanceARN     pulumi.StringOutput `pulumi:"instanceArn"`
	InstanceID      pulumi.StringOutput `pulumi:"instanceId"`
	MasterSecretARN pulumi.StringOutput `pulumi:"masterSecretArn"`
	KMSKeyARN       pulumi.StringOutput `pulumi:"kmsKeyArn"`
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	SubnetGroupName pulumi.StringOutput `pulumi:"subnetGroupName"`
	DatabaseName    string
	MasterUsername  string
	EngineVersion   string
}

// New builds the database.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Database, error) {
	if args == nil || args.Identifier == "" || args.EngineVersion == "" || args.DatabaseName == "" || args.MasterUsername == "" {
		return nil, errors.New("database: args with identifier, engine version, database name and master user are required")
	}
	d := &Database{DatabaseName: args.DatabaseName, MasterUsername: args.MasterUsername, EngineVersion: args.EngineVersion}
	if err := ctx.RegisterComponentResource(TypeToken, name, d, opts...); err != nil {
		return nil, fmt.Errorf("database: register: %w", err)
	}
	if err := build(ctx, name, args, d); err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"address":         d.Address,
		"port":            d.Port,
		"instanceArn":     d.InstanceARN,
		"instanceId":      d.InstanceID,
		"masterSecretArn": d.MasterSecretARN,
		"kmsKeyArn":       d.KMSKeyARN,
		"securityGroupId": d.SecurityGroupID,
		"subnetGroupName": d.SubnetGroupName,
	}); err != nil {
		return nil, fmt.Errorf("database: register outputs: %w", err)
	}
	return d, nil
}

func build(ctx *pulumi.Context, name string, args *Args, d *Database) error {
	parent := pulumi.Parent(d)
	child := func(suffix string) string { return name + "-" + suffix }

	key, err := keys.New(ctx, child("key"), keys.Args{
		Alias:       args.Identifier + "-rds",
		Description: "Storage, Performance Insights and master secret of RDS instance " + args.Identifier,
		Protect:     args.Protect,
	}, parent)
	if err != nil {
		return err
	}

	subnets, err := rds.NewSubnetGroup(ctx, child("subnets"), &rds.SubnetGroupArgs{
		Description: pulumi.String("Database subnets of " + args.Identifier),
		SubnetIds:   args.SubnetIDs,
	}, parent)
	if err != nil {
		return fmt.Errorf("subnet group: %w", err)
	}

	sg, err := firewall.OnePortFromClient(ctx, name, firewall.Args{
		Service: "PostgreSQL", Name: args.Identifier, Port: Port, VpcID: args.VpcID, Client: args.ClientSecurityGroupID,
	}, parent)
	if err != nil {
		return err
	}

	params, err := rds.NewParameterGroup(ctx, child("params"), &rds.ParameterGroupArgs{
		Family:      pulumi.String(Family(args.EngineVersion)),
		Description: pulumi.String("TLS-only connections and slow statement logging for " + args.Identifier),
		Parameters: rds.ParameterGroupParameterArray{
			// Refuse every connection that is not TLS (policy RDS-12).
			rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String("1")},
			rds.ParameterGroupParameterArgs{Name: pulumi.String("log_min_duration_statement"), Value: pulumi.String(strconv.Itoa(args.SlowStatementMs))},
			rds.ParameterGroupParameterArgs{Name: pulumi.String("log_lock_waits"), Value: pulumi.String("1")},
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("parameter group: %w", err)
	}

	monitoring, err := iam.NewRole(ctx, child("monitoring"), &iam.RoleArgs{
		Description:      pulumi.String("Enhanced monitoring of RDS instance " + args.Identifier),
		AssumeRolePolicy: pulumi.String(policydoc.ServiceTrust("monitoring.rds.amazonaws.com", "").JSON()),
	}, parent)
	if err != nil {
		return fmt.Errorf("monitoring role: %w", err)
	}
	monitoringPolicy, err := iam.NewRolePolicyAttachment(ctx, child("monitoring"), &iam.RolePolicyAttachmentArgs{
		Role:      monitoring.Name,
		PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
	}, parent)
	if err != nil {
		return fmt.Errorf("monitoring role policy: %w", err)
	}

	// RDS exports to /aws/rds/instance/<id>/<log>; creating the groups first
	// puts their retention under code.
	var logGroups []pulumi.Resource
	for _, log := range LogExports() {
		lg, err := cloudwatch.NewLogGroup(ctx, child("log-"+log), &cloudwatch.LogGroupArgs{
			Name:            pulumi.String("/aws/rds/instance/" + args.Identifier + "/" + log),
			RetentionInDays: pulumi.Int(args.LogRetentionDays),
			KmsKeyId:        args.LogKMSKeyARN,
		}, parent)
		if err != nil {
			return fmt.Errorf("log group %s: %w", log, err)
		}
		logGroups = append(logGroups, lg)
	}

	keepFinalSnapshot := args.DeletionProtection
	var finalSnapshot pulumi.StringPtrInput
	if keepFinalSnapshot {
		finalSnapshot = pulumi.String(args.Identifier + "-final")
	}
	instance, err := rds.NewInstance(ctx, child("postgres"), &rds.InstanceArgs{
		Identifier:    pulumi.String(args.Identifier),
		Engine:        pulumi.String("postgres"),
		EngineVersion: pulumi.String(args.EngineVersion),
		InstanceClass: pulumi.String(args.InstanceClass),
		DbName:        pulumi.String(args.DatabaseName),
		Username:      pulumi.String(args.MasterUsername),
		// RDS generates the password, keeps it in Secrets Manager under
		// this key and rotates it: it is never in config or state.
		ManageMasterUserPassword: pulumi.Bool(true),
		MasterUserSecretKmsKeyId: key.Arn,

		AllocatedStorage:    pulumi.Int(args.AllocatedStorageGiB),
		MaxAllocatedStorage: pulumi.Int(args.MaxAllocatedStorageGiB),
		StorageType:         pulumi.String("gp3"),
		StorageEncrypted:    pulumi.Bool(true),
		KmsKeyId:            key.Arn,

		DbSubnetGroupName:   subnets.Name,
		VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		PubliclyAccessible:  pulumi.Bool(false),
		Port:                pulumi.Int(Port),
		ParameterGroupName:  params.Name,
		CaCertIdentifier:    pulumi.String("rds-ca-rsa2048-g1"),

		MultiAz:                 pulumi.Bool(args.MultiAZ),
		BackupRetentionPeriod:   pulumi.Int(args.BackupRetentionDays),
		BackupWindow:            pulumi.String(BackupWindow),
		MaintenanceWindow:       pulumi.String(MaintenanceWindow),
		CopyTagsToSnapshot:      pulumi.Bool(true),
		DeleteAutomatedBackups:  pulumi.Bool(!keepFinalSnapshot),
		DeletionProtection:      pulumi.Bool(args.DeletionProtection),
		SkipFinalSnapshot:       pulumi.Bool(!keepFinalSnapshot),
		FinalSnapshotIdentifier: finalSnapshot,

		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		AllowMajorVersionUpgrade: pulumi.Bool(false),

		IamDatabaseAuthenticationEnabled:   pulumi.Bool(true),
		PerformanceInsightsEnabled:         pulumi.Bool(true),
		PerformanceInsightsKmsKeyId:        key.Arn,
		PerformanceInsightsRetentionPeriod: pulumi.Int(7),
		MonitoringInterval:                 pulumi.Int(60),
		MonitoringRoleArn:                  monitoring.Arn,
		EnabledCloudwatchLogsExports:       pulumi.ToStringArray(LogExports()),
	}, parent, pulumi.Protect(args.Protect), pulumi.DependsOn(append(logGroups, monitoringPolicy)))
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}

	d.Address = instance.Address
	d.Port = instance.Port
	d.InstanceARN = instance.Arn
	d.InstanceID = instance.Identifier
	d.MasterSecretARN = instance.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	d.KMSKeyARN = key.Arn
	d.SecurityGroupID = sg.ID().ToStringOutput()
	d.SubnetGroupName = subnets.Name
	return nil
}

// Family is the parameter group family of a PostgreSQL major version.
func Family(engineVersion string) string {
	major, _, _ := strings.Cut(engineVersion, ".")
	return "postgres" + major
}
