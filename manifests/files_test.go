package manifests_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/manifests"
)

// TestWriteAndReadBack: every object of the production render is written
// as its own YAML file and reads back the same, in apply order.
func TestWriteAndReadBack(t *testing.T) {
	objs, err := manifests.FromGraph(platformtest.Render(t, "production", nil))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := manifests.Write(dir, objs); err != nil {
		t.Fatal(err)
	}
	back, err := manifests.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(objs) || len(objs) < 40 {
		t.Fatalf("%d objects written, %d read back", len(objs), len(back))
	}
	for i := range objs {
		if back[i].String() != objs[i].String() || !reflect.DeepEqual(normalise(t, back[i]), normalise(t, objs[i])) {
			t.Errorf("object %d: wrote %s, read %s", i, objs[i], back[i])
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("a temporary folder was left beside the output: %v", entries)
	}
}

// normalise round-trips an object through YAML so numbers compare alike.
func normalise(t *testing.T, o manifests.Object) any {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "n")
	if err := manifests.Write(dir, []manifests.Object{o}); err != nil {
		t.Fatal(err)
	}
	back, err := manifests.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any(back[0])
}

func TestWriteRefusesAndLeavesNothing(t *testing.T) {
	objs, err := manifests.FromGraph(platformtest.Render(t, "dev", nil))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	file := filepath.Join(root, "plan.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(root, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "old.yaml"), []byte("kind: Old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{file: "is not a directory", full: "is not empty"} {
		err := manifests.Write(path, objs)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Write(%s): %v, want an error naming the path and %q", path, err, want)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 2 {
		t.Errorf("refused writes left %v", entries)
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Errorf("the full directory changed: %v", entries)
	}
}

// TestScannerTwinsCopyRolloutPods: the API's canary Rollout gets a
// Deployment twin in the twins folder, with its pod template unchanged and
// an annotation naming it; Read (what the API server gets) skips twins.
func TestScannerTwinsCopyRolloutPods(t *testing.T) {
	objs, err := manifests.FromGraph(platformtest.Render(t, "production", nil))
	if err != nil {
		t.Fatal(err)
	}
	var rollout manifests.Object
	for _, o := range objs {
		if o.Kind() == "Rollout" {
			rollout = o
		}
	}
	if rollout == nil {
		t.Fatal("production has no Rollout")
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := manifests.Write(dir, objs); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, manifests.TwinsDir, "*.yaml"))
	if len(files) != 1 {
		t.Fatalf("twins %v, want one for %s", files, rollout)
	}
	twin, err := manifests.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if twin.Kind() != "Deployment" || twin.Name() != rollout.Name() || manifests.Origin(twin) != rollout.String() {
		t.Errorf("twin %s (origin %s), want a Deployment standing for %s", twin, manifests.Origin(twin), rollout)
	}
	want := normalise(t, manifests.Object(rollout["spec"].(map[string]any)["template"].(map[string]any)))
	if got := normalise(t, manifests.Object(twin["spec"].(map[string]any)["template"].(map[string]any))); !reflect.DeepEqual(got, want) {
		t.Error("the twin's pod template differs from the Rollout's")
	}
	back, _ := manifests.Read(dir)
	for _, o := range back {
		if manifests.Origin(o) != o.String() {
			t.Errorf("Read returned the twin %s", o)
		}
	}
	sources, err := manifests.Sources(platformtest.Render(t, "production", nil))
	if err != nil || !strings.HasPrefix(sources[manifests.Origin(twin)], "urn:pulumi:production::") {
		t.Errorf("the twin's origin %s has no source URN (%v)", manifests.Origin(twin), err)
	}
}
