// Package scanner holds a rendered stack to Trivy's own checks: it writes
// the stack's two scanner exports (the AWS resources as a Terraform plan,
// the Kubernetes objects as manifests), runs Trivy on them offline with its
// embedded checks, traces every finding back to the stack's resource, and
// applies the stack file's waivers, keyed by Trivy's IDs.
package scanner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/manifests"
	"github.com/personalization/platform/policy"
	"github.com/personalization/platform/tfplan"
)

// Exports are a stack's scanner inputs, written into one folder.
type Exports struct {
	// PlanFile is the Terraform JSON plan of the AWS resources.
	PlanFile string
	// ManifestsDir holds one YAML file per Kubernetes object, and the
	// scanner twins of Rollouts.
	ManifestsDir string

	plan    *tfplan.Plan
	sources map[string]string
}

// Export writes the graph's exports into dir (new or empty): plan.json and
// manifests/.
func Export(g *graph.Graph, dir string) (*Exports, error) {
	plan, err := tfplan.FromGraph(g)
	if err != nil {
		return nil, err
	}
	raw, err := tfplan.Marshal(plan)
	if err != nil {
		return nil, err
	}
	objs, err := manifests.FromGraph(g)
	if err != nil {
		return nil, err
	}
	sources, err := manifests.Sources(g)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	ex := &Exports{PlanFile: filepath.Join(dir, "plan.json"), ManifestsDir: filepath.Join(dir, "manifests"), plan: plan, sources: sources}
	if err := os.WriteFile(ex.PlanFile, raw, 0o644); err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	if err := manifests.Write(ex.ManifestsDir, objs); err != nil {
		return nil, err
	}
	return ex, nil
}

