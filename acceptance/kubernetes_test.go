package acceptance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/manifests"
)

// installCRDs applies the operators' CustomResourceDefinitions and waits
// until the server serves them.
func installCRDs(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		return fmt.Errorf("CRDs missing in %s: run `make tools`", dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s: run `make tools`", dir)
	}
	ctx := context.Background()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var crd map[string]any
		if err := yaml.Unmarshal(raw, &crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := apiServer.Apply(ctx, crd); err != nil {
			return fmt.Errorf("install %s: %w", filepath.Base(f), err)
		}
		name := crd["metadata"].(map[string]any)["name"].(string)
		if err := apiServer.WaitEstablished(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// TestEveryKubernetesObjectIsAccepted applies every Kubernetes object of
// each stack's render to the real kube-apiserver with server-side apply —
// from the very files `platform render --format manifests` writes for
// Kubernetes scanners. Helm releases are out of scope: no chart can be
// fetched here.
func TestEveryKubernetesObjectIsAccepted(t *testing.T) {
	ctx := context.Background()
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			rendered, err := manifests.FromGraph(g)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "manifests")
			if err := manifests.Write(dir, rendered); err != nil {
				t.Fatal(err)
			}
			objs, err := manifests.Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != len(rendered) {
				t.Fatalf("%d objects rendered, %d files read back", len(rendered), len(objs))
			}
			kinds := map[string]int{}
			for _, o := range objs {
				if err := apiServer.Apply(ctx, o); err != nil {
					t.Errorf("%s rejected: %v", o, err)
					continue
				}
				kinds[o.Kind()]++
				if _, err := apiServer.Get(ctx, o.APIVersion(), o.Kind(), o.Namespace(), o.Name()); err != nil {
					t.Errorf("%s not stored: %v", o, err)
				}
			}
			for _, k := range []string{"Namespace", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
				"NetworkPolicy", "Ingress", "ServiceAccount", "CronJob", "ExternalSecret", "SecretStore", "ServiceMonitor",
				"PrometheusRule", "ConfigMap", "Secret", "StorageClass", "ResourceQuota", "LimitRange", "Rollout", "AnalysisTemplate"} {
				if kinds[k] == 0 {
					t.Errorf("no %s was applied", k)
				}
			}
			t.Logf("%s: %d objects accepted (%v)", stack, len(objs), kinds)
		})
	}
}

// TestTheServerRejectsBrokenObjects proves the harness can fail: objects
// broken on purpose are refused by the server, with its reason.
func TestTheServerRejectsBrokenObjects(t *testing.T) {
	ctx := context.Background()
	g := platformtest.Render(t, "dev", nil)
	objs, err := manifests.FromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	var deployment manifests.Object
	for _, o := range objs {
		if o.Kind() == "Namespace" {
			if err := apiServer.Apply(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if o.Kind() == "Deployment" && o.Name() == "personalization-ui" {
			deployment = o
		}
	}
	if deployment == nil {
		t.Fatal("no UI deployment rendered")
	}
	tests := []struct {
		name   string
		break_ func(o map[string]any)
		want   string
	}{
		{"a quantity Kubernetes cannot parse", func(o map[string]any) {
			container(o)["resources"].(map[string]any)["requests"].(map[string]any)["cpu"] = "250 millicores"
		}, "quantities must match"},
		{"a selector that does not match the pod labels", func(o map[string]any) {
			o["spec"].(map[string]any)["selector"] = map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "someone-else"}}
		}, "selector"},
		{"a probe port name longer than an IANA service name", func(o map[string]any) {
			container(o)["livenessProbe"].(map[string]any)["httpGet"].(map[string]any)["port"] = "a-port-name-far-too-long"
		}, "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := deepCopy(deployment).(map[string]any)
			broken["metadata"].(map[string]any)["name"] = "broken-" + strings.ReplaceAll(tt.name, " ", "-")[:20]
			tt.break_(broken)
			err := apiServer.Apply(ctx, broken)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("server answered %v, want a rejection mentioning %q", err, tt.want)
			}
		})
	}
}

func container(o map[string]any) map[string]any {
	return o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case manifests.Object:
		return deepCopy(map[string]any(t))
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// TestTheSchemaOfCustomResourcesIsEnforced: the installed CRDs validate, so
// a custom resource broken on purpose is refused too.
func TestTheSchemaOfCustomResourcesIsEnforced(t *testing.T) {
	ctx := context.Background()
	rule := map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
		"metadata": map[string]any{"name": "broken-rule", "namespace": "default"},
		"spec": map[string]any{"groups": []any{map[string]any{
			"name":  "g",
			"rules": []any{map[string]any{"alert": "A", "expr": "up == 0", "for": "five minutes"}},
		}}},
	}
	if err := apiServer.Apply(ctx, rule); err == nil || !strings.Contains(err.Error(), "for") {
		t.Errorf("server answered %v, want the bad duration refused", err)
	}
}
