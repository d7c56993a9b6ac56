package logging

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/cluster"
	"github.com/personalization/platform/components/internal/policydoc"
	"github.com/personalization/platform/components/internal/release"
	"github.com/personalization/platform/components/workload"
)

// ShippingTypeToken is the log shipping component's Pulumi type. It is a
// component of its own, beside Logging, because Logging's key must exist
// before the cluster (the control-plane log group is encrypted with it)
// and shipping needs the cluster.
const ShippingTypeToken = "personalization:logging:Shipping"

// Pinned chart: Fluent Bit 5.1.1. An upgrade is a reviewed change of these
// lines.
const (
	Namespace        = "logging"
	AgentName        = "fluent-bit"
	FluentBitChart   = "fluent-bit"
	FluentBitVersion = "0.58.1"
	FluentBitRepo    = "https://fluent.github.io/helm-charts"
	// MetricsPort serves the agent's health and Prometheus metrics.
	MetricsPort = 2020
)

// ShippingArgs configure log shipping.
type ShippingArgs struct {
	// Name prefixes the log groups ("personalization-platform-dev").
	Name      string
	Region    string
	AccountID string
	// KeyARN is the Logging component's key.
	KeyARN pulumi.StringInput
	// RetentionDays and RetentionReason keep the container logs.
	RetentionDays   int
	RetentionReason string
	// AppNamespace's containers go to the application log group; every
	// other namespace's to the platform one.
	AppNamespace string
	OIDC         *cluster.OIDC
	// Reader is the service account (namespace/name) that may query the
	// log groups: Grafana's.
	ReaderNamespace, ReaderServiceAccount string
	// PrometheusNamespace and PrometheusLabels select the pods that scrape
	// the agent.
	PrometheusNamespace string
	PrometheusLabels    map[string]string
}

// Shipping is the agent on every node and the log groups it writes to.
type Shipping struct {
	pulumi.ResourceState

	ApplicationLogGroup pulumi.StringOutput `pulumi:"applicationLogGroup"`
	PlatformLogGroup    pulumi.StringOutput `pulumi:"platformLogGroup"`
	AgentRoleARN        pulumi.StringOutput `pulumi:"agentRoleArn"`
	// ReaderRoleARN is the role Grafana assumes to query the logs.
	ReaderRoleARN pulumi.StringOutput `pulumi:"readerRoleArn"`
}

// LogGroupNames are the container log groups of a stack: the application
// namespace's, and the platform's (every other namespace).
func LogGroupNames(name string) (application, platform string) {
	return "/" + name + "/containers/application", "/" + name + "/containers/platform"
}

