package infra

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/registry"
	"github.com/personalization/platform/stacks"
)

// pendingImages checks, before anything is registered, that every service
// whose image lives in its own ECR repository can be pulled, and returns
// the services whose repository does not exist yet, with what to do.
//
// A stack's first `pulumi up` creates the repositories, so they are empty
// and no workload could start: rather than wait out the readiness timeouts
// and fail part-way, the run leaves those services out and says, per
// service, what to push and what to run next. A repository that exists but
// lacks the image asked for is an error naming the service, the repository
// and the command that sets an image: it never deletes a running service,
// and never creates one that cannot start. Images from other registries are
// theirs to vouch for.
func pendingImages(ctx *pulumi.Context, profile *stacks.Profile, provider *aws.Provider, registryName, account string) (map[string]string, error) {
	pending := map[string]string{}
	var errs []error
	for _, svc := range sortedServices(profile.Workloads) {
		ref := profile.Workloads[svc].Image
		if !stacks.InRegistry(ref) {
			continue
		}
		repo := registry.RepositoryName(registryName, svc)
		url := registry.RepositoryURL(account, profile.Region, repo)
		args := &ecr.GetImageArgs{RepositoryName: repo}
		if strings.HasPrefix(ref, "sha256:") {
			args.ImageDigest = &ref
		} else {
			args.ImageTag = &ref
		}
		_, err := ecr.GetImage(ctx, args, pulumi.Provider(provider))
		switch {
		case err == nil:
		case strings.Contains(err.Error(), "RepositoryNotFoundException"):
			pending[svc] = fmt.Sprintf("not deployed: its repository %s is made by this run; push %s, then run `platform up --stack %s --yes` (or push another tag and run `platform up --stack %s --yes --image %s=TAG`)",
				url, stacks.ImageIn(url, ref), profile.Stack, profile.Stack, svc)
		default:
			errs = append(errs, fmt.Errorf("service %s: image %s cannot be pulled from %s: %w; push it (docker push %s), or deploy one that is there: platform up --stack %s --yes --image %s=TAG",
				svc, ref, url, err, stacks.ImageIn(url, ref), profile.Stack, svc))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, svc := range sortedServices(profile.Workloads) {
		if why, ok := pending[svc]; ok {
			if err := ctx.Log.Warn("service "+svc+" is "+why, nil); err != nil {
				return nil, err
			}
		}
	}
	return pending, nil
}
