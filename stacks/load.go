package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RegionKey is the AWS provider's region key; the profile reads it so that the
// program's explicit provider and the stack file agree.
const RegionKey = "aws:region"

// Source is a stack's configuration as the engine hands it to the program.
type Source interface {
	// Get returns the raw value of a fully qualified key
	// ("personalization-platform:network"): scalars as text, objects and
	// arrays as JSON.
	Get(key string) (string, bool)
	// IsSecret says whether the key's value was set as a secret.
	IsSecret(key string) bool
}

// contextSource reads the running program's configuration.
type contextSource struct{ ctx *pulumi.Context }

func (s contextSource) Get(key string) (string, bool) { return s.ctx.GetConfig(key) }
func (s contextSource) IsSecret(key string) bool      { return s.ctx.IsConfigSecret(key) }

// section is one object-valued configuration key and the part of the
// profile it overlays. decode, when set, replaces the plain strict overlay.
type section struct {
	name   string
	target func(*Profile) any
	decode func(p *Profile, raw string) []error
}

func sections() []section {
	return []section{
		{"network", func(p *Profile) any { return &p.Network }, nil},
		{"cluster", func(p *Profile) any { return &p.Cluster }, nil},
		{"database", func(p *Profile) any { return &p.Database }, nil},
		{"cache", func(p *Profile) any { return &p.Cache }, nil},
		{"backup", func(p *Profile) any { return &p.Backup }, nil},
		{"namespace", func(p *Profile) any { return &p.Namespace }, nil},
		{"monitoring", func(p *Profile) any { return &p.Monitoring }, nil},
		{"logging", func(p *Profile) any { return &p.Logging }, nil},
		{"tracing", func(p *Profile) any { return &p.Tracing }, nil},
		{"registry", func(p *Profile) any { return &p.Registry }, nil},
		{"queue", func(p *Profile) any { return &p.Queue }, nil},
		{"policy", func(p *Profile) any { return &p.Policy }, nil},
		{"disasterRecovery", func(p *Profile) any { return &p.DisasterRecovery }, nil},
		{"workloads", nil, decodeWorkloads},
		// images comes after workloads: it sets the image of a service the
		// workload set has.
		{"images", nil, decodeImages},
	}
}

// Keys lists the project configuration keys the profile reads, unqualified.
// Pulumi.yaml declares exactly these (a test holds the two together), so the
// Pulumi CLI refuses a stack file with any other key in the project namespace.
func Keys() []string {
	keys := append(append([]string{"environment"}, SecretKeys()...), OptionalSecretKeys()...)
	for _, s := range sections() {
		keys = append(keys, s.name)
	}
	sort.Strings(keys)
	return keys
}

// Load reads the profile of the running stack from its configuration.
func Load(ctx *pulumi.Context) (*Profile, error) {
	return Parse(ctx.Stack(), contextSource{ctx})
}

