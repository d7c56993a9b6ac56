package tracing_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/personalization/platform/components/tracing"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func byName(t *testing.T, g *graph.Graph, typ string) map[string]*graph.Resource {
	t.Helper()
	out := map[string]*graph.Resource{}
	for _, r := range platformtest.Children(t, g, tracing.TypeToken, typ) {
		name, _ := r.Lookup("metadata.name")
		if name == nil {
			name, _ = r.Lookup("name")
		}
		out[name.(string)] = r
	}
	return out
}

func TestCollectorAndTempoPerStack(t *testing.T) {
	retention := map[string]string{"dev": "72h", "staging": "168h", "production": "336h"}
	replicas := map[string]float64{"dev": 1, "staging": 2, "production": 2}
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			releases := byName(t, g, "kubernetes:helm.sh/v3:Release")
			collector, tempo := releases[tracing.CollectorName], releases[tracing.TempoName]
			if collector == nil || tempo == nil {
				t.Fatalf("releases %v, want the collector and Tempo", releases)
			}
			if v, _ := collector.Lookup("values.image.tag"); v != tracing.CollectorVersion {
				t.Errorf("collector image %v, want %s (the validator's version)", v, tracing.CollectorVersion)
			}
			if v, _ := collector.Lookup("values.replicaCount"); v != replicas[stack] {
				t.Errorf("collector replicas %v", v)
			}
			pipeline, _ := collector.Lookup("values.alternateConfig.service.pipelines.traces")
			p := pipeline.(map[string]any)
			if !reflect.DeepEqual(p["processors"], []any{"memory_limiter", "batch"}) || !reflect.DeepEqual(p["receivers"], []any{"otlp"}) ||
				!reflect.DeepEqual(p["exporters"], []any{"otlp/tempo"}) {
				t.Errorf("traces pipeline %v: want otlp → memory_limiter, batch → otlp/tempo", p)
			}
			if ep, _ := collector.Lookup("values.alternateConfig.exporters.otlp/tempo.endpoint"); ep != "tempo.tracing.svc:4317" {
				t.Errorf("exporter endpoint %v", ep)
			}
			if v, _ := tempo.Lookup("values.tempo.retention"); v != retention[stack] {
				t.Errorf("tempo retention %v, want %s", v, retention[stack])
			}
			if v, _ := tempo.Lookup("values.persistence.storageClassName"); v != "gp3" {
				t.Errorf("tempo volume class %v", v)
			}
		})
	}
}

// TestNetworkPoliciesCloseTheNamespace: a default deny, the collector open
// to the application namespace on OTLP only and out to Tempo only, Tempo
// open to the collector, Grafana and Prometheus.
func TestNetworkPoliciesCloseTheNamespace(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	nps := byName(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
	if sel, _ := nps["default-deny"].Lookup("spec.podSelector"); !reflect.DeepEqual(sel, map[string]any{}) {
		t.Errorf("default deny selects %v, want every pod", sel)
	}
	ports := func(r *graph.Resource, path string) [][]any {
		v, _ := r.Lookup(path)
		var out [][]any
		for _, rule := range v.([]any) {
			var ps []any
			for _, p := range rule.(map[string]any)["ports"].([]any) {
				ps = append(ps, p.(map[string]any)["port"])
			}
			out = append(out, ps)
		}
		return out
	}
	collector := nps[tracing.CollectorName]
	if got := ports(collector, "spec.ingress"); !reflect.DeepEqual(got, [][]any{{4317.0, 4318.0}, {8888.0}}) {
		t.Errorf("collector ingress ports %v", got)
	}
	from, _ := collector.Lookup("spec.ingress")
	if ns, _ := from.([]any)[0].(map[string]any)["from"].([]any)[0].(map[string]any)["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)["kubernetes.io/metadata.name"]; ns != "personalization" {
		t.Errorf("OTLP admitted from %v, want the application namespace", ns)
	}
	if got := ports(collector, "spec.egress"); !reflect.DeepEqual(got, [][]any{{53.0, 53.0}, {4317.0}}) {
		t.Errorf("collector egress ports %v, want DNS and Tempo's OTLP", got)
	}
	egress, _ := collector.Lookup("spec.egress")
	if to := egress.([]any)[1].(map[string]any)["to"].([]any)[0].(map[string]any)["podSelector"]; !reflect.DeepEqual(to, map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/instance": "tempo", "app.kubernetes.io/name": "tempo"}}) {
		t.Errorf("collector exports to %v, want Tempo's pods", to)
	}
	if got := ports(nps[tracing.TempoName], "spec.ingress"); !reflect.DeepEqual(got, [][]any{{4317.0}, {3200.0}, {3200.0}}) {
		t.Errorf("tempo ingress ports %v", got)
	}
}

// TestExternalExporter: with exporter otlp there is no Tempo, and the
// collector sends over TLS to the endpoint's port.
func TestExternalExporter(t *testing.T) {
	g := platformtest.Render(t, "staging", map[string]string{"personalization-platform:tracing": `{"exporter": "otlp", "endpoint": "otlp.example.com:4317"}`})
	releases := byName(t, g, "kubernetes:helm.sh/v3:Release")
	if releases[tracing.TempoName] != nil {
		t.Error("Tempo runs though traces leave the cluster")
	}
	cfg, _ := releases[tracing.CollectorName].Lookup("values.alternateConfig.exporters")
	exp := cfg.(map[string]any)["otlp/external"].(map[string]any)
	if exp["endpoint"] != "otlp.example.com:4317" || exp["tls"] != nil {
		t.Errorf("external exporter %v, want TLS (the default) to the endpoint", exp)
	}
	nps := byName(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
	if _, ok := nps[tracing.TempoName]; ok {
		t.Error("a Tempo network policy without Tempo")
	}
	egress, _ := nps[tracing.CollectorName].Lookup("spec.egress")
	rule := egress.([]any)[1].(map[string]any)
	if rule["ports"].([]any)[0].(map[string]any)["port"] != 4317.0 {
		t.Errorf("collector egress %v", rule)
	}
	var names []string
	for n := range nps {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"default-deny", tracing.CollectorName}) {
		t.Errorf("network policies %v", names)
	}
}
