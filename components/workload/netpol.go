package workload

import (
	"sort"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Network is whom a service's pods talk to. Its NetworkPolicy admits that
// and, with the namespace's default deny, nothing else.
type Network struct {
	// LoadBalancerCIDRs are the public subnets the ALB sends from; a public
	// service admits them on its port.
	LoadBalancerCIDRs []string
	// PrometheusNamespace and PrometheusLabels select the Prometheus pods
	// that scrape the service.
	PrometheusNamespace string
	PrometheusLabels    map[string]string
	// Callers are services of the set admitted on the port.
	Callers []string
	// Callees are services of the set the pods call, with their ports.
	Callees map[string]int
	// Egress are address ranges and ports the pods reach: the database,
	// the cache.
	Egress []Egress
}

// Egress is a destination outside the cluster.
type Egress struct {
	CIDRs []string
	Port  int
}

// DNSEgress admits DNS to CoreDNS in kube-system: every pod resolves names.
func DNSEgress() networkingv1.NetworkPolicyEgressRuleArgs {
	return networkingv1.NetworkPolicyEgressRuleArgs{
		To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
			NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
			PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
		}},
		Ports: networkingv1.NetworkPolicyPortArray{
			networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
			networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(53)},
		},
	}
}

// CIDREgress admits TCP to the ranges on a port.
func CIDREgress(cidrs []string, port int) networkingv1.NetworkPolicyEgressRuleArgs {
	var peers networkingv1.NetworkPolicyPeerArray
	for _, c := range cidrs {
		peers = append(peers, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}})
	}
	return networkingv1.NetworkPolicyEgressRuleArgs{
		To:    peers,
		Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}},
	}
}

func networkPolicySpec(args *Args) *networkingv1.NetworkPolicySpecArgs {
	n := args.Network
	port := networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.String(PortName)}}

	var from networkingv1.NetworkPolicyPeerArray
	if n.PrometheusNamespace != "" {
		from = append(from, networkingv1.NetworkPolicyPeerArgs{
			NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(n.PrometheusNamespace)}},
			PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(n.PrometheusLabels)},
		})
	}
	if args.Public {
		for _, c := range n.LoadBalancerCIDRs {
			from = append(from, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}})
		}
	}
	for _, caller := range n.Callers {
		from = append(from, networkingv1.NetworkPolicyPeerArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(Selector(caller))},
		})
	}
	var ingress networkingv1.NetworkPolicyIngressRuleArray
	if len(from) > 0 {
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: port})
	}

	egress := networkingv1.NetworkPolicyEgressRuleArray{DNSEgress()}
	for _, e := range n.Egress {
		egress = append(egress, CIDREgress(e.CIDRs, e.Port))
	}
	if t := args.Telemetry; t.Endpoint != "" {
		var ports networkingv1.NetworkPolicyPortArray
		for _, p := range t.CollectorPorts {
			ports = append(ports, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)})
		}
		egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(t.CollectorNamespace)}},
				PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(t.CollectorLabels)},
			}},
			Ports: ports,
		})
	}
	for _, callee := range sortedKeys(n.Callees) {
		egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(Selector(callee))},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(n.Callees[callee])}},
		})
	}
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(Selector(args.Name))},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		Ingress:     ingress,
		Egress:      egress,
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
