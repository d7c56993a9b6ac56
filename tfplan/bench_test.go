package tfplan_test

import (
	"testing"

	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/tfplan"
)

// BenchmarkExportProduction measures the tfplan export of the production
// render (the render itself excluded).
func BenchmarkExportProduction(b *testing.B) {
	g := platformtest.Render(b, "production", nil)
	b.ReportAllocs()
	for b.Loop() {
		p, err := tfplan.FromGraph(g)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tfplan.Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}
