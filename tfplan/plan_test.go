package tfplan_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/tfplan"
)

// rendered are the graphs of every committed stack and the bootstrap.
func rendered(t *testing.T) []*graph.Graph {
	t.Helper()
	var gs []*graph.Graph
	for _, s := range platformtest.Stacks() {
		gs = append(gs, platformtest.Render(t, s, nil))
	}
	return append(gs, platformtest.RenderBootstrap(t, nil))
}

func export(t *testing.T, g *graph.Graph) (*tfplan.Plan, map[string]any) {
	t.Helper()
	p, err := tfplan.FromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tfplan.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return p, doc
}

// change is the resource change at an address, as the scanners read it.
func change(t *testing.T, doc map[string]any, address string) map[string]any {
	t.Helper()
	for _, rc := range doc["resource_changes"].([]any) {
		rc := rc.(map[string]any)
		if rc["address"] == address {
			return rc["change"].(map[string]any)
		}
	}
	t.Fatalf("no resource change %s", address)
	return nil
}

func expressions(t *testing.T, doc map[string]any, address string) map[string]any {
	t.Helper()
	cfg := doc["configuration"].(map[string]any)["root_module"].(map[string]any)
	for _, r := range cfg["resources"].([]any) {
		r := r.(map[string]any)
		if r["address"] == address {
			return r["expressions"].(map[string]any)
		}
	}
	t.Fatalf("no configuration for %s", address)
	return nil
}

// TestEveryRenderedAWSTypeIsMapped is the coverage guard: every AWS
// resource of every stack has a Terraform twin in the export, and every
// list-shaped property a stack sets was looked at (renamed, or confirmed
// to keep its snake_case name), so no pluralised name is guessed.
func TestEveryRenderedAWSTypeIsMapped(t *testing.T) {
	table := tfplan.Table()
	for _, g := range rendered(t) {
		p, err := tfplan.FromGraph(g)
		if err != nil {
			t.Fatalf("%s: %v", g.Stack, err)
		}
		exported := 0
		for _, r := range g.Resources {
			if tfplan.Skipped(r) != "" {
				continue
			}
			m, ok := table[r.Type]
			if !ok {
				t.Errorf("%s: %s has no mapping", g.Stack, r.Type)
				continue
			}
			exported++
			for _, prop := range listProperties(r.Inputs) {
				if _, renamed := m.Renames[prop]; !renamed && !slices.Contains(m.Lists, prop) {
					t.Errorf("%s: list property %q of %s is in neither Renames nor Lists of its mapping: look up its Terraform name", g.Stack, prop, r.Type)
				}
			}
		}
		if got := len(p.ResourceChanges); got != exported || exported == 0 {
			t.Errorf("%s: %d resource changes for %d AWS resources", g.Stack, got, exported)
		}
	}
}

// listProperties are the names of the list values anywhere in v.
func listProperties(v map[string]any) []string {
	var out []string
	for k, e := range v {
		switch t := e.(type) {
		case []any:
			out = append(out, k)
			for _, el := range t {
				if m, ok := el.(map[string]any); ok {
					out = append(out, listProperties(m)...)
				}
			}
		case map[string]any:
			out = append(out, listProperties(t)...)
		}
	}
	return out
}

// TestEveryMappingMatchesTheSDK reads every mapping's schema and checks
// its renames and lists name properties the SDK resource has somewhere.
func TestEveryMappingMatchesTheSDK(t *testing.T) {
	for typ, m := range tfplan.Table() {
		if !strings.HasPrefix(m.Terraform, "aws_") {
			t.Errorf("%s maps to %q, not an AWS Terraform type", typ, m.Terraform)
		}
		props, err := tfplan.Properties(m)
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		for name := range m.Renames {
			if !props[name] {
				t.Errorf("%s: rename of %q, which the SDK's %T does not have", typ, name, m.SDK)
			}
		}
		for _, name := range m.Lists {
			if !props[name] {
				t.Errorf("%s: list %q, which the SDK's %T does not have", typ, name, m.SDK)
			}
		}
	}
}