// NewShipping builds the log groups and roles through the AWS provider in
// opts and the agent through the Kubernetes one.
func NewShipping(ctx *pulumi.Context, name string, args *ShippingArgs, opts ...pulumi.ResourceOption) (*Shipping, error) {
	if args == nil || args.Name == "" || args.Region == "" || args.AccountID == "" || args.OIDC == nil || args.KeyARN == nil || args.AppNamespace == "" {
		return nil, errors.New("logging: shipping args with a name, a region, an account, a key, the application namespace and the cluster's OIDC provider are required")
	}
	s := &Shipping{}
	if err := ctx.RegisterComponentResource(ShippingTypeToken, name, s, opts...); err != nil {
		return nil, fmt.Errorf("logging: register shipping: %w", err)
	}
	parent := pulumi.Parent(s)

	// The groups exist before the agent does, with retention and key under
	// code: the agent may not create groups of its own.
	appGroup, platformGroup := LogGroupNames(args.Name)
	var arns []string
	for _, g := range []struct{ suffix, name string }{{"application", appGroup}, {"platform", platformGroup}} {
		tags := pulumi.StringMap{}
		if args.RetentionReason != "" {
			tags["retention-reason"] = pulumi.String(args.RetentionReason)
		}
		if _, err := cloudwatch.NewLogGroup(ctx, name+"-"+g.suffix, &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(g.name),
			RetentionInDays: pulumi.Int(args.RetentionDays),
			KmsKeyId:        args.KeyARN,
			Tags:            tags,
		}, parent); err != nil {
			return nil, fmt.Errorf("logging: log group %s: %w", g.name, err)
		}
		arns = append(arns, LogGroupARN(args.Region, args.AccountID, g.name))
	}
	s.ApplicationLogGroup, s.PlatformLogGroup = pulumi.String(appGroup).ToStringOutput(), pulumi.String(platformGroup).ToStringOutput()

	agent, err := args.OIDC.NewRole(ctx, name+"-agent", cluster.RoleArgs{
		Namespace: Namespace, ServiceAccount: AgentName,
		Description: "Fluent Bit: writes container logs to " + appGroup + " and " + platformGroup,
		Policy:      pulumi.String(AgentPolicy(arns).JSON()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	reader, err := args.OIDC.NewRole(ctx, name+"-reader", cluster.RoleArgs{
		Namespace: args.ReaderNamespace, ServiceAccount: args.ReaderServiceAccount,
		Description: "Grafana: queries the container logs",
		Policy:      pulumi.String(ReaderPolicy(args.Region, args.AccountID, arns).JSON()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	s.AgentRoleARN, s.ReaderRoleARN = agent.Arn, reader.Arn

	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(Namespace),
			// The agent reads the nodes' /var/log: hostPath needs the
			// privileged level; the pod itself drops every capability.
			Labels: pulumi.StringMap{"pod-security.kubernetes.io/enforce": pulumi.String("privileged")},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("logging: namespace: %w", err)
	}
	inNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-agent", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(AgentName), Namespace: pulumi.String(Namespace)},
		Spec:     agentNetworkPolicy(args),
	}, inNS...); err != nil {
		return nil, fmt.Errorf("logging: network policy: %w", err)
	}
	if _, err := helmv3.NewRelease(ctx, name+"-agent", &helmv3.ReleaseArgs{
		Name:           pulumi.String(AgentName),
		Chart:          pulumi.String(FluentBitChart),
		Version:        pulumi.String(FluentBitVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(FluentBitRepo)},
		Namespace:      pulumi.String(Namespace),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(release.PodsTimeoutSeconds),
		Values:         agentValues(args, agent.Arn),
	}, inNS...); err != nil {
		return nil, fmt.Errorf("logging: fluent-bit: %w", err)
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{
		"applicationLogGroup": s.ApplicationLogGroup, "platformLogGroup": s.PlatformLogGroup,
		"agentRoleArn": s.AgentRoleARN, "readerRoleArn": s.ReaderRoleARN,
	}); err != nil {
		return nil, fmt.Errorf("logging: register shipping outputs: %w", err)
	}
	return s, nil
}

// LogGroupARN is a log group's ARN.
func LogGroupARN(region, account, group string) string {
	return "arn:aws:logs:" + region + ":" + account + ":log-group:" + group
}

// AgentPolicy lets the agent write streams of the given groups, and
// nothing else: no group creation, no reads, no other group.
func AgentPolicy(groupARNs []string) policydoc.Document {
	var streams []string
	for _, g := range groupARNs {
		streams = append(streams, g+":log-stream:*")
	}
	return policydoc.New(
		policydoc.Statement{Sid: "DescribeStreams", Effect: "Allow", Action: []string{"logs:DescribeLogStreams"}, Resource: suffixed(groupARNs, ":*")},
		policydoc.Statement{Sid: "WriteStreams", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: streams},
	)
}

// ReaderPolicy lets Grafana query the given groups with Logs Insights and
// list the account's groups (DescribeLogGroups takes no resource).
func ReaderPolicy(region, account string, groupARNs []string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "ListGroups", Effect: "Allow", Action: []string{"logs:DescribeLogGroups"},
			Resource: []string{"arn:aws:logs:" + region + ":" + account + ":log-group:*"}},
		policydoc.Statement{Sid: "QueryGroups", Effect: "Allow",
			Action:   []string{"logs:StartQuery", "logs:GetLogGroupFields", "logs:FilterLogEvents", "logs:GetLogEvents"},
			Resource: suffixed(groupARNs, ":*")},
		policydoc.Statement{Sid: "ReadQueries", Effect: "Allow", Action: []string{"logs:GetQueryResults", "logs:StopQuery"}, Resource: []string{"*"}},
	)
}

func suffixed(list []string, suffix string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s + suffix
	}
	return out
}

// agentNetworkPolicy: Prometheus scrapes the agent; the agent resolves
// names, reaches the API server for pod metadata, and CloudWatch Logs and
// STS on HTTPS (their public endpoints), nothing else.
func agentNetworkPolicy(args *ShippingArgs) *networkingv1.NetworkPolicySpecArgs {
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(AgentName)}},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(args.PrometheusNamespace)}},
				PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(args.PrometheusLabels)},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(MetricsPort)}},
		}},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{
			workload.DNSEgress(),
			workload.CIDREgress([]string{"0.0.0.0/0"}, 443),
		},
	}
}

