package cluster

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/policydoc"
)

// OIDC is the cluster's IAM OIDC provider: it makes roles that exactly one
// Kubernetes service account may assume (IAM Roles for Service Accounts).
type OIDC struct {
	ProviderARN pulumi.StringOutput
	IssuerURL   pulumi.StringOutput
}

func (b *builder) oidcProvider(issuer pulumi.StringOutput) (*OIDC, error) {
	provider, err := iam.NewOpenIdConnectProvider(b.ctx, b.child("oidc"), &iam.OpenIdConnectProviderArgs{
		Url:           issuer,
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	return &OIDC{ProviderARN: provider.Arn, IssuerURL: issuer}, nil
}

// RoleArgs describe an IRSA role.
type RoleArgs struct {
	Namespace      string
	ServiceAccount string
	Description    string
	// Policy is an inline policy document (JSON); may be nil.
	Policy pulumi.StringInput
	// ManagedPolicyARNs are AWS-managed policies to attach.
	ManagedPolicyARNs []string
}

// NewRole makes a role that only the service account Namespace/
// ServiceAccount of this cluster can assume: the trust policy pins `sub` to
// that one account and `aud` to STS (policy IAM-02).
func (o *OIDC) NewRole(ctx *pulumi.Context, name string, args RoleArgs, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	trust := pulumi.All(o.ProviderARN, o.IssuerURL).ApplyT(func(v []any) string {
		return TrustPolicy(v[0].(string), v[1].(string), args.Namespace, args.ServiceAccount).JSON()
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String(args.Description),
		AssumeRolePolicy: trust,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("irsa role %s: %w", name, err)
	}
	if args.Policy != nil {
		if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.Name, Policy: args.Policy}, opts...); err != nil {
			return nil, fmt.Errorf("irsa role %s policy: %w", name, err)
		}
	}
	for i, arn := range args.ManagedPolicyARNs {
		if _, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(arn),
		}, opts...); err != nil {
			return nil, fmt.Errorf("irsa role %s attachment: %w", name, err)
		}
	}
	return role, nil
}

// TrustPolicy is the IRSA trust policy of one service account.
func TrustPolicy(providerARN, issuerURL, namespace, serviceAccount string) policydoc.Document {
	host := strings.TrimPrefix(issuerURL, "https://")
	return policydoc.New(policydoc.Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Federated": providerARN},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]map[string]any{"StringEquals": {
			host + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
			host + ":aud": "sts.amazonaws.com",
		}},
	})
}
