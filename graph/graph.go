// Package graph is the recorded resource graph of one stack: what the program
// registers, made deterministic. The offline runner produces it; the render,
// the golden files, the URN guard, the policy checks and the validators all
// read this one representation.
package graph

import (
	"sort"
	"strings"
)

// Graph is every resource a stack's program registers.
type Graph struct {
	Project string `json:"project"`
	Stack   string `json:"stack"`
	// Resources are sorted by URN.
	Resources []*Resource `json:"resources"`
	// Outputs are the stack's exports, rendered like inputs.
	Outputs map[string]any `json:"outputs"`
}

// Resource is one registered resource.
type Resource struct {
	URN          string   `json:"urn"`
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	Parent       string   `json:"parent,omitempty"`
	Dependencies []string `json:"dependencies"`
	// PropertyDependencies are the dependencies by input: which
	// resources an input's value comes from ("bucket" → the bucket's URN).
	PropertyDependencies map[string][]string `json:"propertyDependencies,omitempty"`
	Protect              bool                `json:"protect"`
	Custom               bool                `json:"custom"`
	// Provider is the URN of the explicit provider the resource is created
	// through, empty for components and the default provider.
	Provider string `json:"provider,omitempty"`
	// Aliases are the URNs the resource answers to besides its own: the
	// URNs it had before a rename or a move.
	Aliases []string `json:"aliases,omitempty"`
	// Inputs are the resource's inputs, rendered: secrets as Secret,
	// values unknown before deployment as Unknown, resource references as
	// their URN, map keys sorted when marshalled.
	Inputs map[string]any `json:"inputs"`
}

// Placeholders for values the render never shows.
const (
	Secret  = "[secret]"
	Unknown = "[unknown]"
)

// Sort orders the resources by URN and every list inside them, so that two
// recordings of the same program are identical.
func (g *Graph) Sort() {
	sort.Slice(g.Resources, func(i, j int) bool { return g.Resources[i].URN < g.Resources[j].URN })
	for _, r := range g.Resources {
		r.Dependencies = sortedUnique(r.Dependencies)
		r.Aliases = sortedUnique(r.Aliases)
		for k, v := range r.PropertyDependencies {
			if len(v) == 0 {
				delete(r.PropertyDependencies, k)
				continue
			}
			r.PropertyDependencies[k] = sortedUnique(v)
		}
	}
}

func sortedUnique(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// ByURN returns the resource with the URN, or nil.
func (g *Graph) ByURN(urn string) *Resource {
	i := sort.Search(len(g.Resources), func(i int) bool { return g.Resources[i].URN >= urn })
	if i < len(g.Resources) && g.Resources[i].URN == urn {
		return g.Resources[i]
	}
	return nil
}

// OfType returns the resources of a type token, in URN order.
func (g *Graph) OfType(typ string) []*Resource {
	var out []*Resource
	for _, r := range g.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Children returns the resources whose parent is urn, in URN order.
func (g *Graph) Children(urn string) []*Resource {
	return g.ChildrenByParent()[urn]
}

// ChildrenByParent indexes the resources by parent URN, each list in URN
// order: one pass for walks that visit every resource.
func (g *Graph) ChildrenByParent() map[string][]*Resource {
	index := map[string][]*Resource{}
	for _, r := range g.Resources {
		index[r.Parent] = append(index[r.Parent], r)
	}
	return index
}

// Descendants returns every resource below urn, however deep.
func (g *Graph) Descendants(urn string) []*Resource {
	return descendants(g.ChildrenByParent(), urn)
}

func descendants(children map[string][]*Resource, urn string) []*Resource {
	var out []*Resource
	for _, c := range children[urn] {
		out = append(out, c)
		out = append(out, descendants(children, c.URN)...)
	}
	return out
}

// DependsThrough says whether the input named property takes its value from
// the resource urn.
func (r *Resource) DependsThrough(property, urn string) bool {
	for _, u := range r.PropertyDependencies[property] {
		if u == urn {
			return true
		}
	}
	return false
}

// Package is the first part of the type token: "aws", "kubernetes",
// "personalization", "pulumi".
func (r *Resource) Package() string {
	pkg, _, _ := strings.Cut(r.Type, ":")
	return pkg
}

// IsProvider says whether the resource is a provider instance.
func (r *Resource) IsProvider() bool { return strings.HasPrefix(r.Type, "pulumi:providers:") }

// Input returns a top-level rendered input, or nil.
func (r *Resource) Input(name string) any { return r.Inputs[name] }

// Lookup walks a dotted path ("defaultTags.tags.project") through the
// rendered inputs; ok is false where the path does not exist.
func (r *Resource) Lookup(path string) (any, bool) {
	var cur any = r.Inputs
	for _, part := range strings.Split(path, ".") {
		m, isMap := cur.(map[string]any)
		if !isMap {
			return nil, false
		}
		cur, isMap = m[part]
		if !isMap {
			return nil, false
		}
	}
	return cur, true
}

// WaitsFor are the URNs the engine must create before r: its
// dependencies (every descendant of a component it depends on), its
// provider, and the same of each of its ancestors (a child registers only
// once its parent has). children is ChildrenByParent's index.
func (g *Graph) WaitsFor(r *Resource, children map[string][]*Resource) []string {
	var out []string
	for cur := r; cur != nil; cur = g.ByURN(cur.Parent) {
		for _, d := range cur.Dependencies {
			out = append(out, d)
			if dep := g.ByURN(d); dep != nil && !dep.Custom {
				for _, c := range descendants(children, d) {
					out = append(out, c.URN)
				}
			}
		}
		if cur.Provider != "" {
			out = append(out, cur.Provider)
		}
	}
	return out
}
