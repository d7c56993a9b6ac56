package manifests

import (
	"path/filepath"

	"github.com/personalization/platform/graph"
)

// TwinsDir is the subfolder of a manifests export holding the scanner
// twins. The API-server acceptance test applies only the top folder.
const TwinsDir = "scanner-twins"

// TwinOf is the annotation a scanner twin carries: the object it copies.
const TwinOf = "platform.personalization.io/scanner-twin-of"

// ScannerTwins are Deployment-shaped copies of the objects whose pods
// Kubernetes scanners cannot read: Trivy, kube-score and Polaris check the
// pod templates of Deployments, StatefulSets, DaemonSets and Jobs, not of
// Argo Rollouts, and the API runs as a canary Rollout. A twin carries the
// Rollout's selector and pod template unchanged, so every container check
// judges exactly what will run. Twins are never applied.
func ScannerTwins(objs []Object) []Object {
	var twins []Object
	for _, o := range objs {
		if o.APIVersion() != "argoproj.io/v1alpha1" || o.Kind() != "Rollout" {
			continue
		}
		spec, _ := o["spec"].(map[string]any)
		template, hasTemplate := spec["template"]
		if !hasTemplate {
			continue // a Rollout referencing a Deployment's template: that Deployment is scanned
		}
		meta := map[string]any{
			"name":        o.Name(),
			"annotations": map[string]any{TwinOf: o.String()},
		}
		if ns := o.Namespace(); ns != "" {
			meta["namespace"] = ns
		}
		if labels, ok := o["metadata"].(map[string]any)["labels"]; ok {
			meta["labels"] = labels
		}
		twin := Object{
			"apiVersion": "apps/v1",
			"kind":       "Deployment",
			"metadata":   meta,
			"spec": map[string]any{
				"replicas": spec["replicas"],
				"selector": spec["selector"],
				"template": template,
			},
		}
		if twin["spec"].(map[string]any)["replicas"] == nil {
			delete(twin["spec"].(map[string]any), "replicas")
		}
		twins = append(twins, twin)
	}
	return twins
}

// Sources maps each object of the graph, by its String, to the URN of the
// resource it comes from: how scanner findings on a file are traced back
// to the stack.
func Sources(g *graph.Graph) (map[string]string, error) {
	out := map[string]string{}
	err := eachObject(g, func(r *graph.Resource, o Object) { out[o.String()] = r.URN })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Origin is the object a file of an export stands for: a twin's original.
func Origin(o Object) string {
	meta, _ := o["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	if of, ok := annotations[TwinOf].(string); ok {
		return of
	}
	return o.String()
}

// twinPath is a twin's file, inside the export's twins folder.
func twinPath(dir string, index int, o Object) string {
	return filepath.Join(dir, TwinsDir, FileName(index, o))
}
