package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/personalization/platform/graph"
)

// protected are the types PUL-01 holds to `protect` in production.
var protected = []string{rdsInstance, redisGroup, bucketV2, bucketLegacy, kmsKey, eksCluster, ecrRepository}

// secretName matches input and variable names that hold secret values
// (not the names of Secrets: configSecret, existingSecret).
var secretName = regexp.MustCompile(`(?i)(password|passwd|token|apikey|api_key|credentials?|client_?secret|secret_?access_?key|secretstring|^secret)$`)

// credentialURL matches a URL with credentials in it: scheme://user:pass@host.
var credentialURL = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@{}]+:[^/\s@{}]+@`)

func pulumiRules() []Rule {
	return []Rule{
		{ID: "PUL-01", Title: "stateful resources protected", Severity: High, Production: true, Types: protected, Anchors: "ours",
			Rationale: "protect stops `pulumi up` and `pulumi destroy` from deleting the data by accident.", Remediation: "Pass pulumi.Protect (the production profile does).",
			Check: func(_ *Context, r *graph.Resource) string { return when(!r.Protect, "not protected") }},
		{ID: "PUL-02", Title: "no input holds a plaintext secret", Severity: High, Types: []string{AnyType}, Anchors: "ours",
			Rationale: "A plaintext input is stored in the state and shown in every preview.", Remediation: "Pass secrets as pulumi.ToSecret outputs, or let the service manage them.",
			Check: func(_ *Context, r *graph.Resource) string {
				if r.Type == "kubernetes:core/v1:Secret" {
					for _, field := range []string{"stringData", "data"} {
						if m, ok := value(r, field).(map[string]any); ok {
							for k, v := range m {
								if v != graph.Secret && v != graph.Unknown && !strings.HasSuffix(k, "-user") {
									return fmt.Sprintf("%s.%s of a Secret is not a secret", field, k)
								}
							}
						}
					}
				}
				return plaintextSecret("", r.Inputs)
			}},
	}
}

// plaintextSecret finds an input named like a secret holding a plain
// string, an environment variable named like one with a literal value, or
// a URL with credentials.
func plaintextSecret(path string, v any) string {
	switch t := v.(type) {
	case map[string]any:
		if name, ok := t["name"].(string); ok && secretName.MatchString(name) {
			if val, ok := t["value"].(string); ok && val != "" && val != graph.Secret && val != graph.Unknown {
				return fmt.Sprintf("%s: variable %s holds a literal value", strings.TrimPrefix(path, "."), name)
			}
		}
		for k, e := range t {
			if s, ok := e.(string); ok && secretName.MatchString(k) && s != "" && s != graph.Secret && s != graph.Unknown {
				return fmt.Sprintf("%s.%s holds a plaintext value", strings.TrimPrefix(path, "."), k)
			}
			if msg := plaintextSecret(path+"."+k, e); msg != "" {
				return msg
			}
		}
	case []any:
		for i, e := range t {
			if msg := plaintextSecret(fmt.Sprintf("%s[%d]", path, i), e); msg != "" {
				return msg
			}
		}
	case string:
		if credentialURL.MatchString(t) {
			return strings.TrimPrefix(path, ".") + " holds a URL with credentials"
		}
	}
	return ""
}

// Rules are every rule, in the order the README's rules table lists them.
func Rules() []Rule {
	var all []Rule
	all = append(all, awsRules()...)
	all = append(all, s3Rules()...)
	all = append(all, networkRules()...)
	all = append(all, kubernetesRules()...)
	all = append(all, schedulingRules()...)
	all = append(all, pulumiRules()...)
	all = append(all, deliveryRules()...)
	return all
}
