package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// objectMembers reads a JSON object's members in order, reporting a name
// given twice: Go's decoder would silently keep the last.
func objectMembers(name, raw string) ([]string, map[string]json.RawMessage, []error) {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" || trimmed == "null" {
		return nil, nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, []error{&FieldError{Key: key(name), Value: raw, Problem: "is not an object",
			Allowed: "an object keyed by service name"}}
	}
	var order []string
	members := map[string]json.RawMessage{}
	var errs []error
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, []error{&FieldError{Key: key(name), Value: raw, Problem: "is not valid JSON: " + err.Error(), Allowed: "an object keyed by service name"}}
		}
		member := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, nil, []error{&FieldError{Key: key(name, member), Problem: "is not valid JSON: " + err.Error(), Allowed: "an object"}}
		}
		if _, dup := members[member]; dup {
			errs = append(errs, &FieldError{Key: key(name, member), Value: member, Problem: "names a service that is already given", Allowed: "each service once"})
			continue
		}
		order = append(order, member)
		members[member] = value
	}
	return order, members, errs
}

// decodeWorkloads overlays each service given onto the tier's service of
// that name, or onto the service template for a new one. A service given
// as null is removed from the set.
func decodeWorkloads(p *Profile, raw string) []error {
	order, members, errs := objectMembers("workloads", raw)
	for _, name := range order {
		value := strings.TrimSpace(string(members[name]))
		if value == "null" {
			delete(p.Workloads, name)
			continue
		}
		svc, ok := p.Workloads[name]
		if !ok {
			svc = defaultService()
		}
		if err := decodeStrict("workloads."+name, value, &svc); err != nil {
			errs = append(errs, err)
			continue
		}
		p.Workloads[name] = svc
	}
	return errs
}

// decodeImages sets services' images from the `images` key, the one a
// pipeline sets to deploy a new build: {"personalization-api": "repo:tag"}.
func decodeImages(p *Profile, raw string) []error {
	order, members, errs := objectMembers("images", raw)
	for _, name := range order {
		var ref string
		k := key("images", name)
		if err := json.Unmarshal(members[name], &ref); err != nil {
			errs = append(errs, &FieldError{Key: k, Value: string(members[name]), Problem: "is not a string", Allowed: `"repository:tag" or "repository@sha256:<digest>"`})
			continue
		}
		svc, ok := p.Workloads[name]
		if !ok {
			errs = append(errs, &FieldError{Key: k, Value: ref, Problem: "names no service of the workload set", Allowed: "one of " + strings.Join(serviceNames(p.Workloads), ", ")})
			continue
		}
		if err := ValidateImage(k, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		svc.Image = ref
		p.Workloads[name] = svc
	}
	return errs
}

func serviceNames(services map[string]Service) []string {
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	imageDigestPattern = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-z0-9]+)*@sha256:[a-f0-9]{64}$`)
	imageTagPattern    = regexp.MustCompile(`^([a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?/)*[a-z0-9]+([._-][a-z0-9]+)*:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$`)
)

// ValidateImage accepts "repository:tag" with a tag other than latest,
// "repository@sha256:<digest>", or a bare tag or digest, which names an
// image in the service's own ECR repository: a deployment must name
// exactly what it runs.
func ValidateImage(k, ref string) *FieldError {
	allowed := `"repository:tag" with a tag other than latest, "repository@sha256:<64 hex digits>", or a bare tag ("1.4.2") or digest ("sha256:<64 hex digits>") of the service's ECR repository`
	switch {
	case imageDigestPattern.MatchString(ref), bareDigestPattern.MatchString(ref):
		return nil
	case ref == "latest" || strings.HasSuffix(ref, ":latest"):
		return &FieldError{Key: k, Value: ref, Problem: "uses the latest tag, which names no particular build", Allowed: allowed}
	case bareTagPattern.MatchString(ref), imageTagPattern.MatchString(ref):
		return nil
	}
	return &FieldError{Key: k, Value: ref, Problem: "is not an image reference with a tag or digest", Allowed: allowed}
}

var (
	bareTagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	bareDigestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// InRegistry says whether an image reference is a bare tag or digest, to
// be resolved to the service's ECR repository.
func InRegistry(ref string) bool {
	return bareTagPattern.MatchString(ref) || bareDigestPattern.MatchString(ref)
}

// ImageIn is a bare tag or digest in a repository ("repo:tag",
// "repo@sha256:…"); a full reference is returned as it is.
func ImageIn(repositoryURL, ref string) string {
	switch {
	case bareDigestPattern.MatchString(ref):
		return repositoryURL + "@" + ref
	case bareTagPattern.MatchString(ref):
		return repositoryURL + ":" + ref
	}
	return ref
}

// serviceNameProblem says what is wrong with a service name, or "".
func serviceNameProblem(name string) string {
	if !dns1035.MatchString(name) {
		return fmt.Sprintf("%q is not a DNS label (lower-case letters, digits and dashes, starting with a letter, at most 63 characters)", name)
	}
	return ""
}

var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
