package acceptance

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/golden"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/policy"
	"github.com/personalization/platform/policy/policytest"
	"github.com/personalization/platform/scanner"
	"github.com/personalization/platform/stacks"
)

// trivy is Trivy v0.74.0 from `make tools`, offline, with a cache of the
// test's own (Trivy locks its cache: parallel scans cannot share one).
func trivy(t *testing.T) scanner.Trivy {
	return scanner.Trivy{Binary: tool(t, "trivy"), CacheDir: t.TempDir()}
}

func export(t *testing.T, g *graph.Graph) *scanner.Exports {
	t.Helper()
	ex, err := scanner.Export(g, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// scanned is a stack's render and Trivy's findings on its exports, with the
// stack file's waivers applied.
type scanned struct {
	name     string
	findings []scanner.Finding
	failing  []scanner.Finding
	judgeErr error
}

func scanStack(t *testing.T, name string, g *graph.Graph, waivers []policy.Waiver) scanned {
	t.Helper()
	findings, err := trivy(t).Scan(export(t, g))
	if err != nil {
		t.Fatal(err)
	}
	failing, judgeErr := scanner.Judge(findings, waivers)
	return scanned{name: name, findings: findings, failing: failing, judgeErr: judgeErr}
}

// scanAll scans every committed stack and the bootstrap project.
func scanAll(t *testing.T) []scanned {
	t.Helper()
	var out []scanned
	for _, stack := range platformtest.Stacks() {
		profile, err := offline.Profile(offline.Options{Stack: stack})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, scanStack(t, stack, platformtest.Render(t, stack, nil), policyWaivers(profile.Policy.Waivers)))
	}
	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	boot, err := offline.BootstrapProfile(offline.Options{Dir: filepath.Join(root, "bootstrap"), Stack: "example"})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, scanStack(t, "bootstrap", platformtest.RenderBootstrap(t, nil), policyWaivers(boot.Waivers)))
}

// policyWaivers are a profile's waivers as the policy and scanner read them.
func policyWaivers(in []stacks.Waiver) []policy.Waiver {
	out := make([]policy.Waiver, 0, len(in))
	for _, w := range in {
		out = append(out, policy.Waiver{Rule: w.Rule, URN: w.URN, Reason: w.Reason})
	}
	return out
}

// TestEveryStackPassesTrivy is the scanner bridge's promise: Trivy, on the
// tfplan and manifests exports of every stack, finds nothing HIGH or
// CRITICAL that the stack file does not waive with a reason, and every
// Trivy waiver still matches a finding.
//
// The README's security section records the counts and waivers; `go test
// ./acceptance -run Trivy -update` rewrites it after an intended change.
func TestEveryStackPassesTrivy(t *testing.T) {
	var results []scanner.StackResult
	for _, s := range scanAll(t) {
		for _, f := range s.failing {
			t.Errorf("%s: %s", s.name, f)
		}
		if s.judgeErr != nil {
			t.Errorf("%s: %v", s.name, s.judgeErr)
		}
		results = append(results, scanner.StackResult{Stack: s.name, Findings: s.findings})
	}
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	golden.AssertSection(t, filepath.Join(project, "README.md"), "trivy-findings", scanner.Markdown(results))
}

// TestTrivySeesTheMutations: the two mutations the bridge must never miss.
// RDS storage encryption off is AWS-0080 on the database; a container
// whose root filesystem is writable is KSV-0014 — here the API's, which
// runs as an Argo Rollout that Trivy reads only through its twin.
func TestTrivySeesTheMutations(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	variants := policytest.Variants()
	cases := []struct{ variant, id, resource string }{
		{"RDS-01", "AWS-0080", "aws:rds/instance:Instance::database-postgres"},
		{"K8S-02", "KSV-0014", "kubernetes:argoproj.io/v1alpha1:Rollout::personalization-api-rollout"},
	}
	for _, c := range cases {
		g := policytest.Fixture(t, base)
		variants[c.variant](t, g)
		findings, err := trivy(t).Scan(export(t, g))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(findings, func(f scanner.Finding) bool {
			return f.ID == c.id && strings.HasSuffix(f.URN, c.resource) && scanner.Blocking(f.Severity)
		}) {
			t.Errorf("%s: Trivy does not report %s (HIGH or worse) on %s; findings: %v", c.variant, c.id, c.resource, findings)
		}
	}
}

// TestTrivyAgreesWithOurRules: for each of our rules that names a Trivy
// anchor, the fixture failing our rule fails one of the anchored Trivy
// checks on the same resource, and the compliant fixture does not. A
// disagreement is a bug in our rule, in its anchor, or in the export.
func TestTrivyAgreesWithOurRules(t *testing.T) {
	base := platformtest.Render(t, "production", nil)
	baseline, err := trivy(t).Scan(export(t, base))
	if err != nil {
		t.Fatal(err)
	}
	variants := policytest.Variants()
	anchored := 0
	for _, rule := range policy.Rules() {
		ids := rule.TrivyIDs()
		if len(ids) == 0 {
			continue
		}
		anchored++
		t.Run(rule.ID, func(t *testing.T) {
			t.Parallel()
			g := policytest.Fixture(t, base)
			variants[rule.ID](t, g)
			rep, err := policy.Evaluate(g, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			var ours []string
			for _, f := range rep.Findings {
				if f.Rule == rule.ID {
					ours = append(ours, f.URN)
				}
			}
			if len(ours) == 0 {
				t.Fatalf("the variant does not fail %s", rule.ID)
			}
			ex := export(t, g)
			tv := trivy(t)
			scan := tv.ScanPlan
			if strings.HasPrefix(ids[0], "KSV-") {
				scan = tv.ScanManifests
			}
			findings, err := scan(ex)
			if err != nil {
				t.Fatal(err)
			}
			// Trivy may report on the resource or on one attached to it: a
			// bucket's public access block, a security group's rule.
			where := linked(g, ours)
			agrees := func(f scanner.Finding) bool { return slices.Contains(ids, f.ID) && where[f.URN] }
			if !slices.ContainsFunc(findings, agrees) {
				t.Errorf("%s fails %v, Trivy reports none of %v there; Trivy's findings: %s", rule.ID, ours, ids, describe(findings))
			}
			if slices.ContainsFunc(baseline, agrees) {
				t.Errorf("Trivy reports %v on %v of the compliant fixture too", ids, ours)
			}
		})
	}
	if anchored < 30 {
		t.Errorf("only %d rules name a Trivy anchor", anchored)
	}
}

// linked are the resources and those that depend on one of them or that
// one of them depends on.
func linked(g *graph.Graph, urns []string) map[string]bool {
	out := map[string]bool{}
	for _, u := range urns {
		out[u] = true
	}
	for _, r := range g.Resources {
		for _, d := range r.Dependencies {
			if slices.Contains(urns, r.URN) {
				out[d] = true
			}
			if slices.Contains(urns, d) {
				out[r.URN] = true
			}
		}
	}
	return out
}

func describe(fs []scanner.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s %s %s", f.ID, f.Severity, f.Resource)
	}
	return b.String()
}
