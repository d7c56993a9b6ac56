// Package manifests turns the Kubernetes resources of a rendered stack into
// plain Kubernetes objects: what the real kube-apiserver acceptance test
// applies, and what Kubernetes scanners read. There is one conversion, here.
package manifests

import (
	"fmt"
	"sort"
	"strings"

	"github.com/personalization/platform/graph"
)

// Object is one Kubernetes object as JSON-able maps.
type Object map[string]any

// APIVersion, Kind, Name and Namespace read the object's identity.
func (o Object) APIVersion() string { s, _ := o["apiVersion"].(string); return s }

// Kind is the object's kind.
func (o Object) Kind() string { s, _ := o["kind"].(string); return s }

// Name is metadata.name.
func (o Object) Name() string { return o.meta("name") }

// Namespace is metadata.namespace, empty for cluster-scoped objects.
func (o Object) Namespace() string { return o.meta("namespace") }

func (o Object) meta(k string) string {
	m, _ := o["metadata"].(map[string]any)
	s, _ := m[k].(string)
	return s
}

// String names the object as kubectl would.
func (o Object) String() string {
	if ns := o.Namespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", o.Kind(), ns, o.Name())
	}
	return fmt.Sprintf("%s %s", o.Kind(), o.Name())
}

// Placeholders stand in for values the render never shows: a secret, and a
// value only known after deployment. Both are valid wherever a string is.
const (
	SecretPlaceholder  = "offline-secret"
	UnknownPlaceholder = "offline-unknown"
)

// Skipped says why a Kubernetes resource of the graph is not an object the
// API server can take, or "" when it is.
func Skipped(r *graph.Resource) string {
	switch {
	case r.IsProvider():
		return "a provider, not an object"
	case strings.HasPrefix(r.Type, "kubernetes:helm.sh/"):
		return "a Helm release: its chart cannot be fetched offline"
	}
	return ""
}

// FromGraph converts every Kubernetes resource of the graph, in apply
// order: CustomResourceDefinitions, Namespaces, then the rest, each group
// sorted by identity.
func FromGraph(g *graph.Graph) ([]Object, error) {
	var objs []Object
	err := eachObject(g, func(_ *graph.Resource, o Object) { objs = append(objs, o) })
	if err != nil {
		return nil, err
	}
	sort.SliceStable(objs, func(i, j int) bool {
		ri, rj := rank(objs[i]), rank(objs[j])
		if ri != rj {
			return ri < rj
		}
		return objs[i].String() < objs[j].String()
	})
	return objs, nil
}

// eachObject converts every Kubernetes resource of the graph the API
// server can take and hands it to fn with its resource, in graph order.
func eachObject(g *graph.Graph, fn func(*graph.Resource, Object)) error {
	for _, r := range g.Resources {
		if r.Package() != "kubernetes" || Skipped(r) != "" {
			continue
		}
		obj, err := convert(r)
		if err != nil {
			return err
		}
		fn(r, obj)
	}
	return nil
}

func rank(o Object) int {
	switch o.Kind() {
	case "CustomResourceDefinition":
		return 0
	case "Namespace":
		return 1
	case "ServiceAccount", "Secret", "ConfigMap":
		return 2
	}
	return 3
}

func convert(r *graph.Resource) (Object, error) {
	obj, ok := placeholders(r.Inputs).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("manifests: %s: inputs are not an object", r.URN)
	}
	if _, ok := obj["apiVersion"].(string); !ok {
		return nil, fmt.Errorf("manifests: %s: no apiVersion", r.URN)
	}
	if _, ok := obj["kind"].(string); !ok {
		return nil, fmt.Errorf("manifests: %s: no kind", r.URN)
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	if _, named := meta["name"].(string); !named {
		// Pulumi would auto-name it: the logical name and a suffix.
		meta["name"] = r.Name
	}
	if obj["kind"] == "Secret" {
		// A Secret whose data is secret as a whole renders as a string.
		for _, field := range []string{"stringData", "data"} {
			if s, isString := obj[field].(string); isString && s == SecretPlaceholder {
				obj[field] = map[string]any{"placeholder": SecretPlaceholder}
			}
		}
	}
	return Object(obj), nil
}

// placeholders copies a rendered value, putting API-valid placeholders
// where the render shows [secret] or [unknown].
func placeholders(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = placeholders(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = placeholders(e)
		}
		return out
	case string:
		switch t {
		case graph.Secret:
			return SecretPlaceholder
		case graph.Unknown:
			return UnknownPlaceholder
		}
	}
	return v
}
