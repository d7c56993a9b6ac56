package offline

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/personalization/platform/components/runners"
)

// AccountState is what the AWS account already holds, as the program's lookups
// see it. The zero value is an account the bootstrap project has prepared
// and the stack's images have been pushed to: the usual case of a preview.
type AccountState struct {
	// WithoutRunners: the bootstrap project has not run here, so no
	// deploy-runner egress address exists.
	WithoutRunners bool
	// Fresh: no image repository exists yet (the stack's first run).
	Fresh bool
	// Unpushed are repositories ("personalization-platform-dev/api")
	// that exist but hold none of the images asked for.
	Unpushed []string
}

// RunnerEgressIPs are the deploy runners' addresses: what the offline
// AWS answers for the Elastic IPs the bootstrap tags, and what a stack's
// lookup of those addresses finds. Documentation addresses (RFC 5737).
func RunnerEgressIPs() []string { return []string{"198.51.100.7"} }

// isRunnerEgress says whether a resource's inputs carry the runners' tag.
func isRunnerEgress(inputs resource.PropertyMap) bool {
	tags, ok := inputs["tags"]
	if !ok || !tags.IsObject() {
		return false
	}
	v, ok := tags.ObjectValue()[runners.EgressTagKey]
	return ok && v.IsString() && v.StringValue() == runners.EgressTagValue
}

// eips answers aws:ec2/getEips for the runners' tag.
func (a AccountState) eips(args resource.PropertyMap) resource.PropertyMap {
	var ips, ids []any
	if !a.WithoutRunners && isRunnerEgress(args) {
		for i, ip := range RunnerEgressIPs() {
			ips = append(ips, ip)
			ids = append(ids, fmt.Sprintf("eipalloc-runner%d", i))
		}
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": "eips", "publicIps": ips, "allocationIds": ids})
}

// image answers aws:ecr/getImage with the errors ECR gives: the codes are
// AWS's, which the program tells apart.
func (a AccountState) image(args resource.PropertyMap, region string) (resource.PropertyMap, error) {
	repo := ""
	if v, ok := args["repositoryName"]; ok && v.IsString() {
		repo = v.StringValue()
	}
	switch {
	case a.Fresh:
		return nil, fmt.Errorf("reading ECR Image: RepositoryNotFoundException: The repository with name '%s' does not exist in the registry with id '%s'", repo, Account)
	case slices.Contains(a.Unpushed, repo):
		return nil, fmt.Errorf("reading ECR Image: ImageNotFoundException: The image requested does not exist in the specified repository '%s'", repo)
	}
	digest := "sha256:" + fmt.Sprintf("%064x", len(repo))
	return resource.NewPropertyMapFromMap(map[string]any{
		"id": digest, "imageDigest": digest, "repositoryName": repo, "registryId": Account,
		"imageUri": fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s@%s", Account, region, repo, digest),
	}), nil
}
