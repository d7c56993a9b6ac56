package workload_test

import (
	"reflect"
	"testing"

	"github.com/personalization/platform/internal/platformtest"
)

const rolloutType = "kubernetes:argoproj.io/v1alpha1:Rollout"

func TestWhichServicesRollOutProgressively(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		g := platformtest.Render(t, stack, nil)
		if r := podOwner(t, g, "personalization-api"); r.Type != rolloutType {
			t.Errorf("%s: the API runs as %s, want a canary Rollout", stack, r.Type)
		}
		if r := podOwner(t, g, "personalization-ui"); r.Type != "kubernetes:apps/v1:Deployment" {
			t.Errorf("%s: the UI runs as %s, want a rolling Deployment", stack, r.Type)
		}
	}
}

func TestProductionCanary(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	r := podOwner(t, g, "personalization-api")
	canary := get(t, r, "spec.strategy.canary").(map[string]any)
	want := []any{
		map[string]any{"setWeight": 10.0}, map[string]any{"pause": map[string]any{"duration": "5m"}},
		map[string]any{"setWeight": 25.0}, map[string]any{"pause": map[string]any{"duration": "5m"}},
		map[string]any{"setWeight": 50.0}, map[string]any{"pause": map[string]any{"duration": "5m"}},
		map[string]any{"setWeight": 100.0},
	}
	if !reflect.DeepEqual(canary["steps"], want) {
		t.Errorf("steps %v", canary["steps"])
	}
	if canary["stableService"] != "personalization-api" || canary["canaryService"] != "personalization-api-canary" {
		t.Errorf("services %v / %v", canary["stableService"], canary["canaryService"])
	}
	alb := canary["trafficRouting"].(map[string]any)["alb"].(map[string]any)
	if alb["ingress"] != "personalization-api" || alb["rootService"] != "personalization-api" {
		t.Errorf("traffic routing %v", alb)
	}
	analysis := canary["analysis"].(map[string]any)
	if analysis["templates"].([]any)[0].(map[string]any)["templateName"] != "personalization-api" {
		t.Errorf("analysis %v", analysis)
	}
	if get(t, r, "spec.progressDeadlineAbort") != true {
		t.Error("pods that never turn ready do not abort the release")
	}

	tmpl := child(t, g, "personalization-api", "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate")
	conditions := map[string]string{}
	for _, m := range get(t, tmpl, "spec.metrics").([]any) {
		mm := m.(map[string]any)
		conditions[mm["name"].(string)] = mm["successCondition"].(string)
		if mm["failureLimit"] != 1.0 || mm["provider"].(map[string]any)["prometheus"].(map[string]any)["address"] != "http://kube-prometheus-stack-prometheus.monitoring.svc:9090" {
			t.Errorf("metric %v", mm)
		}
	}
	if conditions["error-rate"] != "len(result) == 0 || isNaN(result[0]) || result[0] <= 0.05" ||
		conditions["latency-ratio"] != "len(result) == 0 || isNaN(result[0]) || result[0] <= 2" || conditions["restarts"] == "" {
		t.Errorf("conditions %v", conditions)
	}

	hpa := child(t, g, "personalization-api", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
	if get(t, hpa, "spec.scaleTargetRef.apiVersion") != "argoproj.io/v1alpha1" || get(t, hpa, "spec.scaleTargetRef.kind") != "Rollout" {
		t.Errorf("HPA targets %v", get(t, hpa, "spec.scaleTargetRef"))
	}
	ing := child(t, g, "personalization-api", "kubernetes:networking.k8s.io/v1:Ingress")
	backend := get(t, ing, "spec.rules").([]any)[0].(map[string]any)["http"].(map[string]any)["paths"].([]any)[0].(map[string]any)["backend"].(map[string]any)["service"].(map[string]any)
	if backend["name"] != "personalization-api" || backend["port"].(map[string]any)["name"] != "use-annotation" {
		t.Errorf("ingress backend %v", backend)
	}
}

// TestOneTemplateBuilderAndAStableService: the API as a canary Rollout and
// as a rolling Deployment runs the same pod template, and switching keeps
// its Service (same URN, same selector).
func TestOneTemplateBuilderAndAStableService(t *testing.T) {
	canary := platformtest.Render(t, "production", nil)
	rolling := platformtest.Render(t, "production", map[string]string{
		"personalization-platform:workloads": `{"personalization-api": {"strategy": {"type": "rolling"}}}`,
	})
	if !reflect.DeepEqual(get(t, podOwner(t, canary, "personalization-api"), "spec.template"), get(t, podOwner(t, rolling, "personalization-api"), "spec.template")) {
		t.Error("the Rollout's pod template differs from the Deployment's")
	}
	a := child(t, canary, "personalization-api", "kubernetes:core/v1:Service")
	b := child(t, rolling, "personalization-api", "kubernetes:core/v1:Service")
	if a.URN != b.URN || !reflect.DeepEqual(a.Inputs, b.Inputs) {
		t.Errorf("switching strategies changes the Service: %s %v / %s %v", a.URN, a.Inputs, b.URN, b.Inputs)
	}
	pdb := child(t, canary, "personalization-api", "kubernetes:policy/v1:PodDisruptionBudget")
	if !reflect.DeepEqual(get(t, pdb, "spec.selector.matchLabels"), get(t, podOwner(t, canary, "personalization-api"), "spec.selector.matchLabels")) {
		t.Error("the PDB does not select the Rollout's pods")
	}
}

func TestBlueGreen(t *testing.T) {
	g := platformtest.Render(t, "staging", map[string]string{
		"personalization-platform:workloads": `{"personalization-ui": {"strategy": {"type": "blueGreen", "previewPort": 8080, "autoPromote": false}}}`,
	})
	bg := get(t, podOwner(t, g, "personalization-ui"), "spec.strategy.blueGreen").(map[string]any)
	if bg["activeService"] != "personalization-ui" || bg["previewService"] != "personalization-ui-preview" || bg["autoPromotionEnabled"] != false || bg["prePromotionAnalysis"] == nil {
		t.Errorf("blue-green %v", bg)
	}
	for _, s := range g.OfType("kubernetes:core/v1:Service") {
		if name, _ := s.Lookup("metadata.name"); name == "personalization-ui-preview" {
			if port := get(t, s, "spec.ports").([]any)[0].(map[string]any)["port"]; port != 8080.0 {
				t.Errorf("preview port %v", port)
			}
			return
		}
	}
	t.Error("no preview Service")
}
