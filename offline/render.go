package offline

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/personalization/platform/graph"
)

// renderMap turns a property map into plain JSON-able values: secrets and
// unknowns as placeholders, resource references as URNs.
func renderMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = renderValue(m[resource.PropertyKey(k)])
	}
	return out
}

func renderValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return graph.Secret
	case v.IsComputed():
		return graph.Unknown
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return graph.Secret
		}
		if !o.Known {
			return graph.Unknown
		}
		return renderValue(o.Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsObject():
		return renderMap(v.ObjectValue())
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = renderValue(e)
		}
		return out
	case v.IsNull():
		return nil
	case v.IsAsset(), v.IsArchive():
		return "[asset]"
	default:
		return v.V
	}
}
