// Package cluster is the EKS component: control plane with envelope
// encryption and every control-plane log, access entries, the OIDC provider
// for IAM Roles for Service Accounts, managed node groups behind an IMDSv2
// launch template, the core add-ons, cluster autoscaling, the AWS Load
// Balancer Controller, and the Kubernetes provider every later Kubernetes
// resource is created through.
package cluster

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:cluster:Cluster"

// ControlPlaneLogTypes are every log type the EKS control plane can send
// to CloudWatch (policy EKS-04).
func ControlPlaneLogTypes() []string {
	return []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
}

// Args configure the cluster.
type Args struct {
	// ClusterName is the EKS cluster's name. It is set, not auto-named,
	// because the control-plane log group must exist under
	// /aws/eks/<name>/cluster before the cluster does.
	ClusterName string
	// Region is the AWS region, for the kubeconfig and the controllers.
	Region string
	// Version is the Kubernetes minor version.
	Version string
	// VpcID and PrivateSubnetIDs place the cluster and its nodes.
	VpcID            pulumi.StringInput
	PrivateSubnetIDs pulumi.StringArrayInput
	// EndpointPublicAccess opens the public endpoint to PublicAccessCIDRs.
	EndpointPublicAccess bool
	PublicAccessCIDRs    []string
	// AdminPrincipals get cluster-admin through access entries.
	AdminPrincipals []string
	// Access are named principals' access entries (the pipelines'
	// preview role, the break-glass role), each with one access policy.
	Access []Access
	// LogRetentionDays is the control-plane log group's retention.
	LogRetentionDays int
	// LogKMSKeyARN encrypts the control-plane log group.
	LogKMSKeyARN pulumi.StringInput
	// NodeGroups are the managed node groups.
	NodeGroups []NodeGroup
	// Protect protects the cluster and its KMS key.
	Protect bool
}

// NodeGroup is one managed node group.
type NodeGroup struct {
	Name          string
	InstanceTypes []string
	Spot          bool
	MinSize       int
	DesiredSize   int
	MaxSize       int
	DiskSizeGiB   int
	Labels        map[string]string
	Taints        []Taint
}

// Access is one named principal's access to the cluster.
type Access struct {
	// Name suffixes the access entry's resource name: it keeps the entry's
	// URN when the principal's place in a list changes.
	Name         string
	PrincipalARN pulumi.StringInput
	// Policy is an EKS access policy: ViewPolicy or ClusterAdminPolicy.
	Policy string
}

// EKS access policies, by the names AWS gives them.
const (
	ViewPolicy         = "AmazonEKSViewPolicy"
	ClusterAdminPolicy = "AmazonEKSClusterAdminPolicy"
)

// Taint is a node taint, with an EKS effect ("NO_SCHEDULE").
type Taint struct{ Key, Value, Effect string }

