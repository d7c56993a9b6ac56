package runners_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/runners"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/stacks"
)

// TestRunnersReachTheClustersThroughTheirOwnAddress: the bootstrap's
// runners are a CodeBuild project in the runner VPC's private subnets,
// started by the repository's queued jobs, HTTPS out only, leaving by a
// NAT gateway whose Elastic IP carries the tag the stacks look up; the
// outputs are what the repository variable and the allow-lists need.
func TestRunnersReachTheClustersThroughTheirOwnAddress(t *testing.T) {
	g := platformtest.RenderBootstrap(t, nil)
	project := platformtest.Child(t, g, runners.TypeToken, "aws:codebuild/project:Project")
	if project.Input("name") != stacks.RunnerProject {
		t.Errorf("project %v, want %s (the RUNNER_PROJECT variable)", project.Input("name"), stacks.RunnerProject)
	}
	if loc, _ := project.Lookup("source.location"); loc != "https://github.com/acme/personalization-platform.git" {
		t.Errorf("source %v", loc)
	}
	private := privateSubnets(g)
	if subnets, _ := project.Lookup("vpcConfig.subnets"); !sameStrings(subnets, private) {
		t.Errorf("runners in subnets %v, want the runner VPC's private ones %v", subnets, private)
	}
	webhook := platformtest.Child(t, g, runners.TypeToken, "aws:codebuild/webhook:Webhook")
	raw, _ := json.Marshal(webhook.Input("filterGroups"))
	if !strings.Contains(string(raw), `"pattern":"WORKFLOW_JOB_QUEUED"`) || !strings.Contains(string(raw), `"type":"EVENT"`) {
		t.Errorf("webhook filters %s, want the queued-job event", raw)
	}
	if cred := platformtest.Child(t, g, runners.TypeToken, "aws:codebuild/sourceCredential:SourceCredential"); cred.Input("token") != graph.Secret {
		t.Errorf("the GitHub token is %v in the state, want a secret", cred.Input("token"))
	}
	sg := platformtest.Child(t, g, runners.TypeToken, "aws:ec2/securityGroup:SecurityGroup")
	if ingress := sg.Input("ingress"); ingress != nil {
		t.Errorf("ingress %v: runners take no connection", ingress)
	}
	egress, _ := sg.Input("egress").([]any)
	if len(egress) != 1 || egress[0].(map[string]any)["fromPort"] != float64(443) || egress[0].(map[string]any)["toPort"] != float64(443) {
		t.Errorf("egress %v, want HTTPS only", egress)
	}
	var tagged int
	for _, eip := range g.OfType("aws:ec2/eip:Eip") {
		if tags, _ := eip.Input("tags").(map[string]any); tags[runners.EgressTagKey] == runners.EgressTagValue {
			tagged++
		}
	}
	if tagged != 1 {
		t.Errorf("%d Elastic IPs carry %s=%s, want the runner NAT gateway's one", tagged, runners.EgressTagKey, runners.EgressTagValue)
	}
	if got, _ := g.Outputs["runnerEgressIps"].([]any); len(got) != 1 || got[0] != offline.RunnerEgressIPs()[0] {
		t.Errorf("runnerEgressIps %v, want %v", g.Outputs["runnerEgressIps"], offline.RunnerEgressIPs())
	}
	if g.Outputs["runnerProject"] != stacks.RunnerProject {
		t.Errorf("runnerProject %v", g.Outputs["runnerProject"])
	}
}

// TestServicePolicyPinsTheInterfacesToTheRunnerSubnets: CodeBuild may place
// network interfaces in the runner subnets only.
func TestServicePolicyPinsTheInterfacesToTheRunnerSubnets(t *testing.T) {
	doc := runners.ServicePolicy("eu-west-1", "123456789012", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/codebuild/r", []string{"subnet-a"})
	raw, _ := json.Marshal(doc)
	for _, want := range []string{`"ec2:AuthorizedService":"codebuild.amazonaws.com"`, `"ec2:Subnet":["arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-a"]`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("policy %s lacks %s", raw, want)
		}
	}
}

// TestArgsAreValidatedFieldByField: every missing or impossible field is
// named, all at once.
func TestArgsAreValidatedFieldByField(t *testing.T) {
	tests := []struct {
		name string
		args *runners.Args
		want []string
	}{
		{"nil", nil, []string{"args are required"}},
		{"empty", &runners.Args{}, []string{"Name is required", "Repository is required", "GitHubToken is required", "BuildTimeoutMinutes 0"}},
		{"timeout beyond CodeBuild's", &runners.Args{Name: "r", Region: "eu-west-1", AccountID: "123456789012", Repository: "a/b", CIDR: "10.250.0.0/20",
			ComputeType: "BUILD_GENERAL1_SMALL", Image: "img", GitHubToken: pulumi.String("t"), BuildTimeoutMinutes: 3000}, []string{"BuildTimeoutMinutes 3000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := runners.New(ctx, "runners", tt.args)
				return err
			}, pulumi.WithMocks("p", "s", noMocks{}))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

type noMocks struct{}

func (noMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name, args.Inputs, nil
}

func (noMocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

func privateSubnets(g *graph.Graph) []string {
	var ids []string
	for _, s := range g.OfType("aws:ec2/subnet:Subnet") {
		if strings.HasPrefix(s.Name, "runners-network-private-") {
			ids = append(ids, s.Name+"-id")
		}
	}
	return ids
}

func sameStrings(got any, want []string) bool {
	list, _ := got.([]any)
	if len(list) != len(want) || len(want) == 0 {
		return false
	}
	for i := range list {
		if list[i] != want[i] {
			return false
		}
	}
	return true
}
