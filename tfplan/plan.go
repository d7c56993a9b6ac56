// Package tfplan writes a rendered stack as a Terraform plan in JSON, the
// input Trivy, checkov and KICS read: the Pulumi AWS provider is bridged
// from Terraform's, so each AWS resource of the stack has a Terraform twin
// with the same attributes under Terraform's names. Kubernetes objects go to
// scanners as manifests (package manifests), not here.
package tfplan

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/render"
)

// Plan is the subset of Terraform's JSON plan format the scanners read
// (https://developer.hashicorp.com/terraform/internals/json-format).
type Plan struct {
	FormatVersion    string           `json:"format_version"`
	TerraformVersion string           `json:"terraform_version"`
	PlannedValues    PlannedValues    `json:"planned_values"`
	ResourceChanges  []ResourceChange `json:"resource_changes"`
	Configuration    Configuration    `json:"configuration"`

	// urns maps each address back to the Pulumi resource it stands for.
	urns map[string]string
}

// PlannedValues are the resources' values after the plan.
type PlannedValues struct {
	RootModule Module `json:"root_module"`
}

// Module is the root module's resources.
type Module struct {
	Resources []PlannedResource `json:"resources"`
}

// PlannedResource is one resource's planned values.
type PlannedResource struct {
	Address         string         `json:"address"`
	Mode            string         `json:"mode"`
	Type            string         `json:"type"`
	Name            string         `json:"name"`
	ProviderName    string         `json:"provider_name"`
	SchemaVersion   int            `json:"schema_version"`
	Values          map[string]any `json:"values"`
	SensitiveValues map[string]any `json:"sensitive_values"`
}

// ResourceChange is the change planned for one resource: a create.
type ResourceChange struct {
	Address      string `json:"address"`
	Mode         string `json:"mode"`
	Type         string `json:"type"`
	Name         string `json:"name"`
	ProviderName string `json:"provider_name"`
	Change       Change `json:"change"`
}

// Change carries the values after the change: unknown ones are left out of
// After and marked in AfterUnknown; secret ones are left out and marked in
// AfterSensitive.
type Change struct {
	Actions         []string       `json:"actions"`
	Before          any            `json:"before"`
	After           map[string]any `json:"after"`
	AfterUnknown    map[string]any `json:"after_unknown"`
	BeforeSensitive bool           `json:"before_sensitive"`
	AfterSensitive  map[string]any `json:"after_sensitive"`
}

// Configuration is what the "configuration" would say: providers, and each
// resource's expressions, references to other resources included.
type Configuration struct {
	ProviderConfig map[string]ProviderConfig `json:"provider_config"`
	RootModule     ConfigModule              `json:"root_module"`
}

// ProviderConfig is one AWS provider (the default, or an aliased region).
type ProviderConfig struct {
	Name        string         `json:"name"`
	FullName    string         `json:"full_name"`
	Alias       string         `json:"alias,omitempty"`
	Expressions map[string]any `json:"expressions,omitempty"`
}

// ConfigModule holds the configured resources.
type ConfigModule struct {
	Resources []ConfigResource `json:"resources"`
}

// ConfigResource is a resource's expressions: constants, and references
// where a value comes from another resource.
type ConfigResource struct {
	Address           string         `json:"address"`
	Mode              string         `json:"mode"`
	Type              string         `json:"type"`
	Name              string         `json:"name"`
	ProviderConfigKey string         `json:"provider_config_key"`
	Expressions       map[string]any `json:"expressions"`
	SchemaVersion     int            `json:"schema_version"`
}

const awsProvider = "registry.terraform.io/hashicorp/aws"

// URN is the Pulumi resource an address of the plan stands for, or "".
func (p *Plan) URN(address string) string { return p.urns[address] }

// Skipped says why a resource of the graph has no place in the plan, or ""
// when it has one. Every AWS resource has one; a package the export does
// not know is not skipped, so FromGraph refuses it.
func Skipped(r *graph.Resource) string {
	switch r.Package() {
	case "kubernetes":
		return "a Kubernetes object: scanners read it from the manifests export"
	case "personalization":
		return "a component: its children are exported"
	case "pulumi":
		return "the stack or a provider: providers become provider_config"
	}
	return ""
}

