// Package workload is one service of the workload set: its ServiceAccount,
// Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget,
// NetworkPolicy and, for a public service, its Ingress.
package workload

import (
	"errors"
	"fmt"

	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/cluster"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:workload:Service"

// PortName is the name of every service's container port; Services,
// probes and network policies refer to it by name.
const PortName = "http"

// Args describe one service.
type Args struct {
	Namespace string
	Name      string
	Image     string
	Port      int

	MinReplicas, MaxReplicas              int
	TargetCPUPercent, TargetMemoryPercent int
	RequestCPU, RequestMemory             string
	LimitCPU, LimitMemory                 string
	Liveness, Readiness                   Probe
	Env                                   map[string]string
	// ComputedEnv are plain (not secret) variables whose values are known
	// only once other resources exist, such as a queue's URL.
	ComputedEnv map[string]pulumi.StringInput
	// SecretEnv are environment variables read from Kubernetes Secrets
	// that the External Secrets Operator keeps in sync.
	SecretEnv []SecretEnv

	// Public services get an internet-facing ALB Ingress.
	Public  bool
	Ingress Ingress

	// Network says whom the pods talk to; the NetworkPolicy admits exactly
	// that.
	Network Network

	// Strategy is how new versions are released: rolling runs a
	// Deployment, canary and blueGreen an Argo Rollout.
	Strategy Strategy

	// Telemetry points the service's OpenTelemetry SDK at the collector.
	Telemetry Telemetry

	// OIDC and AWSPolicy give the service account an IRSA role with the
	// policy, when the service asks for AWS access (AWSPolicy set).
	OIDC      *cluster.OIDC
	AWSPolicy pulumi.StringInput
}

// Telemetry is where the pods send traces and how they describe
// themselves: the standard OpenTelemetry SDK variables, so the application
// only has to use an SDK.
type Telemetry struct {
	// Endpoint is the collector's OTLP/HTTP URL; empty leaves it unset.
	Endpoint    string
	Environment string
	// SamplingRatio is the share of new traces recorded.
	SamplingRatio float64
	// CollectorNamespace, CollectorLabels and CollectorPorts admit the
	// pods' egress to the collector.
	CollectorNamespace string
	CollectorLabels    map[string]string
	CollectorPorts     []int
}

// Probe is an HTTP probe on the service's port.
type Probe struct {
	Path                        string
	InitialDelaySeconds, Period int
}

// SecretEnv is an environment variable from a Secret's key.
type SecretEnv struct{ Name, Secret, Key string }

// Ingress is the public route to the service.
type Ingress struct{ Host, Path, CertificateARN string }

// Service is one deployed service.
type Service struct {
	pulumi.ResourceState

	// Labels select the service's pods.
	Labels map[string]string
	// ServiceName is the in-cluster DNS name of its Service.
	ServiceName string
	// IRSARoleARN is empty for a service without AWS access.
	IRSARoleARN pulumi.StringOutput `pulumi:"irsaRoleArn"`
}

// Labels are the labels of a service's pods; the selector is the name alone.
func Labels(name string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       name,
		"app.kubernetes.io/part-of":    "personalization",
		"app.kubernetes.io/managed-by": "pulumi",
	}
}

// Selector selects a service's pods.
func Selector(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": name}
}

// New deploys the service. Kubernetes resources take their provider from
// opts (the cluster's); the IRSA role, the AWS provider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Service, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("workload %s: %w", name, err)
	}
	s := &Service{Labels: Labels(args.Name), ServiceName: args.Name}
	if err := ctx.RegisterComponentResource(TypeToken, name, s, opts...); err != nil {
		return nil, fmt.Errorf("workload %s: register: %w", name, err)
	}
	if err := build(ctx, name, args, s); err != nil {
		return nil, fmt.Errorf("workload %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"irsaRoleArn": s.IRSARoleARN}); err != nil {
		return nil, fmt.Errorf("workload %s: register outputs: %w", name, err)
	}
	return s, nil
}

func (a *Args) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Namespace == "" || a.Name == "" || a.Image == "":
		return errors.New("namespace, name and image are required")
	case a.MinReplicas < 1 || a.MaxReplicas < a.MinReplicas:
		return fmt.Errorf("replicas %d..%d are not a range", a.MinReplicas, a.MaxReplicas)
	case a.AWSPolicy != nil && a.OIDC == nil:
		return errors.New("AWS access needs the cluster's OIDC provider")
	}
	return nil
}