// Parse builds the profile of a stack from its configuration: the tier's
// defaults, overlaid by the stack's values, then validated. It returns every
// problem found, each naming its key, and no profile when there is one.
func Parse(stack string, src Source) (*Profile, error) {
	env, err := environment(stack, src)
	if err != nil {
		return nil, err
	}
	p := Defaults(env)
	p.Stack = stack

	var errs []error
	region, ok := src.Get(RegionKey)
	if !ok {
		errs = append(errs, &FieldError{Key: RegionKey, Problem: "is not set",
			Allowed: "an AWS region such as \"eu-west-1\" (pulumi config set aws:region eu-west-1)"})
	}
	p.Region = region

	for _, s := range sections() {
		raw, ok := src.Get(Project + ":" + s.name)
		if !ok {
			continue
		}
		if s.decode != nil {
			errs = append(errs, s.decode(&p, raw)...)
			continue
		}
		if err := decodeStrict(s.name, raw, s.target(&p)); err != nil {
			errs = append(errs, err)
		}
	}
	secrets, secretErrs := readSecrets(src)
	p.Secrets = secrets
	errs = append(errs, secretErrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := Validate(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// environment picks the tier: the `environment` key, or else the stack name.
func environment(stack string, src Source) (Environment, error) {
	raw, set := src.Get(key("environment"))
	if raw == "" {
		set = false // Pulumi.yaml declares an empty default: the stack name decides
	}
	if !set {
		raw = stack
	}
	env := Environment(raw)
	if slices.Contains(Environments(), env) {
		return env, nil
	}
	if set {
		return "", &FieldError{Key: key("environment"), Value: raw, Problem: "is not an environment tier",
			Allowed: oneOf(Environments())}
	}
	return "", &FieldError{Key: key("environment"), Problem: fmt.Sprintf(
		"is not set and the stack name %q is not an environment tier", stack),
		Allowed: oneOf(Environments()) + " (name the stack after its tier, or set the key)"}
}

// readSecrets reads the secret keys: each must be set as a secret, so that
// it is encrypted in the stack file and in state, and errors never repeat a
// secret's value.
func readSecrets(src Source) (Secrets, []error) {
	var s Secrets
	var errs []error
	read := func(name string, required bool, check func(string) string, allowed string) string {
		k := key(name)
		value, ok := src.Get(k)
		switch {
		case !ok || value == "":
			if required {
				errs = append(errs, &FieldError{Key: k, Problem: "is not set",
					Allowed: allowed + " (pulumi config set --secret " + name + " <value>)"})
			}
			return ""
		case !src.IsSecret(k):
			errs = append(errs, &FieldError{Key: k, Problem: "is set in plain text",
				Allowed: "the same value set as a secret (pulumi config set --secret " + name + " <value>)"})
		default:
			if problem := check(value); problem != "" {
				errs = append(errs, &FieldError{Key: k, Problem: problem, Allowed: allowed})
			}
		}
		return value
	}
	s.RedisAuthToken = read("redisAuthToken", true, authTokenProblem,
		"a secret of 16 to 128 printable ASCII characters, none of them a space, @, \" or /")
	s.GrafanaAdminPassword = read("grafanaAdminPassword", true, passwordProblem, "a secret of at least 16 characters")
	s.PagingWebhook = read("alertmanagerPagingWebhook", false, webhookProblem, "an https:// URL of the paging service's webhook")
	s.ChatWebhook = read("alertmanagerChatWebhook", false, webhookProblem, "an https:// URL of the chat service's webhook")
	return s, errs
}

// authTokenProblem applies ElastiCache's rules for AUTH tokens.
func authTokenProblem(token string) string {
	if len(token) < 16 || len(token) > 128 {
		return fmt.Sprintf("is not a valid Redis AUTH token (%d characters)", len(token))
	}
	for _, r := range token {
		if r <= ' ' || r > '~' || r == '@' || r == '"' || r == '/' {
			return "is not a valid Redis AUTH token (a character ElastiCache refuses)"
		}
	}
	return ""
}

func passwordProblem(pw string) string {
	if len(pw) < 16 {
		return fmt.Sprintf("is too short (%d characters)", len(pw))
	}
	return ""
}

// webhookProblem: receivers are called over TLS only. The URL is a secret:
// the problem names its scheme at most.
func webhookProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "is not a URL"
	}
	if u.Scheme != "https" {
		return fmt.Sprintf("is not an https URL (scheme %q)", u.Scheme)
	}
	return ""
}

// decodeStrict overlays a JSON object onto target, refusing keys the profile
// does not have and values of the wrong type.
func decodeStrict(name, raw string, target any) error {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" || trimmed == "null" {
		return nil
	}
	if !strings.HasPrefix(trimmed, "{") {
		return &FieldError{Key: key(name), Value: raw, Problem: "is not an object",
			Allowed: "an object with keys " + strings.Join(jsonFields(target), ", ")}
	}
	clearGivenCollections(trimmed, target)
	dec := json.NewDecoder(bytes.NewReader([]byte(trimmed)))
	dec.DisallowUnknownFields()
	err := dec.Decode(target)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the object")
	}
	if err == nil {
		return nil
	}

	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return &FieldError{Key: key(name, typeErr.Field), Value: typeErr.Value,
			Problem: "has the wrong type", Allowed: "a value of type " + describeType(typeErr.Type)}
	case strings.HasPrefix(err.Error(), `json: unknown field "`):
		field := strings.TrimSuffix(strings.TrimPrefix(err.Error(), `json: unknown field "`), `"`)
		return &FieldError{Key: key(name, field), Problem: "is not a known key",
			Allowed: "keys " + strings.Join(jsonFields(target), ", ")}
	default:
		return &FieldError{Key: key(name), Value: raw, Problem: "is not valid JSON: " + err.Error(),
			Allowed: "an object with keys " + strings.Join(jsonFields(target), ", ")}
	}
}

// clearGivenCollections empties the list and map fields the JSON object sets,
// so that a list given in config replaces the tier's default list instead
// of being decoded over it element by element.
func clearGivenCollections(raw string, target any) {
	var given map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &given) != nil {
		return // the decode reports the error
	}
	v := reflect.ValueOf(target).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if _, ok := given[name]; !ok {
			continue
		}
		if k := t.Field(i).Type.Kind(); k == reflect.Slice || k == reflect.Map {
			v.Field(i).SetZero()
		}
	}
}

// jsonFields lists the JSON names of a struct's fields, for error messages.
func jsonFields(target any) []string {
	t := reflect.TypeOf(target)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "whole number"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list of " + describeType(t.Elem())
	case reflect.Map, reflect.Struct:
		return "object"
	default:
		return t.String()
	}
}
