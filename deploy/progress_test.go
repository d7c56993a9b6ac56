package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// fakeClock is a clock the test moves by hand: no test waits on time.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func meta(op apitype.OpType, urn, typ string) apitype.StepEventMetadata {
	return apitype.StepEventMetadata{Op: op, URN: urn, Type: typ}
}

// TestProgressForPeople: a line when a step starts and when it ends, with
// its duration; heartbeats name what still runs, longest first, with the
// elapsed time and the steps done of those expected; warnings and errors
// whole; steps that change nothing stay quiet.
func TestProgressForPeople(t *testing.T) {
	const (
		cluster = "urn:pulumi:dev::p::aws:eks/cluster:Cluster::eks"
		db      = "urn:pulumi:dev::p::aws:rds/instance:Instance::db"
		vpc     = "urn:pulumi:dev::p::aws:ec2/vpc:Vpc::vpc"
	)
	clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	var out strings.Builder
	p := newProgress(&out, clock.now, 3)

	p.event(apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: meta(apitype.OpSame, vpc, "aws:ec2/vpc:Vpc")}})
	p.heartbeat() // nothing runs: silent
	p.event(apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: meta(apitype.OpCreate, cluster, "aws:eks/cluster:Cluster")}})
	clock.advance(30 * time.Second)
	p.event(apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: meta(apitype.OpCreate, db, "aws:rds/instance:Instance")}})
	clock.advance(45 * time.Second)
	p.heartbeat()
	p.event(apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: "warning", URN: db,
		Message: "storage autoscaling is on:\nthe ceiling is 1000 GiB\n"}})
	p.event(apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: "info", Message: "chatter"}})
	clock.advance(10*time.Minute + 250*time.Millisecond)
	p.event(apitype.EngineEvent{ResOutputsEvent: &apitype.ResOutputsEvent{Metadata: meta(apitype.OpCreate, cluster, "aws:eks/cluster:Cluster")}})
	p.event(apitype.EngineEvent{ResOpFailedEvent: &apitype.ResOpFailedEvent{Metadata: meta(apitype.OpCreate, db, "aws:rds/instance:Instance")}})

	want := []string{
		"start   create   " + cluster,
		"start   create   " + db,
		"...     1m15s elapsed, 0 of 3 steps done; running: create " + cluster + " (1m15s); create " + db + " (45s)",
		"warning: " + db + ": storage autoscaling is on:",
		"the ceiling is 1000 GiB",
		"done    create   " + cluster + " (11m15.3s)",
		"failed  create   " + db + " (10m45.3s)",
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
}

// TestHeartbeatNamesAtMostFive: a long list is cut, saying how many more.
func TestHeartbeatNamesAtMostFive(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var out strings.Builder
	p := newProgress(&out, clock.now, 0)
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		p.event(apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: meta(apitype.OpUpdate, "urn:"+n, "t")}})
		clock.advance(time.Second)
	}
	p.heartbeat()
	line := strings.Split(strings.TrimSpace(out.String()), "\n")[7]
	if !strings.Contains(line, "0 steps done") || !strings.Contains(line, "update urn:a (7s)") || !strings.Contains(line, "and 2 more") || strings.Contains(line, "urn:f") {
		t.Errorf("heartbeat %q", line)
	}
}