// AgentConfig is Fluent Bit's pipeline: tail every container's log with
// the CRI parser, buffer on the node's disk, add Kubernetes metadata and
// lift JSON log lines into fields, route the application namespace to its
// group and everything else to the platform group.
func AgentConfig(args *ShippingArgs) (service, inputs, filters, outputs string) {
	appGroup, platformGroup := LogGroupNames(args.Name)
	service = fmt.Sprintf(`[SERVICE]
    Daemon Off
    Flush 5
    Log_Level info
    Parsers_File /fluent-bit/etc/parsers.conf
    HTTP_Server On
    HTTP_Listen 0.0.0.0
    HTTP_Port %d
    Health_Check On
    storage.path /var/log/flb-storage/
    storage.sync normal
    storage.backlog.mem_limit 16M
`, MetricsPort)
	inputs = `[INPUT]
    Name tail
    Tag kube.*
    Path /var/log/containers/*.log
    Exclude_Path /var/log/containers/` + AgentName + `-*.log
    multiline.parser cri, docker
    DB /var/log/flb-storage/tail.db
    Mem_Buf_Limit 32MB
    Skip_Long_Lines On
    Refresh_Interval 10
    storage.type filesystem
`
	filters = `[FILTER]
    Name kubernetes
    Match kube.*
    Merge_Log On
    Keep_Log Off
    K8S-Logging.Parser On
    K8S-Logging.Exclude On
    Labels Off
    Annotations Off

[FILTER]
    Name rewrite_tag
    Match kube.*
    Rule $kubernetes['namespace_name'] ^` + args.AppNamespace + `$ app.$TAG false
    Emitter_Name app_emitter
    Emitter_Storage.type filesystem
`
	stream := `$kubernetes['namespace_name'].$kubernetes['pod_name'].$kubernetes['container_name']`
	output := func(match, group string) string {
		return strings.Join([]string{
			"[OUTPUT]",
			"    Name cloudwatch_logs",
			"    Match " + match,
			"    region " + args.Region,
			"    log_group_name " + group,
			"    log_stream_template " + stream,
			"    log_stream_prefix unlabelled-",
			"    auto_create_group Off",
			"    Retry_Limit 10",
			"",
		}, "\n")
	}
	outputs = output("app.*", appGroup) + "\n" + output("kube.*", platformGroup)
	return service, inputs, filters, outputs
}

func agentValues(args *ShippingArgs, roleARN pulumi.StringOutput) pulumi.Map {
	service, inputs, filters, outputs := AgentConfig(args)
	return pulumi.Map{
		"serviceAccount": pulumi.Map{
			"create":      pulumi.Bool(true),
			"name":        pulumi.String(AgentName),
			"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": roleARN},
		},
		// The chart's test pod pulls busybox:latest; no test pods here.
		"testFramework": pulumi.Map{"enabled": pulumi.Bool(false)},
		"config": pulumi.Map{
			"service": pulumi.String(service), "inputs": pulumi.String(inputs),
			"filters": pulumi.String(filters), "outputs": pulumi.String(outputs),
		},
		"metricsPort": pulumi.Int(MetricsPort),
		// Reads root-owned logs as root, with no capability and a
		// read-only root filesystem; writes only its buffer under /var/log.
		"securityContext": pulumi.Map{
			"allowPrivilegeEscalation": pulumi.Bool(false),
			"readOnlyRootFilesystem":   pulumi.Bool(true),
			"capabilities":             pulumi.Map{"drop": pulumi.StringArray{pulumi.String("ALL")}},
			"seccompProfile":           pulumi.Map{"type": pulumi.String("RuntimeDefault")},
		},
		"resources": pulumi.Map{
			"requests": pulumi.Map{"cpu": pulumi.String("50m"), "memory": pulumi.String("64Mi")},
			"limits":   pulumi.Map{"cpu": pulumi.String("500m"), "memory": pulumi.String("256Mi")},
		},
		// On every node, tainted ones included: a node whose logs are not
		// shipped is a node nobody can debug.
		"tolerations":       pulumi.Array{pulumi.Map{"operator": pulumi.String("Exists")}},
		"priorityClassName": pulumi.String("system-node-critical"),
	}
}
