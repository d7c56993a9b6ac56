package offline

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/personalization/platform/graph"
)

// Account is the AWS account id the offline runtime answers with.
const Account = "123456789012"

// recorder is the mock resource monitor: it records every registration into
// the graph and answers resources and invokes with realistic values.
type recorder struct {
	project, stack, region string
	account                AccountState

	mu        sync.Mutex
	resources []*graph.Resource
	// regions maps AWS provider URNs to their region, so that a resource
	// created through a provider of another region gets that region's ARNs.
	regions map[string]string
}

// regionOf is the region of the provider a resource is created through.
func (m *recorder) regionOf(providerRef string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.regions[providerURN(providerRef)]; ok {
		return r
	}
	return m.region
}

var _ pulumi.MockResourceMonitor = (*recorder)(nil)

func (m *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	if rpc == nil {
		return "", nil, fmt.Errorf("offline: %s %s: the runtime sent no registration", args.TypeToken, args.Name)
	}
	urn := m.urn(rpc.GetParent(), args.TypeToken, args.Name)
	r := &graph.Resource{
		URN:                  urn,
		Type:                 args.TypeToken,
		Name:                 args.Name,
		Parent:               rpc.GetParent(),
		Dependencies:         rpc.GetDependencies(),
		PropertyDependencies: propertyDependencies(rpc),
		Protect:              rpc.GetProtect(),
		Custom:               args.Custom,
		Provider:             providerURN(args.Provider),
		Aliases:              m.aliases(rpc.GetParent(), args.TypeToken, args.Name, rpc.GetAliasURNs(), rpc.GetAliases()),
		Inputs:               renderMap(args.Inputs),
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	if region, ok := args.Inputs["region"]; ok && args.TypeToken == "pulumi:providers:aws" && region.IsString() {
		if m.regions == nil {
			m.regions = map[string]string{}
		}
		m.regions[urn] = region.StringValue()
	}
	m.mu.Unlock()

	if !args.Custom {
		return "", resource.PropertyMap{}, nil
	}
	id := args.Name + "-id"
	if args.ID != "" {
		id = args.ID
	}
	return id, m.outputs(args, id), nil
}

// urn computes a resource's URN the way the engine does: the parent's
// qualified type chain, then the resource's own type and name.
func (m *recorder) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// aliases turns the registration's alias specs into the URNs they stand for.
func (m *recorder) aliases(parent, typ, name string, urns []string, specs []*pulumirpc.Alias) []string {
	out := append([]string(nil), urns...)
	for _, a := range specs {
		if u := a.GetUrn(); u != "" {
			out = append(out, u)
			continue
		}
		spec := a.GetSpec()
		if spec == nil {
			continue
		}
		aName, aType, aParent := name, typ, parent
		if spec.GetName() != "" {
			aName = spec.GetName()
		}
		if spec.GetType() != "" {
			aType = spec.GetType()
		}
		switch {
		case spec.GetNoParent():
			aParent = ""
		case spec.GetParentUrn() != "":
			aParent = spec.GetParentUrn()
		}
		out = append(out, m.urn(aParent, aType, aName))
	}
	return out
}

// providerURN strips the id from a provider reference ("urn::id").
func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i > 0 {
		return ref[:i]
	}
	return ref
}

// outputs are a custom resource's state: its inputs, plus the attributes AWS
// computes that the program reads (ARNs, endpoints, generated names).
func (m *recorder) outputs(args pulumi.MockResourceArgs, id string) resource.PropertyMap {
	region := m.regionOf(args.Provider)
	state := args.Inputs.Copy()
	for k, v := range m.computed(args, id, region) {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	set := func(k, v string) {
		if _, ok := state[resource.PropertyKey(k)]; !ok {
			state[resource.PropertyKey(k)] = resource.NewProperty(v)
		}
	}
	if strings.HasPrefix(args.TypeToken, "aws:") {
		service := awsService(args.TypeToken)
		set("arn", fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, region, Account, resourceKind(args.TypeToken), args.Name))
		set("name", args.Name)
	}
	return state
}

