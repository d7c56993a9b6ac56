// Package render writes a stack's recorded graph for people and tools: a
// tree of components and their children with counts per type, canonical JSON
// (the golden files), and a Graphviz picture of components and their
// dependencies.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/personalization/platform/graph"
)

// Format is an output format of the render.
type Format string

// The formats the render writes.
const (
	Tree Format = "tree"
	JSON Format = "json"
	DOT  Format = "dot"
)

// Formats lists the formats, for flags and errors.
func Formats() []Format { return []Format{Tree, JSON, DOT} }

// Write writes the graph in the format.
func Write(w io.Writer, g *graph.Graph, f Format) error {
	switch f {
	case Tree:
		return WriteTree(w, g)
	case JSON:
		b, err := MarshalJSON(g)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case DOT:
		return WriteDOT(w, g)
	}
	return fmt.Errorf("render: unknown format %q; allowed: %v", f, Formats())
}

// MarshalJSON is the canonical JSON of a graph: sorted resources, sorted
// keys, two-space indent, a final newline. Two renders of the same stack are
// byte-identical.
func MarshalJSON(g *graph.Graph) ([]byte, error) {
	b, err := CanonicalJSON(g)
	if err != nil {
		return nil, fmt.Errorf("render json: %w", err)
	}
	return b, nil
}

// CanonicalJSON is the project's one JSON encoding for files people diff:
// map keys sorted, two-space indent, no HTML escaping, a final newline.
func CanonicalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteTree prints the stack as a tree, children under their parents, then
// how many resources of each type it has.
func WriteTree(w io.Writer, g *graph.Graph) error {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s (project %s): %d resources\n", g.Stack, g.Project, len(g.Resources))
	byURN := map[string]bool{}
	for _, r := range g.Resources {
		byURN[r.URN] = true
	}
	var roots []*graph.Resource
	for _, r := range g.Resources {
		if !byURN[r.Parent] {
			roots = append(roots, r)
		}
	}
	writeLevel(&b, g.ChildrenByParent(), roots, "")

	counts := map[string]int{}
	for _, r := range g.Resources {
		counts[r.Type]++
	}
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	b.WriteString("\nresources by type:\n")
	for _, t := range types {
		fmt.Fprintf(&b, "%5d  %s\n", counts[t], t)
	}
	if len(g.Outputs) > 0 {
		b.WriteString("\noutputs:\n")
		names := make([]string, 0, len(g.Outputs))
		for n := range g.Outputs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v, _ := json.Marshal(g.Outputs[n])
			fmt.Fprintf(&b, "  %s: %s\n", n, v)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLevel(b *strings.Builder, children map[string][]*graph.Resource, level []*graph.Resource, indent string) {
	for i, r := range level {
		branch, next := "├─ ", "│  "
		if i == len(level)-1 {
			branch, next = "└─ ", "   "
		}
		flags := ""
		if r.Protect {
			flags = "  [protected]"
		}
		fmt.Fprintf(b, "%s%s%s  %s%s\n", indent, branch, r.Type, r.Name, flags)
		writeLevel(b, children, children[r.URN], indent+next)
	}
}

// WriteDOT draws the stack for Graphviz: each component a cluster holding
// its children, edges from a resource to what it depends on.
func WriteDOT(w io.Writer, g *graph.Graph) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n", g.Project+"-"+g.Stack)
	b.WriteString("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n")
	ids := map[string]string{}
	for i, r := range g.Resources {
		ids[r.URN] = fmt.Sprintf("r%d", i)
	}
	var roots []*graph.Resource
	for _, r := range g.Resources {
		if _, ok := ids[r.Parent]; !ok {
			roots = append(roots, r)
		}
	}
	children := g.ChildrenByParent()
	for _, r := range roots {
		writeDOTNode(&b, children, r, ids, "  ")
	}
	for _, r := range g.Resources {
		for _, d := range r.Dependencies {
			if to, ok := ids[d]; ok {
				fmt.Fprintf(&b, "  %s -> %s;\n", ids[r.URN], to)
			}
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDOTNode(b *strings.Builder, childrenOf map[string][]*graph.Resource, r *graph.Resource, ids map[string]string, indent string) {
	label := fmt.Sprintf("%s\\n%s", shortType(r.Type), r.Name)
	children := childrenOf[r.URN]
	if len(children) == 0 || r.Custom {
		fmt.Fprintf(b, "%s%s [label=%q];\n", indent, ids[r.URN], label)
		for _, c := range children {
			writeDOTNode(b, childrenOf, c, ids, indent)
		}
		return
	}
	fmt.Fprintf(b, "%ssubgraph cluster_%s {\n%s  label=%q;\n%s  style=rounded;\n", indent, ids[r.URN], indent, label, indent)
	fmt.Fprintf(b, "%s  %s [label=%q, shape=component];\n", indent, ids[r.URN], label)
	for _, c := range children {
		writeDOTNode(b, childrenOf, c, ids, indent+"  ")
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

// shortType drops the module path: "aws:ec2/subnet:Subnet" → "aws:Subnet".
func shortType(typ string) string {
	parts := strings.Split(typ, ":")
	if len(parts) != 3 {
		return typ
	}
	return parts[0] + ":" + parts[2]
}
