// Package policy holds every stack to the security and reliability rules
// the README lists (generated from Rules), over the rendered graph: the
// same rules checkov, Trivy, KICS, AWSGuard, kube-score and Polaris apply,
// under their IDs, judged before anything is deployed.
package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/personalization/platform/graph"
)

// Severity is how bad a failure is.
type Severity string

// Severities, worst first.
const (
	High   Severity = "HIGH"
	Medium Severity = "MEDIUM"
	Low    Severity = "LOW"
)

// Rule is one policy rule.
type Rule struct {
	ID       string
	Title    string
	Severity Severity
	// Types are the resource type tokens the rule reads.
	Types []string
	// Production rules apply to production stacks only.
	Production  bool
	Rationale   string
	Remediation string
	// Anchors are the same rule in the tools teams already run.
	Anchors string
	// Check returns "" when r passes, else what is wrong.
	Check func(c *Context, r *graph.Resource) string
}

// Context is what a check may look at beyond its resource.
type Context struct {
	Graph      *graph.Graph
	Production bool

	dependents map[string][]*graph.Resource
	// children indexes the graph by parent, built on first use.
	children map[string][]*graph.Resource
}

// NewContext indexes a graph for the checks.
func NewContext(g *graph.Graph, production bool) *Context {
	c := &Context{Graph: g, Production: production, dependents: map[string][]*graph.Resource{}}
	for _, r := range g.Resources {
		for _, d := range r.Dependencies {
			c.dependents[d] = append(c.dependents[d], r)
		}
	}
	return c
}

// region is the stack's region: the region of its first AWS provider.
func (c *Context) region() string {
	for _, p := range c.Graph.OfType("pulumi:providers:aws") {
		if r := str(p, "region"); r != "" {
			return r
		}
	}
	return ""
}

// Dependents returns the resources of the types that depend on urn.
func (c *Context) Dependents(urn string, types ...string) []*graph.Resource {
	var out []*graph.Resource
	for _, r := range c.dependents[urn] {
		for _, t := range types {
			if r.Type == t {
				out = append(out, r)
			}
		}
	}
	return out
}

// Waiver accepts a failing rule on one resource, for a stated reason.
type Waiver struct {
	Rule   string `json:"rule"`
	URN    string `json:"urn"`
	Reason string `json:"reason"`
}

var trivyID = regexp.MustCompile(`^(AWS|KSV)-[0-9]{4,5}$`)

// IsTrivyID says whether a waiver's rule is one of Trivy's check IDs
// ("AWS-0080", "KSV-0014") rather than one of ours ("RDS-01"): the stack
// file waives both the same way.
func IsTrivyID(id string) bool { return trivyID.MatchString(id) }

var trivyAnchor = regexp.MustCompile(`TV (KSV-)?([0-9]{4}(?:/[0-9]{4})*)|TV-([0-9]{4}(?:/[0-9]{4})*)`)

// TrivyIDs are the Trivy checks a rule's anchors name: "TV-0088/0132" is
// AWS-0088 and AWS-0132, "TV KSV-0012" is KSV-0012.
func (r Rule) TrivyIDs() []string {
	var ids []string
	for _, m := range trivyAnchor.FindAllStringSubmatch(r.Anchors, -1) {
		prefix, nums := "AWS-", m[3]
		if m[3] == "" {
			prefix, nums = "KSV-", m[2]
		}
		for _, n := range strings.Split(nums, "/") {
			ids = append(ids, prefix+n)
		}
	}
	return ids
}

// Finding is a rule a resource fails.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	URN      string   `json:"urn"`
	Message  string   `json:"message"`
	Waived   bool     `json:"waived"`
	Reason   string   `json:"reason,omitempty"`
}

// Report is the outcome of checking one stack.
type Report struct {
	Stack    string    `json:"stack"`
	Rules    int       `json:"rules"`
	Checked  int       `json:"checked"`
	Findings []Finding `json:"findings"`
}

