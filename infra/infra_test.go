package infra_test

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/personalization/platform/infra"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/stacks"
)

// TestBadConfigRegistersNothing: a profile that fails validation stops the
// program before the first resource, with the key named.
func TestBadConfigRegistersNothing(t *testing.T) {
	tests := []struct {
		name   string
		stack  string
		config map[string]string
		want   string
	}{
		{"bad CIDR", "production", map[string]string{"personalization-platform:network": `{"cidr":"10.0.0.0/29"}`}, "network.cidr"},
		{"bad NAT mode", "dev", map[string]string{"personalization-platform:network": `{"natGateways":"two"}`}, "network.natGateways"},
		{"bad tier", "staging", map[string]string{"personalization-platform:environment": "qa"}, "environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := platformtest.RenderErr(t, tt.stack, tt.config)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if len(g.Resources) != 0 {
				t.Errorf("%d resources registered before the error", len(g.Resources))
			}
		})
	}
}

// TestUnknownStack: a stack without a stack file is refused, naming the
// stacks there are.
func TestUnknownStack(t *testing.T) {
	_, err := offline.Run(infra.Program, offline.Options{Stack: "qa"})
	if err == nil || !strings.Contains(err.Error(), "Pulumi.qa.yaml") || !strings.Contains(err.Error(), "dev, production, staging") {
		t.Errorf("got %v", err)
	}
}

// TestUndeclaredKeyIsRefused mirrors the Pulumi CLI: a project key that
// Pulumi.yaml does not declare is an error.
func TestUndeclaredKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, project+"/Pulumi.yaml", dir+"/Pulumi.yaml")
	writeFile(t, dir+"/Pulumi.dev.yaml", "config:\n  aws:region: eu-west-1\n  personalization-platform:netwrk:\n    cidr: 10.0.0.0/16\n")
	_, err = offline.Run(infra.Program, offline.Options{Dir: dir, Stack: "dev"})
	if err == nil || !strings.Contains(err.Error(), `"personalization-platform:netwrk" is not declared`) || !strings.Contains(err.Error(), "network") {
		t.Errorf("got %v", err)
	}
}

// TestPulumiYAMLDeclaresExactlyTheProfileKeys keeps Pulumi.yaml's config
// block and the profile loader from drifting apart.
func TestPulumiYAMLDeclaresExactlyTheProfileKeys(t *testing.T) {
	dir, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	project, err := offline.LoadProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for k, decl := range project.Config {
		declared = append(declared, k)
		if decl.Type == "" || decl.Description == "" {
			t.Errorf("Pulumi.yaml: %s lacks a type or a description", k)
		}
	}
	sort.Strings(declared)
	if !reflect.DeepEqual(declared, stacks.Keys()) {
		t.Errorf("Pulumi.yaml declares %v, the profile reads %v", declared, stacks.Keys())
	}
	if project.Name != stacks.Project {
		t.Errorf("project %q, profile namespace %q", project.Name, stacks.Project)
	}
}

// TestStackFilesAreValid: each committed stack renders as its own tier.
func TestStackFilesAreValid(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		g := platformtest.Render(t, stack, nil)
		if g.Outputs["environment"] != stack {
			t.Errorf("%s renders environment %v", stack, g.Outputs["environment"])
		}
	}
}

// TestNoInputHoldsAPlaintextSecret: the secret values the stack is given
// reach no resource input and no output except as secrets, and nothing
// passes a database password at all.
func TestNoInputHoldsAPlaintextSecret(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			for _, r := range g.Resources {
				if path, found := findString(r.Inputs, offline.PlaceholderSecret); found {
					t.Errorf("%s holds a secret in plain text at %s", r.URN, path)
				}
				if r.Input("password") != nil || r.Input("masterPassword") != nil {
					t.Errorf("%s is given a password", r.URN)
				}
			}
			if path, found := findString(g.Outputs, offline.PlaceholderSecret); found {
				t.Errorf("output %s holds a secret in plain text", path)
			}
		})
	}
}

// TestMissingSecretFailsOnARealEngine: without the offline placeholders, a
// stack lacking its secrets fails before any resource, naming the key.
func TestMissingSecretFailsOnARealEngine(t *testing.T) {
	g, err := offline.Run(infra.Program, offline.Options{Stack: "production", NoSecretPlaceholders: true})
	if err == nil || !strings.Contains(err.Error(), "personalization-platform:redisAuthToken: is not set") {
		t.Fatalf("got %v", err)
	}
	if len(g.Resources) != 0 {
		t.Errorf("%d resources registered", len(g.Resources))
	}
}

func findString(v any, needle string) (string, bool) {
	switch t := v.(type) {
	case string:
		return "", strings.Contains(t, needle)
	case map[string]any:
		for k, e := range t {
			if p, ok := findString(e, needle); ok {
				return k + "." + p, true
			}
		}
	case []any:
		for i, e := range t {
			if p, ok := findString(e, needle); ok {
				return fmt.Sprintf("[%d].%s", i, p), true
			}
		}
	}
	return "", false
}
