// Package bootstrap is what an AWS account needs before the platform's
// stacks and pipelines can run: an S3 bucket for Pulumi state, a KMS key for
// the awskms:// secrets provider, the GitHub OIDC identity provider, a
// preview role pull-request workflows assume, and a deploy role per
// environment that only that GitHub environment's jobs can assume.
package bootstrap

import (
	"errors"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
	"github.com/personalization/platform/components/internal/securebucket"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:bootstrap:Foundation"

// GitHubIssuer is GitHub Actions' OIDC issuer.
const GitHubIssuer = "token.actions.githubusercontent.com"

// Args configure the foundation.
type Args struct {
	// Name prefixes aliases and descriptions.
	Name      string
	AccountID string
	// Repository ("owner/name") is the only one whose workflows may assume
	// the roles.
	Repository string
	// PreviewRoleName and DeployRoleNames (by environment) name the roles.
	PreviewRoleName string
	DeployRoleNames map[string]string
	// BreakGlassRoleName names the role people of the account assume,
	// with MFA, to administer the clusters by hand; each stack gives it
	// cluster-admin through an access entry.
	BreakGlassRoleName string
	// DeploySessionSeconds is the longest session of the preview and
	// deploy roles: at least the longest apply.
	DeploySessionSeconds int
	// PreviewPolicyARNs and DeployPolicyARNs are their managed policies.
	PreviewPolicyARNs, DeployPolicyARNs []string
	StateNoncurrentDays                 int
}

// Foundation is the account's pipeline foundation.
type Foundation struct {
	pulumi.ResourceState

	StateBucket     pulumi.StringOutput `pulumi:"stateBucket"`
	SecretsKeyAlias pulumi.StringOutput `pulumi:"secretsKeyAlias"`
	OIDCProviderARN pulumi.StringOutput `pulumi:"oidcProviderArn"`
	PreviewRoleARN  pulumi.StringOutput `pulumi:"previewRoleArn"`
	// DeployRoleARNs are by environment.
	DeployRoleARNs pulumi.StringMapOutput `pulumi:"deployRoleArns"`
	// BreakGlassRoleARN is the people's way into the clusters.
	BreakGlassRoleARN pulumi.StringOutput `pulumi:"breakGlassRoleArn"`
}

// New builds the foundation through the AWS provider in opts. Everything
// stateful is protected: losing the state bucket or the secrets key loses
// every stack.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Foundation, error) {
	if args == nil || args.Name == "" || args.AccountID == "" || args.Repository == "" || args.PreviewRoleName == "" || len(args.DeployRoleNames) == 0 || args.BreakGlassRoleName == "" {
		return nil, errors.New("bootstrap: args with a name, an account, a repository and role names are required")
	}
	if args.DeploySessionSeconds < 3600 || args.DeploySessionSeconds > 43200 {
		return nil, fmt.Errorf("bootstrap: DeploySessionSeconds %d is outside IAM's 3600 to 43200", args.DeploySessionSeconds)
	}
	f := &Foundation{}
	if err := ctx.RegisterComponentResource(TypeToken, name, f, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: register: %w", err)
	}
	parent := pulumi.Parent(f)

	stateKey, err := keys.New(ctx, name+"-state-key", keys.Args{
		Alias: args.Name + "-state", Description: "Pulumi state of " + args.Name, Protect: true,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	secretsAlias := args.Name + "-secrets"
	secretsKey, err := keys.New(ctx, name+"-secrets-key", keys.Args{
		Alias: secretsAlias, Description: "Pulumi secrets provider (awskms://) of " + args.Name, Protect: true,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	bucket, err := stateBucket(ctx, name, args, stateKey.Arn, parent)
	if err != nil {
		return nil, err
	}

	oidc, err := iam.NewOpenIdConnectProvider(ctx, name+"-github", &iam.OpenIdConnectProviderArgs{
		Url:           pulumi.String("https://" + GitHubIssuer),
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: github oidc provider: %w", err)
	}
	access := pulumi.All(bucket.Arn, stateKey.Arn, secretsKey.Arn)
	preview, err := githubRole(ctx, name+"-preview", args.PreviewRoleName, "Pull-request previews of "+args.Repository,
		args.DeploySessionSeconds, oidc.Arn, PreviewSubjects(args.Repository), args.PreviewPolicyARNs,
		access.ApplyT(func(v []any) string { return PreviewStatePolicy(v[0].(string), v[1].(string), v[2].(string)).JSON() }).(pulumi.StringOutput),
		parent)
	if err != nil {
		return nil, err
	}
	deploy := pulumi.StringMap{}
	for _, env := range sortedKeys(args.DeployRoleNames) {
		role, err := githubRole(ctx, name+"-deploy-"+env, args.DeployRoleNames[env], "Deploys of "+args.Repository+" to "+env,
			args.DeploySessionSeconds, oidc.Arn, []string{DeploySubject(args.Repository, env)}, args.DeployPolicyARNs,
			access.ApplyT(func(v []any) string { return DeployStatePolicy(v[0].(string), v[1].(string), v[2].(string)).JSON() }).(pulumi.StringOutput),
			parent)
		if err != nil {
			return nil, err
		}
		deploy[env] = role.Arn
	}

	breakGlass, err := breakGlassRole(ctx, name+"-breakglass", args, parent)
	if err != nil {
		return nil, err
	}

	f.StateBucket = bucket.Bucket
	f.SecretsKeyAlias = pulumi.String("alias/" + secretsAlias).ToStringOutput()
	f.OIDCProviderARN = oidc.Arn
	f.PreviewRoleARN = preview.Arn
	f.DeployRoleARNs = deploy.ToStringMapOutput()
	f.BreakGlassRoleARN = breakGlass.Arn
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{
		"stateBucket": f.StateBucket, "secretsKeyAlias": f.SecretsKeyAlias, "oidcProviderArn": f.OIDCProviderARN,
		"previewRoleArn": f.PreviewRoleARN, "deployRoleArns": f.DeployRoleARNs, "breakGlassRoleArn": f.BreakGlassRoleARN,
	}); err != nil {
		return nil, fmt.Errorf("bootstrap: register outputs: %w", err)
	}
	return f, nil
}

// PreviewSubjects are the workflow subjects of the repository's
// pull-request jobs and of its jobs on main (the daily drift check);
// DeploySubject is that of the jobs of one GitHub environment.
func PreviewSubjects(repository string) []string {
	return []string{"repo:" + repository + ":pull_request", "repo:" + repository + ":ref:refs/heads/main"}
}

// DeploySubject: see PreviewSubject.
func DeploySubject(repository, environment string) string {
	return "repo:" + repository + ":environment:" + environment
}

// GitHubTrust lets exactly the given workflow subjects assume a role: sub
// and aud both pinned with StringEquals, no wildcard (policy IAM-03).
func GitHubTrust(providerARN string, subjects []string) policydoc.Document {
	return policydoc.New(policydoc.Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Federated": providerARN},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]map[string]any{"StringEquals": {
			GitHubIssuer + ":sub": subjects,
			GitHubIssuer + ":aud": "sts.amazonaws.com",
		}},
	})
}

func githubRole(ctx *pulumi.Context, name, roleName, description string, sessionSeconds int, provider pulumi.StringOutput, subjects []string,
	managed []string, statePolicy pulumi.StringOutput, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		// Named: the workflows and the main project's registry policy
		// name it.
		Name:        pulumi.String(roleName),
		Description: pulumi.String(description),
		AssumeRolePolicy: provider.ApplyT(func(arn string) string {
			return GitHubTrust(arn, subjects).JSON()
		}).(pulumi.StringOutput),
		// A session outlasts the longest apply: credentials that expire
		// mid-update leave the state locked and the stack half-changed.
		MaxSessionDuration: pulumi.Int(sessionSeconds),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: role %s: %w", roleName, err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-state", &iam.RolePolicyArgs{Role: role.Name, Policy: statePolicy}, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: role %s state policy: %w", roleName, err)
	}
	for i, arn := range managed {
		if _, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-%d", name, i), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(arn),
		}, opts...); err != nil {
			return nil, fmt.Errorf("bootstrap: role %s attachment: %w", roleName, err)
		}
	}
	return role, nil
}