// Cluster is the EKS cluster and what it needs to run workloads.
type Cluster struct {
	pulumi.ResourceState

	Name                pulumi.StringOutput `pulumi:"name"`
	Endpoint            pulumi.StringOutput `pulumi:"endpoint"`
	NodeSecurityGroupID pulumi.StringOutput `pulumi:"nodeSecurityGroupId"`
	OIDCProviderARN     pulumi.StringOutput `pulumi:"oidcProviderArn"`
	OIDCIssuerURL       pulumi.StringOutput `pulumi:"oidcIssuerUrl"`
	SecretsKeyARN       pulumi.StringOutput `pulumi:"secretsKeyArn"`
	// NodeRoleARN is the nodes' role: the registry lets it pull.
	NodeRoleARN pulumi.StringOutput `pulumi:"nodeRoleArn"`
	// Kubeconfig authenticates with `aws eks get-token`; a secret output.
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`

	// Provider is the Kubernetes provider built from Kubeconfig: every
	// Kubernetes resource of the platform is created through it.
	Provider *kubernetes.Provider
	// OIDC makes IRSA roles for service accounts of this cluster.
	OIDC *OIDC
	// Ready is what anything that schedules pods waits for: the node
	// groups, CoreDNS, the default StorageClass and the AWS Load Balancer
	// Controller (whose webhooks admit Services and pods).
	Ready []pulumi.Resource
}

// New builds the cluster. AWS resources take their provider from opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c := &Cluster{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("cluster: register: %w", err)
	}
	b := &builder{ctx: ctx, name: name, args: args, parent: pulumi.Parent(c)}
	if err := b.build(c); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":                c.Name,
		"endpoint":            c.Endpoint,
		"nodeSecurityGroupId": c.NodeSecurityGroupID,
		"oidcProviderArn":     c.OIDCProviderARN,
		"oidcIssuerUrl":       c.OIDCIssuerURL,
		"secretsKeyArn":       c.SecretsKeyARN,
		"nodeRoleArn":         c.NodeRoleARN,
		"kubeconfig":          c.Kubeconfig,
	}); err != nil {
		return nil, fmt.Errorf("cluster: register outputs: %w", err)
	}
	return c, nil
}

func (a *Args) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.ClusterName == "" || a.Region == "" || a.Version == "":
		return errors.New("cluster name, region and version are required")
	case len(a.NodeGroups) == 0:
		return errors.New("at least one node group is required")
	case a.EndpointPublicAccess && len(a.PublicAccessCIDRs) == 0:
		return errors.New("a public endpoint needs an allow-list of CIDRs")
	}
	for _, access := range a.Access {
		if access.Name == "" || access.PrincipalARN == nil || (access.Policy != ViewPolicy && access.Policy != ClusterAdminPolicy) {
			return fmt.Errorf("access %q needs a name, a principal and the policy %s or %s", access.Name, ViewPolicy, ClusterAdminPolicy)
		}
	}
	return nil
}

type builder struct {
	ctx    *pulumi.Context
	name   string
	args   *Args
	parent pulumi.ResourceOrInvokeOption
}

func (b *builder) child(suffix string) string { return b.name + "-" + suffix }

// stateful are the options of a resource whose loss loses data or access.
func (b *builder) stateful() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{b.parent, pulumi.Protect(b.args.Protect)}
}

func (b *builder) build(c *Cluster) error {
	key, err := keys.New(b.ctx, b.child("secrets"), keys.Args{
		Alias:       b.args.ClusterName + "-eks-secrets",
		Description: "Envelope encryption of Kubernetes secrets in EKS cluster " + b.args.ClusterName,
		Protect:     b.args.Protect,
	}, b.parent)
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}

	// EKS writes to /aws/eks/<name>/cluster; creating it first puts its
	// retention under code instead of "never expire".
	logGroup, err := cloudwatch.NewLogGroup(b.ctx, b.child("control-plane"), &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/eks/" + b.args.ClusterName + "/cluster"),
		RetentionInDays: pulumi.Int(b.args.LogRetentionDays),
		KmsKeyId:        b.args.LogKMSKeyARN,
	}, b.parent)
	if err != nil {
		return fmt.Errorf("control-plane log group: %w", err)
	}

	role, err := b.serviceRole("control-plane", "eks.amazonaws.com", "Lets the EKS control plane manage the cluster's AWS resources",
		[]string{"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"})
	if err != nil {
		return err
	}

	cluster, err := eks.NewCluster(b.ctx, b.child("eks"), &eks.ClusterArgs{
		Name:    pulumi.String(b.args.ClusterName),
		Version: pulumi.String(b.args.Version),
		RoleArn: role.Arn,
		VpcConfig: &eks.ClusterVpcConfigArgs{
			SubnetIds:             b.args.PrivateSubnetIDs,
			EndpointPrivateAccess: pulumi.Bool(true),
			EndpointPublicAccess:  pulumi.Bool(b.args.EndpointPublicAccess),
			PublicAccessCidrs:     pulumi.ToStringArray(b.args.PublicAccessCIDRs),
		},
		EncryptionConfig: &eks.ClusterEncryptionConfigArgs{
			Provider:  &eks.ClusterEncryptionConfigProviderArgs{KeyArn: key.Arn},
			Resources: pulumi.StringArray{pulumi.String("secrets")},
		},
		EnabledClusterLogTypes: pulumi.ToStringArray(ControlPlaneLogTypes()),
		AccessConfig: &eks.ClusterAccessConfigArgs{
			// Access entries only: no aws-auth ConfigMap to edit by hand.
			AuthenticationMode: pulumi.String("API"),
			// The principal that creates the cluster (the deploy role)
			// administers it, so the same run can deploy into it.
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		},
		// The core add-ons are managed below as EKS add-ons, with versions
		// and IRSA roles under code.
		BootstrapSelfManagedAddons: pulumi.Bool(false),
	}, append(b.stateful(), pulumi.DependsOn([]pulumi.Resource{logGroup}))...)
	if err != nil {
		return fmt.Errorf("eks cluster: %w", err)
	}

	c.Name = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.SecretsKeyARN = key.Arn
	c.NodeSecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	c.OIDCIssuerURL = cluster.Identities.Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer().Elem()

	oidc, err := b.oidcProvider(c.OIDCIssuerURL)
	if err != nil {
		return err
	}
	c.OIDC = oidc
	c.OIDCProviderARN = oidc.ProviderARN

	if err := b.accessEntries(cluster); err != nil {
		return err
	}
	network, err := b.networkAddons(cluster, oidc)
	if err != nil {
		return err
	}
	nodeGroups, nodeRole, err := b.nodeGroups(cluster, network)
	if err != nil {
		return err
	}
	c.NodeRoleARN = nodeRole
	c.Kubeconfig = kubeconfig(cluster, b.args.Region)
	// Through the provider, nothing Kubernetes is created before there
	// are nodes to run it, and on destroy everything Kubernetes goes
	// before the nodes do.
	provider, err := kubernetes.NewProvider(b.ctx, b.child("k8s"), &kubernetes.ProviderArgs{
		Kubeconfig:            c.Kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	}, b.parent, pulumi.DependsOn(nodeGroups))
	if err != nil {
		return fmt.Errorf("kubernetes provider: %w", err)
	}
	c.Provider = provider
	ready, err := b.addons(cluster, oidc, provider, nodeGroups)
	if err != nil {
		return err
	}
	c.Ready = append(append([]pulumi.Resource{}, nodeGroups...), ready...)
	return nil
}

// serviceRole is a role an AWS service assumes, with managed policies.
func (b *builder) serviceRole(suffix, service, description string, policies []string) (*iam.Role, error) {
	role, err := iam.NewRole(b.ctx, b.child(suffix), &iam.RoleArgs{
		Description:      pulumi.String(description),
		AssumeRolePolicy: pulumi.String(policydoc.ServiceTrust(service, "").JSON()),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("%s role: %w", suffix, err)
	}
	for i, arn := range policies {
		if _, err := iam.NewRolePolicyAttachment(b.ctx, fmt.Sprintf("%s-%d", b.child(suffix), i), &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(arn),
		}, b.parent); err != nil {
			return nil, fmt.Errorf("%s role policy %s: %w", suffix, arn, err)
		}
	}
	return role, nil
}

// accessEntries gives each admin principal cluster-admin, and each named
// access its policy, through the EKS access API, cluster-wide.
func (b *builder) accessEntries(cluster *eks.Cluster) error {
	access := make([]Access, 0, len(b.args.AdminPrincipals)+len(b.args.Access))
	for i, arn := range b.args.AdminPrincipals {
		access = append(access, Access{Name: fmt.Sprintf("admin-%d", i), PrincipalARN: pulumi.String(arn), Policy: ClusterAdminPolicy})
	}
	for _, a := range append(access, b.args.Access...) {
		entry, err := eks.NewAccessEntry(b.ctx, b.child(a.Name), &eks.AccessEntryArgs{
			ClusterName:  cluster.Name,
			PrincipalArn: a.PrincipalARN,
			Type:         pulumi.String("STANDARD"),
		}, b.parent)
		if err != nil {
			return fmt.Errorf("access entry %s: %w", a.Name, err)
		}
		if _, err := eks.NewAccessPolicyAssociation(b.ctx, b.child(a.Name), &eks.AccessPolicyAssociationArgs{
			ClusterName:  cluster.Name,
			PrincipalArn: entry.PrincipalArn,
			PolicyArn:    pulumi.String("arn:aws:eks::aws:cluster-access-policy/" + a.Policy),
			AccessScope:  &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
		}, b.parent); err != nil {
			return fmt.Errorf("access policy %s: %w", a.Name, err)
		}
	}
	return nil
}
