// Package monitoring is the monitoring stack: kube-prometheus-stack
// (Prometheus, Alertmanager, Grafana), a ServiceMonitor per service that
// serves metrics, the service's alerts as PrometheusRules, its dashboards,
// Alertmanager's routing, and CloudWatch alarms on the data services to a
// KMS-encrypted SNS topic.
package monitoring

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/release"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:monitoring:Monitoring"

// Pinned chart. Its prometheus-operator version (v0.85.0) is the Go module
// whose CRDs the validator tests install.
const (
	Chart                 = "kube-prometheus-stack"
	ChartVersion          = "77.0.0"
	ChartRepo             = "https://prometheus-community.github.io/helm-charts"
	PrometheusOperatorAPI = "monitoring.coreos.com/v1"
	ReleaseName           = "kube-prometheus-stack"
	DashboardLabel        = "grafana_dashboard"
	// DataSourceLabel marks ConfigMaps Grafana's sidecar provisions.
	DataSourceLabel        = "grafana_datasource"
	GrafanaAdminSecret     = "grafana-admin"
	AlertmanagerConfigName = "alertmanager-personalization"
	PrometheusStorageClass = "gp3"
	// PodTemplateHashLabel is the pod label Argo Rollouts sets per
	// version; kube-state-metrics exports it so analyses can tell canary
	// pods from stable ones.
	PodTemplateHashLabel = "rollouts_pod_template_hash"
	// RolloutsNamespace is where the Argo Rollouts controller runs.
	RolloutsNamespace = "platform"
)

// Args configure the monitoring stack.
type Args struct {
	// Name goes into descriptions and aliases ("personalization-platform-dev").
	Name string
	// Namespace is where the stack runs ("monitoring").
	Namespace string
	// AppNamespace is where the services run; alerts and dashboards read it.
	AppNamespace string
	// Services lists the services that serve /metrics on their named port.
	Services []string
	// PortName is the services' named port.
	PortName string

	Retention      string
	StorageGiB     int
	Replicas       int
	AlertReplicas  int
	ScrapeInterval string
	RunbookBaseURL string
	Thresholds     Thresholds

	// GrafanaAdminPassword and Receivers are secrets: they reach only
	// secret-marked inputs.
	GrafanaAdminPassword string
	Receivers            Receivers

	Alarms Alarms
	// Telemetry are the logs and traces beside the metrics.
	Telemetry Telemetry
	// Protect protects the alarm topic's key.
	Protect bool
}

// Telemetry is what Grafana reads logs and traces from, and what
// Prometheus scrapes of their pipelines.
type Telemetry struct {
	// Region and LogGroups are the container logs in CloudWatch Logs;
	// GrafanaRoleARN is the IRSA role Grafana queries them with.
	Region         string
	LogGroups      []string
	GrafanaRoleARN pulumi.StringInput
	// TempoURL is Tempo's query API; empty when traces leave the cluster.
	TempoURL string
	// Scrapes are the pipelines' own metrics endpoints.
	Scrapes []Scrape
}

// Scrape is a ServiceMonitor for a pipeline's Service.
type Scrape struct {
	Name, Namespace, Port, Path string
	Labels                      map[string]string
}

// Monitoring is the monitoring stack.
type Monitoring struct {
	pulumi.ResourceState

	AlarmTopicARN pulumi.StringOutput `pulumi:"alarmTopicArn"`
	// AlertRouting says where critical and warning alerts go.
	AlertRouting pulumi.StringOutput `pulumi:"alertRouting"`
	// GrafanaService is the in-cluster Service of Grafana.
	GrafanaService string
}

