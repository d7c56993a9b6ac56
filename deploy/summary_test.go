package deploy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	_ "github.com/personalization/platform/internal/golden" // understands -update
)

func pre(op apitype.OpType, urn, typ string) apitype.EngineEvent {
	return apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: apitype.StepEventMetadata{Op: op, URN: urn, Type: typ}}}
}

// recorded is an engine run as the CLI streams it.
func recorded() *Summary {
	s := &Summary{Stack: "production", Operation: "preview", Counts: map[string]int{}}
	for _, e := range []apitype.EngineEvent{
		{PreludeEvent: &apitype.PreludeEvent{}},
		pre(apitype.OpSame, "urn:pulumi:production::p::pulumi:pulumi:Stack::p-production", "pulumi:pulumi:Stack"),
		pre(apitype.OpSame, "urn:pulumi:production::p::aws:ec2/vpc:Vpc::vpc", "aws:ec2/vpc:Vpc"),
		pre(apitype.OpUpdate, "urn:pulumi:production::p::aws:ec2/subnet:Subnet::a", "aws:ec2/subnet:Subnet"),
		pre(apitype.OpCreate, "urn:pulumi:production::p::aws:sns/topic:Topic::t", "aws:sns/topic:Topic"),
		pre(apitype.OpReplace, "urn:pulumi:production::p::aws:rds/instance:Instance::db", "aws:rds/instance:Instance"),
		pre(apitype.OpDelete, "urn:pulumi:production::p::aws:s3/bucketV2:BucketV2::old", "aws:s3/bucketV2:BucketV2"),
		{DiagnosticEvent: &apitype.DiagnosticEvent{Message: "warning"}},
	} {
		s.Record(e)
	}
	return s
}

func TestMarkdownListsDestructiveStepsFirstInBold(t *testing.T) {
	md := recorded().Markdown()
	want := []string{
		"### `production` preview",
		"| create | 1 |", "| delete | 1 |", "| replace | 1 |", "| same | 1 |", "| update | 1 |",
		"- **replace `urn:pulumi:production::p::aws:rds/instance:Instance::db`**\n- **delete `urn:pulumi:production::p::aws:s3/bucketV2:BucketV2::old`**\n- update `urn:pulumi:production::p::aws:ec2/subnet:Subnet::a`\n- create `urn:pulumi:production::p::aws:sns/topic:Topic::t`",
	}
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
	if strings.Contains(md, "Stack::p-production") {
		t.Error("the stack resource is listed")
	}
}

func TestJSONSummary(t *testing.T) {
	s := recorded()
	raw, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Counts["replace"] != 1 || len(back.Steps) != 5 || back.Stack != "production" {
		t.Errorf("round trip %+v", back)
	}
	if s.Changes() != 4 {
		t.Errorf("%d changes, want 4 (update, create, replace, delete)", s.Changes())
	}
}

func TestGateBlocksOnlyStatefulDestruction(t *testing.T) {
	d := &Driver{opts: Options{AllowReplace: []string{"urn:pulumi:production::p::aws:s3/bucketV2:BucketV2::old"}}}
	blocked := d.Blocked(recorded())
	if len(blocked) != 1 || blocked[0].Type != "aws:rds/instance:Instance" {
		t.Errorf("blocked %+v, want the database replacement only", blocked)
	}
}

func TestNoChangesMarkdown(t *testing.T) {
	s := &Summary{Stack: "dev", Operation: "preview", Counts: map[string]int{"same": 3}}
	if !strings.Contains(s.Markdown(), "No changes.") {
		t.Error(s.Markdown())
	}
}

func TestRefreshWithDiffsIsDrift(t *testing.T) {
	s := &Summary{Counts: map[string]int{}}
	ev := pre(apitype.OpRefresh, "urn:pulumi:dev::p::aws:ec2/vpc:Vpc::vpc", "aws:ec2/vpc:Vpc")
	s.Record(ev)
	if s.Changes() != 0 {
		t.Errorf("a plain refresh counts as a change: %v", s.Counts)
	}
	ev.ResourcePreEvent.Metadata.Diffs = []string{"tags"}
	s.Record(ev)
	if s.Changes() != 1 || s.Counts[OpDrift] != 1 {
		t.Errorf("a refresh with diffs is not drift: %v", s.Counts)
	}
}

// TestFailedRunNeverReadsAsNoChanges: a run that failed says so, with the
// engine's diagnostics whole (every line), in Markdown and JSON.
func TestFailedRunNeverReadsAsNoChanges(t *testing.T) {
	s := &Summary{Stack: "dev", Operation: "preview", Counts: map[string]int{}}
	s.Record(apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: "info", Message: "noise"}})
	s.Record(apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: "error",
		Message: "program failed:\nconfig cluster.version = \"1.21\": is not a supported Kubernetes version\n"}})
	s.Fail(errors.New("exit status 255"))
	md := s.Markdown()
	for _, want := range []string{"### `dev` preview **failed**", "error: program failed:", `config cluster.version = "1.21"`} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "No changes") || strings.Contains(md, "noise") {
		t.Errorf("a failed preview reads:\n%s", md)
	}
	raw, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Failed      bool
		Error       string
		Diagnostics []string
	}
	if err := json.Unmarshal(raw, &back); err != nil || !back.Failed || back.Error != "exit status 255" || len(back.Diagnostics) != 1 {
		t.Errorf("JSON %s: %+v %v", raw, back, err)
	}
	ok := &Summary{Stack: "dev", Operation: "preview", Counts: map[string]int{}}
	if md := ok.Markdown(); !strings.Contains(md, "No changes.") || strings.Contains(md, "failed") {
		t.Errorf("a successful empty preview reads:\n%s", md)
	}
}
