package render_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/infra"
	"github.com/personalization/platform/internal/golden"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/render"
)

func projectDir(t testing.TB) string {
	t.Helper()
	dir, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGolden compares each stack's whole render with testdata/golden: a pull
// request that changes infrastructure changes these files, and reviewers
// read the change there.
func TestGolden(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			got, err := render.MarshalJSON(g)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join(projectDir(t), "testdata", "golden", stack+".json"), got)
		})
	}
}

// TestRenderIsDeterministic: two renders of a stack are byte-identical, in
// every format.
func TestRenderIsDeterministic(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		for _, f := range render.Formats() {
			var first, second bytes.Buffer
			if err := render.Write(&first, platformtest.Render(t, stack, nil), f); err != nil {
				t.Fatal(err)
			}
			if err := render.Write(&second, platformtest.Render(t, stack, nil), f); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Errorf("%s: two %s renders differ", stack, f)
			}
		}
	}
}

// TestURNGuard: every stateful resource's URN committed in testdata/urns is
// still in the render, or answered by an alias. Losing one means `pulumi up`
// would delete and recreate a database, a bucket or a key. A new stateful
// resource must be added to the list (go test ./... -update).
func TestURNGuard(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			path := filepath.Join(projectDir(t), "testdata", "urns", stack+".txt")
			now := strings.Join(g.StatefulURNs(), "\n") + "\n"
			if golden.Updating() {
				golden.Assert(t, path, []byte(now))
				return
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./... -update` to create it)", err)
			}
			committed := strings.Fields(string(raw))
			for _, urn := range g.LostURNs(committed) {
				t.Errorf("stateful resource would be replaced: %s is gone and no resource has it as an alias", urn)
			}
			listed := map[string]bool{}
			for _, u := range committed {
				listed[u] = true
			}
			for _, u := range g.StatefulURNs() {
				if !listed[u] && !aliasOfListed(g, u, listed) {
					t.Errorf("new stateful resource %s is not in %s (run `go test ./... -update`)", u, path)
				}
			}
		})
	}
}

func aliasOfListed(g *graph.Graph, urn string, listed map[string]bool) bool {
	for _, a := range g.ByURN(urn).Aliases {
		if listed[a] {
			return true
		}
	}
	return false
}

func TestTreeAndDOT(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	var tree, dot bytes.Buffer
	if err := render.WriteTree(&tree, g); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stack production", "└─ pulumi:providers:aws  aws", "personalization:network:Network  network",
		"   3  aws:ec2/natGateway:NatGateway", "resources by type:"} {
		if !strings.Contains(tree.String(), want) {
			t.Errorf("tree lacks %q:\n%s", want, tree.String())
		}
	}
	if err := render.WriteDOT(&dot, g); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`digraph "personalization-platform-production"`, "subgraph cluster_", "->"} {
		if !strings.Contains(dot.String(), want) {
			t.Errorf("dot lacks %q", want)
		}
	}
}

func BenchmarkRenderStack(b *testing.B) {
	for _, stack := range platformtest.Stacks() {
		b.Run(stack, func(b *testing.B) {
			for b.Loop() {
				g, err := offline.Run(infra.Program, offline.Options{Stack: stack})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := render.MarshalJSON(g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// syntheticWorkloads is a workload set of n services beside the stack's
// own, as a config override.
func syntheticWorkloads(n int) map[string]string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"svc-%03d": {"image": "ghcr.io/acme/svc-%03d:1.0.0", "minReplicas": 2, "maxReplicas": 4}`, i, i)
	}
	b.WriteString("}")
	return map[string]string{"personalization-platform:workloads": b.String()}
}

// BenchmarkRenderWorkloadSet shows how the render's cost grows with the
// size of the workload set: the production stack with 10, 50 and 200 more
// services.
func BenchmarkRenderWorkloadSet(b *testing.B) {
	for _, n := range []int{10, 50, 200} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			cfg := syntheticWorkloads(n)
			var resources int
			for b.Loop() {
				g, err := offline.Run(infra.Program, offline.Options{Stack: "production", Config: cfg})
				if err != nil {
					b.Fatal(err)
				}
				if err := render.WriteTree(io.Discard, g); err != nil {
					b.Fatal(err)
				}
				resources = len(g.Resources)
			}
			b.ReportMetric(float64(resources), "resources")
		})
	}
}

func TestSyntheticWorkloadSetRenders(t *testing.T) {
	g := platformtest.Render(t, "production", syntheticWorkloads(10))
	if got := len(g.OfType("personalization:workload:Service")); got != 12 {
		t.Errorf("%d services, want the 2 of the stack and 10 synthetic", got)
	}
}
