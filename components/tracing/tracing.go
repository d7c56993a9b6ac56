// Package tracing is the trace pipeline: an OpenTelemetry Collector that
// receives OTLP from the workloads, limits its memory, batches, and
// exports to Tempo in the cluster (or to an external OTLP endpoint), and
// Tempo itself, which keeps the traces for the profile's retention and
// derives the service graph and span metrics into Prometheus.
package tracing

import (
	"errors"
	"fmt"
	"strconv"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/release"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:tracing:Tracing"

// Pinned charts and images. The collector image's version is the version
// of the collector modules the config validator is built from (tools/otelcol).
const (
	Namespace = "tracing"

	CollectorName         = "otel-collector"
	CollectorChart        = "opentelemetry-collector"
	CollectorChartVersion = "0.170.0"
	CollectorChartRepo    = "https://open-telemetry.github.io/opentelemetry-helm-charts"
	CollectorImage        = "otel/opentelemetry-collector-k8s"
	CollectorVersion      = "0.158.0"

	// Tempo 2.9.0, single binary. The chart's last release in this
	// repository (it moved to grafana-community); see ADR 0008.
	TempoName         = "tempo"
	TempoChart        = "tempo"
	TempoChartVersion = "1.24.4"
	TempoChartRepo    = "https://grafana.github.io/helm-charts"

	// Ports.
	OTLPGRPCPort       = 4317
	OTLPHTTPPort       = 4318
	CollectorMetrics   = 8888
	CollectorHealth    = 13133
	TempoHTTPPort      = 3200
	TempoStorageClass  = "gp3"
	tempoRunAsUser     = 10001
	collectorRunAsUser = 10001
)

// Args configure the pipeline.
type Args struct {
	// Exporter is "tempo" or "otlp"; Endpoint is the latter's host:port.
	Exporter, Endpoint string
	RetentionHours     int
	StorageGiB         int
	CollectorReplicas  int
	// AppNamespace's pods send spans.
	AppNamespace string
	// Prometheus: its namespace and pod labels (it scrapes the collector
	// and Tempo) and its remote-write URL (Tempo's service graph).
	PrometheusNamespace string
	PrometheusLabels    map[string]string
	PrometheusWriteURL  string
	// Grafana's namespace and pod labels: it queries Tempo.
	GrafanaNamespace string
	GrafanaLabels    map[string]string
}

// Tracing is the collector and Tempo.
type Tracing struct {
	pulumi.ResourceState

	// OTLPEndpoint is what the workloads' SDKs send to (OTLP over HTTP).
	OTLPEndpoint string
	// CollectorLabels select the collector's pods.
	CollectorLabels map[string]string
	// TempoURL is Tempo's query API, for Grafana; empty with exporter otlp.
	TempoURL string
}

// CollectorLabels select the collector's pods, as the chart labels them.
func CollectorLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": CollectorChart, "app.kubernetes.io/instance": CollectorName}
}

// TempoLabels select Tempo's pods.
func TempoLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": TempoChart, "app.kubernetes.io/instance": TempoName}
}

