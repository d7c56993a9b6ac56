package monitoring_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/personalization/platform/components/monitoring"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/internal/platformtest"
)

func thresholds() monitoring.Thresholds {
	return monitoring.Thresholds{ErrorRatePercent: 5, LatencyWarningSeconds: 0.5, LatencyCriticalSeconds: 1, MemoryPercent: 90, RestartsPerHour: 3, AvailabilityObjective: 99.9}
}

// TestEveryExpressionParses runs every PromQL expression of the rules and
// dashboards through Prometheus's own parser.
func TestEveryExpressionParses(t *testing.T) {
	exprs := monitoring.Exprs(monitoring.Rules(thresholds(), "personalization", "https://example.com/ops.md"))
	for _, d := range monitoring.Dashboards("personalization", 99.9, monitoring.Links{}) {
		exprs = append(exprs, d.Exprs()...)
	}
	if len(exprs) < 20 {
		t.Fatalf("only %d expressions", len(exprs))
	}
	p := parser.NewParser(parser.Options{})
	for _, e := range exprs {
		if _, err := p.ParseExpr(e); err != nil {
			t.Errorf("%s\n  does not parse: %v", e, err)
		}
	}
	if _, err := p.ParseExpr("sum(rate(x[5m]) /"); err == nil {
		t.Fatal("the parser accepts a broken expression; this test proves nothing")
	}
}

func TestAlertsOfTheServiceDesign(t *testing.T) {
	groups := monitoring.Rules(thresholds(), "personalization", "https://example.com/ops.md")
	alerts := map[string]monitoring.Rule{}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts[r.Alert] = r
			}
		}
	}
	want := map[string]struct{ severity, threshold, forDur string }{
		"HighErrorRate":              {"critical", "> 0.05", "5m"},
		"HighResponseTime":           {"warning", "> 0.5", "5m"},
		"HighLatency":                {"critical", "> 1", "5m"},
		"PodMemoryUsage":             {"critical", "> 0.9", "5m"},
		"PodRestartingTooFrequently": {"warning", "> 3", ""},
		"ErrorBudgetBurnFast":        {"critical", "14.4 * 0.001", ""},
		"ErrorBudgetBurnSlow":        {"warning", "3 * 0.001", ""},
		"RolloutDegraded":            {"critical", `phase="Degraded"`, "1m"},
		"DatabaseBackupStale":        {"critical", "> 26 * 3600", "10m"},
		"DatabaseBackupFailed":       {"critical", "> 0", ""},
		"LogShippingStalled":         {"critical", "fluentbit_output_proc_records_total", "15m"},
		"LogShippingFailing":         {"warning", "fluentbit_output_retries_failed_total", "10m"},
		"TraceSpansRefused":          {"warning", "otelcol_receiver_refused_spans_total", "5m"},
		"TraceSpansDropped":          {"warning", "otelcol_exporter_(send|enqueue)_failed_spans_total", "5m"},
	}
	for name, w := range want {
		r, ok := alerts[name]
		if !ok {
			t.Errorf("no alert %s", name)
			continue
		}
		if r.Labels["severity"] != w.severity || !strings.Contains(r.Expr, w.threshold) || r.For != w.forDur {
			t.Errorf("%s: severity %s, for %q, expr %s; want %+v", name, r.Labels["severity"], r.For, r.Expr, w)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("%s lacks %s", name, a)
			}
		}
		if !strings.HasPrefix(r.Annotations["runbook_url"], "https://example.com/ops.md#alert-"+strings.ToLower(name)) {
			t.Errorf("%s runbook %s", name, r.Annotations["runbook_url"])
		}
	}
	if len(alerts) != len(want) {
		t.Errorf("%d alerts, want %d", len(alerts), len(want))
	}
}

func TestAlertmanagerRouting(t *testing.T) {
	for _, tt := range []struct {
		name      string
		receivers monitoring.Receivers
		critical  string
		warning   string
	}{
		{"none", monitoring.Receivers{}, "null", "null"},
		{"both", monitoring.Receivers{PagingURL: "https://pager.example.com/x", ChatURL: "https://chat.example.com/y"}, "paging", "chat"},
		{"paging only", monitoring.Receivers{PagingURL: "https://pager.example.com/x"}, "paging", "null"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := monitoring.AlertmanagerConfig(tt.receivers)
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Route struct {
					Receiver string
					Routes   []struct {
						Receiver string
						Matchers []string
					}
				}
				Receivers []struct {
					Name           string
					WebhookConfigs []struct{ URL string } `yaml:"webhook_configs"`
				}
			}
			if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range cfg.Route.Routes {
				got[r.Matchers[0]] = r.Receiver
			}
			if got[`severity="critical"`] != tt.critical || got[`severity="warning"`] != tt.warning || cfg.Route.Receiver != "null" {
				t.Errorf("routes %v", got)
			}
			names := map[string]bool{}
			for _, r := range cfg.Receivers {
				names[r.Name] = true
			}
			for _, route := range got {
				if !names[route] {
					t.Errorf("route to undefined receiver %s", route)
				}
			}
		})
	}
}

