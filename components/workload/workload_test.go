package workload_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/personalization/platform/components/workload"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

// child returns the resource of typ under the workload component of a service.
func child(t *testing.T, g *graph.Graph, service, typ string) *graph.Resource {
	t.Helper()
	for _, c := range g.OfType(workload.TypeToken) {
		if c.Name != service {
			continue
		}
		for _, r := range g.Children(c.URN) {
			if r.Type == typ {
				return r
			}
		}
	}
	t.Fatalf("%s: no %s for %s", g.Stack, typ, service)
	return nil
}

// podOwner returns the Deployment or Rollout that runs a service's pods.
func podOwner(t *testing.T, g *graph.Graph, service string) *graph.Resource {
	t.Helper()
	for _, typ := range []string{"kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout"} {
		for _, r := range g.OfType(typ) {
			if name, _ := r.Lookup("metadata.name"); name == service {
				return r
			}
		}
	}
	t.Fatalf("%s: no workload runs %s", g.Stack, service)
	return nil
}

func get(t *testing.T, r *graph.Resource, path string) any {
	t.Helper()
	v, ok := r.Lookup(path)
	if !ok {
		t.Fatalf("%s: no %s", r.Name, path)
	}
	return v
}

func TestAPIDefaultsFollowTheServiceDesign(t *testing.T) {
	replicas := map[string][2]float64{"dev": {1, 2}, "staging": {2, 4}, "production": {3, 10}}
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			d := podOwner(t, g, "personalization-api")
			c := get(t, d, "spec.template.spec.containers").([]any)[0].(map[string]any)
			if port := c["ports"].([]any)[0].(map[string]any); port["containerPort"] != float64(3000) || port["name"] != workload.PortName {
				t.Errorf("port %v", port)
			}
			wantProbes := map[string]map[string]any{
				"livenessProbe":  {"path": "/health", "initialDelaySeconds": float64(30), "periodSeconds": float64(10)},
				"readinessProbe": {"path": "/ready", "initialDelaySeconds": float64(5), "periodSeconds": float64(5)},
			}
			for name, want := range wantProbes {
				p := c[name].(map[string]any)
				got := map[string]any{"path": p["httpGet"].(map[string]any)["path"], "initialDelaySeconds": p["initialDelaySeconds"], "periodSeconds": p["periodSeconds"]}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %v, want %v", name, got, want)
				}
			}
			res := c["resources"].(map[string]any)
			if !reflect.DeepEqual(res, map[string]any{
				"requests": map[string]any{"cpu": "250m", "memory": "256Mi"},
				"limits":   map[string]any{"cpu": "500m", "memory": "512Mi"},
			}) {
				t.Errorf("resources %v", res)
			}
			hpa := child(t, g, "personalization-api", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
			want := replicas[stack]
			if get(t, hpa, "spec.minReplicas") != want[0] || get(t, hpa, "spec.maxReplicas") != want[1] {
				t.Errorf("HPA %v..%v, want %v", get(t, hpa, "spec.minReplicas"), get(t, hpa, "spec.maxReplicas"), want)
			}
			targets := map[string]any{}
			for _, m := range get(t, hpa, "spec.metrics").([]any) {
				r := m.(map[string]any)["resource"].(map[string]any)
				targets[r["name"].(string)] = r["target"].(map[string]any)["averageUtilization"]
			}
			if targets["cpu"] != float64(70) || targets["memory"] != float64(80) {
				t.Errorf("HPA targets %v, want CPU 70 %% and memory 80 %%", targets)
			}
			if get(t, hpa, "spec.scaleTargetRef.kind") != "Rollout" || get(t, hpa, "spec.scaleTargetRef.name") != "personalization-api" {
				t.Errorf("HPA targets %v", get(t, hpa, "spec.scaleTargetRef"))
			}
			if get(t, d, "spec.strategy.canary.maxUnavailable") != float64(0) {
				t.Error("a release may drop below the desired count")
			}
		})
	}
}

