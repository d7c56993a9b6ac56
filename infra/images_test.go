package infra_test

import (
	"strings"
	"testing"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
)

// workloadNames are the services whose pods a graph creates.
func workloadNames(g *graph.Graph) map[string]bool {
	out := map[string]bool{}
	for _, typ := range []string{"kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout"} {
		for _, w := range g.OfType(typ) {
			if name, _ := w.Lookup("metadata.name"); name != nil {
				out[name.(string)] = true
			}
		}
	}
	return out
}

// TestFirstRunLeavesOutServicesWithoutImages: on a stack's first run its
// repositories do not exist yet, so no workload could start. The run
// creates everything else, the repositories included, leaves the services
// out, and says per service what to push and run next; nothing waits on
// an image that cannot exist.
func TestFirstRunLeavesOutServicesWithoutImages(t *testing.T) {
	g, err := platformtest.RenderIn(t, "dev", nil, offline.AccountState{Fresh: true})
	if err != nil {
		t.Fatalf("a fresh stack's first run: %v", err)
	}
	if got := workloadNames(g); len(got) != 0 {
		t.Errorf("workloads %v created with no image to run", got)
	}
	if n := len(g.OfType("aws:ecr/repository:Repository")); n != 2 {
		t.Errorf("%d repositories, want one per service", n)
	}
	if n := len(g.OfType("aws:rds/instance:Instance")); n != 1 {
		t.Errorf("%d databases: the rest of the platform must still be created", n)
	}
	pending, _ := g.Outputs["pendingImages"].(map[string]string)
	for _, svc := range []string{"personalization-api", "personalization-ui"} {
		why := pending[svc]
		repo := offline.Account + ".dkr.ecr.eu-west-1.amazonaws.com/personalization-platform-dev/" + svc
		for _, want := range []string{"push " + repo + ":1.0.0", "platform up --stack dev --yes", "--image " + svc + "=TAG"} {
			if !strings.Contains(why, want) {
				t.Errorf("pendingImages[%s] = %q, does not say %q", svc, why, want)
			}
		}
	}
	if services := outputList(g.Outputs["services"]); len(services) != 0 {
		t.Errorf("services %v reported deployed", services)
	}

	// Once pushed, the next run deploys them.
	g = platformtest.Render(t, "dev", nil)
	if got := workloadNames(g); !got["personalization-api"] || !got["personalization-ui"] {
		t.Errorf("workloads %v after the images were pushed", got)
	}
	if services := outputList(g.Outputs["services"]); len(services) != 2 {
		t.Errorf("services %v reported deployed, want both", g.Outputs["services"])
	}
	if pending, ok := g.Outputs["pendingImages"].(map[string]string); !ok || len(pending) != 0 {
		t.Errorf("pendingImages %v with every image pushed", pending)
	}
}

// TestMissingImageIsOneClearError: a repository that exists without the
// image asked for stops the program before anything is registered, naming
// the service, the repository and the command that sets an image; an
// image of another registry is that registry's to vouch for.
func TestMissingImageIsOneClearError(t *testing.T) {
	unpushed := offline.AccountState{Unpushed: []string{"personalization-platform-dev/personalization-ui"}}
	g, err := platformtest.RenderIn(t, "dev", nil, unpushed)
	if err == nil {
		t.Fatal("a missing image was accepted")
	}
	for _, want := range []string{
		"service personalization-ui", "image 1.0.0", "personalization-platform-dev/personalization-ui",
		"ImageNotFoundException", "platform up --stack dev --yes --image personalization-ui=TAG",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "service personalization-api") {
		t.Errorf("the API's image is there, yet named: %v", err)
	}
	for _, r := range g.Resources {
		if r.Custom && !r.IsProvider() {
			t.Errorf("%s registered before the error", r.URN)
		}
	}

	external := map[string]string{"personalization-platform:images": `{"personalization-ui": "ghcr.io/acme/ui:2.0.0"}`}
	if _, err := platformtest.RenderIn(t, "dev", external, unpushed); err != nil {
		t.Errorf("an image of another registry was looked up in ECR: %v", err)
	}
}

// outputList is a rendered list output's strings.
func outputList(v any) []string {
	var out []string
	switch list := v.(type) {
	case []string:
		out = list
	case []any:
		for _, e := range list {
			out = append(out, e.(string))
		}
	}
	return out
}
