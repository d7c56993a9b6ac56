// Package registry is the stack's image registry: one ECR repository per
// service of the workload set, with immutable tags, a scan of every push,
// its own KMS key, a lifecycle that keeps the recent releases, and a
// repository policy that lets the cluster's nodes pull and the stack's
// deploy role push — and nobody else.
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:registry:Registry"

// Args configure the registry.
type Args struct {
	// Name prefixes the repositories ("personalization-platform-dev").
	Name string
	// Services get a repository each, "<Name>/<service>".
	Services []string
	Region   string
	// AccountID is the registry's account: repository URLs are known
	// before the repositories exist.
	AccountID string
	// KeepReleases tagged images stay; UntaggedExpiryDays expires the rest.
	KeepReleases, UntaggedExpiryDays int
	// PullerARNs may pull (the nodes' role); PusherARNs may push (the
	// deploy role of the stack).
	PullerARNs, PusherARNs pulumi.StringArrayInput
	Protect                bool
}

// Registry is the repositories and their key.
type Registry struct {
	pulumi.ResourceState

	// URLs are the repositories' URLs, by service.
	URLs map[string]string
	// KeyARN encrypts every repository.
	KeyARN pulumi.StringOutput `pulumi:"keyArn"`
}

// RepositoryName is a service's repository.
func RepositoryName(name, service string) string { return name + "/" + service }

// RepositoryURL is a repository's URL in an account and region.
func RepositoryURL(account, region, repository string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com/" + repository
}

// New builds the registry through the AWS provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Registry, error) {
	if args == nil || args.Name == "" || args.Region == "" || args.AccountID == "" || len(args.Services) == 0 || args.PullerARNs == nil || args.PusherARNs == nil {
		return nil, errors.New("registry: args with a name, a region, an account, services, pullers and pushers are required")
	}
	r := &Registry{URLs: map[string]string{}}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, fmt.Errorf("registry: register: %w", err)
	}
	parent := pulumi.Parent(r)
	key, err := keys.New(ctx, name+"-key", keys.Args{
		Alias:       args.Name + "-images",
		Description: "Container images of " + args.Name,
		Protect:     args.Protect,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	r.KeyARN = key.Arn
	lifecycle, err := LifecyclePolicy(args.KeepReleases, args.UntaggedExpiryDays)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	access := pulumi.All(args.PullerARNs, args.PusherARNs).ApplyT(func(v []any) string {
		return AccessPolicy(v[0].([]string), v[1].([]string)).JSON()
	}).(pulumi.StringOutput)

	services := append([]string(nil), args.Services...)
	sort.Strings(services)
	for _, svc := range services {
		repoName := RepositoryName(args.Name, svc)
		repo, err := ecr.NewRepository(ctx, name+"-"+svc, &ecr.RepositoryArgs{
			// A deterministic name: image references in config and
			// pipelines name it.
			Name: pulumi.String(repoName),
			// A pushed tag always names the same image (policy ECR-01).
			ImageTagMutability:         pulumi.String("IMMUTABLE"),
			ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
			EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{ecr.RepositoryEncryptionConfigurationArgs{
				EncryptionType: pulumi.String("KMS"), KmsKey: key.Arn,
			}},
			ForceDelete: pulumi.Bool(!args.Protect),
		}, parent, pulumi.Protect(args.Protect))
		if err != nil {
			return nil, fmt.Errorf("registry: repository %s: %w", svc, err)
		}
		if _, err := ecr.NewLifecyclePolicy(ctx, name+"-"+svc, &ecr.LifecyclePolicyArgs{
			Repository: repo.Name, Policy: pulumi.String(lifecycle),
		}, parent); err != nil {
			return nil, fmt.Errorf("registry: lifecycle %s: %w", svc, err)
		}
		if _, err := ecr.NewRepositoryPolicy(ctx, name+"-"+svc, &ecr.RepositoryPolicyArgs{
			Repository: repo.Name, Policy: access,
		}, parent); err != nil {
			return nil, fmt.Errorf("registry: policy %s: %w", svc, err)
		}
		r.URLs[svc] = RepositoryURL(args.AccountID, args.Region, repoName)
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"keyArn": r.KeyARN, "urls": pulumi.ToStringMap(r.URLs)}); err != nil {
		return nil, fmt.Errorf("registry: register outputs: %w", err)
	}
	return r, nil
}

// LifecyclePolicy expires untagged images after some days and keeps the
// newest tagged ones: ECR evaluates rules by priority, lowest first.
func LifecyclePolicy(keep, untaggedDays int) (string, error) {
	if keep < 1 || untaggedDays < 1 {
		return "", fmt.Errorf("lifecycle keeps %d releases and untagged images %d days: both must be at least 1", keep, untaggedDays)
	}
	b, err := json.Marshal(map[string]any{"rules": []any{
		map[string]any{
			"rulePriority": 1, "description": fmt.Sprintf("Expire untagged images after %d days", untaggedDays),
			"selection": map[string]any{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": untaggedDays},
			"action":    map[string]any{"type": "expire"},
		},
		map[string]any{
			"rulePriority": 2, "description": fmt.Sprintf("Keep the newest %d tagged images", keep),
			"selection": map[string]any{"tagStatus": "tagged", "tagPatternList": []string{"*"}, "countType": "imageCountMoreThan", "countNumber": keep},
			"action":    map[string]any{"type": "expire"},
		},
	}})
	return string(b), err
}

// PullActions and PushActions are what a puller and a pusher may do.
var (
	PullActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
	PushActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"}
)

// AccessPolicy is a repository policy: pullers pull, pushers push, each
// named by ARN (policy ECR-04: never the principal *).
func AccessPolicy(pullers, pushers []string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{Sid: "NodesPull", Effect: "Allow", Principal: map[string]any{"AWS": pullers}, Action: PullActions},
		policydoc.Statement{Sid: "DeployPushes", Effect: "Allow", Principal: map[string]any{"AWS": pushers}, Action: PushActions},
	)
}