// computed are the attributes AWS computes for a type, as realistic as the
// program needs them.
func (m *recorder) computed(args pulumi.MockResourceArgs, id, region string) map[string]any {
	switch args.TypeToken {
	case "aws:eks/cluster:Cluster":
		name := args.Name
		if v, ok := args.Inputs["name"]; ok && v.IsString() {
			name = v.StringValue()
		}
		return map[string]any{
			"endpoint":             fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", strings.ToUpper(name), region),
			"certificateAuthority": map[string]any{"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm9mZmxpbmUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="},
			"identities": []any{map[string]any{"oidcs": []any{map[string]any{
				"issuer": fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", region, strings.ToUpper(name)),
			}}}},
			"vpcConfig": map[string]any{"clusterSecurityGroupId": "sg-" + name + "-cluster"},
		}
	case "aws:rds/instance:Instance":
		ident := args.Name
		if v, ok := args.Inputs["identifier"]; ok && v.IsString() {
			ident = v.StringValue()
		}
		return map[string]any{
			"identifier": ident,
			"address":    fmt.Sprintf("%s.c0ffee00.%s.rds.amazonaws.com", ident, region),
			"endpoint":   fmt.Sprintf("%s.c0ffee00.%s.rds.amazonaws.com:5432", ident, region),
			"port":       5432,
			"arn":        fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, Account, ident),
			"masterUserSecrets": []any{map[string]any{
				"secretArn":    fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-%s-AbCdEf", region, Account, ident),
				"secretStatus": "active",
			}},
		}
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		return map[string]any{
			"primaryEndpointAddress": fmt.Sprintf("master.%s.c0ffee.%s.cache.amazonaws.com", args.Name, regionCode(region)),
			"readerEndpointAddress":  fmt.Sprintf("replica.%s.c0ffee.%s.cache.amazonaws.com", args.Name, regionCode(region)),
			"port":                   6379,
		}
	case "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket":
		// Auto-naming: the logical name and a suffix.
		name := args.Name + "-0ff11e"
		return map[string]any{"bucket": name, "arn": "arn:aws:s3:::" + name}
	case "aws:ec2/eip:Eip":
		ip := "203.0.113.10"
		if isRunnerEgress(args.Inputs) {
			ip = RunnerEgressIPs()[0]
		}
		return map[string]any{"publicIp": ip, "allocationId": "eipalloc-" + args.Name}
	case "aws:ec2/launchTemplate:LaunchTemplate":
		return map[string]any{"latestVersion": 1}
	case "aws:kms/key:Key":
		return map[string]any{"keyId": id}
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		url := ""
		if v, ok := args.Inputs["url"]; ok && v.IsString() {
			url = strings.TrimPrefix(v.StringValue(), "https://")
		}
		return map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", Account, url)}
	case "aws:iam/role:Role":
		return map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:role/%s", Account, args.Name)}
	}
	return nil
}

// awsService is the ARN service of an AWS type token ("aws:rds/instance:Instance" → "rds").
func awsService(typ string) string {
	mod := strings.Split(typ, ":")[1]
	service, _, _ := strings.Cut(mod, "/")
	return service
}

// resourceKind is the ARN resource kind of an AWS type token, lower case.
func resourceKind(typ string) string {
	mod := strings.Split(typ, ":")[1]
	_, kind, _ := strings.Cut(mod, "/")
	return strings.ToLower(kind)
}

// Call answers the invokes the program makes. An invoke without an answer is
// an error, so a new data source gets a deliberate, realistic mock.
func (m *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		var names, ids []any
		for i, letter := range []string{"a", "b", "c", "d", "e", "f"} {
			names = append(names, m.region+letter)
			ids = append(ids, fmt.Sprintf("%s-az%d", regionCode(m.region), i+1))
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": m.region, "names": names, "zoneIds": ids,
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": Account, "accountId": Account,
			"arn": "arn:aws:iam::" + Account + ":user/offline", "userId": "AIDAOFFLINE",
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": m.region, "name": m.region, "region": m.region,
		}), nil
	case "aws:ec2/getEips:getEips":
		return m.account.eips(args.Args), nil
	case "aws:ecr/getImage:getImage":
		return m.account.image(args.Args, m.region)
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com",
		}), nil
	}
	return nil, fmt.Errorf("offline: no mock answer for invoke %s", args.Token)
}

// regionCode abbreviates a region for zone ids: "eu-west-1" → "euw1".
func regionCode(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	return parts[0] + parts[1][:1] + parts[2]
}

// propertyDependencies reads the registration's dependencies by input.
func propertyDependencies(rpc *pulumirpc.RegisterResourceRequest) map[string][]string {
	out := map[string][]string{}
	for k, deps := range rpc.GetPropertyDependencies() {
		if urns := deps.GetUrns(); len(urns) > 0 {
			out[k] = append([]string(nil), urns...)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