// FromGraph converts every AWS resource of a rendered stack. A resource of
// a type without a mapping, or with a property the provider's schema does
// not have, is an error naming it: nothing escapes the scanners silently.
func FromGraph(g *graph.Graph) (*Plan, error) {
	table := Table()
	p := &Plan{
		FormatVersion:    "1.2",
		TerraformVersion: "1.9.8",
		PlannedValues:    PlannedValues{RootModule: Module{Resources: []PlannedResource{}}},
		ResourceChanges:  []ResourceChange{},
		Configuration: Configuration{
			ProviderConfig: map[string]ProviderConfig{},
			RootModule:     ConfigModule{Resources: []ConfigResource{}},
		},
		urns: map[string]string{},
	}
	providerKeys := p.providers(g)

	// Addresses first, so references can name resources of any order.
	addresses := map[string]string{}
	var exported []*graph.Resource
	for _, r := range g.Resources {
		if Skipped(r) != "" {
			continue
		}
		if r.Package() != "aws" {
			return nil, fmt.Errorf("tfplan: %s: package %q has no Terraform export; allowed: aws resources (Kubernetes objects go to --format manifests)", r.URN, r.Package())
		}
		m, ok := table[r.Type]
		if !ok {
			return nil, fmt.Errorf("tfplan: %s: type %s has no Terraform mapping; add it to tfplan.Table (mapped: %d types)", r.URN, r.Type, len(table))
		}
		addr := m.Terraform + "." + p.uniqueName(m.Terraform, r.Name)
		addresses[r.URN] = addr
		p.urns[addr] = r.URN
		exported = append(exported, r)
	}

	// A type's schema is read once, however many resources it has.
	schemas := map[string]map[string]*shape{}
	for _, r := range exported {
		m := table[r.Type]
		schema, read := schemas[r.Type]
		if !read {
			var err error
			if schema, err = schemaOf(m.SDK); err != nil {
				return nil, fmt.Errorf("tfplan: %s: %w", r.Type, err)
			}
			schemas[r.Type] = schema
		}
		addr := addresses[r.URN]
		c := converter{mapping: m, path: addr}
		after, unknown, sensitive, exprs, err := c.object(r.Inputs, schema)
		if err != nil {
			return nil, fmt.Errorf("tfplan: %s: %w", r.URN, err)
		}
		// Values taken from other resources are unknown until those exist,
		// as in a plan of new resources: the reference carries the link.
		for prop, deps := range r.PropertyDependencies {
			refs := references(deps, addresses, prop)
			attr := m.attribute(prop)
			if len(refs) == 0 || !isIdentifier(after[attr]) {
				continue
			}
			delete(after, attr)
			unknown[attr] = true
			exprs[attr] = map[string]any{"references": refs}
		}
		unknown["id"] = true
		if _, set := after["arn"]; !set {
			unknown["arn"] = true
		}
		name := strings.TrimPrefix(addr, m.Terraform+".")
		p.PlannedValues.RootModule.Resources = append(p.PlannedValues.RootModule.Resources, PlannedResource{
			Address: addr, Mode: "managed", Type: m.Terraform, Name: name, ProviderName: awsProvider,
			Values: after, SensitiveValues: sensitive,
		})
		p.ResourceChanges = append(p.ResourceChanges, ResourceChange{
			Address: addr, Mode: "managed", Type: m.Terraform, Name: name, ProviderName: awsProvider,
			Change: Change{Actions: []string{"create"}, After: after, AfterUnknown: unknown, AfterSensitive: sensitive},
		})
		p.Configuration.RootModule.Resources = append(p.Configuration.RootModule.Resources, ConfigResource{
			Address: addr, Mode: "managed", Type: m.Terraform, Name: name,
			ProviderConfigKey: providerKeys[r.Provider], Expressions: exprs,
		})
	}
	return p, nil
}

// providers turns the stack's AWS providers into provider_config entries:
// the one named "aws" (or the default) is Terraform's default provider,
// each other one an alias, so the replica region's resources say so.
func (p *Plan) providers(g *graph.Graph) map[string]string {
	keys := map[string]string{"": "aws"}
	p.Configuration.ProviderConfig["aws"] = ProviderConfig{Name: "aws", FullName: awsProvider}
	for _, r := range g.OfType("pulumi:providers:aws") {
		cfg := ProviderConfig{Name: "aws", FullName: awsProvider}
		if region, ok := r.Inputs["region"].(string); ok {
			cfg.Expressions = map[string]any{"region": map[string]any{"constant_value": region}}
		}
		key := "aws"
		if r.Name != "aws" && r.Name != "default" {
			cfg.Alias = terraformName(r.Name)
			key = "aws." + cfg.Alias
		}
		p.Configuration.ProviderConfig[key] = cfg
		keys[r.URN] = key
	}
	return keys
}

var nameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// terraformName makes a Pulumi name a valid Terraform name.
func terraformName(name string) string {
	n := nameUnsafe.ReplaceAllString(name, "_")
	if n == "" || (n[0] >= '0' && n[0] <= '9') || n[0] == '-' {
		n = "r_" + n
	}
	return n
}

// uniqueName is the resource's Terraform name, suffixed when two resources
// of a type share a Pulumi name under different parents.
func (p *Plan) uniqueName(tfType, name string) string {
	base := terraformName(name)
	n := base
	for i := 2; p.urns[tfType+"."+n] != ""; i++ {
		n = fmt.Sprintf("%s_%d", base, i)
	}
	return n
}

