// Package dr is AWS Backup for the database: a vault with its own key
// (locked in production), a plan with continuous backup — point-in-time
// recovery that meets RPO 1 h — and daily recovery points, each copied to a
// vault in the disaster recovery region, and a selection by resource ARN,
// not by a tag anyone could set.
package dr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:dr:DisasterRecovery"

// Args configure the backups.
type Args struct {
	// Name goes into descriptions and key aliases.
	Name string
	// ResourceARNs are the resources backed up (the RDS instance).
	ResourceARNs pulumi.StringArrayInput
	// ContinuousRetentionDays keeps point-in-time recovery (1 to 35).
	ContinuousRetentionDays int
	// DailyRetentionDays keeps the daily recovery points and their copies.
	DailyRetentionDays int
	// Schedule is the daily rule's AWS Backup cron expression, in UTC.
	Schedule string
	// CopyProvider is an AWS provider for the region copies go to.
	CopyProvider pulumi.ProviderResource
	// Lock puts the vaults under a governance-mode vault lock.
	Lock    bool
	Protect bool
	// RestoreTest, when set, restores the latest daily recovery point into
	// a throwaway instance on a schedule and alarms when that stops working.
	RestoreTest *RestoreTest
}

// RestoreTest is AWS Backup restore testing of the database.
type RestoreTest struct {
	// Schedule is an AWS Backup cron expression, in UTC.
	Schedule string
	// SubnetGroupName and SecurityGroupIDs place the restored instance in
	// the database subnets, reachable from nothing new: without them AWS
	// Backup restores into the default VPC, which may not exist.
	SubnetGroupName  pulumi.StringInput
	SecurityGroupIDs pulumi.StringArrayInput
	// AlarmTopicARN receives the restore-test alarms.
	AlarmTopicARN pulumi.StringInput
}

// DisasterRecovery is the backup plan and its vaults.
type DisasterRecovery struct {
	pulumi.ResourceState

	VaultARN     pulumi.StringOutput `pulumi:"vaultArn"`
	CopyVaultARN pulumi.StringOutput `pulumi:"copyVaultArn"`
	PlanID       pulumi.IDOutput     `pulumi:"planId"`
}

// New builds the backups: the primary vault through the AWS provider in
// opts, the copy vault through CopyProvider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*DisasterRecovery, error) {
	if args == nil || args.Name == "" || args.CopyProvider == nil || args.Schedule == "" {
		return nil, errors.New("dr: args with a name, a schedule and a provider for the copy region are required")
	}
	d := &DisasterRecovery{}
	if err := ctx.RegisterComponentResource(TypeToken, name, d, opts...); err != nil {
		return nil, fmt.Errorf("dr: register: %w", err)
	}
	parent := pulumi.Parent(d)
	primary, err := vault(ctx, name, args, "", parent)
	if err != nil {
		return nil, err
	}
	copyVault, err := vault(ctx, name+"-copy", args, "-copy", parent, pulumi.Provider(args.CopyProvider))
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-backup", &iam.RoleArgs{
		Description:      pulumi.String("AWS Backup: backs up and restores " + args.Name),
		AssumeRolePolicy: pulumi.String(policydoc.ServiceTrust("backup.amazonaws.com", "").JSON()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("dr: role: %w", err)
	}
	for i, arn := range []string{
		"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
		"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
	} {
		if _, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-backup-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(arn),
		}, parent); err != nil {
			return nil, fmt.Errorf("dr: role policy: %w", err)
		}
	}
	copyTo := backup.PlanRuleCopyActionArray{backup.PlanRuleCopyActionArgs{
		DestinationVaultArn: copyVault.Arn,
		Lifecycle:           &backup.PlanRuleCopyActionLifecycleArgs{DeleteAfter: pulumi.Int(args.DailyRetentionDays)},
	}}
	plan, err := backup.NewPlan(ctx, name+"-plan", &backup.PlanArgs{
		Rules: backup.PlanRuleArray{
			backup.PlanRuleArgs{
				// Continuous backup: restore to any second of the window.
				RuleName:               pulumi.String("continuous"),
				TargetVaultName:        primary.Name,
				Schedule:               pulumi.String("cron(0 * ? * * *)"),
				EnableContinuousBackup: pulumi.Bool(true),
				Lifecycle:              &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(args.ContinuousRetentionDays)},
			},
			backup.PlanRuleArgs{
				RuleName:        pulumi.String("daily"),
				TargetVaultName: primary.Name,
				Schedule:        pulumi.String(args.Schedule),
				StartWindow:     pulumi.Int(60),
				Lifecycle:       &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(args.DailyRetentionDays)},
				CopyActions:     copyTo,
			},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("dr: plan: %w", err)
	}
	if _, err := backup.NewSelection(ctx, name+"-selection", &backup.SelectionArgs{
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		// By ARN: a tag-based selection would back up whatever anyone tags.
		Resources: args.ResourceARNs,
	}, parent); err != nil {
		return nil, fmt.Errorf("dr: selection: %w", err)
	}
	if args.RestoreTest != nil {
		if err := restoreTest(ctx, name, args, primary.Arn, role.Arn, parent); err != nil {
			return nil, err
		}
	}
	d.VaultARN, d.CopyVaultARN, d.PlanID = primary.Arn, copyVault.Arn, plan.ID()
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"vaultArn": d.VaultARN, "copyVaultArn": d.CopyVaultARN, "planId": d.PlanID,
	}); err != nil {
		return nil, fmt.Errorf("dr: register outputs: %w", err)
	}
	return d, nil
}