func TestSnakeCase(t *testing.T) {
	for pulumi, terraform := range map[string]string{
		"kmsKeyId":                     "kms_key_id",
		"multiAz":                      "multi_az",
		"cidrIpv4":                     "cidr_ipv4",
		"enabledCloudwatchLogsExports": "enabled_cloudwatch_logs_exports",
		"httpPutResponseHopLimit":      "http_put_response_hop_limit",
		"bucket":                       "bucket",
	} {
		if got := tfplan.Attribute(tfplan.Mapping{}, pulumi); got != terraform {
			t.Errorf("%s → %q, want %q", pulumi, got, terraform)
		}
	}
	rules := tfplan.Table()["aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"]
	if got := tfplan.Attribute(rules, "rules"); got != "rule" {
		t.Errorf("rules → %q, want the provider's exception rule", got)
	}
}

// TestShapes checks the Terraform shapes scanners depend on: a Pulumi
// object is a nested block (a list of one), a map stays a map, names are
// Terraform's, at any depth.
func TestShapes(t *testing.T) {
	_, doc := export(t, platformtest.Render(t, "production", nil))

	versioning := change(t, doc, "aws_s3_bucket_versioning.backup-versioning")["after"].(map[string]any)
	if status := versioning["versioning_configuration"].([]any)[0].(map[string]any)["status"]; status != "Enabled" {
		t.Errorf("versioning_configuration = %v, want a block list whose status is Enabled", versioning["versioning_configuration"])
	}
	sse := change(t, doc, "aws_s3_bucket_server_side_encryption_configuration.backup-encryption")["after"].(map[string]any)
	byDefault := sse["rule"].([]any)[0].(map[string]any)["apply_server_side_encryption_by_default"].([]any)[0].(map[string]any)
	if byDefault["sse_algorithm"] != "aws:kms" {
		t.Errorf("rule[0].apply_server_side_encryption_by_default = %v, want sse_algorithm aws:kms", byDefault)
	}
	db := change(t, doc, "aws_db_instance.database-postgres")["after"].(map[string]any)
	if db["storage_encrypted"] != true || db["multi_az"] != true {
		t.Errorf("aws_db_instance: storage_encrypted %v, multi_az %v", db["storage_encrypted"], db["multi_az"])
	}
	// Map keys are data, never renamed.
	subnet := change(t, doc, "aws_subnet.network-public-az1")["after"].(map[string]any)
	if tags, ok := subnet["tags"].(map[string]any); !ok || tags["kubernetes.io/role/elb"] != "1" {
		t.Errorf("aws_subnet tags = %#v, want a map keeping kubernetes.io/role/elb", subnet["tags"])
	}
}

// TestReferencesLinkResources: a value taken from another resource is
// unknown in the plan, and the configuration names the resource, so
// cross-resource checks (bucket ↔ public access block, cluster ↔ key)
// see the link.
func TestReferencesLinkResources(t *testing.T) {
	_, doc := export(t, platformtest.Render(t, "production", nil))
	const pab = "aws_s3_bucket_public_access_block.backup-public-access"
	ch := change(t, doc, pab)
	if _, known := ch["after"].(map[string]any)["bucket"]; known {
		t.Errorf("%s: bucket is known in after; want it unknown, as for a bucket not yet created", pab)
	}
	if ch["after_unknown"].(map[string]any)["bucket"] != true {
		t.Errorf("%s: after_unknown.bucket = %v, want true", pab, ch["after_unknown"].(map[string]any)["bucket"])
	}
	refs := expressions(t, doc, pab)["bucket"].(map[string]any)["references"].([]any)
	if !slices.Contains(refs, any("aws_s3_bucket.backup")) {
		t.Errorf("%s: bucket references %v, want aws_s3_bucket.backup", pab, refs)
	}
	// A policy document taken from other resources stays readable.
	policy := change(t, doc, "aws_s3_bucket_policy.backup-tls-only")["after"].(map[string]any)["policy"]
	if s, _ := policy.(string); !strings.Contains(s, "aws:SecureTransport") {
		t.Errorf("bucket policy = %v, want its document", policy)
	}
}

