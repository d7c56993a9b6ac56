// Package platformtest is the shared test harness: it runs the real program
// for a stack's real Pulumi.<stack>.yaml on the offline recorder and hands
// tests the graph. Importing it also registers the -update flag.
package platformtest

import (
	"path/filepath"

	"testing"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/infra"
	_ "github.com/personalization/platform/internal/golden" // registers -update for every test package using the harness
	"github.com/personalization/platform/offline"
)

// Stacks are the committed stacks every test runs against.
func Stacks() []string { return []string{"dev", "staging", "production"} }

// Render runs the program for a stack, with config overrides as `pulumi
// config set` would make them, and fails the test on any error.
func Render(t testing.TB, stack string, overrides map[string]string) *graph.Graph {
	t.Helper()
	g, err := offline.Run(infra.Program, offline.Options{Stack: stack, Config: overrides})
	if err != nil {
		t.Fatalf("render %s: %v", stack, err)
	}
	return g
}

// RenderErr runs the program for a stack expecting it to fail, and returns
// the error and what was registered before it.
func RenderErr(t testing.TB, stack string, overrides map[string]string) (*graph.Graph, error) {
	t.Helper()
	g, err := offline.Run(infra.Program, offline.Options{Stack: stack, Config: overrides})
	if err == nil {
		t.Fatalf("render %s with %v succeeded, want an error", stack, overrides)
	}
	return g, err
}

// RenderIn runs the program for a stack against an AWS account holding
// what aws says (no runners yet, a fresh stack, unpushed images), and
// returns the graph and the program's error.
func RenderIn(t testing.TB, stack string, overrides map[string]string, aws offline.AccountState) (*graph.Graph, error) {
	t.Helper()
	return offline.Run(infra.Program, offline.Options{Stack: stack, Config: overrides, AWS: aws})
}

// One returns the only resource of a type below (or at) a parent URN prefix,
// failing the test when there is not exactly one.
func One(t testing.TB, g *graph.Graph, typ string) *graph.Resource {
	t.Helper()
	rs := g.OfType(typ)
	if len(rs) != 1 {
		t.Fatalf("%s: %d resources of type %s, want 1", g.Stack, len(rs), typ)
	}
	return rs[0]
}

// Children returns the resources of type typ among the children of the
// only component of type component.
func Children(t testing.TB, g *graph.Graph, component, typ string) []*graph.Resource {
	t.Helper()
	var found []*graph.Resource
	for _, r := range g.Children(One(t, g, component).URN) {
		if r.Type == typ {
			found = append(found, r)
		}
	}
	return found
}

// Child returns the only resource of type typ among the children of the only
// component of type component, failing the test otherwise.
func Child(t testing.TB, g *graph.Graph, component, typ string) *graph.Resource {
	t.Helper()
	found := Children(t, g, component, typ)
	if len(found) != 1 {
		t.Fatalf("%s: %d children of type %s under %s, want 1", g.Stack, len(found), typ, component)
	}
	return found[0]
}

// RenderWith is Render with overrides, some of them set as secrets, as
// `pulumi config set --secret` would.
func RenderWith(t testing.TB, stack string, overrides map[string]string, secrets []string) *graph.Graph {
	t.Helper()
	g, err := offline.Run(infra.Program, offline.Options{Stack: stack, Config: overrides, Secrets: secrets})
	if err != nil {
		t.Fatalf("render %s: %v", stack, err)
	}
	return g
}

// RenderBootstrap runs the bootstrap project's program for its example
// stack (bootstrap/Pulumi.example.yaml), with config overrides.
func RenderBootstrap(t testing.TB, overrides map[string]string) *graph.Graph {
	t.Helper()
	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	g, err := offline.Run(infra.Bootstrap, offline.Options{Dir: filepath.Join(root, "bootstrap"), Stack: "example", Config: overrides})
	if err != nil {
		t.Fatalf("render bootstrap: %v", err)
	}
	return g
}