// New builds the monitoring stack: Kubernetes resources through the
// cluster's provider, the alarms through the AWS one (both in opts).
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if args == nil || args.Name == "" || args.Namespace == "" || args.AppNamespace == "" || args.GrafanaAdminPassword == "" {
		return nil, errors.New("monitoring: args with names, namespaces and the Grafana admin password are required")
	}
	m := &Monitoring{GrafanaService: ReleaseName + "-grafana"}
	if err := ctx.RegisterComponentResource(TypeToken, name, m, opts...); err != nil {
		return nil, fmt.Errorf("monitoring: register: %w", err)
	}
	b := &builder{ctx: ctx, name: name, args: args, parent: pulumi.Parent(m)}
	if err := b.build(m); err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{
		"alarmTopicArn": m.AlarmTopicARN,
		"alertRouting":  m.AlertRouting,
	}); err != nil {
		return nil, fmt.Errorf("monitoring: register outputs: %w", err)
	}
	return m, nil
}

type builder struct {
	ctx    *pulumi.Context
	name   string
	args   *Args
	parent pulumi.ResourceOption
}

func (b *builder) child(suffix string) string { return b.name + "-" + suffix }

func (b *builder) build(m *Monitoring) error {
	a := b.args
	ns, err := corev1.NewNamespace(b.ctx, b.child("namespace"), &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(a.Namespace),
			// node-exporter needs the host's network and PID namespaces.
			Labels: pulumi.StringMap{"pod-security.kubernetes.io/enforce": pulumi.String("privileged")},
		},
	}, b.parent)
	if err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	inNS := []pulumi.ResourceOption{b.parent, pulumi.DependsOn([]pulumi.Resource{ns})}
	meta := func(name string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(a.Namespace)}
	}

	grafanaSecret, err := corev1.NewSecret(b.ctx, b.child("grafana-admin"), &corev1.SecretArgs{
		Metadata: meta(GrafanaAdminSecret),
		StringData: pulumi.StringMap{
			"admin-user":     pulumi.String("admin"),
			"admin-password": pulumi.ToSecret(pulumi.String(a.GrafanaAdminPassword)).(pulumi.StringOutput),
		},
	}, inNS...)
	if err != nil {
		return fmt.Errorf("grafana secret: %w", err)
	}
	amYAML, err := AlertmanagerConfig(a.Receivers)
	if err != nil {
		return err
	}
	amSecret, err := corev1.NewSecret(b.ctx, b.child("alertmanager-config"), &corev1.SecretArgs{
		Metadata:   meta(AlertmanagerConfigName),
		StringData: pulumi.StringMap{"alertmanager.yaml": pulumi.ToSecret(pulumi.String(amYAML)).(pulumi.StringOutput)},
	}, inNS...)
	if err != nil {
		return fmt.Errorf("alertmanager config: %w", err)
	}
	m.AlertRouting = pulumi.String(a.Receivers.Routing()).ToStringOutput()

	stack, err := helmv3.NewRelease(b.ctx, b.child("stack"), &helmv3.ReleaseArgs{
		Name:           pulumi.String(ReleaseName),
		Chart:          pulumi.String(Chart),
		Version:        pulumi.String(ChartVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(ChartRepo)},
		Namespace:      pulumi.String(a.Namespace),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(release.VolumesTimeoutSeconds),
		Values:         b.values(),
	}, append(inNS, pulumi.DependsOn([]pulumi.Resource{grafanaSecret, amSecret}))...)
	if err != nil {
		return fmt.Errorf("kube-prometheus-stack: %w", err)
	}
	afterCRDs := []pulumi.ResourceOption{b.parent, pulumi.DependsOn([]pulumi.Resource{stack})}

	for _, svc := range a.Services {
		if _, err := apiextensions.NewCustomResource(b.ctx, b.child("sm-"+svc), &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String(PrometheusOperatorAPI),
			Kind:       pulumi.String("ServiceMonitor"),
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(svc), Namespace: pulumi.String(a.AppNamespace)},
			OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
				"selector":          pulumi.Map{"matchLabels": pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(svc)}},
				"namespaceSelector": pulumi.Map{"matchNames": pulumi.StringArray{pulumi.String(a.AppNamespace)}},
				"endpoints": pulumi.Array{pulumi.Map{
					"port": pulumi.String(a.PortName), "path": pulumi.String("/metrics"), "interval": pulumi.String(a.ScrapeInterval),
				}},
			}},
		}, afterCRDs...); err != nil {
			return fmt.Errorf("service monitor %s: %w", svc, err)
		}
	}

	// The Argo Rollouts controller's own metrics feed the rollout alerts.
	if _, err := apiextensions.NewCustomResource(b.ctx, b.child("sm-argo-rollouts"), &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(PrometheusOperatorAPI),
		Kind:       pulumi.String("ServiceMonitor"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String("argo-rollouts"), Namespace: pulumi.String(RolloutsNamespace)},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"selector":  pulumi.Map{"matchLabels": pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("argo-rollouts")}},
			"endpoints": pulumi.Array{pulumi.Map{"port": pulumi.String("metrics"), "interval": pulumi.String(a.ScrapeInterval)}},
		}},
	}, afterCRDs...); err != nil {
		return fmt.Errorf("service monitor argo-rollouts: %w", err)
	}

	for _, sc := range a.Telemetry.Scrapes {
		if _, err := apiextensions.NewCustomResource(b.ctx, b.child("sm-"+sc.Name), &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String(PrometheusOperatorAPI),
			Kind:       pulumi.String("ServiceMonitor"),
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(sc.Name), Namespace: pulumi.String(sc.Namespace)},
			OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
				"selector":  pulumi.Map{"matchLabels": pulumi.ToStringMap(sc.Labels)},
				"endpoints": pulumi.Array{pulumi.Map{"port": pulumi.String(sc.Port), "path": pulumi.String(sc.Path), "interval": pulumi.String(a.ScrapeInterval)}},
			}},
		}, afterCRDs...); err != nil {
			return fmt.Errorf("service monitor %s: %w", sc.Name, err)
		}
	}
	if len(a.Telemetry.LogGroups) > 0 || a.Telemetry.TempoURL != "" {
		sources, err := DataSources(a.Telemetry, a.Alarms.AccountID)
		if err != nil {
			return err
		}
		if _, err := corev1.NewConfigMap(b.ctx, b.child("datasources"), &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String("personalization-datasources"), Namespace: pulumi.String(a.Namespace),
				Labels: pulumi.StringMap{DataSourceLabel: pulumi.String("1")},
			},
			Data: pulumi.StringMap{"personalization-datasources.yaml": pulumi.String(sources)},
		}, inNS...); err != nil {
			return fmt.Errorf("data sources: %w", err)
		}
	}

	if _, err := apiextensions.NewCustomResource(b.ctx, b.child("rules"), &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(PrometheusOperatorAPI),
		Kind:        pulumi.String("PrometheusRule"),
		Metadata:    meta("personalization-alerts"),
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{"groups": toInput(Rules(a.Thresholds, a.AppNamespace, a.RunbookBaseURL))}},
	}, afterCRDs...); err != nil {
		return fmt.Errorf("prometheus rules: %w", err)
	}

	for _, d := range Dashboards(a.AppNamespace, a.Thresholds.AvailabilityObjective, a.links()) {
		model, err := d.JSON()
		if err != nil {
			return err
		}
		if _, err := corev1.NewConfigMap(b.ctx, b.child(d.Name), &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String(d.Name), Namespace: pulumi.String(a.Namespace),
				Labels: pulumi.StringMap{DashboardLabel: pulumi.String("1")},
			},
			Data: pulumi.StringMap{d.Name + ".json": pulumi.String(model)},
		}, inNS...); err != nil {
			return fmt.Errorf("dashboard %s: %w", d.Name, err)
		}
	}

	topic, err := b.alarms(a.Alarms)
	if err != nil {
		return err
	}
	m.AlarmTopicARN = topic
	return nil
}

