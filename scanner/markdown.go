package scanner

import (
	"fmt"
	"sort"
	"strings"
)

// StackResult is one stack's Trivy findings, waivers applied.
type StackResult struct {
	Stack    string
	Findings []Finding
}

// severities in the README's column order, worst first.
func severities() []string { return []string{"CRITICAL", "HIGH", "MEDIUM", "LOW"} }

// Markdown is the README's record of Trivy on the stacks: findings by
// severity per stack, which checks the MEDIUM ones are, and every waiver
// with its reason. A test holds the README to it.
func Markdown(results []StackResult) string {
	var b strings.Builder
	b.WriteString("| stack | CRITICAL | HIGH | MEDIUM | LOW | waived | MEDIUM or worse |\n|---|---|---|---|---|---|---|\n")
	var waived []string
	for _, r := range results {
		c := Count(r.Findings)
		fmt.Fprintf(&b, "| %s |", r.Stack)
		for _, s := range severities() {
			fmt.Fprintf(&b, " %d |", c[s])
		}
		worst := map[string]int{}
		for _, f := range r.Findings {
			if f.Waived {
				waived = append(waived, fmt.Sprintf("| %s | %s | %s | %s |", r.Stack, f.ID, f.Resource, f.Reason))
				continue
			}
			if f.Severity != "LOW" {
				worst[f.ID+" "+f.Severity]++
			}
		}
		var ids []string
		for id, n := range worst {
			ids = append(ids, fmt.Sprintf("%s ×%d", id, n))
		}
		sort.Strings(ids)
		if len(ids) == 0 {
			ids = []string{"none"}
		}
		fmt.Fprintf(&b, " %d | %s |\n", c["waived"], strings.Join(ids, ", "))
	}
	b.WriteString("\nWaivers (`policy.waivers` entries whose rule is a Trivy ID):\n\n")
	if len(waived) == 0 {
		b.WriteString("none: no stack waives a Trivy finding.\n")
		return b.String()
	}
	b.WriteString("| stack | Trivy ID | resource | reason |\n|---|---|---|---|\n")
	for _, w := range waived {
		b.WriteString(w + "\n")
	}
	return b.String()
}
