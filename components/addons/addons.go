// Package addons installs the cluster-wide operators the workload set
// relies on, in their own namespace: the External Secrets Operator, which
// syncs Secrets Manager secrets into Kubernetes Secrets, and Reloader,
// which rolls pods when a Secret they use changes.
package addons

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/release"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:addons:PlatformAddons"

// Pinned charts: an upgrade is a reviewed change of these lines. The
// External Secrets chart's version is also the Go module version whose CRDs
// the validator tests install.
const (
	Namespace = "platform"

	ExternalSecretsChart   = "external-secrets"
	ExternalSecretsVersion = "0.16.2"
	ExternalSecretsRepo    = "https://charts.external-secrets.io"
	// ExternalSecretsAPI is the API version of the CRDs that chart serves.
	ExternalSecretsAPI = "external-secrets.io/v1beta1"

	// Argo Rollouts 1.8.3; its CRDs come from the same version's module.
	RolloutsChart   = "argo-rollouts"
	RolloutsVersion = "2.40.2"
	RolloutsRepo    = "https://argoproj.github.io/argo-helm"

	ReloaderChart   = "reloader"
	ReloaderVersion = "2.1.3"
	ReloaderRepo    = "https://stakater.github.io/stakater-charts"
)

// PlatformAddons are the operators, ready once their releases are.
type PlatformAddons struct {
	pulumi.ResourceState

	// Ready is what a resource using the operators' CRDs depends on.
	Ready []pulumi.Resource
}

// New installs the add-ons through the Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*PlatformAddons, error) {
	a := &PlatformAddons{}
	if err := ctx.RegisterComponentResource(TypeToken, name, a, opts...); err != nil {
		return nil, fmt.Errorf("addons: register: %w", err)
	}
	parent := pulumi.Parent(a)
	ns, err := corev1.NewNamespace(ctx, name+"-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(Namespace),
			Labels: pulumi.StringMap{
				// Operators need no privilege: enforce baseline, warn on
				// anything short of restricted.
				"pod-security.kubernetes.io/enforce": pulumi.String("baseline"),
				"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
			},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("addons: namespace: %w", err)
	}
	inNamespace := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{ns})}

	// Each chart pinned, installed atomically into the platform namespace.
	charts := []struct {
		release, chart, version, repo string
		values                        pulumi.Map
	}{
		{"external-secrets", ExternalSecretsChart, ExternalSecretsVersion, ExternalSecretsRepo, pulumi.Map{
			"installCRDs":  pulumi.Bool(true),
			"replicaCount": pulumi.Int(2),
			// Stores are per namespace, each with its own IRSA role: the
			// controller itself holds no AWS permission.
			"serviceMonitor": pulumi.Map{"enabled": pulumi.Bool(false)},
		}},
		{"reloader", ReloaderChart, ReloaderVersion, ReloaderRepo, pulumi.Map{
			"reloader": pulumi.Map{"watchGlobally": pulumi.Bool(true), "readOnlyRootFileSystem": pulumi.Bool(true)},
		}},
		{"argo-rollouts", RolloutsChart, RolloutsVersion, RolloutsRepo, pulumi.Map{
			"installCRDs": pulumi.Bool(true),
			"controller": pulumi.Map{
				"replicas": pulumi.Int(2),
				// Scraped through the monitoring stack's ServiceMonitor.
				"metrics": pulumi.Map{"enabled": pulumi.Bool(true)},
			},
			"dashboard": pulumi.Map{"enabled": pulumi.Bool(false)},
		}},
	}
	for _, c := range charts {
		release, err := helmv3.NewRelease(ctx, name+"-"+c.release, &helmv3.ReleaseArgs{
			Name:           pulumi.String(c.release),
			Chart:          pulumi.String(c.chart),
			Version:        pulumi.String(c.version),
			RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(c.repo)},
			Namespace:      pulumi.String(Namespace),
			Atomic:         pulumi.Bool(true),
			Timeout:        pulumi.Int(release.PodsTimeoutSeconds),
			Values:         c.values,
		}, inNamespace...)
		if err != nil {
			return nil, fmt.Errorf("addons: %s: %w", c.release, err)
		}
		a.Ready = append(a.Ready, release)
	}
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{}); err != nil {
		return nil, fmt.Errorf("addons: register outputs: %w", err)
	}
	return a, nil
}
