package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/policydoc"
	"github.com/personalization/platform/components/internal/release"
)

// Chart versions, pinned: an upgrade is a reviewed change of these lines.
const (
	ClusterAutoscalerChart        = "cluster-autoscaler"
	ClusterAutoscalerChartVersion = "9.46.6"
	ClusterAutoscalerRepo         = "https://kubernetes.github.io/autoscaler"
	LoadBalancerControllerChart   = "aws-load-balancer-controller"
	LoadBalancerControllerVersion = "1.14.0"
	LoadBalancerControllerRepo    = "https://aws.github.io/eks-charts"
)

// Service accounts of the platform's controllers, in kube-system.
const (
	SystemNamespace              = "kube-system"
	CNIServiceAccount            = "aws-node"
	EBSCSIServiceAccount         = "ebs-csi-controller-sa"
	AutoscalerServiceAccount     = "cluster-autoscaler"
	LoadBalancerControllerSA     = "aws-load-balancer-controller"
	DefaultStorageClassName      = "gp3"
	defaultStorageClassAnnotaton = "storageclass.kubernetes.io/is-default-class"
)

// networkAddons installs the CNI and kube-proxy, which nodes need to
// become Ready, so they go in before the node groups.
func (b *builder) networkAddons(cluster *eks.Cluster, oidc *OIDC) ([]pulumi.Resource, error) {
	cniRole, err := oidc.NewRole(b.ctx, b.child("vpc-cni"), RoleArgs{
		Namespace: SystemNamespace, ServiceAccount: CNIServiceAccount,
		Description:       "VPC CNI: assigns pod IP addresses",
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"},
	}, b.parent)
	if err != nil {
		return nil, err
	}
	cni, err := b.addon("vpc-cni", cluster, cniRole.Arn)
	if err != nil {
		return nil, err
	}
	proxy, err := b.addon("kube-proxy", cluster, nil)
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{cni, proxy}, nil
}

// addons installs what needs nodes to run on: CoreDNS, the EBS CSI driver
// and the default StorageClass, the cluster autoscaler and the AWS Load
// Balancer Controller.
// It returns what pods of later releases wait for beside the nodes.
func (b *builder) addons(cluster *eks.Cluster, oidc *OIDC, k8s *kubernetes.Provider, nodes []pulumi.Resource) ([]pulumi.Resource, error) {
	onNodes := pulumi.DependsOn(nodes)
	coredns, err := b.addon("coredns", cluster, nil, onNodes)
	if err != nil {
		return nil, err
	}
	ebsRole, err := oidc.NewRole(b.ctx, b.child("ebs-csi"), RoleArgs{
		Namespace: SystemNamespace, ServiceAccount: EBSCSIServiceAccount,
		Description:       "EBS CSI driver: creates and attaches volumes",
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"},
	}, b.parent)
	if err != nil {
		return nil, err
	}
	ebs, err := b.addon("aws-ebs-csi-driver", cluster, ebsRole.Arn, onNodes)
	if err != nil {
		return nil, err
	}
	withK8s := []pulumi.ResourceOption{b.parent, pulumi.Provider(k8s)}
	storageClass, err := storagev1.NewStorageClass(b.ctx, b.child("gp3"), &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(DefaultStorageClassName),
			Annotations: pulumi.StringMap{defaultStorageClassAnnotaton: pulumi.String("true")},
		},
		Provisioner:          pulumi.String("ebs.csi.aws.com"),
		Parameters:           pulumi.StringMap{"type": pulumi.String("gp3"), "encrypted": pulumi.String("true")},
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		AllowVolumeExpansion: pulumi.Bool(true),
		ReclaimPolicy:        pulumi.String("Delete"),
	}, append(withK8s, pulumi.DependsOn([]pulumi.Resource{ebs}))...)
	if err != nil {
		return nil, fmt.Errorf("storage class: %w", err)
	}
	if err := b.autoscaler(cluster, oidc, append(withK8s, onNodes)); err != nil {
		return nil, err
	}
	lb, err := b.loadBalancerController(cluster, oidc, append(withK8s, onNodes))
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{coredns, storageClass, lb}, nil
}