// breakGlassRole is assumable by the account's own principals, and only
// with MFA; it may find the clusters, and each stack's access entry makes
// it cluster-admin inside them. Whom the account lets assume it is the
// account's IAM policy to say (docs/operations.md, "Break glass").
func breakGlassRole(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:               pulumi.String(args.BreakGlassRoleName),
		Description:        pulumi.String("Break-glass administration of " + args.Name + "'s clusters, with MFA"),
		AssumeRolePolicy:   pulumi.String(BreakGlassTrust(args.AccountID).JSON()),
		MaxSessionDuration: pulumi.Int(3600),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: break-glass role: %w", err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-eks", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: pulumi.String(policydoc.New(
			policydoc.Statement{Sid: "DescribeClusters", Effect: "Allow", Action: []string{"eks:DescribeCluster"},
				Resource: []string{"arn:aws:eks:*:" + args.AccountID + ":cluster/*"}},
			// ListClusters has no resource-level permission.
			policydoc.Statement{Sid: "ListClusters", Effect: "Allow", Action: []string{"eks:ListClusters"}, Resource: []string{"*"}},
		).JSON()),
	}, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: break-glass role policy: %w", err)
	}
	return role, nil
}

// BreakGlassTrust lets principals of the account assume the role, with MFA.
func BreakGlassTrust(accountID string) policydoc.Document {
	return policydoc.New(policydoc.Statement{
		Effect:    "Allow",
		Principal: map[string]any{"AWS": "arn:aws:iam::" + accountID + ":root"},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string]any{"Bool": {"aws:MultiFactorAuthPresent": "true"}},
	})
}

