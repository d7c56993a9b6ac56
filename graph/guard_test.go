package graph_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/graph"
	_ "github.com/personalization/platform/internal/golden" // understands -update
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/render"
)

// store is a fixture component holding one stateful resource, a KMS key,
// in the shapes a refactor gives it.
type store struct{ pulumi.ResourceState }

type keyShape struct {
	typ       string // the component's type; empty is fixture:store:Store
	component string // the component's name
	key       string // the key's name
	aliases   []pulumi.Alias
}

func fixture(shape keyShape) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		typ := shape.typ
		if typ == "" {
			typ = "fixture:store:Store"
		}
		s := &store{}
		if err := ctx.RegisterComponentResource(typ, shape.component, s); err != nil {
			return err
		}
		_, err := kms.NewKey(ctx, shape.key, &kms.KeyArgs{EnableKeyRotation: pulumi.Bool(true)},
			pulumi.Parent(s), pulumi.Aliases(shape.aliases))
		return err
	}
}

func fixtureProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"Pulumi.yaml":         "name: fixture\nruntime: go\n",
		"Pulumi.fixture.yaml": "config:\n  aws:region: eu-west-1\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runFixture(t *testing.T, dir string, shape keyShape) *graph.Graph {
	t.Helper()
	g, err := offline.Run(fixture(shape), offline.Options{Dir: dir, Stack: "fixture"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGuardCatchesRenameWithoutAlias proves that the URN guard and the golden
// files fail when a stateful resource is renamed or moved without an alias,
// and that an alias satisfies the guard.
func TestGuardCatchesRenameWithoutAlias(t *testing.T) {
	dir := fixtureProject(t)
	before := runFixture(t, dir, keyShape{component: "store", key: "key"})
	committed := before.StatefulURNs()
	if len(committed) != 1 {
		t.Fatalf("fixture has %d stateful URNs, want the key's", len(committed))
	}
	beforeJSON, err := render.MarshalJSON(before)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		shape    keyShape
		wantLost bool
	}{
		{"unchanged", keyShape{component: "store", key: "key"}, false},
		{"key renamed", keyShape{component: "store", key: "key-v2"}, true},
		// A child's URN carries its parent's type, not its name: renaming
		// the component is safe, moving the key under another type is not.
		{"component renamed", keyShape{component: "data", key: "key"}, false},
		{"key moved to another component type", keyShape{typ: "fixture:data:Data", component: "store", key: "key"}, true},
		{"key renamed with alias", keyShape{component: "store", key: "key-v2",
			aliases: []pulumi.Alias{{Name: pulumi.String("key")}}}, false},
		{"key moved, aliased to its old URN", keyShape{typ: "fixture:data:Data", component: "store", key: "key",
			aliases: []pulumi.Alias{{URN: pulumi.URN(committed[0])}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := runFixture(t, dir, tt.shape)
			lost := after.LostURNs(committed)
			if got := len(lost) > 0; got != tt.wantLost {
				t.Errorf("lost URNs %v, want lost: %v", lost, tt.wantLost)
			}
			if tt.wantLost && !slices.Equal(lost, committed) {
				t.Errorf("guard reported %v, want the key's URN %v", lost, committed)
			}
			afterJSON, err := render.MarshalJSON(after)
			if err != nil {
				t.Fatal(err)
			}
			if changed := string(afterJSON) != string(beforeJSON); changed != (tt.name != "unchanged") {
				t.Errorf("golden render changed: %v, want changed for every refactor", changed)
			}
		})
	}
}
