package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/personalization/platform/graph"
)

// Type tokens of the registry, the queue and the pipeline identity.
const (
	ecrRepository = "aws:ecr/repository:Repository"
	ecrPolicy     = "aws:ecr/repositoryPolicy:RepositoryPolicy"
	ecrScanning   = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
	sqsQueue      = "aws:sqs/queue:Queue"
	sqsPolicy     = "aws:sqs/queuePolicy:QueuePolicy"
	githubIssuer  = "token.actions.githubusercontent.com"
)

// githubSubject is a workflow subject pinned to one repository: owner and
// name spelt out, no wildcard in either.
var githubSubject = regexp.MustCompile(`^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:\S+$`)

// deliveryRules are the delivery rules: the
// registry, the queue and the pipelines' OIDC roles.
func deliveryRules() []Rule {
	return []Rule{
		{ID: "ECR-01", Title: "immutable image tags", Severity: High, Types: []string{ecrRepository}, Anchors: "CK_AWS_51, TV-0031",
			Rationale: "A mutable tag can be repointed at another image after review.", Remediation: "Set imageTagMutability IMMUTABLE.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(str(r, "imageTagMutability") != "IMMUTABLE", "tags are mutable")
			}},
		{ID: "ECR-02", Title: "images scanned on push", Severity: Medium, Types: []string{ecrRepository}, Anchors: "CK_AWS_163, TV-0030",
			Rationale: "An image with known vulnerabilities should be seen before it runs.", Remediation: "Set imageScanningConfiguration.scanOnPush, or a registry scanning configuration.",
			Check: func(c *Context, r *graph.Resource) string {
				if isTrue(r, "imageScanningConfiguration.scanOnPush") || len(resourcesOf(c.Graph, ecrScanning)) > 0 {
					return ""
				}
				return "no scan on push"
			}},
		{ID: "ECR-03", Title: "encrypted with a customer KMS key", Severity: Medium, Types: []string{ecrRepository}, Anchors: "CK_AWS_136, TV-0033",
			Rationale: "A customer key puts reading the images under the key's policy.", Remediation: "Set encryptionConfigurations to KMS with the registry's key.",
			Check: func(_ *Context, r *graph.Resource) string {
				for _, e := range list(r, "encryptionConfigurations") {
					m, _ := e.(map[string]any)
					if m["encryptionType"] == "KMS" && m["kmsKey"] != nil && m["kmsKey"] != "" {
						return ""
					}
				}
				return "not encrypted with a customer KMS key"
			}},
		{ID: "ECR-04", Title: "repository policy allows no principal *", Severity: High, Types: []string{ecrPolicy}, Anchors: "CK_AWS_32, TV-0032",
			Rationale: "Anyone may pull, or push, what * may.", Remediation: "Name the node role and the deploy role.",
			Check: func(_ *Context, r *graph.Resource) string {
				return allowsEveryone(str(r, "policy"), false)
			}},
		{ID: "SQS-01", Title: "queue encrypted with a KMS key", Severity: Medium, Types: []string{sqsQueue}, Anchors: "CK_AWS_27, TV-0096",
			Rationale: "Messages carry user data; a customer key puts their reading under policy.", Remediation: "Set kmsMasterKeyId (SSE-SQS is enough outside production).",
			Check: func(c *Context, r *graph.Resource) string {
				if str(r, "kmsMasterKeyId") != "" || (!c.Production && isTrue(r, "sqsManagedSseEnabled")) {
					return ""
				}
				return "not encrypted with a KMS key"
			}},
		{ID: "SQS-02", Title: "every queue has a dead-letter queue", Severity: Medium, Types: []string{sqsQueue}, Anchors: "ours",
			Rationale: "A message that always fails is retried forever and blocks its neighbours' visibility.", Remediation: "Set a redrivePolicy (components/queue does).",
			Check: func(c *Context, r *graph.Resource) string {
				if str(r, "redrivePolicy") != "" || isDeadLetterQueue(c, r) {
					return ""
				}
				return "no redrive policy"
			}},
		{ID: "SQS-03", Title: "queue policy allows no * action and no principal *", Severity: High, Types: []string{sqsPolicy}, Anchors: "CK_AWS_72, TV-0097",
			Rationale: "sqs:* or principal * hands the queue to whoever asks.", Remediation: "Grant named principals named actions; deny statements are fine.",
			Check: func(_ *Context, r *graph.Resource) string {
				return allowsEveryone(str(r, "policy"), true)
			}},
		{ID: "IAM-03", Title: "GitHub OIDC trust pinned to one repository and to STS", Severity: High, Types: []string{iamRole}, Anchors: "CK_AWS_358",
			Rationale:   "A trust on a wildcard repository lets any GitHub workflow that matches assume the role.",
			Remediation: "Pin token.actions.githubusercontent.com:sub to repo:<owner>/<name>:… and :aud to sts.amazonaws.com.",
			Check: func(_ *Context, r *graph.Resource) string {
				statements, problem := federatedTrust(r, func(provider string) bool { return strings.HasSuffix(provider, "oidc-provider/"+githubIssuer) })
				if problem != "" {
					return problem
				}
				for _, st := range statements {
					if st.Effect != "Allow" {
						continue
					}
					if msg := githubTrustProblem(st.Condition); msg != "" {
						return msg
					}
				}
				return ""
			}},
	}
}