// New builds the pipeline through the Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Tracing, error) {
	if args == nil || args.AppNamespace == "" || args.PrometheusNamespace == "" || args.GrafanaNamespace == "" {
		return nil, errors.New("tracing: args with the application, Prometheus and Grafana namespaces are required")
	}
	config, err := CollectorConfig(args)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	t := &Tracing{
		OTLPEndpoint:    fmt.Sprintf("http://%s.%s.svc:%d", CollectorName, Namespace, OTLPHTTPPort),
		CollectorLabels: CollectorLabels(),
	}
	if args.Exporter == "tempo" {
		t.TempoURL = fmt.Sprintf("http://%s.%s.svc:%d", TempoName, Namespace, TempoHTTPPort)
	}
	if err := ctx.RegisterComponentResource(TypeToken, name, t, opts...); err != nil {
		return nil, fmt.Errorf("tracing: register: %w", err)
	}
	parent := pulumi.Parent(t)
	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(Namespace),
			Labels: pulumi.StringMap{"pod-security.kubernetes.io/enforce": pulumi.String("restricted")},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("tracing: namespace: %w", err)
	}
	inNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}
	for _, p := range networkPolicies(args) {
		if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-"+p.name, &networkingv1.NetworkPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p.name), Namespace: pulumi.String(Namespace)},
			Spec:     p.spec,
		}, inNS...); err != nil {
			return nil, fmt.Errorf("tracing: network policy %s: %w", p.name, err)
		}
	}
	var tempo []pulumi.Resource
	if args.Exporter == "tempo" {
		tempoRelease, err := helmv3.NewRelease(ctx, name+"-tempo", &helmv3.ReleaseArgs{
			Name:           pulumi.String(TempoName),
			Chart:          pulumi.String(TempoChart),
			Version:        pulumi.String(TempoChartVersion),
			RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(TempoChartRepo)},
			Namespace:      pulumi.String(Namespace),
			Atomic:         pulumi.Bool(true),
			Timeout:        pulumi.Int(release.VolumesTimeoutSeconds),
			Values:         tempoValues(args),
		}, inNS...)
		if err != nil {
			return nil, fmt.Errorf("tracing: tempo: %w", err)
		}
		tempo = append(tempo, tempoRelease)
	}
	if _, err := helmv3.NewRelease(ctx, name+"-collector", &helmv3.ReleaseArgs{
		Name:           pulumi.String(CollectorName),
		Chart:          pulumi.String(CollectorChart),
		Version:        pulumi.String(CollectorChartVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(CollectorChartRepo)},
		Namespace:      pulumi.String(Namespace),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(release.PodsTimeoutSeconds),
		Values:         collectorValues(args, config),
	}, append(inNS, pulumi.DependsOn(tempo))...); err != nil {
		return nil, fmt.Errorf("tracing: collector: %w", err)
	}
	if err := ctx.RegisterResourceOutputs(t, pulumi.Map{
		"otlpEndpoint": pulumi.String(t.OTLPEndpoint), "tempoUrl": pulumi.String(t.TempoURL),
	}); err != nil {
		return nil, fmt.Errorf("tracing: register outputs: %w", err)
	}
	return t, nil
}

// CollectorConfig is the collector's whole configuration (the chart's
// alternateConfig, so nothing of the chart's defaults is merged in): OTLP
// over gRPC and HTTP in; memory limiter first, then batches; one exporter
// with a persistent retry queue; its own metrics on 8888 for Prometheus.
func CollectorConfig(args *Args) (map[string]any, error) {
	var exporter string
	var exporterConfig map[string]any
	queue := map[string]any{"enabled": true, "queue_size": 5000}
	retry := map[string]any{"enabled": true, "max_elapsed_time": "300s"}
	switch args.Exporter {
	case "tempo":
		exporter = "otlp/tempo"
		// In-cluster, pod to pod, inside the namespace's network policy.
		exporterConfig = map[string]any{
			"endpoint":      fmt.Sprintf("%s.%s.svc:%d", TempoName, Namespace, OTLPGRPCPort),
			"tls":           map[string]any{"insecure": true},
			"sending_queue": queue, "retry_on_failure": retry,
		}
	case "otlp":
		exporter = "otlp/external"
		exporterConfig = map[string]any{
			"endpoint": args.Endpoint, "compression": "gzip",
			"sending_queue": queue, "retry_on_failure": retry,
		}
	default:
		return nil, fmt.Errorf("exporter %q is not one of tempo, otlp", args.Exporter)
	}
	podIP := "${env:MY_POD_IP}"
	return map[string]any{
		"extensions": map[string]any{
			"health_check": map[string]any{"endpoint": podIP + ":" + strconv.Itoa(CollectorHealth)},
		},
		"receivers": map[string]any{
			"otlp": map[string]any{"protocols": map[string]any{
				"grpc": map[string]any{"endpoint": podIP + ":" + strconv.Itoa(OTLPGRPCPort)},
				"http": map[string]any{"endpoint": podIP + ":" + strconv.Itoa(OTLPHTTPPort)},
			}},
		},
		"processors": map[string]any{
			// Refuse data before the pod runs out of memory: the SDKs
			// retry, and the refusals are what the alert counts.
			"memory_limiter": map[string]any{"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25},
			"batch":          map[string]any{"send_batch_size": 8192, "send_batch_max_size": 16384, "timeout": "5s"},
		},
		"exporters": map[string]any{exporter: exporterConfig},
		"service": map[string]any{
			"extensions": []any{"health_check"},
			"telemetry": map[string]any{
				"metrics": map[string]any{"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
					"prometheus": map[string]any{"host": podIP, "port": CollectorMetrics},
				}}}}},
			},
			"pipelines": map[string]any{
				"traces": map[string]any{
					"receivers":  []any{"otlp"},
					"processors": []any{"memory_limiter", "batch"},
					"exporters":  []any{exporter},
				},
			},
		},
	}, nil
}

