package timing_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/stacks"
	"github.com/personalization/platform/timing"
)

// TestDeploySessionOutlastsTheLongestApply derives the pipelines' session
// from production's render: the longest chain of resources created one
// after the other, each taking as long as the engine would wait for it
// before failing (the providers' documented create timeouts, the releases'
// own timeouts), rounded up to the hour. An apply that would still succeed
// never outlives its credentials. The bootstrap's roles, the runners'
// build timeout and the deploy workflow say the same number.
func TestDeploySessionOutlastsTheLongestApply(t *testing.T) {
	longest := map[string]time.Duration{}
	for _, stack := range platformtest.Stacks() {
		g := platformtest.Render(t, stack, nil)
		limit := timing.CriticalPath(g, timing.Limit)
		typical := timing.CriticalPath(g, timing.Typical)
		longest[stack] = limit.Duration
		t.Logf("%s: first apply typically %s, at most %s along %d resources", stack, typical.Duration, limit.Duration, len(limit.Resources))
		if typical.Duration <= 0 || typical.Duration > limit.Duration {
			t.Errorf("%s: typical %s is not within the limit %s", stack, typical.Duration, limit.Duration)
		}
	}
	if longest["production"] < longest["dev"] || longest["production"] < longest["staging"] {
		t.Errorf("production is not the longest apply: %v", longest)
	}
	want := int(longest["production"].Truncate(time.Hour)/time.Second) + 3600
	if stacks.DeploySessionSeconds != want {
		t.Errorf("stacks.DeploySessionSeconds = %d; production's critical path (%s) rounded up to the hour needs %d", stacks.DeploySessionSeconds, longest["production"], want)
	}
	if want > 43200 {
		t.Errorf("production's first apply needs %d s, more than IAM's 12-hour maximum session", want)
	}

	boot := platformtest.RenderBootstrap(t, nil)
	for _, r := range boot.OfType("aws:iam/role:Role") {
		if r.Name == "foundation-preview" || strings.HasPrefix(r.Name, "foundation-deploy-") {
			if got, _ := r.Inputs["maxSessionDuration"].(float64); int(got) != want {
				t.Errorf("role %s: maxSessionDuration %v, want %d", r.Name, r.Inputs["maxSessionDuration"], want)
			}
		}
	}
	project := platformtest.One(t, boot, "aws:codebuild/project:Project")
	if got, _ := project.Inputs["buildTimeout"].(float64); int(got) != want/60 {
		t.Errorf("runner build timeout %v minutes, want %d", project.Inputs["buildTimeout"], want/60)
	}

	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "deploy-stack.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			TimeoutMinutes int `yaml:"timeout-minutes"`
			Steps          []struct {
				Uses string         `yaml:"uses"`
				With map[string]any `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	up := wf.Jobs["up"]
	if up.TimeoutMinutes != want/60 {
		t.Errorf("deploy-stack.yml: timeout-minutes %d, want %d (the session)", up.TimeoutMinutes, want/60)
	}
	found := false
	for _, st := range up.Steps {
		if d, ok := st.With["role-duration-seconds"]; ok {
			found = true
			if d != want {
				t.Errorf("deploy-stack.yml: role-duration-seconds %v, want %d", d, want)
			}
		}
	}
	if !found {
		t.Error("deploy-stack.yml assumes the deploy role without role-duration-seconds (one hour by default)")
	}
}

// TestCriticalPathFollowsWhatTheEngineWaitsFor: dependencies, a component
// dependency (all it holds), a parent's dependencies and a provider each
// order creation.
func TestCriticalPathFollowsWhatTheEngineWaitsFor(t *testing.T) {
	const (
		cluster = "aws:eks/cluster:Cluster"
		nodes   = "aws:eks/nodeGroup:NodeGroup"
		k8s     = "pulumi:providers:kubernetes"
		release = "kubernetes:helm.sh/v3:Release"
	)
	res := func(urn, typ string, custom bool, parent, provider string, deps ...string) *graph.Resource {
		return &graph.Resource{URN: urn, Type: typ, Custom: custom, Parent: parent, Provider: provider, Dependencies: deps, Inputs: map[string]any{}}
	}
	tests := []struct {
		name      string
		resources []*graph.Resource
		want      time.Duration
	}{
		{"independent", []*graph.Resource{res("c", cluster, true, "", ""), res("n", nodes, true, "", "")}, 12 * time.Minute},
		{"a dependency", []*graph.Resource{res("c", cluster, true, "", ""), res("n", nodes, true, "", "", "c")}, 18 * time.Minute},
		{"a component dependency waits for its children", []*graph.Resource{
			res("comp", "personalization:cluster:Cluster", false, "", ""), res("c", cluster, true, "comp", ""),
			res("n", nodes, true, "", "", "comp"),
		}, 18 * time.Minute},
		{"a parent's dependency", []*graph.Resource{
			res("c", cluster, true, "", ""), res("comp", "personalization:addons:PlatformAddons", false, "", "", "c"),
			res("n", nodes, true, "comp", ""),
		}, 18 * time.Minute},
		{"through the provider", []*graph.Resource{
			res("n", nodes, true, "", ""), res("p", k8s, true, "", "", "n"), res("r", release, true, "", "p"),
		}, 6*time.Minute + 15*time.Second + 4*time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graph.Graph{Resources: tt.resources}
			g.Sort()
			if got := timing.CriticalPath(g, timing.Typical); got.Duration != tt.want {
				t.Errorf("critical path %s, want %s", got.Duration, tt.want)
			}
		})
	}
}

// TestReleaseLimitIsItsTimeout: a release's limit is its own timeout.
func TestReleaseLimitIsItsTimeout(t *testing.T) {
	g := &graph.Graph{Resources: []*graph.Resource{{URN: "r", Type: "kubernetes:helm.sh/v3:Release", Custom: true, Inputs: map[string]any{"timeout": float64(900)}}}}
	if got := timing.CriticalPath(g, timing.Limit).Duration; got != 15*time.Minute {
		t.Errorf("limit %s, want 15m", got)
	}
}
