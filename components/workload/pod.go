package workload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RunAsUser is the unprivileged user every container of the workload set
// runs as.
const RunAsUser = 10001

func newDeployment(ctx *pulumi.Context, name string, args *Args, meta *metav1.ObjectMetaArgs, sa *corev1.ServiceAccount, parent pulumi.ResourceOption) (*appsv1.Deployment, error) {
	d, err := appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: meta,
		Spec: &appsv1.DeploymentSpecArgs{
			// The autoscaler owns the count once the Deployment exists.
			Replicas: pulumi.Int(args.MinReplicas),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(Selector(args.Name))},
			Strategy: &appsv1.DeploymentStrategyArgs{
				Type: pulumi.String("RollingUpdate"),
				// Never below the desired count: new pods come up and
				// turn ready before old ones go.
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
					MaxUnavailable: pulumi.Int(0),
					MaxSurge:       pulumi.String("25%"),
				},
			},
			RevisionHistoryLimit:    pulumi.Int(10),
			ProgressDeadlineSeconds: pulumi.Int(600),
			Template:                PodTemplate(args, sa.Metadata.Name().Elem()),
		},
	}, parent, pulumi.IgnoreChanges([]string{"spec.replicas"}))
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	return d, nil
}

// PodTemplate is the pod of a service, whatever runs it: restricted
// security context, probes, requests and limits, spread over zones.
func PodTemplate(args *Args, serviceAccount pulumi.StringInput) *corev1.PodTemplateSpecArgs {
	return &corev1.PodTemplateSpecArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Labels: pulumi.ToStringMap(Labels(args.Name)),
			Annotations: pulumi.StringMap{
				// Roll the pods when a synced Secret changes, such as the
				// database password after RDS rotates it.
				"reloader.stakater.com/auto": pulumi.String("true"),
			},
		},
		Spec: &corev1.PodSpecArgs{
			ServiceAccountName:           serviceAccount,
			AutomountServiceAccountToken: pulumi.Bool(false),
			SecurityContext: &corev1.PodSecurityContextArgs{
				RunAsNonRoot:   pulumi.Bool(true),
				RunAsUser:      pulumi.Int(RunAsUser),
				RunAsGroup:     pulumi.Int(RunAsUser),
				FsGroup:        pulumi.Int(RunAsUser),
				SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
			},
			TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{
				spread("topology.kubernetes.io/zone", args.Name),
				spread("kubernetes.io/hostname", args.Name),
			},
			TerminationGracePeriodSeconds: pulumi.Int(30),
			Containers:                    corev1.ContainerArray{container(args)},
			Volumes: corev1.VolumeArray{corev1.VolumeArgs{
				Name:     pulumi.String("tmp"),
				EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")},
			}},
		},
	}
}

func spread(topologyKey, name string) corev1.TopologySpreadConstraintArgs {
	return corev1.TopologySpreadConstraintArgs{
		MaxSkew:           pulumi.Int(1),
		TopologyKey:       pulumi.String(topologyKey),
		WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
		LabelSelector:     &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(Selector(name))},
	}
}

// RestrictedSecurityContext is the container security context of the
// Pod Security Standard "restricted", with a read-only root filesystem.
func RestrictedSecurityContext() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		RunAsNonRoot:             pulumi.Bool(true),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

func container(args *Args) corev1.ContainerArgs {
	return corev1.ContainerArgs{
		Name:            pulumi.String(args.Name),
		Image:           pulumi.String(args.Image),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
			Name: pulumi.String(PortName), ContainerPort: pulumi.Int(args.Port), Protocol: pulumi.String("TCP"),
		}},
		Env: env(args),
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String(args.RequestCPU), "memory": pulumi.String(args.RequestMemory)},
			Limits:   pulumi.StringMap{"cpu": pulumi.String(args.LimitCPU), "memory": pulumi.String(args.LimitMemory)},
		},
		LivenessProbe:   probe(args.Liveness, 3),
		ReadinessProbe:  probe(args.Readiness, 3),
		SecurityContext: RestrictedSecurityContext(),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp"),
		}},
	}
}

func probe(p Probe, failures int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		HttpGet:             &corev1.HTTPGetActionArgs{Path: pulumi.String(p.Path), Port: pulumi.String(PortName)},
		InitialDelaySeconds: pulumi.Int(p.InitialDelaySeconds),
		PeriodSeconds:       pulumi.Int(p.Period),
		TimeoutSeconds:      pulumi.Int(3),
		FailureThreshold:    pulumi.Int(failures),
	}
}

// env is the container's environment, sorted by name: the port, plain
// settings, then the variables read from synced Secrets.
func env(args *Args) corev1.EnvVarArray {
	vars := corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("PORT"), Value: pulumi.Sprintf("%d", args.Port)}}
	names := make([]string, 0, len(args.Env))
	for k := range args.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vars = append(vars, corev1.EnvVarArgs{Name: pulumi.String(k), Value: pulumi.String(args.Env[k])})
	}
	computed := make([]string, 0, len(args.ComputedEnv))
	for k := range args.ComputedEnv {
		computed = append(computed, k)
	}
	sort.Strings(computed)
	for _, k := range computed {
		vars = append(vars, corev1.EnvVarArgs{Name: pulumi.String(k), Value: args.ComputedEnv[k]})
	}
	vars = append(vars, telemetryEnv(args)...)
	for _, s := range args.SecretEnv {
		vars = append(vars, corev1.EnvVarArgs{
			Name: pulumi.String(s.Name),
			ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
				Name: pulumi.String(s.Secret), Key: pulumi.String(s.Key),
			}},
		})
	}
	return vars
}

// telemetryEnv are the OpenTelemetry SDK's own variables: where to send,
// as whom, which version, and how much to sample. A request keeps its
// caller's sampling decision (parentbased), so a trace is whole or absent.
func telemetryEnv(args *Args) corev1.EnvVarArray {
	t := args.Telemetry
	if t.Endpoint == "" {
		return nil
	}
	attributes := strings.Join([]string{
		"deployment.environment.name=" + t.Environment,
		"service.namespace=" + args.Namespace,
		"service.version=" + ImageVersion(args.Image),
	}, ",")
	var vars corev1.EnvVarArray
	for _, kv := range [][2]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", t.Endpoint},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
		{"OTEL_RESOURCE_ATTRIBUTES", attributes},
		{"OTEL_SERVICE_NAME", args.Name},
		{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
		{"OTEL_TRACES_SAMPLER_ARG", strconv.FormatFloat(t.SamplingRatio, 'f', -1, 64)},
	} {
		vars = append(vars, corev1.EnvVarArgs{Name: pulumi.String(kv[0]), Value: pulumi.String(kv[1])})
	}
	return vars
}

// ImageVersion is the version an image reference names: its tag, or its
// digest when pinned by one.
func ImageVersion(image string) string {
	if _, digest, ok := strings.Cut(image, "@"); ok {
		return digest
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return "unknown"
}
