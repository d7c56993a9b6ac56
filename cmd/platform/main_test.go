package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/personalization/platform/internal/golden" // understands -update
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/policy"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRenderJSON(t *testing.T) {
	code, stdout, stderr := runCLI("render", "--stack", "production", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Stack     string `json:"stack"`
		Resources []struct {
			URN          string         `json:"urn"`
			Type         string         `json:"type"`
			Name         string         `json:"name"`
			Parent       string         `json:"parent"`
			Dependencies []string       `json:"dependencies"`
			Protect      *bool          `json:"protect"`
			Custom       *bool          `json:"custom"`
			Inputs       map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.Stack != "production" || len(doc.Resources) == 0 {
		t.Fatalf("stack %q with %d resources", doc.Stack, len(doc.Resources))
	}
	for _, r := range doc.Resources {
		if r.URN == "" || r.Type == "" || r.Name == "" || r.Protect == nil || r.Custom == nil || r.Inputs == nil || r.Dependencies == nil {
			t.Errorf("resource lacks a field: %+v", r)
		}
	}
}

func TestRenderFormats(t *testing.T) {
	for format, want := range map[string]string{"tree": "resources by type:", "dot": "digraph", "json": `"resources"`} {
		code, stdout, stderr := runCLI("render", "--stack", "dev", "--format", format)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("%s: exit %d, stdout lacks %q; stderr %s", format, code, want, stderr)
		}
	}
}

// TestRenderBootstrap: --dir picks the bootstrap project and its program.
func TestRenderBootstrap(t *testing.T) {
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI("render", "--dir", filepath.Join(project, "bootstrap"), "--stack", "example")
	if code != exitOK || !strings.Contains(stdout, "personalization:bootstrap:Foundation") || !strings.Contains(stdout, "project personalization-bootstrap") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI("render", "--dir", t.TempDir(), "--stack", "example")
	if code != exitError || !strings.Contains(stderr, "Pulumi.yaml") {
		t.Errorf("a folder without a project: exit %d, %s", code, stderr)
	}
}

// TestRenderManifests: the manifests format writes one file per object
// into a new folder, refuses a path that is a file, and writes nothing
// when the stack does not render.
func TestRenderManifests(t *testing.T) {
	out := filepath.Join(t.TempDir(), "manifests")
	code, stdout, stderr := runCLI("render", "--stack", "staging", "--format", "manifests", out)
	files, _ := filepath.Glob(filepath.Join(out, "*.yaml"))
	if code != exitOK || len(files) < 40 || !strings.Contains(stdout, fmt.Sprintf("%d Kubernetes objects", len(files))) {
		t.Errorf("exit %d, %d files\n%s%s", code, len(files), stdout, stderr)
	}
	file := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI("render", "--stack", "dev", "--format", "manifests", file); code != exitError || !strings.Contains(stderr, "is not a directory") {
		t.Errorf("a file as output: exit %d, %s", code, stderr)
	}
	missing := filepath.Join(t.TempDir(), "never")
	if code, _, _ := runCLI("render", "--stack", "nosuchstack", "--format", "manifests", missing); code == exitOK {
		t.Error("an unknown stack rendered")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a failed render left an output folder")
	}
	if code, _, _ := runCLI("render", "--stack", "dev", "--format", "manifests"); code != exitUsage {
		t.Errorf("manifests without a folder: exit %d, want usage", code)
	}
}

// TestRenderTFPlan: the tfplan format prints a Terraform JSON plan of every
// AWS resource, for production and the bootstrap alike, and prints nothing
// on standard output when the stack does not render.
func TestRenderTFPlan(t *testing.T) {
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--stack", "production"},
		{"--dir", filepath.Join(project, "bootstrap"), "--stack", "example"},
	} {
		code, stdout, stderr := runCLI(append([]string{"render", "--format", "tfplan"}, args...)...)
		var plan struct {
			FormatVersion   string `json:"format_version"`
			ResourceChanges []struct {
				Type   string `json:"type"`
				Change struct {
					Actions []string       `json:"actions"`
					After   map[string]any `json:"after"`
				} `json:"change"`
			} `json:"resource_changes"`
		}
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
			t.Fatalf("%v: not JSON: %v", args, err)
		}
		if plan.FormatVersion == "" || len(plan.ResourceChanges) < 20 {
			t.Errorf("%v: format %q, %d resource changes", args, plan.FormatVersion, len(plan.ResourceChanges))
		}
		for _, rc := range plan.ResourceChanges {
			if !strings.HasPrefix(rc.Type, "aws_") || len(rc.Change.Actions) != 1 || rc.Change.Actions[0] != "create" || rc.Change.After == nil {
				t.Errorf("%v: resource change %+v", args, rc)
			}
		}
	}
	code, stdout, _ := runCLI("render", "--stack", "nosuchstack", "--format", "tfplan")
	if code == exitOK || stdout != "" {
		t.Errorf("an unknown stack: exit %d, stdout %q", code, stdout)
	}
}

