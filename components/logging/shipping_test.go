package logging_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/personalization/platform/components/logging"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func children(t *testing.T, g *graph.Graph, typ string) []*graph.Resource {
	t.Helper()
	return platformtest.Children(t, g, logging.ShippingTypeToken, typ)
}

// statements decodes a policy document's statements.
func statements(t *testing.T, doc string) []struct {
	Effect    string
	Action    []string
	Resource  []string
	Condition map[string]map[string]string
} {
	t.Helper()
	var p struct {
		Statement []struct {
			Effect    string
			Action    []string
			Resource  []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	return p.Statement
}

// TestLogGroupsPerStack: two groups per stack, made by the program with
// the profile's retention and the logging key; production states why it
// keeps less than a year.
func TestLogGroupsPerStack(t *testing.T) {
	retention := map[string]float64{"dev": 7, "staging": 30, "production": 90}
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			key := platformtest.Child(t, g, logging.TypeToken, "aws:kms/key:Key")
			app, platform := logging.LogGroupNames("personalization-platform-" + stack)
			var names []string
			for _, lg := range children(t, g, "aws:cloudwatch/logGroup:LogGroup") {
				names = append(names, lg.Input("name").(string))
				if lg.Input("retentionInDays") != retention[stack] {
					t.Errorf("%s kept %v days, want %v", lg.Name, lg.Input("retentionInDays"), retention[stack])
				}
				if lg.Input("kmsKeyId") != "arn:aws:kms:eu-west-1:123456789012:key/"+key.Name || !lg.DependsThrough("kmsKeyId", key.URN) {
					t.Errorf("%s encrypted with %v, want the logging key", lg.Name, lg.Input("kmsKeyId"))
				}
				reason, _ := lg.Lookup("tags.retention-reason")
				if (stack == "production") != (reason != nil) {
					t.Errorf("%s retention reason %v", lg.Name, reason)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{app, platform}) {
				t.Errorf("log groups %v, want %s and %s", names, app, platform)
			}
		})
	}
}

// TestAgentWritesOnlyItsGroups: the agent's IRSA role is trusted by its
// service account alone and may write streams of the two groups, nothing
// more; the agent's configuration never creates a group.
func TestAgentWritesOnlyItsGroups(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	roles := map[string]*graph.Resource{}
	for _, r := range children(t, g, "aws:iam/role:Role") {
		roles[r.Name] = r
	}
	for name, sa := range map[string]string{
		"log-shipping-agent":  "system:serviceaccount:logging:fluent-bit",
		"log-shipping-reader": "system:serviceaccount:monitoring:kube-prometheus-stack-grafana",
	} {
		role := roles[name]
		if role == nil {
			t.Fatalf("no role %s", name)
		}
		trust := statements(t, role.Input("assumeRolePolicy").(string))
		if len(trust) != 1 || !slices.ContainsFunc(mapValues(trust[0].Condition["StringEquals"]), func(v string) bool { return v == sa }) {
			t.Errorf("%s trusts %+v, want only %s", name, trust, sa)
		}
	}
	var grants []string
	for _, p := range children(t, g, "aws:iam/rolePolicy:RolePolicy") {
		if p.Name != "log-shipping-agent" {
			continue
		}
		for _, st := range statements(t, p.Input("policy").(string)) {
			for _, a := range st.Action {
				for _, r := range st.Resource {
					grants = append(grants, st.Effect+" "+a+" "+r)
				}
			}
		}
	}
	group := "arn:aws:logs:eu-west-1:123456789012:log-group:/personalization-platform-production/containers/"
	want := []string{
		"Allow logs:DescribeLogStreams " + group + "application:*",
		"Allow logs:DescribeLogStreams " + group + "platform:*",
		"Allow logs:CreateLogStream " + group + "application:log-stream:*",
		"Allow logs:CreateLogStream " + group + "platform:log-stream:*",
		"Allow logs:PutLogEvents " + group + "application:log-stream:*",
		"Allow logs:PutLogEvents " + group + "platform:log-stream:*",
	}
	slices.Sort(grants)
	slices.Sort(want)
	if !slices.Equal(grants, want) {
		t.Errorf("agent grants\n%s\nwant\n%s", strings.Join(grants, "\n"), strings.Join(want, "\n"))
	}

	release := children(t, g, "kubernetes:helm.sh/v3:Release")[0]
	outputs, _ := release.Lookup("values.config.outputs")
	for _, want := range []string{"auto_create_group Off", "log_group_name " + group[strings.Index(group, "/personalization"):] + "application", "Match app.*", "Match kube.*"} {
		if !strings.Contains(outputs.(string), want) {
			t.Errorf("outputs lack %q:\n%s", want, outputs)
		}
	}
	if filters, _ := release.Lookup("values.config.filters"); !strings.Contains(filters.(string), "Merge_Log On") ||
		!strings.Contains(filters.(string), `$kubernetes['namespace_name'] ^personalization$ app.$TAG false`) {
		t.Errorf("filters do not lift JSON logs and route the application namespace:\n%s", filters)
	}
	if ann, _ := release.Lookup("values.serviceAccount.annotations"); !reflect.DeepEqual(ann, map[string]any{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/log-shipping-agent"}) {
		t.Errorf("agent service account %v", ann)
	}
	if v, _ := release.Lookup("version"); v != logging.FluentBitVersion {
		t.Errorf("chart %v, want the pinned %s", v, logging.FluentBitVersion)
	}
}

// TestAgentNetworkPolicy: scraped by Prometheus on its metrics port, out
// only to DNS and HTTPS.
func TestAgentNetworkPolicy(t *testing.T) {
	g := platformtest.Render(t, "dev", nil)
	np := children(t, g, "kubernetes:networking.k8s.io/v1:NetworkPolicy")[0]
	var ports []any
	egress, _ := np.Lookup("spec.egress")
	for _, e := range egress.([]any) {
		for _, p := range e.(map[string]any)["ports"].([]any) {
			ports = append(ports, p.(map[string]any)["port"])
		}
	}
	if !reflect.DeepEqual(ports, []any{53.0, 53.0, 443.0}) {
		t.Errorf("agent egress ports %v, want DNS and HTTPS", ports)
	}
	ingress, _ := np.Lookup("spec.ingress")
	if in := ingress.([]any); len(in) != 1 || in[0].(map[string]any)["ports"].([]any)[0].(map[string]any)["port"] != float64(logging.MetricsPort) {
		t.Errorf("agent ingress %v, want Prometheus on %d", ingress, logging.MetricsPort)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
