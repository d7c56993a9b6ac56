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
// type typ exists: what r waits for (graph.WaitsFor), and what that waits
// for, transitively.
func (c *Context) waitsFor(r *graph.Resource, typ string) bool {
	if c.children == nil {
		c.children = c.Graph.ChildrenByParent()
	}
	seen := map[string]bool{r.URN: true}
	queue := []*graph.Resource{r}
	for len(queue) > 0 {
		res := queue[0]
		queue = queue[1:]
		for _, u := range c.Graph.WaitsFor(res, c.children) {
			if seen[u] {
				continue
			}
			seen[u] = true
			next := c.Graph.ByURN(u)
			if next == nil {
				continue
			}
			if next.Type == typ {
				return true
			}
			queue = append(queue, next)
		}
	}
	return false
}
