package infra

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/cluster"
	"github.com/personalization/platform/components/runners"
	"github.com/personalization/platform/stacks"
)

// apiAllowList is who may reach the cluster's public API endpoint. Unless
// the stack lists CIDRs itself, it is the deploy runners' egress addresses,
// which the bootstrap project tags in this account and region: the first
// `pulumi up`, run on those runners, can reach the cluster it creates, and
// nobody else on the internet can (docs/decisions/0009).
func apiAllowList(ctx *pulumi.Context, profile *stacks.Profile, provider *aws.Provider, account string) ([]string, error) {
	c := profile.Cluster
	if !c.EndpointPublicAccess || len(c.PublicAccessCIDRs) > 0 {
		return c.PublicAccessCIDRs, nil
	}
	tags := map[string]string{runners.EgressTagKey: runners.EgressTagValue}
	eips, err := ec2.GetEips(ctx, &ec2.GetEipsArgs{Tags: tags}, pulumi.Provider(provider))
	if err != nil {
		return nil, fmt.Errorf("cluster API allow-list: looking up the deploy runners' addresses: %w", err)
	}
	if len(eips.PublicIps) == 0 {
		return nil, &stacks.FieldError{
			Key:   stacks.Project + ":cluster.publicAccessCidrs",
			Value: "[]",
			Problem: fmt.Sprintf("is empty, and account %s has no deploy-runner address (an Elastic IP tagged %s=%s) in %s",
				account, runners.EgressTagKey, runners.EgressTagValue, profile.Region),
			Allowed: "run the bootstrap project in this account and region first (README, first-time setup); " +
				"or list the runners' egress CIDRs in cluster.publicAccessCidrs; " +
				"or set cluster.endpointPublicAccess to false when every runner is inside the VPC",
		}
	}
	cidrs := make([]string, 0, len(eips.PublicIps))
	for _, ip := range eips.PublicIps {
		cidrs = append(cidrs, ip+"/32")
	}
	slices.Sort(cidrs)
	return cidrs, nil
}

// clusterAccess are the pipelines' and people's ways into the cluster, by
// the role names the bootstrap project gives them: the preview role reads
// (pull-request previews and the drift check see the Kubernetes layer),
// the break-glass role administers. The deploy role administers as the
// cluster's creator.
func clusterAccess(account string) []cluster.Access {
	role := func(name string) pulumi.StringInput {
		return pulumi.String("arn:aws:iam::" + account + ":role/" + name)
	}
	return []cluster.Access{
		{Name: "preview", PrincipalARN: role(stacks.PreviewRoleName), Policy: cluster.ViewPolicy},
		{Name: "breakglass", PrincipalARN: role(stacks.BreakGlassRoleName), Policy: cluster.ClusterAdminPolicy},
	}
}