// Finding is one failed Trivy check on one resource of the stack.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	// Resource is the Terraform address or the Kubernetes object.
	Resource string `json:"resource"`
	URN      string `json:"urn"`
	Message  string `json:"message"`
	Waived   bool   `json:"waived"`
	Reason   string `json:"reason,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s %s (%s): %s", f.Severity, f.ID, f.Resource, f.Title, f.Message)
}

// Trivy runs a Trivy binary offline: its embedded checks, no update, no
// network.
type Trivy struct {
	Binary   string
	CacheDir string
}

// report is the part of Trivy's JSON report read here.
type report struct {
	Results []struct {
		Target            string
		Type              string
		Misconfigurations []struct {
			ID, Title, Message, Severity, Status string
			CauseMetadata                        struct{ Resource string }
		}
	}
}

func (t Trivy) run(target string) (*report, error) {
	out := filepath.Join(t.CacheDir, "report-"+strings.NewReplacer("/", "_", ".", "_").Replace(target)+".json")
	cmd := exec.Command(t.Binary, "config", "--skip-check-update", "--cache-dir", t.CacheDir,
		"--quiet", "--exit-code", "0", "--format", "json", "--output", out, target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scanner: trivy config %s: %w: %s", target, err, stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("scanner: trivy's report: %w", err)
	}
	return &rep, nil
}

// Scan runs Trivy on both exports and returns every failed check, traced
// to its resource's URN. A finding Trivy cannot place is an error: a
// finding nobody can waive or fix is no use.
func (t Trivy) Scan(ex *Exports) ([]Finding, error) {
	onPlan, err := t.ScanPlan(ex)
	if err != nil {
		return nil, err
	}
	onManifests, err := t.ScanManifests(ex)
	if err != nil {
		return nil, err
	}
	return sorted(append(onPlan, onManifests...)), nil
}

// ScanPlan runs Trivy's AWS checks on the plan.
func (t Trivy) ScanPlan(ex *Exports) ([]Finding, error) {
	rep, err := t.run(ex.PlanFile)
	if err != nil {
		return nil, err
	}
	var findings []Finding
	for _, res := range rep.Results {
		for _, m := range res.Misconfigurations {
			if m.Status != "FAIL" {
				continue
			}
			urn := ex.plan.URN(m.CauseMetadata.Resource)
			if urn == "" {
				return nil, fmt.Errorf("scanner: %s on %q: not an address of the plan", m.ID, m.CauseMetadata.Resource)
			}
			findings = append(findings, Finding{ID: m.ID, Severity: m.Severity, Title: m.Title, Resource: m.CauseMetadata.Resource, URN: urn, Message: m.Message})
		}
	}
	return sorted(findings), nil
}

// ScanManifests runs Trivy's Kubernetes checks on the manifests and the
// scanner twins; a twin's findings belong to the Rollout it copies.
func (t Trivy) ScanManifests(ex *Exports) ([]Finding, error) {
	rep, err := t.run(ex.ManifestsDir)
	if err != nil {
		return nil, err
	}
	var findings []Finding
	for _, res := range rep.Results {
		var fails []Finding
		for _, m := range res.Misconfigurations {
			if m.Status == "FAIL" {
				fails = append(fails, Finding{ID: m.ID, Severity: m.Severity, Title: m.Title, Message: m.Message})
			}
		}
		if len(fails) == 0 {
			continue
		}
		obj, err := manifests.ReadFile(filepath.Join(ex.ManifestsDir, res.Target))
		if err != nil {
			return nil, err
		}
		origin := manifests.Origin(obj)
		urn := ex.sources[origin]
		if urn == "" {
			return nil, fmt.Errorf("scanner: %s: %s is not an object of the stack", res.Target, origin)
		}
		for _, f := range fails {
			f.Resource, f.URN = origin, urn
			findings = append(findings, f)
		}
	}
	return sorted(findings), nil
}

func sorted(findings []Finding) []Finding {
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Resource < b.Resource
	})
	return dedupe(findings)
}

// dedupe drops a finding repeated on one resource: a twin and its check
// of the same container, or a check reported once per container.
func dedupe(fs []Finding) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, f := range fs {
		key := f.ID + " " + f.URN + " " + f.Message
		if !seen[key] {
			seen[key] = true
			out = append(out, f)
		}
	}
	return out
}

// Blocking says whether a severity fails the stack unless waived: HIGH
// and CRITICAL do.
func Blocking(severity string) bool { return severity == "HIGH" || severity == "CRITICAL" }

// Judge applies the stack's waivers with Trivy IDs to the findings and
// returns the unwaived HIGH and CRITICAL ones. A Trivy waiver matching no
// finding is an error: a stale waiver would silently waive a future one.
func Judge(findings []Finding, waivers []policy.Waiver) ([]Finding, error) {
	var errs []error
	used := map[int]bool{}
	for i := range findings {
		for j, w := range waivers {
			if w.Rule == findings[i].ID && w.URN == findings[i].URN {
				findings[i].Waived, findings[i].Reason = true, w.Reason
				used[j] = true
			}
		}
	}
	for j, w := range waivers {
		if !policy.IsTrivyID(w.Rule) {
			continue
		}
		if strings.TrimSpace(w.Reason) == "" {
			errs = append(errs, fmt.Errorf("waiver %d (%s on %s) has no reason", j, w.Rule, w.URN))
		}
		if !used[j] {
			errs = append(errs, fmt.Errorf("waiver %d (%s on %s) matches no Trivy finding: remove it", j, w.Rule, w.URN))
		}
	}
	var failing []Finding
	for _, f := range findings {
		if Blocking(f.Severity) && !f.Waived {
			failing = append(failing, f)
		}
	}
	return failing, errors.Join(errs...)
}

// Counts are findings by severity, waived ones apart.
type Counts map[string]int

// Count tallies findings by severity; waived ones count under "waived".
func Count(findings []Finding) Counts {
	c := Counts{}
	for _, f := range findings {
		if f.Waived {
			c["waived"]++
			continue
		}
		c[f.Severity]++
	}
	return c
}
