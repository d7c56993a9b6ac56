package tracing

import (
	"net"
	"strconv"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/workload"
)

type policy struct {
	name string
	spec *networkingv1.NetworkPolicySpecArgs
}

// networkPolicies close the namespace and open exactly the pipeline: the
// workloads to the collector's OTLP ports, the collector to its exporter,
// Grafana to Tempo's query API, Prometheus to both's metrics, Tempo to
// Prometheus's remote-write endpoint.
func networkPolicies(args *Args) []policy {
	prometheus := peer(args.PrometheusNamespace, args.PrometheusLabels)
	policies := []policy{
		{"default-deny", &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		}},
		{CollectorName, &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(CollectorLabels())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				ingress(networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(args.AppNamespace)}},
				}, OTLPGRPCPort, OTLPHTTPPort),
				ingress(prometheus, CollectorMetrics),
			},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{workload.DNSEgress(), collectorEgress(args)},
		}},
	}
	if args.Exporter == "tempo" {
		policies = append(policies, policy{TempoName, &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(TempoLabels())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				ingress(networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(CollectorLabels())}}, OTLPGRPCPort),
				ingress(peer(args.GrafanaNamespace, args.GrafanaLabels), TempoHTTPPort),
				ingress(prometheus, TempoHTTPPort),
			},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				workload.DNSEgress(),
				networkingv1.NetworkPolicyEgressRuleArgs{To: networkingv1.NetworkPolicyPeerArray{prometheus}, Ports: tcp(9090)},
			},
		}})
	}
	return policies
}

// collectorEgress is the exporter's destination: Tempo's pods, or the
// external endpoint's port anywhere (its addresses are the vendor's).
func collectorEgress(args *Args) networkingv1.NetworkPolicyEgressRuleArgs {
	if args.Exporter == "tempo" {
		return networkingv1.NetworkPolicyEgressRuleArgs{
			To:    networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(TempoLabels())}}},
			Ports: tcp(OTLPGRPCPort),
		}
	}
	_, p, _ := net.SplitHostPort(args.Endpoint)
	port, _ := strconv.Atoi(p)
	return workload.CIDREgress([]string{"0.0.0.0/0"}, port)
}

func peer(namespace string, labels map[string]string) networkingv1.NetworkPolicyPeerArgs {
	return networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(namespace)}},
		PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)},
	}
}

func ingress(from networkingv1.NetworkPolicyPeerArgs, ports ...int) networkingv1.NetworkPolicyIngressRuleArgs {
	return networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{from}, Ports: tcp(ports...)}
}

func tcp(ports ...int) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)})
	}
	return out
}