// TestEveryPodIsRestricted holds every pod template the stacks render (the
// services' Deployments and the backup CronJob) to the points of the issue.
func TestEveryPodIsRestricted(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			pods := 0
			for _, r := range g.Resources {
				var spec map[string]any
				switch r.Type {
				case "kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout":
					spec = get(t, r, "spec.template.spec").(map[string]any)
					labels := get(t, r, "spec.template.metadata.labels").(map[string]any)
					for k, v := range get(t, r, "spec.selector.matchLabels").(map[string]any) {
						if labels[k] != v {
							t.Errorf("%s: selector %s=%v does not match the pod labels %v", r.Name, k, v, labels)
						}
					}
				case "kubernetes:batch/v1:CronJob":
					spec = get(t, r, "spec.jobTemplate.spec.template.spec").(map[string]any)
				default:
					continue
				}
				pods++
				if spec["automountServiceAccountToken"] != false {
					t.Errorf("%s mounts a service account token", r.Name)
				}
				if sa, _ := spec["serviceAccountName"].(string); sa == "" || sa == "default" {
					t.Errorf("%s runs as service account %q", r.Name, sa)
				}
				psc := spec["securityContext"].(map[string]any)
				if psc["runAsNonRoot"] != true || psc["seccompProfile"].(map[string]any)["type"] != "RuntimeDefault" {
					t.Errorf("%s pod security context %v", r.Name, psc)
				}
				var containers []any
				containers = append(containers, spec["containers"].([]any)...)
				if ic, ok := spec["initContainers"].([]any); ok {
					containers = append(containers, ic...)
				}
				for _, raw := range containers {
					c := raw.(map[string]any)
					sc := c["securityContext"].(map[string]any)
					if sc["allowPrivilegeEscalation"] != false || sc["readOnlyRootFilesystem"] != true ||
						!reflect.DeepEqual(sc["capabilities"], map[string]any{"drop": []any{"ALL"}}) {
						t.Errorf("%s/%s security context %v", r.Name, c["name"], sc)
					}
					res := c["resources"].(map[string]any)
					for _, k := range []string{"requests", "limits"} {
						q := res[k].(map[string]any)
						if q["cpu"] == nil || q["memory"] == nil {
							t.Errorf("%s/%s has no %s", r.Name, c["name"], k)
						}
					}
					if image := c["image"].(string); strings.HasSuffix(image, ":latest") || !strings.ContainsAny(image, ":@") {
						t.Errorf("%s/%s image %q", r.Name, c["name"], image)
					}
					if r.Type != "kubernetes:batch/v1:CronJob" {
						live, ready := c["livenessProbe"], c["readinessProbe"]
						if live == nil || ready == nil || reflect.DeepEqual(live, ready) {
							t.Errorf("%s/%s probes: liveness %v readiness %v", r.Name, c["name"], live, ready)
						}
					}
					for _, e := range c["env"].([]any) {
						v, _ := e.(map[string]any)["value"].(string)
						if strings.Contains(v, "://") && strings.Contains(v, "@") {
							t.Errorf("%s/%s has credentials in a plain env value: %s", r.Name, c["name"], e.(map[string]any)["name"])
						}
					}
				}
			}
			if pods != len(g.OfType(workload.TypeToken))+1 {
				t.Errorf("%d pod templates, want one per service and the backup job", pods)
			}
		})
	}
}

func TestServicesTargetANamedContainerPort(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	for _, svc := range g.OfType("kubernetes:core/v1:Service") {
		labels, _ := svc.Lookup("metadata.labels")
		d := podOwner(t, g, labels.(map[string]any)["app.kubernetes.io/name"].(string))
		names := map[any]bool{}
		for _, c := range get(t, d, "spec.template.spec.containers").([]any) {
			for _, p := range c.(map[string]any)["ports"].([]any) {
				names[p.(map[string]any)["name"]] = true
			}
		}
		for _, p := range get(t, svc, "spec.ports").([]any) {
			target := p.(map[string]any)["targetPort"]
			if _, isName := target.(string); !isName || !names[target] {
				t.Errorf("%s targets %v, not a named container port of its pods (%v)", svc.Name, target, names)
			}
		}
		if !reflect.DeepEqual(get(t, svc, "spec.selector"), get(t, d, "spec.selector.matchLabels")) {
			t.Errorf("%s selects %v, its Deployment %v", svc.Name, get(t, svc, "spec.selector"), get(t, d, "spec.selector.matchLabels"))
		}
	}
}

func TestSecretsReachPodsOnlyThroughSecretRefs(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	d := podOwner(t, g, "personalization-api")
	refs := map[string]any{}
	for _, e := range get(t, d, "spec.template.spec.containers").([]any)[0].(map[string]any)["env"].([]any) {
		env := e.(map[string]any)
		if from, ok := env["valueFrom"]; ok {
			refs[env["name"].(string)] = from.(map[string]any)["secretKeyRef"]
		}
	}
	want := map[string]any{
		"DATABASE_URL": map[string]any{"name": "database-url", "key": "DATABASE_URL"},
		"REDIS_URL":    map[string]any{"name": "redis-url", "key": "REDIS_URL"},
	}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("secret env %v, want %v", refs, want)
	}
	ui := podOwner(t, g, "personalization-ui")
	for _, e := range get(t, ui, "spec.template.spec.containers").([]any)[0].(map[string]any)["env"].([]any) {
		if _, ok := e.(map[string]any)["valueFrom"]; ok {
			t.Errorf("the UI gets a secret it does not ask for: %v", e)
		}
	}
}

