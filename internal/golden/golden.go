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

	"github.com/pmezard/go-difflib/difflib"
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
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
		FromFile: path + " (committed)", ToFile: path + " (now)", Context: 3,
	})
	if err != nil {
		t.Fatalf("golden: diff: %v", err)
	}
	t.Errorf("%s is out of date; if the change is intended, run `go test ./... -update` and review the diff:\n%s", path, diff)
}

// AssertSection compares the part of the file at path between the markers
// <!-- name:start --> and <!-- name:end --> with content; with -update it
// rewrites that part: how generated tables live inside hand-written docs.
func AssertSection(t testing.TB, path, name, content string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	start, end := "<!-- "+name+":start -->\n", "<!-- "+name+":end -->"
	s := string(raw)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("golden: %s lacks the %q … %q markers", path, start, end)
	}
	Assert(t, path, []byte(s[:i+len(start)]+content+s[j:]))
}
