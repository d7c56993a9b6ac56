package policy

import (
	"fmt"
	"strings"
)

// Markdown is the rules as a Markdown table, for the README: generated from
// the rules themselves so the two cannot drift.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| ID | what passes | why | where | severity | same as |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range Rules() {
		where := "all"
		if r.Production {
			where = "production"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.ID, r.Title, r.Rationale, where, r.Severity, r.Anchors)
	}
	return b.String()
}
