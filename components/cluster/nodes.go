package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// nodeGroups makes the node role, one launch template per group, and the
// managed node groups over every private subnet.
func (b *builder) nodeGroups(cluster *eks.Cluster, after []pulumi.Resource) ([]pulumi.Resource, pulumi.StringOutput, error) {
	// The CNI's permissions are on its own IRSA role, not the node role:
	// pods cannot borrow them (EKS best practices, "IAM").
	role, err := b.serviceRole("nodes", "ec2.amazonaws.com", "Lets the cluster's nodes join it and pull images", []string{
		"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
	})
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	var groups []pulumi.Resource
	for _, ng := range b.args.NodeGroups {
		lt, err := ec2.NewLaunchTemplate(b.ctx, b.child("nodes-"+ng.Name), &ec2.LaunchTemplateArgs{
			Description: pulumi.Sprintf("Nodes of group %s: IMDSv2 only, encrypted gp3 root volume", ng.Name),
			// Tokens required and one hop: pods cannot reach the instance
			// metadata service, so they cannot take the node's role
			// (policies EKS-07, EKS-08).
			MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
				HttpEndpoint:            pulumi.String("enabled"),
				HttpTokens:              pulumi.String("required"),
				HttpPutResponseHopLimit: pulumi.Int(1),
			},
			BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{
				ec2.LaunchTemplateBlockDeviceMappingArgs{
					DeviceName: pulumi.String("/dev/xvda"),
					Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
						VolumeSize:          pulumi.Int(ng.DiskSizeGiB),
						VolumeType:          pulumi.String("gp3"),
						Encrypted:           pulumi.String("true"),
						DeleteOnTermination: pulumi.String("true"),
					},
				},
			},
			UpdateDefaultVersion: pulumi.Bool(true),
		}, b.parent)
		if err != nil {
			return nil, pulumi.StringOutput{}, fmt.Errorf("launch template %s: %w", ng.Name, err)
		}
		capacity := "ON_DEMAND"
		if ng.Spot {
			capacity = "SPOT"
		}
		var taints eks.NodeGroupTaintArray
		for _, t := range ng.Taints {
			taints = append(taints, eks.NodeGroupTaintArgs{
				Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(t.Effect),
			})
		}
		group, err := eks.NewNodeGroup(b.ctx, b.child("nodes-"+ng.Name), &eks.NodeGroupArgs{
			ClusterName:   cluster.Name,
			Version:       cluster.Version,
			NodeRoleArn:   role.Arn,
			SubnetIds:     b.args.PrivateSubnetIDs,
			AmiType:       pulumi.String("AL2023_x86_64_STANDARD"),
			InstanceTypes: pulumi.ToStringArray(ng.InstanceTypes),
			CapacityType:  pulumi.String(capacity),
			ScalingConfig: &eks.NodeGroupScalingConfigArgs{
				MinSize:     pulumi.Int(ng.MinSize),
				DesiredSize: pulumi.Int(ng.DesiredSize),
				MaxSize:     pulumi.Int(ng.MaxSize),
			},
			Labels: pulumi.ToStringMap(withGroupLabel(ng)),
			Taints: taints,
			LaunchTemplate: &eks.NodeGroupLaunchTemplateArgs{
				Id:      lt.ID(),
				Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
			},
			UpdateConfig: &eks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
		}, b.parent,
			// The autoscaler owns the desired size once the group exists.
			pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}),
			pulumi.DependsOn(after))
		if err != nil {
			return nil, pulumi.StringOutput{}, fmt.Errorf("node group %s: %w", ng.Name, err)
		}
		groups = append(groups, group)
	}
	return groups, role.Arn, nil
}

func withGroupLabel(ng NodeGroup) map[string]string {
	labels := map[string]string{"personalization.io/node-group": ng.Name}
	for k, v := range ng.Labels {
		labels[k] = v
	}
	return labels
}