// federatedTrust is the statements of a role's trust policy whose
// federated principal is an identity provider match accepts, or what keeps
// the policy from being read.
func federatedTrust(r *graph.Resource, match func(provider string) bool) ([]statement, string) {
	doc, err := parseDocument(str(r, "assumeRolePolicy"))
	if err != nil {
		return nil, "trust policy does not parse: " + err.Error()
	}
	var out []statement
	for _, st := range doc.Statement {
		p, _ := st.Principal.(map[string]any)
		if fed, _ := p["Federated"].(string); match(fed) {
			out = append(out, st)
		}
	}
	return out, ""
}

// githubTrustProblem says what is wrong with a GitHub OIDC statement's
// conditions: every sub pattern must name one repository, and aud STS.
func githubTrustProblem(conditions map[string]map[string]any) string {
	var subs, auds []string
	for op, kv := range conditions {
		for k, v := range kv {
			switch k {
			case githubIssuer + ":sub":
				for _, s := range stringsOf(v) {
					subs = append(subs, op+" "+s)
				}
			case githubIssuer + ":aud":
				auds = append(auds, stringsOf(v)...)
			}
		}
	}
	if len(subs) == 0 {
		return "no sub condition: any GitHub repository's workflows can assume the role"
	}
	for _, s := range subs {
		// The owner and name admit no wildcard; what follows (the
		// environment, the ref) may narrow further.
		if _, sub, _ := strings.Cut(s, " "); !githubSubject.MatchString(sub) {
			return fmt.Sprintf("sub %q does not name one repository", sub)
		}
	}
	if !slices.Equal(auds, []string{"sts.amazonaws.com"}) {
		return fmt.Sprintf("aud is %v, not sts.amazonaws.com alone", auds)
	}
	return ""
}

// allowsEveryone reports an Allow statement to principal * (and, with
// noStarActions, of a * action) in a resource policy.
func allowsEveryone(raw string, noStarActions bool) string {
	doc, err := parseDocument(raw)
	if err != nil {
		return "policy does not parse: " + err.Error()
	}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		if principalIsEveryone(st.Principal) {
			return "allows principal *"
		}
		if noStarActions {
			for _, a := range stringsOf(st.Action) {
				if a == "*" || strings.HasSuffix(a, ":*") {
					return fmt.Sprintf("allows action %s", a)
				}
			}
		}
	}
	return ""
}

// isDeadLetterQueue says whether another queue of the graph redrives into
// this one.
func isDeadLetterQueue(c *Context, q *graph.Resource) bool {
	for _, other := range resourcesOf(c.Graph, sqsQueue) {
		if other != q && other.DependsThrough("redrivePolicy", q.URN) {
			return true
		}
	}
	return false
}
