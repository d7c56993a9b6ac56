package render_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/personalization/platform/internal/golden"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/render"
)

// TestArchitecturePictureIsCurrent keeps docs/architecture.dot equal to the
// production render and docs/architecture.svg equal to what Graphviz makes
// of it: the picture in the README cannot drift from the code.
// `go test ./... -update` (or `make architecture`) regenerates both.
func TestArchitecturePictureIsCurrent(t *testing.T) {
	var dot bytes.Buffer
	if err := render.WriteDOT(&dot, platformtest.Render(t, "production", nil)); err != nil {
		t.Fatal(err)
	}
	docs := filepath.Join(projectDir(t), "docs")
	golden.Assert(t, filepath.Join(docs, "architecture.dot"), dot.Bytes())

	bin, err := exec.LookPath("dot")
	if err != nil {
		t.Fatal("Graphviz's dot is missing: install it (apt-get install graphviz; .ci/run does)")
	}
	cmd := exec.Command(bin, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot.Bytes())
	svg, err := cmd.Output()
	if err != nil {
		t.Fatalf("dot: %v", err)
	}
	golden.Assert(t, filepath.Join(docs, "architecture.svg"), svg)
}