// vault is a backup vault with its own key and, when asked, a lock;
// suffix tells the copy vault's key alias from the primary's.
func vault(ctx *pulumi.Context, name string, args *Args, suffix string, opts ...pulumi.ResourceOption) (*backup.Vault, error) {
	key, err := keys.New(ctx, name+"-key", keys.Args{
		Alias:       args.Name + "-backup-vault" + suffix,
		Description: "AWS Backup vault" + suffix + " of " + args.Name,
		Protect:     args.Protect,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("dr: %w", err)
	}
	v, err := backup.NewVault(ctx, name+"-vault", &backup.VaultArgs{KmsKeyArn: key.Arn}, append(opts, pulumi.Protect(args.Protect))...)
	if err != nil {
		return nil, fmt.Errorf("dr: vault: %w", err)
	}
	if args.Lock {
		// Governance mode: deletions of recovery points are refused unless
		// an administrator lifts the lock on purpose.
		if _, err := backup.NewVaultLockConfiguration(ctx, name+"-lock", &backup.VaultLockConfigurationArgs{
			BackupVaultName:  v.Name,
			MinRetentionDays: pulumi.Int(min(7, args.ContinuousRetentionDays)),
			MaxRetentionDays: pulumi.Int(max(args.DailyRetentionDays, args.ContinuousRetentionDays)),
		}, opts...); err != nil {
			return nil, fmt.Errorf("dr: vault lock: %w", err)
		}
	}
	return v, nil
}

// RestoreTestPlanName is the restore testing plan's name: AWS Backup takes
// letters, digits and underscores only.
func RestoreTestPlanName(name string) string {
	return strings.ReplaceAll(name, "-", "_") + "_restore_test"
}

// restoreTest is AWS Backup restore testing: on the schedule, the latest
// daily recovery point of the primary vault is restored into a throwaway
// instance, which AWS Backup deletes after the validation window. Two
// alarms make a drill that fails, or that stopped running, noticed.
func restoreTest(ctx *pulumi.Context, name string, args *Args, vaultARN, roleARN pulumi.StringOutput, opts ...pulumi.ResourceOption) error {
	rt := args.RestoreTest
	plan, err := backup.NewRestoreTestingPlan(ctx, name+"-restore-test", &backup.RestoreTestingPlanArgs{
		Name:               pulumi.String(RestoreTestPlanName(args.Name)),
		ScheduleExpression: pulumi.String(rt.Schedule),
		// One hour: the test, and so its metric, stays on the UTC day of
		// the schedule, which the missing-test alarm counts in.
		StartWindowHours: pulumi.Int(1),
		RecoveryPointSelection: &backup.RestoreTestingPlanRecoveryPointSelectionArgs{
			Algorithm:          pulumi.String("LATEST_WITHIN_WINDOW"),
			IncludeVaults:      pulumi.StringArray{vaultARN},
			RecoveryPointTypes: pulumi.StringArray{pulumi.String("SNAPSHOT")},
			// A week: a test restores a point no older than its interval.
			SelectionWindowDays: pulumi.Int(7),
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("dr: restore testing plan: %w", err)
	}
	securityGroups := rt.SecurityGroupIDs.ToStringArrayOutput().ApplyT(func(ids []string) (string, error) {
		b, err := json.Marshal(ids)
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := backup.NewRestoreTestingSelection(ctx, name+"-restore-test", &backup.RestoreTestingSelectionArgs{
		Name:                   pulumi.String("database"),
		RestoreTestingPlanName: plan.Name,
		ProtectedResourceType:  pulumi.String("RDS"),
		ProtectedResourceArns:  args.ResourceARNs,
		IamRoleArn:             roleARN,
		RestoreMetadataOverrides: pulumi.StringMap{
			"dbSubnetGroupName":   rt.SubnetGroupName,
			"vpcSecurityGroupIds": securityGroups,
		},
		ValidationWindowHours: pulumi.Int(1),
	}, opts...); err != nil {
		return fmt.Errorf("dr: restore testing selection: %w", err)
	}
	rds := pulumi.StringMap{"ResourceType": pulumi.String("RDS")}
	for _, a := range []struct {
		suffix, metric, comparison, description, missing string
		threshold                                        float64
		periods                                          int
	}{
		// Any failed restore, test or not, is worth a look the same day.
		{"failed", "NumberOfRestoreJobsFailed", "GreaterThanThreshold", "A restore of the database from AWS Backup failed", "notBreaching", 0, 1},
		// Seven days without a completed restore: the weekly test stopped.
		{"missing", "NumberOfRestoreJobsCompleted", "LessThanThreshold", "No restore of the database from AWS Backup completed in 7 days: the weekly restore test stopped running", "breaching", 1, 7},
	} {
		if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-restore-test-"+a.suffix, &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String(a.description),
			Namespace:          pulumi.String("AWS/Backup"),
			MetricName:         pulumi.String(a.metric),
			Dimensions:         rds,
			Statistic:          pulumi.String("Sum"),
			ComparisonOperator: pulumi.String(a.comparison),
			Threshold:          pulumi.Float64(a.threshold),
			Period:             pulumi.Int(86400),
			EvaluationPeriods:  pulumi.Int(a.periods),
			DatapointsToAlarm:  pulumi.Int(a.periods),
			TreatMissingData:   pulumi.String(a.missing),
			AlarmActions:       pulumi.Array{rt.AlarmTopicARN},
			OkActions:          pulumi.Array{rt.AlarmTopicARN},
		}, opts...); err != nil {
			return fmt.Errorf("dr: restore test alarm: %w", err)
		}
	}
	return nil
}
