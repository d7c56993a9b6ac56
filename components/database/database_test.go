package database_test

import (
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/personalization/platform/components/database"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/stacks"
)

func TestInstancePerStack(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			want := stacks.Defaults(stacks.Environment(stack)).Database
			db := platformtest.Child(t, g, database.TypeToken, "aws:rds/instance:Instance")
			key := platformtest.Child(t, g, database.TypeToken, "aws:kms/key:Key")
			keyARN := "arn:aws:kms:eu-west-1:123456789012:key/" + key.Name
			expect := map[string]any{
				"engine":                             "postgres",
				"engineVersion":                      want.EngineVersion,
				"instanceClass":                      want.InstanceClass,
				"allocatedStorage":                   float64(want.AllocatedStorageGiB),
				"maxAllocatedStorage":                float64(want.MaxAllocatedStorageGiB),
				"storageType":                        "gp3",
				"storageEncrypted":                   true,
				"kmsKeyId":                           keyARN,
				"multiAz":                            want.MultiAZ,
				"backupRetentionPeriod":              float64(want.BackupRetentionDays),
				"backupWindow":                       database.BackupWindow,
				"maintenanceWindow":                  database.MaintenanceWindow,
				"deletionProtection":                 want.DeletionProtection,
				"skipFinalSnapshot":                  !want.DeletionProtection,
				"publiclyAccessible":                 false,
				"manageMasterUserPassword":           true,
				"masterUserSecretKmsKeyId":           keyARN,
				"iamDatabaseAuthenticationEnabled":   true,
				"performanceInsightsEnabled":         true,
				"performanceInsightsKmsKeyId":        keyARN,
				"monitoringInterval":                 float64(60),
				"autoMinorVersionUpgrade":            true,
				"copyTagsToSnapshot":                 true,
				"identifier":                         "personalization-platform-" + stack,
				"performanceInsightsRetentionPeriod": float64(7),
			}
			for k, v := range expect {
				if got := db.Input(k); !equal(got, v) {
					t.Errorf("%s = %v, want %v", k, got, v)
				}
			}
			if db.Input("password") != nil {
				t.Error("a master password is passed in: RDS must manage it")
			}
			if got := db.Input("enabledCloudwatchLogsExports"); !equal(got, []any{"postgresql", "upgrade"}) {
				t.Errorf("log exports %v", got)
			}
			if db.Protect != (stack == "production") || key.Protect != (stack == "production") {
				t.Errorf("protect: instance %v key %v", db.Protect, key.Protect)
			}
			if want.DeletionProtection && db.Input("finalSnapshotIdentifier") != "personalization-platform-"+stack+"-final" {
				t.Errorf("final snapshot %v", db.Input("finalSnapshotIdentifier"))
			}
		})
	}
}

func TestOnlyTheNodesReachThePort(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	rule := platformtest.Child(t, g, database.TypeToken, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	if rule.Input("referencedSecurityGroupId") != g.Outputs["nodeSecurityGroupId"] {
		t.Errorf("5432 admitted from %v, want the node security group", rule.Input("referencedSecurityGroupId"))
	}
	if rule.Input("fromPort") != float64(5432) || rule.Input("toPort") != float64(5432) || rule.Input("cidrIpv4") != nil {
		t.Errorf("rule %v", rule.Inputs)
	}
	sg := platformtest.Child(t, g, database.TypeToken, "aws:ec2/securityGroup:SecurityGroup")
	if sg.Input("ingress") != nil || sg.Input("egress") != nil {
		t.Errorf("security group carries inline rules: %v", sg.Inputs)
	}
	subnets := platformtest.Child(t, g, database.TypeToken, "aws:rds/subnetGroup:SubnetGroup")
	if !equal(subnets.Input("subnetIds"), g.Outputs["databaseSubnetIds"]) {
		t.Errorf("subnet group on %v, want the database subnets", subnets.Input("subnetIds"))
	}
}

func TestParameterGroupForcesTLSAndLogsSlowStatements(t *testing.T) {
	g := platformtest.Render(t, "dev", nil)
	pg := platformtest.Child(t, g, database.TypeToken, "aws:rds/parameterGroup:ParameterGroup")
	if pg.Input("family") != "postgres15" {
		t.Errorf("family %v", pg.Input("family"))
	}
	params := map[string]any{}
	for _, p := range pg.Input("parameters").([]any) {
		m := p.(map[string]any)
		params[m["name"].(string)] = m["value"]
	}
	if params["rds.force_ssl"] != "1" || params["log_min_duration_statement"] != "500" {
		t.Errorf("parameters %v", params)
	}
}

func TestLogGroupsExistBeforeTheInstance(t *testing.T) {
	g := platformtest.Render(t, "staging", nil)
	db := platformtest.Child(t, g, database.TypeToken, "aws:rds/instance:Instance")
	for _, lg := range g.Children(platformtest.One(t, g, database.TypeToken).URN) {
		if lg.Type != "aws:cloudwatch/logGroup:LogGroup" {
			continue
		}
		if lg.Input("retentionInDays") != float64(30) || !slices.Contains(db.Dependencies, lg.URN) {
			t.Errorf("log group %v: retention %v, instance waits: %v", lg.Input("name"), lg.Input("retentionInDays"), slices.Contains(db.Dependencies, lg.URN))
		}
	}
}

// TestProductionDiffersFromDevWhereTheProfileSays: the instance's inputs in
// dev and production differ in exactly the fields the profile sets.
func TestProductionDiffersFromDevWhereTheProfileSays(t *testing.T) {
	dev := platformtest.Child(t, platformtest.Render(t, "dev", nil), database.TypeToken, "aws:rds/instance:Instance")
	prod := platformtest.Child(t, platformtest.Render(t, "production", nil), database.TypeToken, "aws:rds/instance:Instance")
	got := differingInputs(dev, prod)
	want := []string{
		"allocatedStorage", "backupRetentionPeriod", "deleteAutomatedBackups", "deletionProtection",
		"finalSnapshotIdentifier", "identifier", "instanceClass", "maxAllocatedStorage", "multiAz", "skipFinalSnapshot",
	}
	if !slices.Equal(got, want) {
		t.Errorf("dev and production differ in %v, want %v", got, want)
	}
}

func differingInputs(a, b *graph.Resource) []string {
	var keys []string
	seen := map[string]bool{}
	for k := range a.Inputs {
		seen[k] = true
	}
	for k := range b.Inputs {
		seen[k] = true
	}
	for k := range seen {
		if !equal(a.Inputs[k], b.Inputs[k]) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }
