// Package appnamespace is the application namespace: Pod Security
// Admission "restricted", a quota and default limits, a default-deny
// network policy, and the connection strings the services need, synced
// from Secrets Manager by the External Secrets Operator so that no Pulumi
// input or Kubernetes manifest ever holds a password.
package appnamespace

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/addons"
	"github.com/personalization/platform/components/cluster"
	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:apps:Namespace"

// The synced Secrets and their keys.
const (
	DatabaseURLSecret = "database-url"
	DatabaseURLKey    = "DATABASE_URL"
	RedisURLSecret    = "redis-url"
	RedisURLKey       = "REDIS_URL"
	// SecretStoreName is the namespace's store; its service account has the
	// only IRSA role that may read the two secrets.
	SecretStoreName    = "aws-secrets-manager"
	SecretStoreAccount = "external-secrets"
	// RefreshInterval is how soon a rotated password reaches the cluster.
	RefreshInterval = "1h"
)

// Args configure the namespace.
type Args struct {
	Name   string
	Region string
	Quota  Quota
	// DefaultRequests and DefaultLimits are the LimitRange's container
	// defaults: CPU, memory.
	DefaultRequests, DefaultLimits [2]string

	OIDC *cluster.OIDC

	Database Endpoint
	Redis    Endpoint
}

// Quota is the namespace's ResourceQuota.
type Quota struct {
	RequestsCPU, RequestsMemory, LimitsCPU, LimitsMemory string
	Pods                                                 int
}

// Endpoint is a data service: where it listens and the Secrets Manager
// secret (and its key) holding its credentials.
type Endpoint struct {
	Host      pulumi.StringInput
	Port      pulumi.IntInput
	SecretARN pulumi.StringInput
	KeyARN    pulumi.StringInput
	// Database is the database name (PostgreSQL only).
	Database string
}

// Namespace is the application namespace, ready for workloads.
type Namespace struct {
	pulumi.ResourceState

	Name string
	// Ready is what a workload in the namespace depends on.
	Ready []pulumi.Resource
}

// New builds the namespace through the Kubernetes provider in opts; the
// IRSA role goes through the AWS provider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Namespace, error) {
	if args == nil || args.Name == "" || args.OIDC == nil || args.Region == "" {
		return nil, errors.New("appnamespace: args with a name, a region and the cluster's OIDC provider are required")
	}
	n := &Namespace{Name: args.Name}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, fmt.Errorf("appnamespace: register: %w", err)
	}
	if err := build(ctx, name, args, n); err != nil {
		return nil, fmt.Errorf("appnamespace %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{"name": pulumi.String(args.Name)}); err != nil {
		return nil, fmt.Errorf("appnamespace: register outputs: %w", err)
	}
	return n, nil
}

func build(ctx *pulumi.Context, name string, args *Args, n *Namespace) error {
	parent := pulumi.Parent(n)
	meta := func(objectName string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objectName), Namespace: pulumi.String(args.Name)}
	}
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(args.Name),
			Labels: pulumi.StringMap{
				"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
				"pod-security.kubernetes.io/audit":   pulumi.String("restricted"),
				"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
			},
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	inNS := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}

	if _, err := corev1.NewResourceQuota(ctx, name, &corev1.ResourceQuotaArgs{
		Metadata: meta("quota"),
		Spec: &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{
			"requests.cpu":    pulumi.String(args.Quota.RequestsCPU),
			"requests.memory": pulumi.String(args.Quota.RequestsMemory),
			"limits.cpu":      pulumi.String(args.Quota.LimitsCPU),
			"limits.memory":   pulumi.String(args.Quota.LimitsMemory),
			"pods":            pulumi.Sprintf("%d", args.Quota.Pods),
		}},
	}, inNS...); err != nil {
		return fmt.Errorf("resource quota: %w", err)
	}
	if _, err := corev1.NewLimitRange(ctx, name, &corev1.LimitRangeArgs{
		Metadata: meta("defaults"),
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(args.DefaultRequests[0]), "memory": pulumi.String(args.DefaultRequests[1])},
			Default:        pulumi.StringMap{"cpu": pulumi.String(args.DefaultLimits[0]), "memory": pulumi.String(args.DefaultLimits[1])},
		}}},
	}, inNS...); err != nil {
		return fmt.Errorf("limit range: %w", err)
	}
	// Nothing in, nothing out, unless a workload's own policy says so.
	denyAll, err := networkingv1.NewNetworkPolicy(ctx, name+"-default-deny", &networkingv1.NetworkPolicyArgs{
		Metadata: meta("default-deny"),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		},
	}, inNS...)
	if err != nil {
		return fmt.Errorf("default deny: %w", err)
	}

	store, err := secretStore(ctx, name, args, parent, inNS)
	if err != nil {
		return err
	}
	afterStore := append(inNS, pulumi.DependsOn([]pulumi.Resource{store}))
	dbURL := pulumi.All(args.Database.Host, args.Database.Port).ApplyT(func(v []any) string {
		return fmt.Sprintf("postgresql://{{ .username }}:{{ .password | urlquery }}@%s:%d/%s?sslmode=require", v[0], v[1], args.Database.Database)
	}).(pulumi.StringOutput)
	dbSecret, err := externalSecret(ctx, name+"-database-url", args.Name, DatabaseURLSecret, DatabaseURLKey, dbURL,
		args.Database.SecretARN, []string{"username", "password"}, afterStore)
	if err != nil {
		return err
	}
	redisURL := pulumi.All(args.Redis.Host, args.Redis.Port).ApplyT(func(v []any) string {
		return fmt.Sprintf("rediss://:{{ .token | urlquery }}@%s:%d", v[0], v[1])
	}).(pulumi.StringOutput)
	redisSecret, err := externalSecret(ctx, name+"-redis-url", args.Name, RedisURLSecret, RedisURLKey, redisURL,
		args.Redis.SecretARN, []string{"token"}, afterStore)
	if err != nil {
		return err
	}
	n.Ready = []pulumi.Resource{ns, denyAll, dbSecret, redisSecret}
	return nil
}

