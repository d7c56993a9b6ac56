package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/bootstrap"
	"github.com/personalization/platform/components/runners"
	"github.com/personalization/platform/stacks"
)

// Bootstrap is the bootstrap project's program (bootstrap/Pulumi.yaml): run
// once per AWS account with a local backend, it makes the state bucket, the
// secrets key and the pipelines' roles every stack of Program stands on.
func Bootstrap(ctx *pulumi.Context) error {
	b, err := stacks.LoadBootstrap(ctx)
	if err != nil {
		return err
	}
	provider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region: pulumi.String(b.Region),
		// The roles may only be assumed in the account the stack says.
		AllowedAccountIds: pulumi.StringArray{pulumi.String(b.AccountID)},
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{
			"project": pulumi.String(stacks.Project), "environment": pulumi.String("account"), "managed-by": pulumi.String("pulumi"),
		}},
	})
	if err != nil {
		return fmt.Errorf("aws provider: %w", err)
	}
	deploy := map[string]string{}
	for _, env := range b.Environments {
		deploy[string(env)] = stacks.DeployRoleName(env)
	}
	f, err := bootstrap.New(ctx, "foundation", &bootstrap.Args{
		Name: stacks.Project, AccountID: b.AccountID, Repository: b.Repository,
		PreviewRoleName: stacks.PreviewRoleName, DeployRoleNames: deploy,
		BreakGlassRoleName: stacks.BreakGlassRoleName, DeploySessionSeconds: stacks.DeploySessionSeconds,
		PreviewPolicyARNs: b.PreviewPolicyARNs, DeployPolicyARNs: b.DeployPolicyARNs,
		StateNoncurrentDays: b.StateNoncurrentDays,
	}, pulumi.Provider(provider))
	if err != nil {
		return err
	}
	run, err := runners.New(ctx, "runners", &runners.Args{
		Name: stacks.RunnerProject, Region: b.Region, AccountID: b.AccountID, Repository: b.Repository,
		CIDR: b.RunnerCIDR, Zones: 2, ComputeType: b.RunnerComputeType, Image: b.RunnerImage,
		BuildTimeoutMinutes: stacks.DeploySessionSeconds / 60, LogRetentionDays: 30,
		GitHubToken: pulumi.ToSecret(pulumi.String(b.GitHubToken)).(pulumi.StringOutput),
	}, pulumi.Provider(provider))
	if err != nil {
		return err
	}
	// What the main project's stacks and the workflows are set up with.
	ctx.Export("stateBucket", f.StateBucket)
	ctx.Export("backendUrl", pulumi.Sprintf("s3://%s", f.StateBucket))
	ctx.Export("secretsProvider", pulumi.Sprintf("awskms://%s?region=%s", f.SecretsKeyAlias, b.Region))
	ctx.Export("githubOidcProviderArn", f.OIDCProviderARN)
	ctx.Export("previewRoleArn", f.PreviewRoleARN)
	ctx.Export("deployRoleArns", f.DeployRoleARNs)
	ctx.Export("breakGlassRoleArn", f.BreakGlassRoleARN)
	// The repository variable RUNNER_PROJECT, and the addresses every
	// stack's API endpoint admits (found there by their tag).
	ctx.Export("runnerProject", run.ProjectName)
	ctx.Export("runnerEgressIps", run.EgressIPs)
	return nil
}