func TestSecretsAndUnknownsStayHidden(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	db := g.OfType("aws:rds/instance:Instance")[0]
	db.Inputs["password"] = graph.Secret
	db.Inputs["availabilityZone"] = graph.Unknown
	_, doc := export(t, g)
	ch := change(t, doc, "aws_db_instance.database-postgres")
	after := ch["after"].(map[string]any)
	for _, attr := range []string{"password", "availability_zone"} {
		if _, shown := after[attr]; shown {
			t.Errorf("%s is in after", attr)
		}
	}
	if ch["after_sensitive"].(map[string]any)["password"] != true {
		t.Error("after_sensitive.password is not true")
	}
	if ch["after_unknown"].(map[string]any)["availability_zone"] != true {
		t.Error("after_unknown.availability_zone is not true")
	}
	raw, _ := json.Marshal(doc)
	if bytes.Contains(raw, []byte(graph.Secret)) || bytes.Contains(raw, []byte(graph.Unknown)) {
		t.Error("the plan carries a render placeholder")
	}
}

func TestProvidersAndRegions(t *testing.T) {
	_, doc := export(t, platformtest.Render(t, "production", nil))
	providers := doc["configuration"].(map[string]any)["provider_config"].(map[string]any)
	replica, ok := providers["aws.aws-dr"].(map[string]any)
	if !ok {
		t.Fatalf("provider_config = %v, want the replica region's aws.aws-dr", providers)
	}
	if region := replica["expressions"].(map[string]any)["region"].(map[string]any)["constant_value"]; region != "eu-central-1" {
		t.Errorf("aws.aws-dr region = %v", region)
	}
}

func TestExportIsDeterministic(t *testing.T) {
	g := platformtest.Render(t, "staging", nil)
	a, _ := tfplan.FromGraph(g)
	b, _ := tfplan.FromGraph(platformtest.Render(t, "staging", nil))
	ra, _ := tfplan.Marshal(a)
	rb, _ := tfplan.Marshal(b)
	if !bytes.Equal(ra, rb) {
		t.Error("two exports of the same stack differ")
	}
}

func TestBadGraphsAreRefused(t *testing.T) {
	cases := []struct {
		name, want string
		mutate     func(g *graph.Graph)
	}{
		{"unmapped type", "aws:lambda/function:Function has no Terraform mapping", func(g *graph.Graph) {
			g.Resources = append(g.Resources, &graph.Resource{URN: "urn:pulumi:production::p::aws:lambda/function:Function::fn", Type: "aws:lambda/function:Function", Name: "fn", Custom: true, Inputs: map[string]any{}})
		}},
		{"unknown package", `package "random" has no Terraform export`, func(g *graph.Graph) {
			g.Resources = append(g.Resources, &graph.Resource{URN: "urn:pulumi:production::p::random:index/randomPet:RandomPet::pet", Type: "random:index/randomPet:RandomPet", Name: "pet", Custom: true})
		}},
		{"property not in schema", `property "storageEncryptedd"`, func(g *graph.Graph) {
			g.OfType("aws:rds/instance:Instance")[0].Inputs["storageEncryptedd"] = true
		}},
		{"block that is not an object", "want an object", func(g *graph.Graph) {
			g.OfType("aws:s3/bucketVersioningV2:BucketVersioningV2")[0].Inputs["versioningConfiguration"] = "Enabled"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := platformtest.Render(t, "production", nil)
			c.mutate(g)
			g.Sort()
			_, err := tfplan.FromGraph(g)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestAddressesMapBackToURNs(t *testing.T) {
	g := platformtest.Render(t, "dev", nil)
	p, _ := export(t, g)
	for _, rc := range p.ResourceChanges {
		urn := p.URN(rc.Address)
		if r := g.ByURN(urn); r == nil || tfplan.Table()[r.Type].Terraform != rc.Type {
			t.Errorf("%s maps back to %q", rc.Address, urn)
		}
	}
}
