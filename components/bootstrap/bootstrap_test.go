package bootstrap_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/personalization/platform/components/bootstrap"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/golden"
	"github.com/personalization/platform/internal/platformtest"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/policy"
	"github.com/personalization/platform/render"
)

func renderBootstrap(t *testing.T, overrides map[string]string) *graph.Graph {
	return platformtest.RenderBootstrap(t, overrides)
}

type trust struct {
	Statement []struct {
		Effect    string
		Principal map[string]string
		Condition map[string]map[string]any
	}
}

// TestRolesTrustOneRepositoryAndOneSubjectEach: the preview role only the
// repository's pull-request jobs, each deploy role only its environment's
// jobs; sub and aud pinned with StringEquals, never a wildcard.
func TestRolesTrustOneRepositoryAndOneSubjectEach(t *testing.T) {
	g := renderBootstrap(t, nil)
	const repo = "repo:acme/personalization-platform:"
	want := map[string][]string{
		// Pull requests, and the daily drift check on main.
		"personalization-platform-preview":           {repo + "pull_request", repo + "ref:refs/heads/main"},
		"personalization-platform-deploy-dev":        {repo + "environment:dev"},
		"personalization-platform-deploy-staging":    {repo + "environment:staging"},
		"personalization-platform-deploy-production": {repo + "environment:production"},
	}
	seen := map[string]bool{}
	for _, r := range g.OfType("aws:iam/role:Role") {
		name, _ := r.Input("name").(string)
		if !strings.Contains(r.Input("assumeRolePolicy").(string), "Federated") {
			continue // not a GitHub role: the break-glass and the runners' roles
		}
		var doc trust
		if err := json.Unmarshal([]byte(r.Input("assumeRolePolicy").(string)), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Statement) != 1 || len(doc.Statement[0].Condition) != 1 {
			t.Fatalf("%s: trust %+v, want one statement with StringEquals alone", name, doc)
		}
		st := doc.Statement[0]
		var subs []string
		switch v := st.Condition["StringEquals"][bootstrap.GitHubIssuer+":sub"].(type) {
		case string:
			subs = []string{v}
		case []any:
			for _, s := range v {
				subs = append(subs, s.(string))
			}
		}
		for _, sub := range subs {
			if strings.Contains(sub, "*") {
				t.Errorf("%s: sub %q has a wildcard", name, sub)
			}
			if !strings.HasPrefix(sub, repo) {
				t.Errorf("%s: sub %q names another repository", name, sub)
			}
		}
		if !reflect.DeepEqual(subs, want[name]) {
			t.Errorf("%s: subjects %q, want %q", name, subs, want[name])
		}
		if aud := st.Condition["StringEquals"][bootstrap.GitHubIssuer+":aud"]; aud != "sts.amazonaws.com" || !strings.HasSuffix(st.Principal["Federated"], "token.actions.githubusercontent.com") {
			t.Errorf("%s: aud %v, principal %v", name, aud, st.Principal)
		}
		seen[name] = true
	}
	if len(seen) != len(want) {
		t.Errorf("roles %v, want %v", seen, want)
	}
}

// TestStateBucketAndPolicies: the bootstrap render passes every policy
// rule (IAM-03 included), and the preview role writes nothing but locks.
func TestStateBucketAndPolicies(t *testing.T) {
	g := renderBootstrap(t, nil)
	rep, err := policy.Evaluate(g, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		t.Errorf("%s %s: %s", f.Rule, f.URN, f.Message)
	}
	for _, p := range g.OfType("aws:iam/rolePolicy:RolePolicy") {
		if p.Name != "foundation-preview-state" {
			continue
		}
		var doc struct {
			Statement []struct {
				Action   []string
				Resource []string
			}
		}
		if err := json.Unmarshal([]byte(p.Input("policy").(string)), &doc); err != nil {
			t.Fatal(err)
		}
		for _, st := range doc.Statement {
			for _, a := range st.Action {
				if (a == "s3:PutObject" || a == "s3:DeleteObject") && (len(st.Resource) != 1 || !strings.HasSuffix(st.Resource[0], "/.pulumi/locks/*")) {
					t.Errorf("preview may %s on %v", a, st.Resource)
				}
			}
		}
	}
	var outputs []string
	for k := range g.Outputs {
		outputs = append(outputs, k)
	}
	sort.Strings(outputs)
	if strings.Join(outputs, " ") != "backendUrl breakGlassRoleArn deployRoleArns githubOidcProviderArn previewRoleArn runnerEgressIps runnerProject secretsProvider stateBucket" {
		t.Errorf("outputs %v", outputs)
	}
	if sp := g.Outputs["secretsProvider"]; sp != "awskms://alias/personalization-platform-secrets?region=eu-west-1" {
		t.Errorf("secrets provider %v", sp)
	}
}

func TestFewerEnvironments(t *testing.T) {
	g := renderBootstrap(t, map[string]string{"personalization-bootstrap:environments": `["production"]`})
	var github []string
	for _, r := range g.OfType("aws:iam/role:Role") {
		if strings.Contains(r.Input("assumeRolePolicy").(string), "Federated") {
			github = append(github, r.Input("name").(string))
		}
	}
	sort.Strings(github)
	if strings.Join(github, " ") != "personalization-platform-deploy-production personalization-platform-preview" {
		t.Errorf("GitHub roles %v, want preview and deploy-production", github)
	}
}

// TestGolden: the bootstrap's render, reviewed like the stacks'.
func TestGolden(t *testing.T) {
	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	got, err := render.MarshalJSON(renderBootstrap(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join(root, "testdata", "golden", "bootstrap-example.json"), got)
}

// TestBreakGlassNeedsMFA: people of the account, with MFA, and nobody
// else; the role may find the clusters, and the stacks' access entries do
// the rest.
func TestBreakGlassNeedsMFA(t *testing.T) {
	g := renderBootstrap(t, nil)
	var role *graph.Resource
	for _, r := range g.OfType("aws:iam/role:Role") {
		if r.Input("name") == "personalization-platform-breakglass" {
			role = r
		}
	}
	if role == nil {
		t.Fatal("no break-glass role")
	}
	var doc trust
	if err := json.Unmarshal([]byte(role.Input("assumeRolePolicy").(string)), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 || doc.Statement[0].Principal["AWS"] != "arn:aws:iam::123456789012:root" ||
		doc.Statement[0].Condition["Bool"]["aws:MultiFactorAuthPresent"] != "true" {
		t.Errorf("break-glass trust %+v, want the account's principals with MFA", doc)
	}
	if got := g.Outputs["breakGlassRoleArn"]; got == nil {
		t.Error("the break-glass role's ARN is not an output")
	}
}