// secretStore is the namespace's SecretStore, authenticating as its own
// service account through IRSA, which may read exactly the two secrets.
func secretStore(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption, opts []pulumi.ResourceOption) (pulumi.Resource, error) {
	policy := pulumi.All(args.Database.SecretARN, args.Redis.SecretARN, args.Database.KeyARN, args.Redis.KeyARN).ApplyT(func(v []any) string {
		return policydoc.New(
			policydoc.Statement{
				Effect:   "Allow",
				Action:   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
				Resource: []string{v[0].(string), v[1].(string)},
			},
			policydoc.Statement{
				Effect:    "Allow",
				Action:    []string{"kms:Decrypt"},
				Resource:  []string{v[2].(string), v[3].(string)},
				Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager." + args.Region + ".amazonaws.com"}},
			},
		).JSON()
	}).(pulumi.StringOutput)
	role, err := args.OIDC.NewRole(ctx, name+"-secrets", cluster.RoleArgs{
		Namespace: args.Name, ServiceAccount: SecretStoreAccount,
		Description: "External Secrets store of namespace " + args.Name + ": reads the database and Redis credentials",
		Policy:      policy,
	}, parent)
	if err != nil {
		return nil, err
	}
	sa, err := corev1.NewServiceAccount(ctx, name+"-secrets", &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(SecretStoreAccount),
			Namespace:   pulumi.String(args.Name),
			Annotations: pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Arn},
		},
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("secret store account: %w", err)
	}
	store, err := apiextensions.NewCustomResource(ctx, name+"-secret-store", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(addons.ExternalSecretsAPI),
		Kind:       pulumi.String("SecretStore"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(SecretStoreName), Namespace: pulumi.String(args.Name)},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"provider": pulumi.Map{"aws": pulumi.Map{
				"service": pulumi.String("SecretsManager"),
				"region":  pulumi.String(args.Region),
				"auth": pulumi.Map{"jwt": pulumi.Map{
					"serviceAccountRef": pulumi.Map{"name": sa.Metadata.Name().Elem()},
				}},
			}},
		}},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("secret store: %w", err)
	}
	return store, nil
}

// externalSecret syncs properties of a Secrets Manager secret into a
// Kubernetes Secret holding one key, rendered from template.
func externalSecret(ctx *pulumi.Context, name, namespace, secretName, key string, template pulumi.StringInput,
	remote pulumi.StringInput, properties []string, opts []pulumi.ResourceOption) (pulumi.Resource, error) {
	var data pulumi.Array
	for _, p := range properties {
		data = append(data, pulumi.Map{
			"secretKey": pulumi.String(p),
			"remoteRef": pulumi.Map{"key": remote, "property": pulumi.String(p)},
		})
	}
	es, err := apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(addons.ExternalSecretsAPI),
		Kind:       pulumi.String("ExternalSecret"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(secretName), Namespace: pulumi.String(namespace)},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"refreshInterval": pulumi.String(RefreshInterval),
			"secretStoreRef":  pulumi.Map{"name": pulumi.String(SecretStoreName), "kind": pulumi.String("SecretStore")},
			"target": pulumi.Map{
				"name":           pulumi.String(secretName),
				"creationPolicy": pulumi.String("Owner"),
				"template": pulumi.Map{
					"engineVersion": pulumi.String("v2"),
					"data":          pulumi.Map{key: template},
				},
			},
			"data": data,
		}},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("external secret %s: %w", secretName, err)
	}
	return es, nil
}