// projectWith is a copy of the project's Pulumi.yaml in a temporary folder,
// beside the given stack files.
func projectWith(t *testing.T, stackFiles map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	pulumiYAML, err := os.ReadFile(filepath.Join(project, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stackFiles["Pulumi.yaml"] = string(pulumiYAML)
	writeFiles(t, dir, stackFiles)
	return dir
}

func TestRenderErrors(t *testing.T) {
	badDir := projectWith(t, map[string]string{
		"Pulumi.bad.yaml": "config:\n  aws:region: eu-west-1\n  personalization-platform:environment: dev\n  personalization-platform:network:\n    cidr: 10.0.0.0/30\n",
	})
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown stack", []string{"render", "--stack", "qa"}, exitError, `no Pulumi.qa.yaml`},
		{"invalid config", []string{"render", "--stack", "bad", "--dir", badDir}, exitError,
			`config personalization-platform:network.cidr = "10.0.0.0/30"`},
		{"no stack", []string{"render"}, exitUsage, "usage: platform render"},
		{"bad format", []string{"render", "--stack", "dev", "--format", "yaml"}, exitUsage, `--format "yaml"`},
		{"unknown command", []string{"deploy"}, exitUsage, `unknown command "deploy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if stdout != "" {
				t.Errorf("printed to stdout: %q", stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
			if tt.code == exitError && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("more than the one error line: %q", stderr)
			}
		})
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "production"} {
		code, stdout, stderr := runCLI("check", "--stack", stack)
		if code != exitOK || !strings.Contains(stdout, "0 not waived") {
			t.Errorf("%s: exit %d\n%s%s", stack, code, stdout, stderr)
		}
	}
	code, stdout, _ := runCLI("check", "--stack", "production", "--format", "json")
	var rep struct {
		Rules    int
		Findings []any
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK || rep.Rules != len(policy.Rules()) {
		t.Errorf("json report: exit %d, %+v, %v", code, rep, err)
	}
}

func TestCheckRefusesABadWaiver(t *testing.T) {
	dir := projectWith(t, map[string]string{
		"Pulumi.waived.yaml": "config:\n  aws:region: eu-west-1\n  personalization-platform:environment: dev\n" +
			"  personalization-platform:policy:\n    waivers:\n      - rule: RDS-77\n        urn: urn:pulumi:waived::personalization-platform::x::y\n        reason: because\n",
	})
	code, _, stderr := runCLI("check", "--stack", "waived", "--dir", dir)
	if code != exitError || !strings.Contains(stderr, `names rule "RDS-77", which does not exist`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestDeployCommandsSayWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, stdout, stderr := runCLI("preview", "--stack", "dev")
	if code != exitError || stdout != "" || !strings.Contains(stderr, "the Pulumi CLI is not installed") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("preview", "--stack", "dev", "--pulumi-root", t.TempDir())
	if code != exitError || !strings.Contains(stderr, "the Pulumi CLI is missing") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{
		{"up", "--stack", "dev"},
		{"destroy", "--stack", "dev"},
		{"promote", "--from", "staging", "--yes"},
		{"up", "--stack", "dev", "--yes", "--image", "personalization-api"},
		{"promote", "--from", "staging", "--to", "staging", "--yes"},
	} {
		if code, _, stderr := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want the usage status", args, code, stderr)
		}
	}
}

// TestImageOfAnUnknownServiceIsRefused: before the CLI, credentials or the
// backend are even looked for, an --image naming no service of the stack
// is one error naming it and the services there are.
func TestImageOfAnUnknownServiceIsRefused(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := runCLI("up", "--stack", "dev", "--yes", "--image", "personalisation-api=1.2.3")
	for _, want := range []string{`no service "personalisation-api"`, "personalization-api, personalization-ui"} {
		if code != exitError || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q lacks %q", code, stderr, want)
		}
	}
	if strings.Contains(stderr, "Pulumi CLI") {
		t.Errorf("the image was checked after the CLI: %q", stderr)
	}
}