// references are the Terraform references of a property's dependencies
// that are exported: the attribute an ARN-valued property takes, or the id.
func references(deps []string, addresses map[string]string, property string) []any {
	attr := "id"
	if strings.HasSuffix(property, "Arn") || strings.HasSuffix(property, "Arns") {
		attr = "arn"
	}
	var refs []any
	for _, d := range deps {
		if addr, ok := addresses[d]; ok {
			refs = append(refs, addr+"."+attr, addr)
		}
	}
	return refs
}

// isIdentifier says whether a value is one a reference stands for: a name,
// id or ARN, or a list of them; not a document such as a policy, whose
// content scanners must read.
func isIdentifier(v any) bool {
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		return !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[")
	case []any:
		for _, e := range t {
			if !isIdentifier(e) {
				return false
			}
		}
		return len(t) > 0
	}
	return false
}

// converter turns rendered Pulumi inputs into Terraform values.
type converter struct {
	mapping Mapping
	path    string
}

// object converts a resource or block's properties: the values, the
// unknown and sensitive markers, and the configuration expressions.
func (c converter) object(in map[string]any, fields map[string]*shape) (after, unknown, sensitive, exprs map[string]any, err error) {
	after, unknown, sensitive, exprs = map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, prop := range keys {
		v := in[prop]
		sh, ok := fields[prop]
		if !ok {
			return nil, nil, nil, nil, fmt.Errorf("property %q at %s is not in the provider's schema for %s", prop, c.path, c.mapping.Terraform)
		}
		attr := c.mapping.attribute(prop)
		switch {
		case v == graph.Secret:
			sensitive[attr] = true
			continue
		case v == graph.Unknown:
			unknown[attr] = true
			continue
		case v == nil:
			continue
		}
		inner := converter{mapping: c.mapping, path: c.path + "." + attr}
		switch sh.kind {
		case block, blocks:
			// Terraform's JSON has every nested block as a list: Pulumi's
			// object (a block of at most one) is a list of one.
			list, isList := v.([]any)
			if sh.kind == block {
				obj, isObj := v.(map[string]any)
				if !isObj {
					return nil, nil, nil, nil, fmt.Errorf("%s: want an object, have %T", inner.path, v)
				}
				list, isList = []any{obj}, true
			}
			if !isList {
				return nil, nil, nil, nil, fmt.Errorf("%s: want a list, have %T", inner.path, v)
			}
			var as, us, ss, es []any
			anyUnknown, anySensitive := false, false
			for _, el := range list {
				obj, isObj := el.(map[string]any)
				if !isObj {
					return nil, nil, nil, nil, fmt.Errorf("%s: want a list of objects, have %T", inner.path, el)
				}
				a, u, s, e, err := inner.object(obj, sh.fields)
				if err != nil {
					return nil, nil, nil, nil, err
				}
				as, us, ss, es = append(as, a), append(us, u), append(ss, s), append(es, e)
				anyUnknown = anyUnknown || len(u) > 0
				anySensitive = anySensitive || len(s) > 0
			}
			if as == nil {
				as, es = []any{}, []any{}
			}
			after[attr], exprs[attr] = as, es
			if anyUnknown {
				unknown[attr] = us
			}
			if anySensitive {
				sensitive[attr] = ss
			}
		default:
			val, hidden := plainValue(v)
			switch hidden {
			case graph.Secret:
				sensitive[attr] = true
			case graph.Unknown:
				unknown[attr] = true
			default:
				after[attr] = val
				exprs[attr] = map[string]any{"constant_value": val}
			}
		}
	}
	return after, unknown, sensitive, exprs, nil
}

// plainValue is an attribute's value, or which placeholder hides it: a
// map or list holding a secret or unknown is hidden as a whole, as
// Terraform marks a whole attribute.
func plainValue(v any) (any, string) {
	switch t := v.(type) {
	case string:
		if t == graph.Secret || t == graph.Unknown {
			return nil, t
		}
	case []any:
		for _, e := range t {
			if _, hidden := plainValue(e); hidden != "" {
				return nil, hidden
			}
		}
	case map[string]any:
		for _, e := range t {
			if _, hidden := plainValue(e); hidden != "" {
				return nil, hidden
			}
		}
	}
	return v, ""
}

// Marshal is the plan's canonical JSON: sorted keys, two-space indent, a
// final newline, byte-identical for the same stack.
func Marshal(p *Plan) ([]byte, error) {
	b, err := render.CanonicalJSON(p)
	if err != nil {
		return nil, fmt.Errorf("tfplan: %w", err)
	}
	return b, nil
}
