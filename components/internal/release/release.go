// Package release holds how long the platform's atomic Helm releases wait
// for their pods before Helm rolls them back. Helm's default, 300 s, is too
// short on a fresh cluster, where every image is pulled for the first time;
// the nodes themselves have joined before any release starts (the cluster's
// Kubernetes provider depends on the node groups).
package release

const (
	// PodsTimeoutSeconds: images pulled onto fresh nodes and pods ready.
	// A fresh EKS node pulls a chart's images in one to three minutes;
	// twice that for a margin.
	PodsTimeoutSeconds = 600
	// VolumesTimeoutSeconds: as PodsTimeoutSeconds, and an EBS volume per
	// replica created and attached first (gp3, WaitForFirstConsumer: one
	// to two minutes each, and a StatefulSet's replicas start in turn).
	VolumesTimeoutSeconds = 900
)
