package deploy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// OpDrift marks a refresh step that found the resource changed outside
// Pulumi.
const OpDrift = "drift"

// Step is one resource operation of an engine run.
type Step struct {
	Op   string `json:"op"`
	URN  string `json:"urn"`
	Type string `json:"type"`
}

// Destructive says whether the step replaces or deletes the resource.
func (s Step) Destructive() bool {
	switch apitype.OpType(s.Op) {
	case apitype.OpReplace, apitype.OpDelete, apitype.OpCreateReplacement, apitype.OpDeleteReplaced,
		apitype.OpDiscardReplaced, apitype.OpImportReplacement:
		return true
	}
	return false
}

// Summary is what an operation did or would do.
type Summary struct {
	Stack     string         `json:"stack"`
	Operation string         `json:"operation"`
	Counts    map[string]int `json:"counts"`
	Steps     []Step         `json:"steps"`
	// Blocked are the steps the gate refused.
	Blocked []Step `json:"blocked,omitempty"`
	// Failed says the operation did not complete; Error is why, and
	// Diagnostics are the engine's error and warning messages, whole.
	Failed      bool     `json:"failed"`
	Error       string   `json:"error,omitempty"`
	Diagnostics []string `json:"diagnostics,omitempty"`
}

// Fail marks the summary failed by err.
func (s *Summary) Fail(err error) {
	s.Failed = true
	s.Error = err.Error()
}

// Record adds an engine event: resource steps are counted, errors and
// warnings kept whole.
func (s *Summary) Record(e apitype.EngineEvent) {
	if d := e.DiagnosticEvent; d != nil && (d.Severity == "error" || d.Severity == "warning") {
		if msg := strings.TrimSpace(d.Message); msg != "" {
			s.Diagnostics = append(s.Diagnostics, d.Severity+": "+msg)
		}
		return
	}
	if e.ResourcePreEvent == nil {
		return
	}
	m := e.ResourcePreEvent.Metadata
	if m.Type == "pulumi:pulumi:Stack" {
		return
	}
	op := string(m.Op)
	if m.Op == apitype.OpRefresh && len(m.Diffs) > 0 {
		// A refresh that finds the cloud differing from the state.
		op = OpDrift
	}
	s.Counts[op]++
	s.Steps = append(s.Steps, Step{Op: op, URN: m.URN, Type: m.Type})
}

// Changes counts the steps that change something.
func (s *Summary) Changes() int {
	n := 0
	for op, c := range s.Counts {
		switch apitype.OpType(op) {
		case apitype.OpSame, apitype.OpRead, apitype.OpRefresh:
			// Reading a resource back changes nothing by itself.
		default:
			n += c
		}
	}
	return n
}

// JSON is the summary for pipelines.
func (s *Summary) JSON() ([]byte, error) {
	sort.SliceStable(s.Steps, func(i, j int) bool { return s.Steps[i].URN < s.Steps[j].URN })
	return json.MarshalIndent(s, "", "  ")
}

// Markdown is the summary as a pull-request comment: counts per operation,
// and every replace or delete listed first, in bold.
func (s *Summary) Markdown() string {
	var b strings.Builder
	if s.Failed {
		// A failed run shows what the engine said, never "No changes".
		fmt.Fprintf(&b, "### `%s` %s **failed**\n\n```\n", s.Stack, s.Operation)
		for _, d := range s.Diagnostics {
			b.WriteString(d + "\n")
		}
		if len(s.Diagnostics) == 0 {
			b.WriteString(s.Error + "\n")
		}
		b.WriteString("```\n")
		return b.String()
	}
	fmt.Fprintf(&b, "### `%s` %s\n\n", s.Stack, s.Operation)
	ops := make([]string, 0, len(s.Counts))
	for op := range s.Counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	b.WriteString("| operation | resources |\n| --- | ---: |\n")
	for _, op := range ops {
		fmt.Fprintf(&b, "| %s | %d |\n", op, s.Counts[op])
	}
	var destructive, other []Step
	for _, st := range s.Steps {
		switch {
		case st.Destructive():
			destructive = append(destructive, st)
		case apitype.OpType(st.Op) != apitype.OpSame:
			other = append(other, st)
		}
	}
	sort.SliceStable(destructive, func(i, j int) bool { return destructive[i].URN < destructive[j].URN })
	sort.SliceStable(other, func(i, j int) bool { return other[i].URN < other[j].URN })
	if len(destructive)+len(other) == 0 {
		b.WriteString("\nNo changes.\n")
		return b.String()
	}
	b.WriteString("\n")
	for _, st := range destructive {
		fmt.Fprintf(&b, "- **%s `%s`**\n", st.Op, st.URN)
	}
	for _, st := range other {
		fmt.Fprintf(&b, "- %s `%s`\n", st.Op, st.URN)
	}
	if len(s.Blocked) > 0 {
		b.WriteString("\n**Refused:** the change replaces or deletes a stateful resource; name its URN in `--allow-replace` to let it through.\n")
	}
	return b.String()
}
