package policy

import (
	"github.com/personalization/platform/graph"
)

const (
	eksNodeGroupType = "aws:eks/nodeGroup:NodeGroup"
	helmRelease      = "kubernetes:helm.sh/v3:Release"
)

// podBearing are the types that put pods on nodes when they are created:
// a Helm release's charts do, and so do the workload kinds.
var podBearing = []string{
	helmRelease, deployment, rollout, cronJob,
	"kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job",
}

// schedulingRules judge the order in which the engine creates things, which
// no single resource shows: a release whose pods have no node to run on
// waits out its timeout and, atomic, rolls back on the first run.
func schedulingRules() []Rule {
	return []Rule{
		{ID: "K8S-19", Title: "pod-bearing resources wait for the node groups", Severity: Medium, Types: podBearing, Anchors: "ours",
			Rationale:   "On a first `pulumi up`, a release or workload created before the nodes join waits out its timeout and fails the run.",
			Remediation: "Depend on the cluster's Ready resources (directly, through a parent component, or through the Kubernetes provider).",
			Check: func(c *Context, r *graph.Resource) string {
				if len(c.Graph.OfType(eksNodeGroupType)) == 0 || c.waitsFor(r, eksNodeGroupType) {
					return ""
				}
				return "nothing makes it wait for an EKS node group: its pods may find no node"
			}},
	}
}

// waitsFor says whether the engine cannot create r before a resource of
// type typ exists. A resource waits for its dependencies (all descendants
// of a component it depends on), for its provider, and for whatever its
// ancestors wait for; and each of those for theirs.
func (c *Context) waitsFor(r *graph.Resource, typ string) bool {
	if c.children == nil {
		c.children = c.Graph.ChildrenByParent()
	}
	seen := map[string]bool{r.URN: true}
	var queue []string
	enqueue := func(urns ...string) {
		for _, u := range urns {
			if u != "" && !seen[u] {
				seen[u] = true
				queue = append(queue, u)
			}
		}
	}
	// What a resource itself waits for: its dependencies and provider,
	// and its ancestors' (a child registers only once its parent has).
	before := func(res *graph.Resource) {
		for cur := res; cur != nil; cur = c.Graph.ByURN(cur.Parent) {
			enqueue(cur.Dependencies...)
			enqueue(cur.Provider)
		}
	}
	before(r)
	for len(queue) > 0 {
		res := c.Graph.ByURN(queue[0])
		queue = queue[1:]
		if res == nil {
			continue
		}
		if res.Type == typ {
			return true
		}
		before(res)
		if !res.Custom {
			for _, child := range c.children[res.URN] {
				enqueue(child.URN)
			}
		}
	}
	return false
}
