package dr_test

import (
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
