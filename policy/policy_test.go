package policy_test

import (
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/personalization/platform/internal/golden"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/policy"
	"github.com/personalization/platform/policy/policytest"
)

func TestEveryStackPasses(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			rep, err := policy.Evaluate(g, stack == "production", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				t.Errorf("%s %s: %s", f.Rule, f.URN, f.Message)
			}
			if rep.Checked < 200 {
				t.Errorf("only %d checks ran", rep.Checked)
			}
		})
	}
}

// TestEveryRuleCanFail changes one property of the compliant fixture per
// rule, the way the anchors test theirs, and expects exactly that rule.
func TestEveryRuleCanFail(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	mutations := policytest.Variants()
	for _, rule := range policy.Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			mutate, ok := mutations[rule.ID]
			if !ok {
				t.Fatalf("%s has no failing variant: a rule that cannot fail is a defect", rule.ID)
			}
			g := policytest.Fixture(t, base)
			mutate(t, g)
			rep, err := policy.Evaluate(g, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range rep.Findings {
				if !slices.Contains(failed, f.Rule) {
					failed = append(failed, f.Rule)
				}
			}
			sort.Strings(failed)
			if !slices.Equal(failed, []string{rule.ID}) {
				t.Errorf("the variant fails %v, want exactly [%s]; findings: %+v", failed, rule.ID, rep.Findings)
			}
		})
	}
	if len(mutations) != len(policy.Rules()) {
		t.Errorf("%d variants for %d rules", len(mutations), len(policy.Rules()))
	}
}

func TestProductionOnlyRulesSpareOtherStacks(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	g := policytest.Fixture(t, base)
	policytest.Find(t, g, "aws:rds/instance:Instance", "database-postgres").Inputs["multiAz"] = false
	rep, err := policy.Evaluate(g, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Rule == "RDS-03" {
			t.Error("RDS-03 (production only) judged a non-production stack")
		}
	}
}

func TestWaivers(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	g := policytest.Fixture(t, base)
	db := policytest.Find(t, g, "aws:rds/instance:Instance", "database-postgres")
	db.Inputs["multiAz"] = false
	rep, err := policy.Evaluate(g, true, []policy.Waiver{{Rule: "RDS-03", URN: db.URN, Reason: "a planned single-zone test window"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() != 0 || len(rep.Findings) != 1 || !rep.Findings[0].Waived {
		t.Errorf("findings %+v, want one waived", rep.Findings)
	}
	for _, bad := range []policy.Waiver{
		{Rule: "RDS-03", URN: db.URN},
		{Rule: "RDS-99", URN: db.URN, Reason: "x"},
		{Rule: "RDS-03", URN: "urn:pulumi:production::personalization-platform::aws:rds/instance:Instance::gone", Reason: "x"},
	} {
		if _, err := policy.Evaluate(g, true, []policy.Waiver{bad}); err == nil {
			t.Errorf("waiver %+v accepted", bad)
		}
	}
	// A waiver keyed by a Trivy ID is the scanner tier's to judge.
	trivy := policy.Waiver{Rule: "AWS-0080", URN: db.URN, Reason: "judged by package scanner"}
	if _, err := policy.Evaluate(g, true, []policy.Waiver{trivy}); err != nil {
		t.Errorf("a Trivy waiver: %v", err)
	}
}

// TestREADMEListsTheRules: the README's table is generated from the rules;
// `go test ./... -update` rewrites it.
func TestREADMEListsTheRules(t *testing.T) {
	dir, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	golden.AssertSection(t, filepath.Join(dir, "README.md"), "policy-rules", policy.Markdown())
}

// TestShortRetentionNeedsAReason: production's container log groups keep
// 90 days and pass CW-01 on their retention-reason tag alone.
func TestShortRetentionNeedsAReason(t *testing.T) {
	g := policytest.Fixture(t, platformtest.Render(t, "production", nil))
	app := policytest.Find(t, g, "aws:cloudwatch/logGroup:LogGroup", "log-shipping-application")
	if app.Inputs["retentionInDays"] != 90.0 {
		t.Fatalf("application logs kept %v days, want the production default of 90", app.Inputs["retentionInDays"])
	}
	delete(app.Inputs["tags"].(map[string]any), "retention-reason")
	rep, err := policy.Evaluate(g, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != "CW-01" || rep.Findings[0].URN != app.URN {
		t.Errorf("without its reason, findings %+v, want CW-01 on %s alone", rep.Findings, app.URN)
	}
}
