package acceptance

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/personalization/platform/offline"
)

func actionlint(t *testing.T, files ...string) (string, error) {
	t.Helper()
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool(t, "actionlint"), append([]string{"-no-color"}, files...)...)
	cmd.Dir = project
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestWorkflowsPassActionlint runs actionlint over every workflow.
func TestWorkflowsPassActionlint(t *testing.T) {
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(project, ".github", "workflows", "*.yml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("workflows %v %v", files, err)
	}
	if out, err := actionlint(t, files...); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}

// TestActionlintCatchesABrokenWorkflow proves the check can fail.
func TestActionlintCatchesABrokenWorkflow(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.yml")
	if err := os.WriteFile(broken, []byte("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.evnt.name }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := actionlint(t, broken)
	if err == nil || !strings.Contains(out, "evnt") {
		t.Errorf("actionlint passed a broken workflow: %v\n%s", err, out)
	}
}

// TestPullRequestsScanWithTheTestedTrivy: the pull-request workflow runs a
// pinned Trivy action at the Trivy version `make test` builds, on the
// scanner exports, and uploads SARIF.
func TestPullRequestsScanWithTheTestedTrivy(t *testing.T) {
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(project, "tools", "trivy", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/aquasecurity/trivy (v\S+)`).FindSubmatch(mod)
	if version == nil {
		t.Fatal("tools/trivy/go.mod does not require github.com/aquasecurity/trivy")
	}
	wf, err := os.ReadFile(filepath.Join(project, ".github", "workflows", "pull-request.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`uses: aquasecurity/trivy-action@[0-9a-f]{40} # v[0-9.]+\n`),
		regexp.MustCompile(`version: ` + regexp.QuoteMeta(string(version[1])) + `\n`),
		regexp.MustCompile(`--format tfplan`),
		regexp.MustCompile(`--format manifests`),
		regexp.MustCompile(`format: sarif`),
		regexp.MustCompile(`uses: github/codeql-action/upload-sarif@`),
	} {
		if !want.Match(wf) {
			t.Errorf("pull-request.yml lacks %s", want)
		}
	}
}
