package appnamespace_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/personalization/platform/components/appnamespace"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func TestNamespaceIsRestrictedQuotedAndClosed(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	component := platformtest.One(t, g, appnamespace.TypeToken)
	ns := platformtest.Child(t, g, appnamespace.TypeToken, "kubernetes:core/v1:Namespace")
	if l, _ := ns.Lookup("metadata.labels"); l.(map[string]any)["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v", l)
	}
	quota := platformtest.Child(t, g, appnamespace.TypeToken, "kubernetes:core/v1:ResourceQuota")
	if hard, _ := quota.Lookup("spec.hard"); hard.(map[string]any)["requests.cpu"] != "12" || hard.(map[string]any)["pods"] != "100" {
		t.Errorf("quota %v", hard)
	}
	platformtest.Child(t, g, appnamespace.TypeToken, "kubernetes:core/v1:LimitRange")
	var deny *graph.Resource
	for _, r := range g.Children(component.URN) {
		if r.Type == "kubernetes:networking.k8s.io/v1:NetworkPolicy" {
			deny = r
		}
	}
	if deny == nil {
		t.Fatal("no default-deny policy")
	}
	if sel, _ := deny.Lookup("spec.podSelector"); len(sel.(map[string]any)) != 0 {
		t.Errorf("default deny selects %v, want every pod", sel)
	}
	if types, _ := deny.Lookup("spec.policyTypes"); len(types.([]any)) != 2 {
		t.Errorf("default deny covers %v", types)
	}
	if _, hasIngress := deny.Lookup("spec.ingress"); hasIngress {
		t.Error("default deny admits something")
	}
}

func TestConnectionStringsComeFromSecretsManager(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	secrets := map[string]*graph.Resource{}
	for _, r := range g.Descendants(platformtest.One(t, g, appnamespace.TypeToken).URN) {
		if r.Type == "kubernetes:external-secrets.io/v1beta1:ExternalSecret" {
			name, _ := r.Lookup("metadata.name")
			secrets[name.(string)] = r
		}
	}
	db := secrets[appnamespace.DatabaseURLSecret]
	redis := secrets[appnamespace.RedisURLSecret]
	if db == nil || redis == nil {
		t.Fatalf("external secrets %v", secrets)
	}
	tmpl, _ := db.Lookup("spec.target.template.data.DATABASE_URL")
	if !strings.HasPrefix(tmpl.(string), "postgresql://{{ .username }}:{{ .password | urlquery }}@personalization-platform-production.") ||
		!strings.HasSuffix(tmpl.(string), ":5432/personalization?sslmode=require") {
		t.Errorf("DATABASE_URL template %v", tmpl)
	}
	key, _ := db.Lookup("spec.data")
	if remote := key.([]any)[0].(map[string]any)["remoteRef"].(map[string]any)["key"]; !strings.HasPrefix(remote.(string), "arn:aws:secretsmanager:") {
		t.Errorf("database credentials from %v, want the RDS-managed secret", remote)
	}
	if interval, _ := db.Lookup("spec.refreshInterval"); interval != appnamespace.RefreshInterval {
		t.Errorf("refresh %v", interval)
	}
	rt, _ := redis.Lookup("spec.target.template.data.REDIS_URL")
	if !strings.HasPrefix(rt.(string), "rediss://:{{ .token | urlquery }}@master.") {
		t.Errorf("REDIS_URL template %v", rt)
	}

	// The store's role reads exactly the two secrets.
	var role *graph.Resource
	for _, r := range g.OfType("aws:iam/rolePolicy:RolePolicy") {
		if r.Name == "app-secrets" {
			role = r
		}
	}
	if role == nil {
		t.Fatal("no policy for the secret store")
	}
	var doc struct {
		Statement []struct{ Action, Resource []string }
	}
	if err := json.Unmarshal([]byte(role.Input("policy").(string)), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 2 || len(doc.Statement[0].Resource) != 2 || doc.Statement[0].Action[0] != "secretsmanager:GetSecretValue" {
		t.Errorf("secret store policy %+v", doc)
	}
}
