// Package runners is where the pipelines' cluster-facing jobs run: AWS
// CodeBuild-hosted GitHub Actions runners in a small VPC of their own, whose
// traffic leaves through NAT gateways with fixed Elastic IPs. Those
// addresses are tagged, and each stack's EKS API endpoint admits them and
// nothing else from the internet (docs/decisions/0009). It exists once per
// account, made by the bootstrap project before any stack, so the very first
// `pulumi up` of a stack already has somewhere to run that can reach the
// cluster it creates.
package runners

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/codebuild"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/policydoc"
	"github.com/personalization/platform/components/logging"
	"github.com/personalization/platform/components/network"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:runners:Runners"

// EgressTagKey and EgressTagValue mark the runners' egress addresses; the
// stacks look their EKS allow-list up by this tag.
const (
	EgressTagKey   = "personalization-platform:egress"
	EgressTagValue = "deploy-runners"
)

// QueuedJobEvent is the GitHub webhook event CodeBuild starts a runner on.
const QueuedJobEvent = "WORKFLOW_JOB_QUEUED"

// Args configure the runners.
type Args struct {
	// Name names the CodeBuild project (the workflows' runs-on label is
	// codebuild-<Name>-<run id>-<attempt>), the VPC and the log key.
	Name      string
	Region    string
	AccountID string
	// Repository ("owner/name") is the GitHub repository whose queued jobs
	// start runners.
	Repository string
	// CIDR, Zones: the runner VPC (one NAT gateway: one egress address).
	CIDR  string
	Zones int
	// ComputeType and Image are the CodeBuild environment of each runner.
	ComputeType string
	Image       string
	// BuildTimeoutMinutes bounds one job: at least the deploy role's
	// session.
	BuildTimeoutMinutes int
	// LogRetentionDays keeps the runners' and the VPC's logs.
	LogRetentionDays int
	// GitHubToken lets CodeBuild register its webhook on the repository
	// (a secret).
	GitHubToken pulumi.StringInput
}

// Runners are the account's deploy runners.
type Runners struct {
	pulumi.ResourceState

	// ProjectName is the CodeBuild project: the RUNNER_PROJECT variable.
	ProjectName pulumi.StringOutput `pulumi:"projectName"`
	// EgressIPs are the addresses every runner's traffic leaves by.
	EgressIPs pulumi.StringArrayOutput `pulumi:"egressIps"`
}

func (a *Args) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	var errs []error
	// In field order, so the joined error reads the same every time.
	for _, f := range []struct {
		name  string
		empty bool
	}{
		{"Name", a.Name == ""}, {"Region", a.Region == ""}, {"AccountID", a.AccountID == ""}, {"Repository", a.Repository == ""},
		{"CIDR", a.CIDR == ""}, {"ComputeType", a.ComputeType == ""}, {"Image", a.Image == ""}, {"GitHubToken", a.GitHubToken == nil},
	} {
		if f.empty {
			errs = append(errs, fmt.Errorf("%s is required", f.name))
		}
	}
	if a.BuildTimeoutMinutes < 5 || a.BuildTimeoutMinutes > 2160 {
		errs = append(errs, fmt.Errorf("BuildTimeoutMinutes %d is outside CodeBuild's 5 to 2160", a.BuildTimeoutMinutes))
	}
	return errors.Join(errs...)
}