func TestStackPerEnvironment(t *testing.T) {
	for _, stack := range platformtest.Stacks() {
		t.Run(stack, func(t *testing.T) {
			g := platformtest.Render(t, stack, nil)
			rel := platformtest.Child(t, g, monitoring.TypeToken, "kubernetes:helm.sh/v3:Release")
			if rel.Input("chart") != monitoring.Chart || rel.Input("version") != monitoring.ChartVersion {
				t.Errorf("release %v %v", rel.Input("chart"), rel.Input("version"))
			}
			spec, _ := rel.Lookup("values.prometheus.prometheusSpec")
			ps := spec.(map[string]any)
			wantRetention := map[string]string{"dev": "7d", "staging": "15d", "production": "30d"}[stack]
			if ps["retention"] != wantRetention || ps["scrapeInterval"] != "15s" {
				t.Errorf("prometheus %v", ps)
			}
			if sc, _ := rel.Lookup("values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName"); sc != "gp3" {
				t.Errorf("storage class %v", sc)
			}
			if s, _ := rel.Lookup("values.grafana.sidecar.dashboards.enabled"); s != true {
				t.Error("dashboard sidecar off")
			}
			if s, _ := rel.Lookup("values.grafana.admin.existingSecret"); s != monitoring.GrafanaAdminSecret {
				t.Errorf("grafana admin from %v", s)
			}

			var monitors, dashboards int
			var rules *graph.Resource
			for _, r := range g.Descendants(platformtest.One(t, g, monitoring.TypeToken).URN) {
				switch r.Type {
				case "kubernetes:monitoring.coreos.com/v1:ServiceMonitor":
					monitors++
					// Argo Rollouts' default path, Fluent Bit's own, /metrics for the rest.
					path, special := map[string]any{"monitoring-sm-argo-rollouts": nil, "monitoring-sm-fluent-bit": "/api/v2/metrics/prometheus"}[r.Name]
					if !special {
						path = "/metrics"
					}
					if ep, _ := r.Lookup("spec.endpoints"); ep.([]any)[0].(map[string]any)["path"] != path {
						t.Errorf("service monitor %s: %v, want path %v", r.Name, ep, path)
					}
				case "kubernetes:monitoring.coreos.com/v1:PrometheusRule":
					rules = r
				case "kubernetes:core/v1:ConfigMap":
					if l, _ := r.Lookup("metadata.labels"); reflect.DeepEqual(l, map[string]any{monitoring.DashboardLabel: "1"}) {
						dashboards++
						data := r.Input("data").(map[string]any)
						for _, v := range data {
							var model map[string]any
							if err := json.Unmarshal([]byte(v.(string)), &model); err != nil || model["panels"] == nil {
								t.Errorf("dashboard %s: %v", r.Name, err)
							}
						}
					}
				case "kubernetes:core/v1:Secret":
					// The whole map is secret, or each sensitive value is.
					if data, isMap := r.Input("stringData").(map[string]any); isMap {
						for k, v := range data {
							if k != "admin-user" && v != graph.Secret {
								t.Errorf("secret %s holds %s in plain text", r.Name, k)
							}
						}
					} else if r.Input("stringData") != graph.Secret {
						t.Errorf("secret %s: %v", r.Name, r.Input("stringData"))
					}
				}
			}
			// The services' two, Argo Rollouts', and the log and trace
			// pipelines' three.
			if monitors != 6 || dashboards != 3 || rules == nil {
				t.Errorf("%d service monitors, %d dashboards, rules %v", monitors, dashboards, rules != nil)
			}
			if g.Outputs["alertRouting"] != "critical → null (alertmanagerPagingWebhook unset); warning → null (alertmanagerChatWebhook unset)" {
				t.Errorf("routing output %v", g.Outputs["alertRouting"])
			}
		})
	}
}

func TestCloudWatchAlarmsToAnEncryptedTopic(t *testing.T) {
	g := platformtest.Render(t, "production", map[string]string{
		"personalization-platform:monitoring": `{"alarmEmail": "ops@example.com"}`,
	})
	topic := platformtest.Child(t, g, monitoring.TypeToken, "aws:sns/topic:Topic")
	if topic.Input("kmsMasterKeyId") == nil {
		t.Error("topic is not encrypted")
	}
	sub := platformtest.Child(t, g, monitoring.TypeToken, "aws:sns/topicSubscription:TopicSubscription")
	if sub.Input("endpoint") != "ops@example.com" {
		t.Errorf("subscription %v", sub.Inputs)
	}
	metrics := map[string]int{}
	for _, a := range g.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		metrics[a.Input("namespace").(string)+"/"+a.Input("metricName").(string)]++
		if !reflect.DeepEqual(a.Input("alarmActions"), []any{"arn:aws:sns:eu-west-1:123456789012:topic/monitoring-alarms"}) {
			t.Errorf("%s notifies %v", a.Name, a.Input("alarmActions"))
		}
	}
	for m, n := range map[string]int{
		"AWS/RDS/CPUUtilization": 1, "AWS/RDS/FreeStorageSpace": 1, "AWS/RDS/FreeableMemory": 1, "AWS/RDS/DatabaseConnections": 1,
		"AWS/ElastiCache/EngineCPUUtilization": 3, "AWS/ElastiCache/DatabaseMemoryUsagePercentage": 3,
		"AWS/ElastiCache/Evictions": 3, "AWS/ElastiCache/ReplicationLag": 3,
	} {
		if metrics[m] != n {
			t.Errorf("%d alarms on %s, want %d", metrics[m], m, n)
		}
	}
}

