package graph

// LostURNs returns the URNs of want that the graph neither has nor answers
// to through an alias. Each is a resource the engine would delete and
// create anew: for a stateful resource, a lost database or bucket.
func (g *Graph) LostURNs(want []string) []string {
	known := map[string]bool{}
	for _, r := range g.Resources {
		known[r.URN] = true
		for _, a := range r.Aliases {
			known[a] = true
		}
	}
	var lost []string
	for _, urn := range want {
		if !known[urn] {
			lost = append(lost, urn)
		}
	}
	return lost
}

// StatefulURNs lists the URNs of the graph's stateful resources, sorted.
func (g *Graph) StatefulURNs() []string {
	var urns []string
	for _, r := range g.Stateful() {
		urns = append(urns, r.URN)
	}
	return urns
}