// values are kube-prometheus-stack's values.
func (b *builder) values() pulumi.Map {
	a := b.args
	resources := func(cpu, mem, cpuLim, memLim string) pulumi.Map {
		return pulumi.Map{
			"requests": pulumi.Map{"cpu": pulumi.String(cpu), "memory": pulumi.String(mem)},
			"limits":   pulumi.Map{"cpu": pulumi.String(cpuLim), "memory": pulumi.String(memLim)},
		}
	}
	values := pulumi.Map{
		"prometheus": pulumi.Map{"prometheusSpec": pulumi.Map{
			"replicas":       pulumi.Int(a.Replicas),
			"retention":      pulumi.String(a.Retention),
			"scrapeInterval": pulumi.String(a.ScrapeInterval),
			"resources":      resources("500m", "2Gi", "2", "4Gi"),
			// Pick up every ServiceMonitor and PrometheusRule, not only the
			// chart's own.
			"serviceMonitorSelectorNilUsesHelmValues": pulumi.Bool(false),
			"ruleSelectorNilUsesHelmValues":           pulumi.Bool(false),
			"podMonitorSelectorNilUsesHelmValues":     pulumi.Bool(false),
			"storageSpec": pulumi.Map{"volumeClaimTemplate": pulumi.Map{"spec": pulumi.Map{
				"storageClassName": pulumi.String(PrometheusStorageClass),
				"accessModes":      pulumi.StringArray{pulumi.String("ReadWriteOnce")},
				"resources":        pulumi.Map{"requests": pulumi.Map{"storage": pulumi.Sprintf("%dGi", a.StorageGiB)}},
			}}},
		}},
		"kube-state-metrics": pulumi.Map{
			"metricLabelsAllowlist": pulumi.StringArray{pulumi.String("pods=[rollouts-pod-template-hash]")},
		},
		"alertmanager": pulumi.Map{"alertmanagerSpec": pulumi.Map{
			"replicas":     pulumi.Int(a.AlertReplicas),
			"configSecret": pulumi.String(AlertmanagerConfigName),
			"resources":    resources("50m", "128Mi", "200m", "256Mi"),
		}},
		"grafana": pulumi.Map{
			"admin": pulumi.Map{
				"existingSecret": pulumi.String(GrafanaAdminSecret),
				"userKey":        pulumi.String("admin-user"),
				"passwordKey":    pulumi.String("admin-password"),
			},
			"sidecar": pulumi.Map{
				"dashboards":  pulumi.Map{"enabled": pulumi.Bool(true), "label": pulumi.String(DashboardLabel), "labelValue": pulumi.String("1"), "searchNamespace": pulumi.String("ALL")},
				"datasources": pulumi.Map{"enabled": pulumi.Bool(true)},
			},
			"resources": resources("100m", "256Mi", "500m", "512Mi"),
		},
	}
	if a.Telemetry.GrafanaRoleARN != nil {
		// Grafana queries CloudWatch Logs with its own IRSA role.
		values["grafana"].(pulumi.Map)["serviceAccount"] = pulumi.Map{
			"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": a.Telemetry.GrafanaRoleARN},
		}
	}
	if a.Telemetry.TempoURL != "" {
		// Tempo writes the service graph and span metrics here.
		values["prometheus"].(pulumi.Map)["prometheusSpec"].(pulumi.Map)["enableRemoteWriteReceiver"] = pulumi.Bool(true)
	}
	return values
}

// toInput turns rule groups into an untyped input for the CRD.
func toInput(groups []RuleGroup) pulumi.Array {
	var out pulumi.Array
	for _, g := range groups {
		var rules pulumi.Array
		for _, r := range g.Rules {
			rule := pulumi.Map{"expr": pulumi.String(r.Expr)}
			if r.Record != "" {
				rule["record"] = pulumi.String(r.Record)
			}
			if r.Alert != "" {
				rule["alert"] = pulumi.String(r.Alert)
			}
			if r.For != "" {
				rule["for"] = pulumi.String(r.For)
			}
			if len(r.Labels) > 0 {
				rule["labels"] = pulumi.ToStringMap(r.Labels)
			}
			if len(r.Annotations) > 0 {
				rule["annotations"] = pulumi.ToStringMap(r.Annotations)
			}
			rules = append(rules, rule)
		}
		group := pulumi.Map{"name": pulumi.String(g.Name), "rules": rules}
		if g.Interval != "" {
			group["interval"] = pulumi.String(g.Interval)
		}
		out = append(out, group)
	}
	return out
}