func TestWebhooksReachOnlyASecret(t *testing.T) {
	hook := "https://pager.example.com/hook/very-secret-token"
	g := platformtest.RenderWith(t, "production",
		map[string]string{"personalization-platform:alertmanagerPagingWebhook": hook},
		[]string{"personalization-platform:alertmanagerPagingWebhook"})
	for _, r := range g.Resources {
		raw, _ := json.Marshal(r.Inputs)
		if strings.Contains(string(raw), "very-secret-token") {
			t.Errorf("%s holds the webhook in plain text", r.URN)
		}
	}
	if !strings.HasPrefix(g.Outputs["alertRouting"].(string), "critical → paging;") {
		t.Errorf("routing %v", g.Outputs["alertRouting"])
	}
}

// TestLogAndTraceDataSources: Grafana gets CloudWatch Logs over the
// container log groups through its IRSA role, and Tempo with its service
// graph; the overview's error and latency panels link to both.
func TestLogAndTraceDataSources(t *testing.T) {
	g := platformtest.Render(t, "production", nil)
	var sources string
	for _, r := range g.Descendants(platformtest.One(t, g, monitoring.TypeToken).URN) {
		if l, _ := r.Lookup("metadata.labels"); r.Type == "kubernetes:core/v1:ConfigMap" && reflect.DeepEqual(l, map[string]any{monitoring.DataSourceLabel: "1"}) {
			for _, v := range r.Input("data").(map[string]any) {
				sources = v.(string)
			}
		}
	}
	var doc struct {
		Datasources []struct {
			Name, UID, Type, URL string
			JSONData             map[string]any `yaml:"jsonData"`
		}
	}
	if err := yaml.Unmarshal([]byte(sources), &doc); err != nil {
		t.Fatal(err)
	}
	byType := map[string]map[string]any{}
	for _, d := range doc.Datasources {
		byType[d.Type] = d.JSONData
		if d.Type == "tempo" && d.URL != "http://tempo.tracing.svc:3200" {
			t.Errorf("tempo at %s", d.URL)
		}
	}
	cw := byType["cloudwatch"]
	if cw == nil || cw["authType"] != "default" || cw["defaultRegion"] != "eu-west-1" || len(cw["logGroups"].([]any)) != 2 {
		t.Errorf("cloudwatch data source %v", cw)
	}
	if tempo := byType["tempo"]; tempo == nil || tempo["serviceMap"].(map[string]any)["datasourceUid"] != monitoring.PrometheusUID {
		t.Errorf("tempo data source %v", tempo)
	}
	rel := platformtest.Child(t, g, monitoring.TypeToken, "kubernetes:helm.sh/v3:Release")
	if ann, _ := rel.Lookup("values.grafana.serviceAccount.annotations"); !reflect.DeepEqual(ann, map[string]any{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/log-shipping-reader"}) {
		t.Errorf("grafana service account %v, want the log reader role", ann)
	}
	if rw, _ := rel.Lookup("values.prometheus.prometheusSpec.enableRemoteWriteReceiver"); rw != true {
		t.Error("Prometheus does not receive Tempo's service graph")
	}

	overview := monitoring.Dashboards("personalization", 99.9, monitoring.Links{Region: "eu-west-1", Account: "123456789012",
		LogGroups: []string{"/app"}, Traces: true, SlowSeconds: 0.5})[0]
	for _, p := range overview.Model["panels"].([]any) {
		panel := p.(map[string]any)
		links, _ := panel["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["links"].([]any)
		wantLinks := panel["title"] == "Error rate (5xx share)" || panel["title"] == "p95 latency"
		if wantLinks != (len(links) == 2) {
			t.Errorf("panel %v links %v", panel["title"], links)
		}
		for _, l := range links {
			u := l.(map[string]any)["url"].(string)
			if !strings.HasPrefix(u, "/explore?") || !strings.Contains(u, "${__field.labels.service:percentencode}") || !strings.Contains(u, "${__from}") {
				t.Errorf("link %s does not carry the series' service and time range", u)
			}
		}
	}
}
