// Package golden compares test output with committed files and rewrites them
// on request. Every test package of the project imports it, so that
// `go test ./... -update` is understood by every test binary.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is the -update flag: rewrite golden files instead of comparing.
var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Updating says whether this run rewrites golden files.
func Updating() bool { return *update }

// Assert compares got with the file at path and fails with a line diff on
// drift; with -update it writes got to the file instead.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run `go test ./... -update` to create it)", err)
	}
	if string(want) == string(got) {
		return
	}
	diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n"))
	t.Errorf("%s is out of date (-committed +now); if the change is intended, run `go test ./... -update` and review the diff:\n%s", path, diff)
}
