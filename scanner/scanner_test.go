package scanner_test

import (
	"strings"
	"testing"

	"github.com/personalization/platform/policy"
	"github.com/personalization/platform/scanner"
)

const dbURN = "urn:pulumi:production::personalization-platform::aws:rds/instance:Instance::db"

func TestJudge(t *testing.T) {
	findings := func() []scanner.Finding {
		return []scanner.Finding{
			{ID: "AWS-0080", Severity: "HIGH", URN: dbURN},
			{ID: "AWS-0078", Severity: "LOW", URN: dbURN},
			{ID: "KSV-0014", Severity: "CRITICAL", URN: "urn:k8s"},
		}
	}
	cases := []struct {
		name        string
		waivers     []policy.Waiver
		wantFailing []string
		wantErr     string
	}{
		{name: "no waivers: HIGH and CRITICAL fail, LOW does not", wantFailing: []string{"AWS-0080", "KSV-0014"}},
		{name: "a waiver with a reason waives its finding only",
			waivers:     []policy.Waiver{{Rule: "AWS-0080", URN: dbURN, Reason: "encrypted by the snapshot it is restored from"}},
			wantFailing: []string{"KSV-0014"}},
		{name: "a waiver of another resource waives nothing and is stale",
			waivers:     []policy.Waiver{{Rule: "AWS-0080", URN: "urn:other", Reason: "r"}},
			wantFailing: []string{"AWS-0080", "KSV-0014"}, wantErr: "matches no Trivy finding"},
		{name: "a waiver without a reason",
			waivers:     []policy.Waiver{{Rule: "KSV-0014", URN: "urn:k8s", Reason: " "}},
			wantFailing: []string{"AWS-0080"}, wantErr: "has no reason"},
		{name: "our own rules' waivers are not Trivy's business",
			waivers:     []policy.Waiver{{Rule: "RDS-01", URN: "urn:other", Reason: "r"}},
			wantFailing: []string{"AWS-0080", "KSV-0014"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := findings()
			failing, err := scanner.Judge(fs, c.waivers)
			var ids []string
			for _, f := range failing {
				ids = append(ids, f.ID)
			}
			if strings.Join(ids, ",") != strings.Join(c.wantFailing, ",") {
				t.Errorf("failing %v, want %v", ids, c.wantFailing)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v, want one saying %q", err, c.wantErr)
			}
		})
	}
}

func TestCount(t *testing.T) {
	got := scanner.Count([]scanner.Finding{
		{Severity: "LOW"}, {Severity: "LOW"}, {Severity: "MEDIUM"}, {Severity: "HIGH", Waived: true},
	})
	if got["LOW"] != 2 || got["MEDIUM"] != 1 || got["HIGH"] != 0 || got["waived"] != 1 {
		t.Errorf("counts %v", got)
	}
}

func TestTrivyIDs(t *testing.T) {
	for id, want := range map[string]bool{"AWS-0080": true, "KSV-0014": true, "KSV-01010": true, "RDS-01": false, "S3-06": false, "AWS-80": false} {
		if policy.IsTrivyID(id) != want {
			t.Errorf("IsTrivyID(%q) = %v", id, !want)
		}
	}
	rule := policy.Rule{Anchors: "CK_AWS_19/145, TV-0088/0132, PC, TV KSV-0017/0009, CK (Trivy AWS-0050 reads clusters)"}
	if got := strings.Join(rule.TrivyIDs(), " "); got != "AWS-0088 AWS-0132 KSV-0017 KSV-0009" {
		t.Errorf("TrivyIDs = %s", got)
	}
}
