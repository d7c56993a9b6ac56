package acceptance

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/personalization/platform/offline"
)

// pinnedAction is a third-party action by its full commit SHA, its version
// in a comment beside it.
var pinnedAction = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)

// usesLine is every `uses:` of a workflow, steps and reusable workflows.
var usesLine = regexp.MustCompile(`(?m)^\s*(?:- )?uses: (.+)$`)

func projectFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(append([]string{root}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestActionsArePinnedToCommits: a tag can be moved to other code after
// review; a commit cannot. Local reusable workflows are ours.
func TestActionsArePinnedToCommits(t *testing.T) {
	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	var n int
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range usesLine.FindAllStringSubmatch(string(raw), -1) {
			ref := strings.TrimSpace(m[1])
			if strings.HasPrefix(ref, "./") {
				continue
			}
			n++
			if !pinnedAction.MatchString(ref) {
				t.Errorf("%s: uses %q, want owner/name@<40-hex commit> # vX.Y.Z", filepath.Base(f), ref)
			}
		}
	}
	if n == 0 {
		t.Fatal("no third-party action found: the pattern reads nothing")
	}
	for _, bad := range []string{"actions/checkout@v4", "actions/checkout@11d5960a326750d5838078e36cf38b85af677262", "actions/checkout@main # v4.4.0"} {
		if pinnedAction.MatchString(bad) {
			t.Errorf("%q passes as pinned", bad)
		}
	}
}

// renovateConfig is the part of .github/renovate.json the test reads.
type renovateConfig struct {
	EnabledManagers []string `json:"enabledManagers"`
	IgnorePaths     []string `json:"ignorePaths"`
	PackageRules    []struct {
		MatchManagers     []string `json:"matchManagers"`
		MatchPackageNames []string `json:"matchPackageNames"`
		PinDigests        bool     `json:"pinDigests"`
		GroupName         string   `json:"groupName"`
	} `json:"packageRules"`
	CustomManagers []struct {
		ManagerFilePatterns []string `json:"managerFilePatterns"`
		MatchStrings        []string `json:"matchStrings"`
	} `json:"customManagers"`
}

// TestDependencyUpdatesCoverEveryPin: Renovate proposes updates of the Go
// modules (the program's and each tool module's), of the actions (kept
// pinned to SHAs) and of every tool version pinned outside go.mod, in
// groups; each marked pin is found by the config's own pattern and agrees
// with the module that builds that tool.
func TestDependencyUpdatesCoverEveryPin(t *testing.T) {
	var cfg renovateConfig
	if err := json.Unmarshal(projectFile(t, ".github", "renovate.json"), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"gomod", "github-actions", "custom.regex"} {
		if !contains(cfg.EnabledManagers, m) {
			t.Errorf("manager %s is not enabled", m)
		}
	}
	if len(cfg.IgnorePaths) > 0 {
		t.Errorf("ignorePaths %v: every go.mod (tools/* included) must be updated", cfg.IgnorePaths)
	}
	groups := map[string]bool{}
	for _, r := range cfg.PackageRules {
		if r.GroupName == "" {
			t.Errorf("rule %+v is not grouped", r)
		}
		groups[r.GroupName] = true
		if contains(r.MatchManagers, "github-actions") && !r.PinDigests {
			t.Error("actions are not kept pinned to digests")
		}
	}
	for _, g := range []string{"Go modules", "GitHub Actions", "Pulumi engine", "Kubernetes", "Trivy"} {
		if !groups[g] {
			t.Errorf("no group %q", g)
		}
	}
	if len(cfg.CustomManagers) != 1 || len(cfg.CustomManagers[0].MatchStrings) != 1 {
		t.Fatalf("custom managers %+v, want the one marker pattern", cfg.CustomManagers)
	}
	// Renovate's patterns are JavaScript's; named groups read the same in Go.
	marker := regexp.MustCompile(cfg.CustomManagers[0].MatchStrings[0])
	files := regexp.MustCompile(strings.Trim(cfg.CustomManagers[0].ManagerFilePatterns[0], "/"))
	if !files.MatchString("Makefile") {
		t.Error("the marker pattern does not read the Makefile")
	}

	goVersion := func(modFile []string, module string) string {
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + ` (v\S+)`).FindSubmatch(projectFile(t, modFile...))
		if m == nil {
			t.Fatalf("%s does not require %s", filepath.Join(modFile...), module)
		}
		return string(m[1])
	}
	pulumi := goVersion([]string{"tools", "pulumi", "go.mod"}, "github.com/pulumi/pulumi/pkg/v3")
	if sdk := goVersion([]string{"go.mod"}, "github.com/pulumi/pulumi/sdk/v3"); sdk != pulumi {
		t.Errorf("the CLI is built at %s, the program's SDK is %s", pulumi, sdk)
	}
	want := map[string]string{
		"k8s.io/kubernetes":               goVersion([]string{"tools", "kube-apiserver", "go.mod"}, "k8s.io/kubernetes"),
		"github.com/pulumi/pulumi/pkg/v3": pulumi,
		"pulumi/pulumi":                   strings.TrimPrefix(pulumi, "v"),
		"github.com/aquasecurity/trivy":   goVersion([]string{"tools", "trivy", "go.mod"}, "github.com/aquasecurity/trivy"),
		// Renovate's validator is pinned in the Makefile alone.
		"renovate": string(regexp.MustCompile(`RENOVATE_VERSION := (\S+)`).FindSubmatch(projectFile(t, "Makefile"))[1]),
	}
	found := map[string]int{}
	pinned := map[string][]string{
		"Makefile": {"K8S_VERSION", "PULUMI_VERSION", "RENOVATE_VERSION"},
	}
	for _, f := range []string{"Makefile", ".github/workflows/deploy-stack.yml", ".github/workflows/drift.yml", ".github/workflows/pull-request.yml"} {
		raw := string(projectFile(t, strings.Split(f, "/")...))
		matches := marker.FindAllStringSubmatch(raw, -1)
		if len(matches) == 0 {
			t.Errorf("%s: no marked pin", f)
		}
		for _, m := range matches {
			dep, value := m[marker.SubexpIndex("depName")], m[marker.SubexpIndex("currentValue")]
			found[dep]++
			if want[dep] == "" {
				t.Errorf("%s: marker for %s, which no test ties to a module", f, dep)
			} else if value != want[dep] {
				t.Errorf("%s: %s pinned at %s, its module at %s", f, dep, value, want[dep])
			}
		}
		for _, v := range pinned[f] {
			if !regexp.MustCompile(`# renovate: [^\n]*\n` + v + ` :=`).MatchString(raw) {
				t.Errorf("%s: %s has no renovate marker", f, v)
			}
		}
		if strings.Contains(f, "workflows") && strings.Count(raw, "pulumi-version:") != strings.Count(raw, "depName=pulumi/pulumi ") {
			t.Errorf("%s: a pulumi-version without its marker", f)
		}
	}
	for dep := range want {
		if found[dep] == 0 {
			t.Errorf("no marked pin of %s", dep)
		}
	}
}

// TestRenovateValidatesTheConfig runs Renovate's own validator on the
// config, and on a misspelt copy, which it must refuse.
func TestRenovateValidatesTheConfig(t *testing.T) {
	validator := tool(t, "renovate-config-validator")
	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	validate := func(file string) (string, error) {
		cmd := exec.Command(validator, "--strict", file)
		cmd.Env = append(os.Environ(), "LOG_FORMAT=", "RENOVATE_CONFIG_FILE=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := validate(filepath.Join(root, ".github", "renovate.json")); err != nil {
		t.Errorf("renovate-config-validator refuses .github/renovate.json: %v\n%s", err, out)
	}
	raw := strings.Replace(string(projectFile(t, ".github", "renovate.json")), `"packageRules"`, `"packageRulez"`, 1)
	broken := filepath.Join(t.TempDir(), "renovate.json")
	if err := os.WriteFile(broken, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := validate(broken); err == nil || !strings.Contains(out, "packageRulez") {
		t.Errorf("a misspelt option passed: %v\n%s", err, out)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