// PreviewStatePolicy reads the state and takes the backend's locks (a
// preview locks the stack), decrypts secrets, writes nothing else.
func PreviewStatePolicy(bucketARN, stateKeyARN, secretsKeyARN string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: []string{bucketARN}},
		policydoc.Statement{Sid: "ReadState", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{bucketARN + "/*"}},
		policydoc.Statement{Sid: "TakeLocks", Effect: "Allow", Action: []string{"s3:PutObject", "s3:DeleteObject"}, Resource: []string{bucketARN + "/.pulumi/locks/*"}},
		policydoc.Statement{Sid: "UseKeys", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{stateKeyARN, secretsKeyARN}},
	)
}

// DeployStatePolicy reads and writes the state and encrypts and decrypts
// secrets.
func DeployStatePolicy(bucketARN, stateKeyARN, secretsKeyARN string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: []string{bucketARN}},
		policydoc.Statement{Sid: "WriteState", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: []string{bucketARN + "/*"}},
		policydoc.Statement{Sid: "UseKeys", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, Resource: []string{stateKeyARN, secretsKeyARN}},
	)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stateBucket is the state's bucket: every control of a secure bucket,
// encrypted with the state key, old versions expired after a while and
// current state never.
func stateBucket(ctx *pulumi.Context, name string, args *Args, keyARN pulumi.StringOutput, parent pulumi.ResourceOption) (*s3.BucketV2, error) {
	b, err := securebucket.New(ctx, securebucket.Args{
		Name: name + "-state", KMSKeyARN: keyARN, Protect: true,
		LifecycleID: "old-state-versions", NoncurrentDays: args.StateNoncurrentDays,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: state bucket: %w", err)
	}
	return b.Bucket, nil
}
