package workload

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RolloutsAPI is the API version of Argo Rollouts' resources.
const RolloutsAPI = "argoproj.io/v1alpha1"

// The release strategies.
const (
	Rolling   = "rolling"
	Canary    = "canary"
	BlueGreen = "blueGreen"
)

// Strategy is how a service's new versions are released.
type Strategy struct {
	Type        string
	Steps       []CanaryStep
	PreviewPort int
	AutoPromote bool
	Analysis    Analysis
}

// CanaryStep is a traffic weight and the pause after it.
type CanaryStep struct {
	Weight int
	Pause  string
}

// Analysis is the rollback condition, measured on Prometheus.
type Analysis struct {
	// Prometheus is the address the analysis queries.
	Prometheus       string
	ErrorRatio       float64
	LatencyRatio     float64
	Interval         string
	Count            int
	AppNamespace     string
	RequestsMetric   string
	DurationMetric   string
	RestartsMetric   string
	PodLabelsMetric  string
	PodTemplateLabel string
}

// AnalysisMetric is one measurement of a release's analysis.
type AnalysisMetric struct {
	Name string
	// Query is PromQL with Argo's {{args.…}} placeholders.
	Query string
	// SuccessCondition is Argo's expression over result.
	SuccessCondition string
}

// AnalysisMetrics are the design's rollback conditions: 5xx share above the
// threshold, canary p95 above a multiple of the stable p95, restarting
// pods of the new version. No traffic (NaN) is not a failure.
func AnalysisMetrics(a Analysis) []AnalysisMetric {
	ns := fmt.Sprintf(`namespace=%q`, a.AppNamespace)
	svc := func(arg string) string { return fmt.Sprintf(`%s,service="{{args.%s}}"`, ns, arg) }
	p95 := func(arg string) string {
		return fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(%s{%s}[5m])))`, a.DurationMetric, svc(arg))
	}
	return []AnalysisMetric{
		{
			Name:             "error-rate",
			Query:            fmt.Sprintf(`sum(rate(%s{%s,status=~"5.."}[5m])) / sum(rate(%s{%s}[5m]))`, a.RequestsMetric, svc("canary-service"), a.RequestsMetric, svc("canary-service")),
			SuccessCondition: fmt.Sprintf("len(result) == 0 || isNaN(result[0]) || result[0] <= %g", a.ErrorRatio),
		},
		{
			Name:             "latency-ratio",
			Query:            p95("canary-service") + " / " + p95("stable-service"),
			SuccessCondition: fmt.Sprintf("len(result) == 0 || isNaN(result[0]) || result[0] <= %g", a.LatencyRatio),
		},
		{
			Name: "restarts",
			Query: fmt.Sprintf(`sum(increase(%s{%s}[5m]) * on (namespace, pod) group_left () max by (namespace, pod) (%s{%s,%s="{{args.canary-hash}}"}))`,
				a.RestartsMetric, ns, a.PodLabelsMetric, ns, a.PodTemplateLabel),
			SuccessCondition: "len(result) == 0 || isNaN(result[0]) || result[0] < 1",
		},
	}
}

// ResolveArgs substitutes an analysis query's arguments, as Argo does.
func ResolveArgs(query string, args map[string]string) string {
	for k, v := range args {
		query = strings.ReplaceAll(query, "{{args."+k+"}}", v)
	}
	return query
}

// Service names of a progressive release.
func canaryServiceName(name string) string  { return name + "-canary" }
func previewServiceName(name string) string { return name + "-preview" }

// newRollout runs the service as an Argo Rollout with the same pod template
// a Deployment would have, and the Services and AnalysisTemplate it needs.
func newRollout(ctx *pulumi.Context, name string, args *Args, meta *metav1.ObjectMetaArgs, sa *corev1.ServiceAccount, parent pulumi.ResourceOption) (pulumi.Resource, error) {
	s := args.Strategy
	second := canaryServiceName(args.Name)
	if s.Type == BlueGreen {
		second = previewServiceName(args.Name)
	}
	port := 80
	if s.Type == BlueGreen {
		port = s.PreviewPort
	}
	if _, err := corev1.NewService(ctx, name+"-"+strings.ToLower(s.Type), &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(second), Namespace: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(Labels(args.Name))},
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(Selector(args.Name)),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String(PortName), Port: pulumi.Int(port), TargetPort: pulumi.String(PortName), Protocol: pulumi.String("TCP"),
			}},
		},
	}, parent); err != nil {
		return nil, fmt.Errorf("%s service: %w", second, err)
	}

	var metrics pulumi.Array
	for _, m := range AnalysisMetrics(s.Analysis) {
		metrics = append(metrics, pulumi.Map{
			"name":             pulumi.String(m.Name),
			"interval":         pulumi.String(s.Analysis.Interval),
			"count":            pulumi.Int(s.Analysis.Count),
			"failureLimit":     pulumi.Int(1),
			"successCondition": pulumi.String(m.SuccessCondition),
			"provider": pulumi.Map{"prometheus": pulumi.Map{
				"address": pulumi.String(s.Analysis.Prometheus), "query": pulumi.String(m.Query),
			}},
		})
	}
	template, err := apiextensions.NewCustomResource(ctx, name+"-analysis", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(RolloutsAPI),
		Kind:       pulumi.String("AnalysisTemplate"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(args.Name), Namespace: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(Labels(args.Name))},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"args": pulumi.Array{
				pulumi.Map{"name": pulumi.String("canary-service")},
				pulumi.Map{"name": pulumi.String("stable-service")},
				pulumi.Map{"name": pulumi.String("canary-hash")},
			},
			"metrics": metrics,
		}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("analysis template: %w", err)
	}

	analysis := pulumi.Map{
		"templates": pulumi.Array{pulumi.Map{"templateName": pulumi.String(args.Name)}},
		"args": pulumi.Array{
			pulumi.Map{"name": pulumi.String("canary-service"), "value": pulumi.String(second)},
			pulumi.Map{"name": pulumi.String("stable-service"), "value": pulumi.String(args.Name)},
			pulumi.Map{"name": pulumi.String("canary-hash"), "valueFrom": pulumi.Map{"podTemplateHashValue": pulumi.String("Latest")}},
		},
	}
	var strategy pulumi.Map
	switch s.Type {
	case Canary:
		var steps pulumi.Array
		for _, st := range s.Steps {
			steps = append(steps, pulumi.Map{"setWeight": pulumi.Int(st.Weight)})
			if st.Pause != "" {
				steps = append(steps, pulumi.Map{"pause": pulumi.Map{"duration": pulumi.String(st.Pause)}})
			}
		}
		canary := pulumi.Map{
			"stableService":  pulumi.String(args.Name),
			"canaryService":  pulumi.String(second),
			"maxUnavailable": pulumi.Int(0),
			"maxSurge":       pulumi.String("25%"),
			"steps":          steps,
			// Analysis runs in the background from the first step on; a
			// failure aborts the rollout and returns all traffic to stable.
			"analysis": analysis,
		}
		if args.Public {
			// Weighted target groups of the ALB shift real traffic; an
			// internal service shifts by replica count.
			canary["trafficRouting"] = pulumi.Map{"alb": pulumi.Map{
				"ingress": pulumi.String(args.Name), "servicePort": pulumi.Int(80), "rootService": pulumi.String(args.Name),
			}}
		}
		strategy = pulumi.Map{"canary": canary}
	case BlueGreen:
		strategy = pulumi.Map{"blueGreen": pulumi.Map{
			"activeService":        pulumi.String(args.Name),
			"previewService":       pulumi.String(second),
			"autoPromotionEnabled": pulumi.Bool(s.AutoPromote),
			"prePromotionAnalysis": analysis,
		}}
	}

	rollout, err := apiextensions.NewCustomResource(ctx, name+"-rollout", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(RolloutsAPI),
		Kind:       pulumi.String("Rollout"),
		Metadata:   meta,
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"replicas":             pulumi.Int(args.MinReplicas),
			"revisionHistoryLimit": pulumi.Int(10),
			"selector":             pulumi.Map{"matchLabels": pulumi.ToStringMap(Selector(args.Name))},
			"template":             PodTemplate(args, sa.Metadata.Name().Elem()),
			// Pods that never turn ready abort the release too.
			"progressDeadlineSeconds": pulumi.Int(600),
			"progressDeadlineAbort":   pulumi.Bool(true),
			"strategy":                strategy,
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{template}), pulumi.IgnoreChanges([]string{"spec.replicas"}))
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	return rollout, nil
}
