package dr_test

import (
	"strings"
	"testing"

	"github.com/personalization/platform/components/dr"
	"github.com/personalization/platform/internal/platformtest"
)

func TestAWSBackupInProductionOnly(t *testing.T) {
	for _, stack := range []string{"dev", "staging"} {
		if g := platformtest.Render(t, stack, nil); len(g.OfType(dr.TypeToken)) != 0 || len(g.OfType("aws:backup/vault:Vault")) != 0 {
			t.Errorf("%s has AWS Backup without asking for it", stack)
		}
	}
	g := platformtest.Render(t, "production", nil)
	plan := platformtest.Child(t, g, dr.TypeToken, "aws:backup/plan:Plan")
	rules := map[string]map[string]any{}
	for _, r := range plan.Input("rules").([]any) {
		m := r.(map[string]any)
		rules[m["ruleName"].(string)] = m
	}
	if c := rules["continuous"]; c == nil || c["enableContinuousBackup"] != true || c["lifecycle"].(map[string]any)["deleteAfter"] != 14.0 {
		t.Errorf("continuous rule %v", c)
	}
	daily := rules["daily"]
	if daily == nil || daily["schedule"] != "cron(0 4 ? * * *)" || daily["lifecycle"].(map[string]any)["deleteAfter"] != 35.0 {
		t.Fatalf("daily rule %v", daily)
	}
	copyTo := daily["copyActions"].([]any)[0].(map[string]any)["destinationVaultArn"]
	if copyTo != "arn:aws:backup:eu-central-1:123456789012:vault/dr-copy-vault" {
		t.Errorf("copies go to %v, want the vault in the DR region", copyTo)
	}
	sel := platformtest.Child(t, g, dr.TypeToken, "aws:backup/selection:Selection")
	if res := sel.Input("resources").([]any); len(res) != 1 || res[0] != "arn:aws:rds:eu-west-1:123456789012:db:personalization-platform-production" {
		t.Errorf("selection %v, want the database by ARN", res)
	}
	if sel.Input("selectionTags") != nil || sel.Input("conditions") != nil {
		t.Error("selection by tag")
	}
	vaults := 0
	for _, v := range g.OfType("aws:backup/vault:Vault") {
		vaults++
		if v.Input("kmsKeyArn") == nil || !v.Protect {
			t.Errorf("vault %s: key %v, protect %v", v.Name, v.Input("kmsKeyArn"), v.Protect)
		}
	}
	if vaults != 2 || len(g.OfType("aws:backup/vaultLockConfiguration:VaultLockConfiguration")) != 2 {
		t.Errorf("%d vaults, want two, both locked", vaults)
	}
}

// TestRestoreTestingInProduction: the latest daily point of the primary
// vault is restored weekly into the database subnets, and a failed or a
// missing restore raises an alarm on the monitoring topic.
func TestRestoreTestingInProduction(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	plan := platformtest.Child(t, g, dr.TypeToken, "aws:backup/restoreTestingPlan:RestoreTestingPlan")
	if plan.Input("name") != "personalization_platform_production_restore_test" || plan.Input("scheduleExpression") != "cron(0 5 ? * SUN *)" {
		t.Errorf("plan %v, %v", plan.Input("name"), plan.Input("scheduleExpression"))
	}
	sel := plan.Input("recoveryPointSelection").(map[string]any)
	if sel["algorithm"] != "LATEST_WITHIN_WINDOW" || sel["selectionWindowDays"] != 7.0 {
		t.Errorf("recovery point selection %v", sel)
	}
	if v := sel["includeVaults"].([]any); len(v) != 1 || v[0] != "arn:aws:backup:eu-west-1:123456789012:vault/dr-vault" {
		t.Errorf("restore tests read vaults %v, want the primary vault only", v)
	}
	rs := platformtest.Child(t, g, dr.TypeToken, "aws:backup/restoreTestingSelection:RestoreTestingSelection")
	if arns := rs.Input("protectedResourceArns").([]any); len(arns) != 1 || arns[0] != "arn:aws:rds:eu-west-1:123456789012:db:personalization-platform-production" ||
		rs.Input("protectedResourceType") != "RDS" {
		t.Errorf("restore test selection %v %v", rs.Input("protectedResourceType"), arns)
	}
	overrides := rs.Input("restoreMetadataOverrides").(map[string]any)
	sgs, _ := overrides["vpcSecurityGroupIds"].(string)
	if overrides["dbSubnetGroupName"] == nil || !strings.HasPrefix(sgs, `["`) {
		t.Errorf("restored instance placed by %v, want the database subnet group and security group", overrides)
	}
	// The monitoring component's own alarms name its topic.
	var topic any
	for _, r := range g.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if r.Input("namespace") == "AWS/RDS" {
			topic = r.Input("alarmActions").([]any)[0]
		}
	}
	alarms := map[string]map[string]any{}
	for _, r := range g.Children(platformtest.One(t, g, dr.TypeToken).URN) {
		if r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm" {
			alarms[r.Input("metricName").(string)] = r.Inputs
			if acts := r.Input("alarmActions").([]any); len(acts) != 1 || acts[0] != topic {
				t.Errorf("%s notifies %v, want the alarm topic", r.Name, acts)
			}
		}
	}
	failed, missing := alarms["NumberOfRestoreJobsFailed"], alarms["NumberOfRestoreJobsCompleted"]
	if failed == nil || failed["comparisonOperator"] != "GreaterThanThreshold" || failed["threshold"] != 0.0 {
		t.Errorf("failed-restore alarm %v", failed)
	}
	if missing == nil || missing["treatMissingData"] != "breaching" || missing["evaluationPeriods"] != 7.0 || missing["period"] != 86400.0 {
		t.Errorf("missing-restore alarm %v: a week without a completed restore must alarm", missing)
	}
}

func TestRestoreTestingCanBeTurnedOff(t *testing.T) {
	g := platformtest.Render(t, "production", map[string]string{"personalization-platform:disasterRecovery": `{"restoreTestSchedule": ""}`})
	if n := len(g.OfType("aws:backup/restoreTestingPlan:RestoreTestingPlan")); n != 0 {
		t.Errorf("%d restore testing plans with restore testing off", n)
	}
	if len(g.OfType("aws:backup/plan:Plan")) != 1 {
		t.Error("turning restore tests off turned the backups off")
	}
}