func TestNetworkPolicyAdmitsOnlyWhatTheServiceNeeds(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	api := child(t, g, "personalization-api", "kubernetes:networking.k8s.io/v1:NetworkPolicy")
	egress := get(t, api, "spec.egress").([]any)
	var ports []any
	for _, e := range egress {
		for _, p := range e.(map[string]any)["ports"].([]any) {
			ports = append(ports, p.(map[string]any)["port"])
		}
	}
	if !reflect.DeepEqual(ports, []any{float64(53), float64(53), float64(5432), float64(6379), float64(443), float64(4317), float64(4318)}) {
		t.Errorf("API egress ports %v, want DNS, PostgreSQL, Redis, HTTPS (SQS, STS) and the trace collector's OTLP only", ports)
	}
	from := get(t, api, "spec.ingress").([]any)[0].(map[string]any)["from"].([]any)
	var sawPrometheus, sawUI, sawLB bool
	for _, f := range from {
		peer := f.(map[string]any)
		switch {
		case peer["namespaceSelector"] != nil:
			sawPrometheus = reflect.DeepEqual(peer["podSelector"], map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "prometheus"}})
		case peer["ipBlock"] != nil:
			sawLB = strings.HasPrefix(peer["ipBlock"].(map[string]any)["cidr"].(string), "10.30.")
		case peer["podSelector"] != nil:
			sawUI = reflect.DeepEqual(peer["podSelector"], map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "personalization-ui"}})
		}
	}
	if !sawPrometheus || !sawUI || !sawLB {
		t.Errorf("API ingress from %v: Prometheus %v, UI %v, load balancer %v", from, sawPrometheus, sawUI, sawLB)
	}
}

func TestIngressThroughTheLoadBalancerController(t *testing.T) {
	g := platformtest.Render(t, "staging", map[string]string{
		"personalization-platform:workloads": `{"personalization-api": {"ingress": {"host": "api.example.com", "path": "/api", "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"}}}`,
	})
	ing := child(t, g, "personalization-api", "kubernetes:networking.k8s.io/v1:Ingress")
	ann := get(t, ing, "metadata.annotations").(map[string]any)
	if ann["alb.ingress.kubernetes.io/certificate-arn"] != "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" ||
		ann["alb.ingress.kubernetes.io/scheme"] != "internet-facing" || ann["alb.ingress.kubernetes.io/target-type"] != "ip" {
		t.Errorf("annotations %v", ann)
	}
	if get(t, ing, "spec.ingressClassName") != "alb" {
		t.Error("not the ALB ingress class")
	}
	rule := get(t, ing, "spec.rules").([]any)[0].(map[string]any)
	if rule["host"] != "api.example.com" {
		t.Errorf("host %v", rule["host"])
	}
}

func TestImageOverrideWithoutEditingFiles(t *testing.T) {
	ref := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/personalization-api@sha256:" + strings.Repeat("ab", 32)
	g := platformtest.Render(t, "production", map[string]string{"personalization-platform:images": `{"personalization-api": "` + ref + `"}`})
	d := podOwner(t, g, "personalization-api")
	if got := get(t, d, "spec.template.spec.containers").([]any)[0].(map[string]any)["image"]; got != ref {
		t.Errorf("image %v, want %s", got, ref)
	}
	ui := podOwner(t, g, "personalization-ui")
	if got := get(t, ui, "spec.template.spec.containers").([]any)[0].(map[string]any)["image"]; got == ref {
		t.Error("the override reached another service")
	}
}

// TestEveryWorkloadIsTraced: every container of the workload set gets the
// OpenTelemetry SDK's variables from the platform, with the stack's
// environment, the image's version and the profile's sampling ratio.
func TestEveryWorkloadIsTraced(t *testing.T) {
	ratio := map[string]string{"dev": "1", "staging": "0.5", "production": "0.25"}
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			for _, svc := range []string{"personalization-api", "personalization-ui"} {
				owner := podOwner(t, g, svc)
				c := get(t, owner, "spec.template.spec.containers").([]any)[0].(map[string]any)
				env := map[string]any{}
				for _, e := range c["env"].([]any) {
					env[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"]
				}
				version := workload.ImageVersion(c["image"].(string))
				want := map[string]any{
					"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector.tracing.svc:4318",
					"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
					"OTEL_SERVICE_NAME":           svc,
					"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=" + stack + ",service.namespace=personalization,service.version=" + version,
					"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
					"OTEL_TRACES_SAMPLER_ARG":     ratio[stack],
				}
				for k, v := range want {
					if env[k] != v {
						t.Errorf("%s: %s = %v, want %v", svc, k, env[k], v)
					}
				}
				if version == "unknown" || version == "" {
					t.Errorf("%s: no version in image %v", svc, c["image"])
				}
			}
		})
	}
}

func TestImageVersion(t *testing.T) {
	for image, want := range map[string]string{
		"ghcr.io/acme/api:1.4.2":                    "1.4.2",
		"registry:5000/acme/api:2.0.0":              "2.0.0",
		"ghcr.io/acme/api@sha256:0123456789abcdef":  "sha256:0123456789abcdef",
		"ghcr.io/acme/api:1.4.2@sha256:0123456789a": "sha256:0123456789a",
		"registry:5000/acme/api":                    "unknown",
	} {
		if got := workload.ImageVersion(image); got != want {
			t.Errorf("ImageVersion(%q) = %q, want %q", image, got, want)
		}
	}
}