// New builds the runners through the AWS provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Runners, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("runners: %w", err)
	}
	r := &Runners{}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, fmt.Errorf("runners: register: %w", err)
	}
	parent := pulumi.Parent(r)

	logs, err := logging.New(ctx, name+"-logging", &logging.Args{Name: args.Name, Region: args.Region, AccountID: args.AccountID}, parent)
	if err != nil {
		return nil, fmt.Errorf("runners: %w", err)
	}
	net, err := network.New(ctx, name+"-network", &network.Args{
		NamePrefix: args.Name, Region: args.Region, CIDR: args.CIDR, Zones: args.Zones,
		FlowLogRetentionDays: args.LogRetentionDays, FlowLogKMSKeyARN: logs.KeyARN,
		EgressTags: map[string]string{EgressTagKey: EgressTagValue},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runners: %w", err)
	}

	// HTTPS out and nothing in: GitHub, the AWS APIs, the Go module proxy
	// and the clusters' API endpoints all answer on 443; DNS goes to the
	// VPC resolver, which security groups do not filter.
	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		Description: pulumi.String("CodeBuild-hosted GitHub Actions runners: HTTPS out only"),
		VpcId:       net.VpcID,
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Description: pulumi.String("HTTPS to GitHub, AWS APIs and the clusters"),
			Protocol:    pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
			CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runners: security group: %w", err)
	}
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/codebuild/" + args.Name),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        logs.KeyARN,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runners: log group: %w", err)
	}
	role, err := serviceRole(ctx, name, args, logGroup.Arn, net.PrivateSubnetIDs, parent)
	if err != nil {
		return nil, err
	}
	credential, err := codebuild.NewSourceCredential(ctx, name+"-github", &codebuild.SourceCredentialArgs{
		AuthType: pulumi.String("PERSONAL_ACCESS_TOKEN"), ServerType: pulumi.String("GITHUB"), Token: args.GitHubToken,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runners: source credential: %w", err)
	}
	project, err := codebuild.NewProject(ctx, name+"-project", &codebuild.ProjectArgs{
		Name:         pulumi.String(args.Name),
		Description:  pulumi.String("GitHub Actions runners for " + args.Repository + "'s cluster-facing jobs"),
		ServiceRole:  role.Arn,
		BuildTimeout: pulumi.Int(args.BuildTimeoutMinutes),
		Source: &codebuild.ProjectSourceArgs{
			Type: pulumi.String("GITHUB"), Location: pulumi.String("https://github.com/" + args.Repository + ".git"),
		},
		Artifacts: &codebuild.ProjectArtifactsArgs{Type: pulumi.String("NO_ARTIFACTS")},
		Environment: &codebuild.ProjectEnvironmentArgs{
			Type: pulumi.String("LINUX_CONTAINER"), ComputeType: pulumi.String(args.ComputeType), Image: pulumi.String(args.Image),
			ImagePullCredentialsType: pulumi.String("CODEBUILD"),
		},
		VpcConfig: &codebuild.ProjectVpcConfigArgs{
			VpcId: net.VpcID, Subnets: net.PrivateSubnetIDs, SecurityGroupIds: pulumi.StringArray{sg.ID()},
		},
		LogsConfig: &codebuild.ProjectLogsConfigArgs{CloudwatchLogs: &codebuild.ProjectLogsConfigCloudwatchLogsArgs{
			GroupName: logGroup.Name, Status: pulumi.String("ENABLED"),
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{credential}))
	if err != nil {
		return nil, fmt.Errorf("runners: project: %w", err)
	}
	if _, err := codebuild.NewWebhook(ctx, name+"-webhook", &codebuild.WebhookArgs{
		ProjectName: project.Name,
		BuildType:   pulumi.String("BUILD"),
		FilterGroups: codebuild.WebhookFilterGroupArray{codebuild.WebhookFilterGroupArgs{
			Filters: codebuild.WebhookFilterGroupFilterArray{codebuild.WebhookFilterGroupFilterArgs{
				Type: pulumi.String("EVENT"), Pattern: pulumi.String(QueuedJobEvent),
			}},
		}},
	}, parent); err != nil {
		return nil, fmt.Errorf("runners: webhook: %w", err)
	}

	r.ProjectName = project.Name
	r.EgressIPs = net.NATPublicIPs
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"projectName": r.ProjectName, "egressIps": r.EgressIPs}); err != nil {
		return nil, fmt.Errorf("runners: register outputs: %w", err)
	}
	return r, nil
}

// serviceRole is what a runner's build may do as itself: write its logs
// and place its network interface in the runner subnets. The jobs' real
// work runs under the GitHub OIDC roles they assume.
func serviceRole(ctx *pulumi.Context, name string, args *Args, logGroupARN pulumi.StringOutput, subnets pulumi.StringArrayOutput, parent pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Description:      pulumi.String("CodeBuild-hosted GitHub Actions runners of " + args.Repository),
		AssumeRolePolicy: pulumi.String(policydoc.ServiceTrust("codebuild.amazonaws.com", args.AccountID).JSON()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runners: role: %w", err)
	}
	policy := pulumi.All(logGroupARN, subnets).ApplyT(func(v []any) string {
		return ServicePolicy(args.Region, args.AccountID, v[0].(string), v[1].([]string)).JSON()
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-role", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent); err != nil {
		return nil, fmt.Errorf("runners: role policy: %w", err)
	}
	return role, nil
}

// ServicePolicy is the CodeBuild service role's policy for a project in a
// VPC, as AWS documents it, with the network interface permission pinned
// to CodeBuild and the runner subnets.
func ServicePolicy(region, account, logGroupARN string, subnetIDs []string) policydoc.Document {
	subnets := make([]string, len(subnetIDs))
	for i, id := range subnetIDs {
		subnets[i] = fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", region, account, id)
	}
	return policydoc.New(
		policydoc.Statement{Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{logGroupARN, logGroupARN + ":*"}},
		policydoc.Statement{Sid: "DescribeNetwork", Effect: "Allow", Action: []string{
			"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeDhcpOptions",
			"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
		}, Resource: []string{"*"}},
		policydoc.Statement{Sid: "AttachInRunnerSubnets", Effect: "Allow", Action: []string{"ec2:CreateNetworkInterfacePermission"},
			Resource: []string{fmt.Sprintf("arn:aws:ec2:%s:%s:network-interface/*", region, account)},
			Condition: map[string]map[string]any{
				"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
				"ArnEquals":    {"ec2:Subnet": subnets},
			}},
	)
}
