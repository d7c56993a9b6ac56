package acceptance

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/personalization/platform/components/tracing"
	"github.com/personalization/platform/internal/platformtest"
)

// validateCollectorConfig runs the Collector's own `validate` (built from
// the collector modules at the deployed image's version) on a
// configuration, with the pod IP the chart injects.
func validateCollectorConfig(t *testing.T, config map[string]any) error {
	t.Helper()
	bin := tool(t, "otelcol")
	raw, err := yaml.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "validate", "--config=file:"+file)
	cmd.Env = append(os.Environ(), "MY_POD_IP=127.0.0.1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return &validationError{err: err, output: string(out)}
	}
	return nil
}

type validationError struct {
	err    error
	output string
}

func (e *validationError) Error() string { return e.err.Error() + ": " + e.output }

// renderedCollectorConfig is the collector configuration as the stack
// renders it: the Helm release's alternateConfig, read off the graph.
func renderedCollectorConfig(t *testing.T, stack string, overrides map[string]string) map[string]any {
	t.Helper()
	g := platformtest.Render(t, stack, overrides)
	for _, r := range g.OfType("kubernetes:helm.sh/v3:Release") {
		if name, _ := r.Lookup("name"); name == tracing.CollectorName {
			cfg, ok := r.Lookup("values.alternateConfig")
			if !ok {
				t.Fatal("the collector release has no alternateConfig")
			}
			// A deep copy: tests mutate it.
			raw, _ := json.Marshal(cfg)
			var out map[string]any
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("%s renders no %s release", stack, tracing.CollectorName)
	return nil
}

// TestCollectorConfigIsValid: every stack's collector configuration, and
// the external exporter's, pass the Collector's own validation.
func TestCollectorConfigIsValid(t *testing.T) {
	cases := map[string]map[string]string{}
	for _, stack := range platformtest.Stacks() {
		cases[stack] = nil
	}
	cases["staging with exporter otlp"] = map[string]string{"personalization-platform:tracing": `{"exporter": "otlp", "endpoint": "otlp.example.com:4317"}`}
	for name, overrides := range cases {
		t.Run(name, func(t *testing.T) {
			stack, _, _ := strings.Cut(name, " ")
			if err := validateCollectorConfig(t, renderedCollectorConfig(t, stack, overrides)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCollectorValidatorRejectsBrokenConfigs: the validator is worth
// something only if a broken configuration fails it.
func TestCollectorValidatorRejectsBrokenConfigs(t *testing.T) {
	path := func(m map[string]any, keys ...string) map[string]any {
		for _, k := range keys {
			m = m[k].(map[string]any)
		}
		return m
	}
	tests := []struct {
		name   string
		break_ func(cfg map[string]any)
		want   string
	}{
		{"pipeline names an exporter that is not configured", func(cfg map[string]any) {
			path(cfg, "service", "pipelines", "traces")["exporters"] = []any{"otlp/nowhere"}
		}, "otlp/nowhere"},
		{"exporter of a type the distribution lacks", func(cfg map[string]any) {
			path(cfg, "exporters")["awsxray"] = map[string]any{}
			path(cfg, "service", "pipelines", "traces")["exporters"] = []any{"awsxray"}
		}, "awsxray"},
		{"misspelt receiver protocol", func(cfg map[string]any) {
			protocols := path(cfg, "receivers", "otlp", "protocols")
			protocols["grcp"] = protocols["grpc"]
			delete(protocols, "grpc")
		}, "grcp"},
		{"memory limiter without a limit", func(cfg map[string]any) {
			path(cfg, "processors")["memory_limiter"] = map[string]any{"check_interval": "1s"}
		}, "memory_limiter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := renderedCollectorConfig(t, "production", nil)
			tt.break_(cfg)
			err := validateCollectorConfig(t, cfg)
			if err == nil {
				t.Fatal("the broken configuration validated")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}