func (b *builder) addon(name string, cluster *eks.Cluster, role pulumi.StringInput, opts ...pulumi.ResourceOption) (*eks.Addon, error) {
	addon, err := eks.NewAddon(b.ctx, b.child(name), &eks.AddonArgs{
		ClusterName:              cluster.Name,
		AddonName:                pulumi.String(name),
		ServiceAccountRoleArn:    role,
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
	}, append([]pulumi.ResourceOption{b.parent}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("addon %s: %w", name, err)
	}
	return addon, nil
}

// autoscaler is the Kubernetes cluster autoscaler on the managed node
// groups' auto scaling groups, found by the tags EKS puts on them. Chosen
// over Karpenter: it scales the managed node groups the profile declares
// (one source of truth for sizes and instance types), needs no interruption
// queue or extra CRDs, and its behaviour is the well-known one; see
// docs/decisions for when Karpenter would pay off.
func (b *builder) autoscaler(cluster *eks.Cluster, oidc *OIDC, opts []pulumi.ResourceOption) error {
	policy := cluster.Name.ApplyT(func(name string) string {
		return policydoc.New(
			policydoc.Statement{
				Sid:    "Discover",
				Effect: "Allow",
				Action: []string{
					"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
					"autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
					"autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
					"ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
					"eks:DescribeNodegroup",
				},
				Resource: []string{"*"},
			},
			policydoc.Statement{
				Sid:      "ScaleOwnGroupsOnly",
				Effect:   "Allow",
				Action:   []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
				Resource: []string{"*"},
				Condition: map[string]map[string]any{"StringEquals": {
					"aws:ResourceTag/k8s.io/cluster-autoscaler/" + name: "owned",
				}},
			},
		).JSON()
	}).(pulumi.StringOutput)
	role, err := oidc.NewRole(b.ctx, b.child("autoscaler"), RoleArgs{
		Namespace: SystemNamespace, ServiceAccount: AutoscalerServiceAccount,
		Description: "Cluster autoscaler: resizes this cluster's node groups", Policy: policy,
	}, b.parent)
	if err != nil {
		return err
	}
	_, err = helmv3.NewRelease(b.ctx, b.child("autoscaler"), &helmv3.ReleaseArgs{
		Name:           pulumi.String("cluster-autoscaler"),
		Chart:          pulumi.String(ClusterAutoscalerChart),
		Version:        pulumi.String(ClusterAutoscalerChartVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(ClusterAutoscalerRepo)},
		Namespace:      pulumi.String(SystemNamespace),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(release.PodsTimeoutSeconds),
		Values: pulumi.Map{
			"autoDiscovery": pulumi.Map{"clusterName": cluster.Name},
			"awsRegion":     pulumi.String(b.args.Region),
			// The autoscaler's minor version must match the cluster's.
			"image": pulumi.Map{"tag": pulumi.String("v" + b.args.Version + ".0")},
			"rbac": pulumi.Map{"serviceAccount": pulumi.Map{
				"create":      pulumi.Bool(true),
				"name":        pulumi.String(AutoscalerServiceAccount),
				"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": role.Arn},
			}},
			"extraArgs": pulumi.Map{
				"balance-similar-node-groups":   pulumi.Bool(true),
				"expander":                      pulumi.String("least-waste"),
				"skip-nodes-with-system-pods":   pulumi.Bool(false),
				"skip-nodes-with-local-storage": pulumi.Bool(false),
			},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("cluster autoscaler: %w", err)
	}
	return nil
}

// loadBalancerController turns Ingresses and LoadBalancer Services into
// ALBs and NLBs in the subnets tagged for them.
func (b *builder) loadBalancerController(cluster *eks.Cluster, oidc *OIDC, opts []pulumi.ResourceOption) (*helmv3.Release, error) {
	role, err := oidc.NewRole(b.ctx, b.child("lb-controller"), RoleArgs{
		Namespace: SystemNamespace, ServiceAccount: LoadBalancerControllerSA,
		Description: "AWS Load Balancer Controller: manages this cluster's load balancers",
		Policy:      pulumi.String(loadBalancerControllerPolicy().JSON()),
	}, b.parent)
	if err != nil {
		return nil, err
	}
	release, err := helmv3.NewRelease(b.ctx, b.child("lb-controller"), &helmv3.ReleaseArgs{
		Name:           pulumi.String(LoadBalancerControllerChart),
		Chart:          pulumi.String(LoadBalancerControllerChart),
		Version:        pulumi.String(LoadBalancerControllerVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(LoadBalancerControllerRepo)},
		Namespace:      pulumi.String(SystemNamespace),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(release.PodsTimeoutSeconds),
		Values: pulumi.Map{
			"clusterName":  cluster.Name,
			"replicaCount": pulumi.Int(2),
			// With a hop limit of 1 the controller cannot ask the instance
			// metadata service for these.
			"region": pulumi.String(b.args.Region),
			"vpcId":  b.args.VpcID,
			"serviceAccount": pulumi.Map{
				"create":      pulumi.Bool(true),
				"name":        pulumi.String(LoadBalancerControllerSA),
				"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": role.Arn},
			},
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("load balancer controller: %w", err)
	}
	return release, nil
}
