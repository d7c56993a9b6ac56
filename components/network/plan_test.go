package network

import (
	"net/netip"
	"strings"
	"testing"
)

func TestPlanSubnetsLayout(t *testing.T) {
	plan, err := PlanSubnets(netip.MustParsePrefix("10.30.0.0/16"), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []ZoneSubnets{
		{Private: mp("10.30.0.0/19"), Public: mp("10.30.192.0/22"), Database: mp("10.30.224.0/22")},
		{Private: mp("10.30.32.0/19"), Public: mp("10.30.196.0/22"), Database: mp("10.30.228.0/22")},
		{Private: mp("10.30.64.0/19"), Public: mp("10.30.200.0/22"), Database: mp("10.30.232.0/22")},
	}
	for i := range want {
		if plan[i] != want[i] {
			t.Errorf("zone %d: got %+v, want %+v", i, plan[i], want[i])
		}
	}
}

// TestPlanSubnetsInvariants checks every accepted VPC size and zone count:
// subnets inside the VPC, none overlapping, and adding a zone never moves
// an existing subnet.
func TestPlanSubnetsInvariants(t *testing.T) {
	for _, vpc := range []string{"10.0.0.0/16", "172.16.0.0/17", "192.168.0.0/18", "10.1.0.0/19", "10.2.16.0/20"} {
		var previous []ZoneSubnets
		for zones := 1; zones <= MaxZones; zones++ {
			block := mp(vpc)
			plan, err := PlanSubnets(block, zones)
			if err != nil {
				t.Fatalf("%s over %d zones: %v", vpc, zones, err)
			}
			if err := checkPlan(block, plan); err != nil {
				t.Errorf("%s over %d zones: %v", vpc, zones, err)
			}
			for i := range previous {
				if previous[i] != plan[i] {
					t.Errorf("%s: adding zone %d moved zone %d's subnets", vpc, zones, i+1)
				}
			}
			previous = plan
		}
	}
}

func TestPlanSubnetsRefuses(t *testing.T) {
	tests := []struct {
		vpc   string
		zones int
		want  string
	}{
		{"10.0.0.0/21", 2, "too small"},
		{"10.0.0.0/16", 0, "1 to 6"},
		{"10.0.0.0/16", 7, "1 to 6"},
	}
	for _, tt := range tests {
		_, err := PlanSubnets(mp(tt.vpc), tt.zones)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s over %d zones: got %v, want an error containing %q", tt.vpc, tt.zones, err, tt.want)
		}
	}
}

func TestCheckPlanCatchesOverlapAndEscape(t *testing.T) {
	vpc := mp("10.0.0.0/16")
	overlap := []ZoneSubnets{{Public: mp("10.0.0.0/24"), Private: mp("10.0.0.0/19"), Database: mp("10.0.224.0/22")}}
	if err := checkPlan(vpc, overlap); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlap not caught: %v", err)
	}
	outside := []ZoneSubnets{{Public: mp("10.1.0.0/24"), Private: mp("10.0.0.0/19"), Database: mp("10.0.224.0/22")}}
	if err := checkPlan(vpc, outside); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("escape not caught: %v", err)
	}
}

func mp(s string) netip.Prefix { return netip.MustParsePrefix(s) }