// Failed counts the findings not waived.
func (r *Report) Failed() int {
	n := 0
	for _, f := range r.Findings {
		if !f.Waived {
			n++
		}
	}
	return n
}

// Evaluate checks every resource of the graph against every rule that
// applies to the environment. A waiver with no reason, or naming a rule or
// a URN that does not exist, is an error.
func Evaluate(g *graph.Graph, production bool, waivers []Waiver) (*Report, error) {
	rules := Rules()
	byID := map[string]Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	waived := map[string]Waiver{}
	for i, w := range waivers {
		if IsTrivyID(w.Rule) {
			continue // Trivy's own findings are judged by package scanner
		}
		switch {
		case strings.TrimSpace(w.Reason) == "":
			return nil, fmt.Errorf("policy waiver %d (%s on %s) has no reason", i, w.Rule, w.URN)
		case byID[w.Rule].ID == "":
			return nil, fmt.Errorf("policy waiver %d names rule %q, which does not exist", i, w.Rule)
		case g.ByURN(w.URN) == nil:
			return nil, fmt.Errorf("policy waiver %d names %s, which the stack does not have", i, w.URN)
		}
		waived[w.Rule+" "+w.URN] = w
	}
	c := NewContext(g, production)
	rep := &Report{Stack: g.Stack}
	for _, rule := range rules {
		if rule.Production && !production {
			continue
		}
		rep.Rules++
		for _, t := range rule.Types {
			for _, r := range resourcesOf(g, t) {
				rep.Checked++
				msg := rule.Check(c, r)
				if msg == "" {
					continue
				}
				f := Finding{Rule: rule.ID, Severity: rule.Severity, URN: r.URN, Message: msg}
				if w, ok := waived[rule.ID+" "+r.URN]; ok {
					f.Waived, f.Reason = true, w.Reason
				}
				rep.Findings = append(rep.Findings, f)
			}
		}
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		if rep.Findings[i].Rule != rep.Findings[j].Rule {
			return rep.Findings[i].Rule < rep.Findings[j].Rule
		}
		return rep.Findings[i].URN < rep.Findings[j].URN
	})
	return rep, nil
}

// AnyType matches every resource.
const AnyType = "*"

func resourcesOf(g *graph.Graph, typ string) []*graph.Resource {
	if typ == AnyType {
		return g.Resources
	}
	return g.OfType(typ)
}

// Value readers over rendered inputs.

func value(r *graph.Resource, path string) any {
	v, _ := r.Lookup(path)
	return v
}

func str(r *graph.Resource, path string) string {
	s, _ := value(r, path).(string)
	return s
}

func isTrue(r *graph.Resource, path string) bool { return value(r, path) == true }

func isFalse(r *graph.Resource, path string) bool { return value(r, path) == false }

func number(r *graph.Resource, path string) (float64, bool) {
	n, ok := value(r, path).(float64)
	return n, ok
}

func list(r *graph.Resource, path string) []any {
	l, _ := value(r, path).([]any)
	return l
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// document parses an IAM policy document input; a secret or unknown one
// (not knowable offline) parses to nothing.
type document struct {
	Statement []statement
}

type statement struct {
	Effect    string
	Principal any
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

func parseDocument(raw string) (document, error) {
	var d document
	if raw == "" || raw == graph.Secret || raw == graph.Unknown {
		return d, nil
	}
	// A statement may be an object or a list of them.
	var loose struct{ Statement json.RawMessage }
	if err := json.Unmarshal([]byte(raw), &loose); err != nil {
		return d, err
	}
	if len(loose.Statement) > 0 && loose.Statement[0] == '{' {
		var one statement
		err := json.Unmarshal(loose.Statement, &one)
		d.Statement = []statement{one}
		return d, err
	}
	err := json.Unmarshal(loose.Statement, &d.Statement)
	return d, err
}

// stringsOf reads a string-or-list field of a statement.
func stringsOf(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		return strs(t)
	}
	return nil
}