func collectorValues(args *Args, config map[string]any) pulumi.Map {
	disabled := pulumi.Map{"enabled": pulumi.Bool(false)}
	return pulumi.Map{
		"mode":             pulumi.String("deployment"),
		"fullnameOverride": pulumi.String(CollectorName),
		"replicaCount":     pulumi.Int(args.CollectorReplicas),
		"image": pulumi.Map{
			"repository": pulumi.String(CollectorImage),
			"tag":        pulumi.String(CollectorVersion),
		},
		"command":         pulumi.Map{"name": pulumi.String("otelcol-k8s")},
		"alternateConfig": pulumi.ToMap(config),
		// Only the OTLP ports and the metrics port: no Jaeger or Zipkin
		// listeners the network policy would have to answer for.
		"ports": pulumi.Map{
			"otlp":           pulumi.Map{"enabled": pulumi.Bool(true), "hostPort": pulumi.Int(0)},
			"otlp-http":      pulumi.Map{"enabled": pulumi.Bool(true), "hostPort": pulumi.Int(0)},
			"jaeger-compact": disabled, "jaeger-thrift": disabled, "jaeger-grpc": disabled, "zipkin": disabled,
			"metrics": pulumi.Map{"enabled": pulumi.Bool(true)},
		},
		"resources": pulumi.Map{
			"requests": pulumi.Map{"cpu": pulumi.String("100m"), "memory": pulumi.String("256Mi")},
			"limits":   pulumi.Map{"cpu": pulumi.String("1"), "memory": pulumi.String("512Mi")},
		},
		"podSecurityContext": pulumi.Map{
			"runAsNonRoot": pulumi.Bool(true), "runAsUser": pulumi.Int(collectorRunAsUser),
			"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
		},
		"securityContext":     restricted(),
		"podDisruptionBudget": pulumi.Map{"enabled": pulumi.Bool(args.CollectorReplicas > 1), "maxUnavailable": pulumi.Int(1)},
		"serviceAccount":      pulumi.Map{"create": pulumi.Bool(true), "automountServiceAccountToken": pulumi.Bool(false)},
	}
}

func tempoValues(args *Args) pulumi.Map {
	return pulumi.Map{
		"tempo": pulumi.Map{
			"retention":        pulumi.String(fmt.Sprintf("%dh", args.RetentionHours)),
			"reportingEnabled": pulumi.Bool(false),
			// The chart's receivers stay (its Service template reads
			// them); the network policy admits only the collector's OTLP.
			"server": pulumi.Map{"http_listen_port": pulumi.Int(TempoHTTPPort)},
			// The service graph and span metrics, written to Prometheus:
			// Grafana's service map reads them.
			"metricsGenerator": pulumi.Map{
				"enabled":        pulumi.Bool(true),
				"remoteWriteUrl": pulumi.String(args.PrometheusWriteURL),
				"storage":        pulumi.Map{"path": pulumi.String("/var/tempo/generator")},
				"traces_storage": pulumi.Map{"path": pulumi.String("/var/tempo/generator-traces")},
			},
			"overrides": pulumi.Map{"defaults": pulumi.Map{"metrics_generator": pulumi.Map{
				"processors": pulumi.StringArray{pulumi.String("service-graphs"), pulumi.String("span-metrics")},
			}}},
			"resources": pulumi.Map{
				"requests": pulumi.Map{"cpu": pulumi.String("250m"), "memory": pulumi.String("1Gi")},
				"limits":   pulumi.Map{"cpu": pulumi.String("2"), "memory": pulumi.String("4Gi")},
			},
			"securityContext": restricted(),
		},
		"securityContext": pulumi.Map{
			"runAsUser": pulumi.Int(tempoRunAsUser), "runAsGroup": pulumi.Int(tempoRunAsUser), "fsGroup": pulumi.Int(tempoRunAsUser),
			"runAsNonRoot": pulumi.Bool(true), "seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
		},
		"persistence": pulumi.Map{
			"enabled":          pulumi.Bool(true),
			"storageClassName": pulumi.String(TempoStorageClass),
			"size":             pulumi.String(fmt.Sprintf("%dGi", args.StorageGiB)),
		},
		"serviceAccount": pulumi.Map{"automountServiceAccountToken": pulumi.Bool(false)},
	}
}

func restricted() pulumi.Map {
	return pulumi.Map{
		"allowPrivilegeEscalation": pulumi.Bool(false),
		"readOnlyRootFilesystem":   pulumi.Bool(true),
		"runAsNonRoot":             pulumi.Bool(true),
		"capabilities":             pulumi.Map{"drop": pulumi.StringArray{pulumi.String("ALL")}},
		"seccompProfile":           pulumi.Map{"type": pulumi.String("RuntimeDefault")},
	}
}
