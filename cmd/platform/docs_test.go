package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/personalization/platform/components/monitoring"
	"github.com/personalization/platform/offline"
)

// invocation finds `platform …` and `go run ./cmd/platform …` command
// lines, up to a pipe, a closing parenthesis or backtick, or the line's end.
var invocation = regexp.MustCompile("(?m)(?:go run \\./cmd/platform|(?:^|[\\s(`\"])(?:\\./)?platform) ((?:render|check|preview|up|refresh|destroy|outputs|promote)[^|\\n)`#>]*)")

// splitArgs splits a command line like a shell, honouring quotes.
func splitArgs(line string) []string {
	var args []string
	var cur strings.Builder
	var quote rune
	inArg := false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inArg = r, true
		case r == ' ' || r == '\t':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case r == '\\':
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

func docFiles(t *testing.T) []string {
	t.Helper()
	dir, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "README.md"), filepath.Join(dir, "CONTRIBUTING.md")}
	more, err := filepath.Glob(filepath.Join(dir, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	more2, _ := filepath.Glob(filepath.Join(dir, "docs", "decisions", "*.md"))
	return append(append(files, more...), more2...)
}

// TestEveryDocumentedCommandExists parses every `platform` invocation of the
// README, CONTRIBUTING and docs with the command's own flags.
func TestEveryDocumentedCommandExists(t *testing.T) {
	seen := 0
	for _, f := range docFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range invocation.FindAllStringSubmatch(string(raw), -1) {
			if !strings.Contains(m[1], "--") {
				continue // prose naming a command, not a command line
			}
			seen++
			args := splitArgs(strings.TrimSpace(m[1]))
			if err := validateArgs(args); err != nil {
				t.Errorf("%s: `platform %s`: %v", filepath.Base(f), m[1], err)
			}
		}
	}
	if seen < 15 {
		t.Errorf("only %d invocations found: the extraction is broken", seen)
	}
	if err := validateArgs([]string{"up", "--stack", "dev"}); err == nil {
		t.Error("an invocation missing --yes validated: the check proves nothing")
	}
}

// TestEveryAlertHasItsRunbookSection: each alert's runbook_url anchor
// exists in docs/operations.md.
func TestEveryAlertHasItsRunbookSection(t *testing.T) {
	dir, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	groups := monitoring.Rules(monitoring.Thresholds{ErrorRatePercent: 5, LatencyWarningSeconds: 0.5, LatencyCriticalSeconds: 1,
		MemoryPercent: 90, RestartsPerHour: 3, AvailabilityObjective: 99.9}, "personalization", "https://x/docs/operations.md")
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			_, anchor, _ := strings.Cut(r.Annotations["runbook_url"], "#")
			if !strings.Contains(string(raw), `<a id="`+anchor+`"></a>`) {
				t.Errorf("docs/operations.md has no section for %s (#%s)", r.Alert, anchor)
			}
		}
	}
}
