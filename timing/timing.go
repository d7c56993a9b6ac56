// Package timing estimates how long a stack's first `pulumi up` runs, from
// its render: each resource's creation time, along the longest chain of
// resources the engine must create one after another. The deploy roles'
// session and the deploy job's timeout are sized by it: credentials that
// expire mid-update leave a stack locked and half-changed.
package timing

import (
	"time"

	"github.com/personalization/platform/graph"
)

// Creation is how long creating one resource of a type takes.
type Creation struct {
	// Typical is the usual creation time.
	Typical time.Duration
	// Limit is the longest the engine waits before it fails the step: the
	// provider's default create timeout, or the Kubernetes provider's
	// readiness wait.
	Limit time.Duration
	// Source says where the figures come from.
	Source string
}

const (
	awsTimeouts = "Typical: AWS console and user reports. Limit: the Terraform AWS provider's documented default create timeout, which the Pulumi AWS provider inherits"
	k8sAwait    = "Typical: pods pulling images on fresh nodes. Limit: pulumi-kubernetes' default readiness wait (10 minutes)"
)

// Table is the creation time of the types that take more than seconds.
// Every other resource (IAM, KMS, CloudWatch, S3, plain Kubernetes objects)
// takes Other.
func Table() map[string]Creation {
	return map[string]Creation{
		"aws:eks/cluster:Cluster":                           {12 * time.Minute, 30 * time.Minute, awsTimeouts},
		"aws:eks/nodeGroup:NodeGroup":                       {6 * time.Minute, 60 * time.Minute, awsTimeouts},
		"aws:eks/addon:Addon":                               {3 * time.Minute, 20 * time.Minute, awsTimeouts},
		"aws:ec2/natGateway:NatGateway":                     {3 * time.Minute, 10 * time.Minute, awsTimeouts},
		"aws:ec2/vpcEndpoint:VpcEndpoint":                   {1 * time.Minute, 10 * time.Minute, awsTimeouts},
		"aws:rds/instance:Instance":                         {25 * time.Minute, 40 * time.Minute, awsTimeouts + " (a Multi-AZ instance; a single-AZ one takes about 15 minutes)"},
		"aws:elasticache/replicationGroup:ReplicationGroup": {15 * time.Minute, 60 * time.Minute, awsTimeouts},
		"kubernetes:apps/v1:Deployment":                     {2 * time.Minute, 10 * time.Minute, k8sAwait},
		"kubernetes:apps/v1:StatefulSet":                    {3 * time.Minute, 10 * time.Minute, k8sAwait},
		"kubernetes:apps/v1:DaemonSet":                      {2 * time.Minute, 10 * time.Minute, k8sAwait},
		"kubernetes:networking.k8s.io/v1:Ingress":           {2 * time.Minute, 10 * time.Minute, k8sAwait},
		// A release waits for its pods up to its own timeout (seconds,
		// from its inputs), then rolls back.
		helmRelease: {4 * time.Minute, 5 * time.Minute, "Typical: a chart's pods on fresh nodes. Limit: the release's timeout input, Helm's 300 s when unset"},
	}
}

const helmRelease = "kubernetes:helm.sh/v3:Release"

// Other is the creation time of every resource Table does not list.
var Other = Creation{Typical: 15 * time.Second, Limit: time.Minute, Source: "API calls and IAM's eventual consistency"}

// creation is r's creation time.
func creation(r *graph.Resource) Creation {
	if !r.Custom {
		return Creation{}
	}
	c, ok := Table()[r.Type]
	if !ok {
		return Other
	}
	if r.Type == helmRelease {
		if s, ok := r.Inputs["timeout"].(float64); ok && s > 0 {
			c.Limit = time.Duration(s) * time.Second
		}
	}
	return c
}

// Path is the longest chain of resources the engine creates one after the
// other, with its duration.
type Path struct {
	Resources []*graph.Resource
	Duration  time.Duration
}

// CriticalPath is the longest chain of g by each resource's duration (pick
// Typical or Limit). A resource starts when what it waits for
// (graph.WaitsFor) is done.
func CriticalPath(g *graph.Graph, duration func(Creation) time.Duration) Path {
	children := g.ChildrenByParent()
	type result struct {
		finish time.Duration
		prev   string
	}
	memo := map[string]*result{}
	var finish func(urn string, visiting map[string]bool) *result
	finish = func(urn string, visiting map[string]bool) *result {
		if r, ok := memo[urn]; ok {
			return r
		}
		res := g.ByURN(urn)
		if res == nil || visiting[urn] {
			return &result{}
		}
		visiting[urn] = true
		defer delete(visiting, urn)
		best := &result{}
		for _, u := range g.WaitsFor(res, children) {
			if u == urn {
				continue
			}
			if f := finish(u, visiting); f.finish > best.finish || best.prev == "" && f.finish == best.finish {
				best = &result{finish: f.finish, prev: u}
			}
		}
		out := &result{finish: best.finish + duration(creation(res)), prev: best.prev}
		memo[urn] = out
		return out
	}
	var end string
	var longest time.Duration
	for _, r := range g.Resources {
		if f := finish(r.URN, map[string]bool{}); f.finish > longest {
			longest, end = f.finish, r.URN
		}
	}
	var chain []*graph.Resource
	for u := end; u != ""; u = memo[u].prev {
		chain = append([]*graph.Resource{g.ByURN(u)}, chain...)
	}
	return Path{Resources: chain, Duration: longest}
}

// Typical and Limit pick a creation time for CriticalPath.
func Typical(c Creation) time.Duration { return c.Typical }

// Limit: see Typical.
func Limit(c Creation) time.Duration { return c.Limit }
