// Package firewall makes the security group of a data service: one port,
// open to one client security group (the cluster's nodes), nothing else.
package firewall

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args describe the group.
type Args struct {
	// Service names what listens ("PostgreSQL", "Redis") for descriptions.
	Service string
	// Name is the instance's name, for descriptions.
	Name  string
	Port  int
	VpcID pulumi.StringInput
	// Client is the only security group admitted.
	Client pulumi.StringInput
}

// OnePortFromClient makes <prefix>-sg, with no rule but <prefix>-from-nodes
// admitting the client on the port. There is no egress rule: a data
// service answers, it does not call out (policy NET-02).
func OnePortFromClient(ctx *pulumi.Context, prefix string, args Args, opts ...pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(ctx, prefix+"-sg", &ec2.SecurityGroupArgs{
		Description: pulumi.Sprintf("%s %s: %d from the cluster's nodes only", args.Service, args.Name, args.Port),
		VpcId:       args.VpcID,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("security group: %w", err)
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, prefix+"-from-nodes", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           sg.ID(),
		Description:               pulumi.String(args.Service + " from the EKS nodes"),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(args.Port),
		ToPort:                    pulumi.Int(args.Port),
		ReferencedSecurityGroupId: args.Client,
	}, opts...); err != nil {
		return nil, fmt.Errorf("security group rule: %w", err)
	}
	return sg, nil
}