func build(ctx *pulumi.Context, name string, args *Args, s *Service) error {
	parent := pulumi.Parent(s)
	meta := func(kind string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{
			Name:      pulumi.String(args.Name),
			Namespace: pulumi.String(args.Namespace),
			Labels:    pulumi.ToStringMap(Labels(args.Name)),
		}
	}

	s.IRSARoleARN = pulumi.String("").ToStringOutput()
	saMeta := meta("ServiceAccount")
	if args.AWSPolicy != nil {
		role, err := args.OIDC.NewRole(ctx, name+"-irsa", cluster.RoleArgs{
			Namespace: args.Namespace, ServiceAccount: args.Name,
			Description: "AWS access of service " + args.Name, Policy: args.AWSPolicy,
		}, parent)
		if err != nil {
			return err
		}
		s.IRSARoleARN = role.Arn
		saMeta.Annotations = pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Arn}
	}
	sa, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{
		Metadata: saMeta,
		// The pods never talk to the Kubernetes API (policy K8S-10).
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return fmt.Errorf("service account: %w", err)
	}

	// One pod template builder serves both: a Rollout's pods are exactly
	// the pods a Deployment of the service would run.
	targetKind, targetAPI := "Deployment", "apps/v1"
	if args.Strategy.Type == Canary || args.Strategy.Type == BlueGreen {
		targetKind, targetAPI = "Rollout", RolloutsAPI
		if _, err := newRollout(ctx, name, args, meta("Rollout"), sa, parent); err != nil {
			return err
		}
	} else if _, err := newDeployment(ctx, name, args, meta("Deployment"), sa, parent); err != nil {
		return err
	}

	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: meta("Service"),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(Selector(args.Name)),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name:       pulumi.String(PortName),
				Port:       pulumi.Int(80),
				TargetPort: pulumi.String(PortName),
				Protocol:   pulumi.String("TCP"),
			}},
		},
	}, parent); err != nil {
		return fmt.Errorf("service: %w", err)
	}

	if _, err := autoscalingv2.NewHorizontalPodAutoscaler(ctx, name, &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: meta("HorizontalPodAutoscaler"),
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{
				ApiVersion: pulumi.String(targetAPI),
				Kind:       pulumi.String(targetKind),
				Name:       pulumi.String(args.Name),
			},
			MinReplicas: pulumi.Int(args.MinReplicas),
			MaxReplicas: pulumi.Int(args.MaxReplicas),
			Metrics: autoscalingv2.MetricSpecArray{
				utilization("cpu", args.TargetCPUPercent),
				utilization("memory", args.TargetMemoryPercent),
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehaviorArgs{
				// Scale down slowly: a traffic dip must last five minutes.
				ScaleDown: &autoscalingv2.HPAScalingRulesArgs{StabilizationWindowSeconds: pulumi.Int(300)},
			},
		},
	}, parent); err != nil {
		return fmt.Errorf("autoscaler: %w", err)
	}

	// One pod may be down at a time: a drain never takes the service
	// below its desired count by more than one, and never blocks (K8S-13).
	if _, err := policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta("PodDisruptionBudget"),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(Selector(args.Name))},
		},
	}, parent); err != nil {
		return fmt.Errorf("disruption budget: %w", err)
	}

	if _, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: meta("NetworkPolicy"),
		Spec:     networkPolicySpec(args),
	}, parent); err != nil {
		return fmt.Errorf("network policy: %w", err)
	}

	if args.Public {
		if _, err := networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:        pulumi.String(args.Name),
				Namespace:   pulumi.String(args.Namespace),
				Labels:      pulumi.ToStringMap(Labels(args.Name)),
				Annotations: pulumi.ToStringMap(ingressAnnotations(args)),
			},
			Spec: ingressSpec(args),
		}, parent); err != nil {
			return fmt.Errorf("ingress: %w", err)
		}
	}
	return nil
}

func utilization(resource string, percent int) autoscalingv2.MetricSpecArgs {
	return autoscalingv2.MetricSpecArgs{
		Type: pulumi.String("Resource"),
		Resource: &autoscalingv2.ResourceMetricSourceArgs{
			Name: pulumi.String(resource),
			Target: &autoscalingv2.MetricTargetArgs{
				Type:               pulumi.String("Utilization"),
				AverageUtilization: pulumi.Int(percent),
			},
		},
	}
}

// IngressGroup is the ALB group every public service of the stack shares:
// one load balancer, one rule per service.
const IngressGroup = "personalization"

func ingressAnnotations(args *Args) map[string]string {
	a := map[string]string{
		"alb.ingress.kubernetes.io/scheme":           "internet-facing",
		"alb.ingress.kubernetes.io/target-type":      "ip",
		"alb.ingress.kubernetes.io/group.name":       IngressGroup,
		"alb.ingress.kubernetes.io/healthcheck-path": args.Readiness.Path,
		"alb.ingress.kubernetes.io/listen-ports":     `[{"HTTP": 80}]`,
	}
	if args.Ingress.CertificateARN != "" {
		a["alb.ingress.kubernetes.io/listen-ports"] = `[{"HTTP": 80}, {"HTTPS": 443}]`
		a["alb.ingress.kubernetes.io/certificate-arn"] = args.Ingress.CertificateARN
		a["alb.ingress.kubernetes.io/ssl-redirect"] = "443"
		a["alb.ingress.kubernetes.io/ssl-policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	}
	return a
}

func ingressSpec(args *Args) *networkingv1.IngressSpecArgs {
	port := &networkingv1.ServiceBackendPortArgs{Name: pulumi.String(PortName)}
	if args.Strategy.Type == Canary {
		// Argo Rollouts writes the weighted forward action into the
		// Ingress's annotations; the backend points at it by name.
		port = &networkingv1.ServiceBackendPortArgs{Name: pulumi.String("use-annotation")}
	}
	rule := networkingv1.IngressRuleArgs{
		Http: &networkingv1.HTTPIngressRuleValueArgs{
			Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
				Path:     pulumi.String(args.Ingress.Path),
				PathType: pulumi.String("Prefix"),
				Backend: &networkingv1.IngressBackendArgs{
					Service: &networkingv1.IngressServiceBackendArgs{
						Name: pulumi.String(args.Name),
						Port: port,
					},
				},
			}},
		},
	}
	if args.Ingress.Host != "" {
		rule.Host = pulumi.String(args.Ingress.Host)
	}
	return &networkingv1.IngressSpecArgs{
		IngressClassName: pulumi.String("alb"),
		Rules:            networkingv1.IngressRuleArray{rule},
	}
}
