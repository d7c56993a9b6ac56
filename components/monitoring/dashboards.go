package monitoring

import (
	"encoding/json"
	"fmt"
)

// Dashboard is a Grafana dashboard provisioned by the sidecar.
type Dashboard struct {
	// Name is the ConfigMap's name and the file name in Grafana.
	Name string
	// Model is the dashboard's JSON model.
	Model map[string]any
}

// JSON is the dashboard's model as Grafana reads it.
func (d Dashboard) JSON() (string, error) {
	b, err := json.MarshalIndent(d.Model, "", "  ")
	if err != nil {
		return "", fmt.Errorf("dashboard %s: %w", d.Name, err)
	}
	return string(b), nil
}

// Exprs lists the PromQL expressions of the dashboard's panels.
func (d Dashboard) Exprs() []string {
	var out []string
	for _, p := range d.Model["panels"].([]any) {
		for _, t := range p.(map[string]any)["targets"].([]any) {
			out = append(out, t.(map[string]any)["expr"].(string))
		}
	}
	return out
}

type target struct{ expr, legend string }

func panel(id int, title, unit string, x, y int, targets ...target) map[string]any {
	var ts []any
	for i, t := range targets {
		ts = append(ts, map[string]any{"refId": string(rune('A' + i)), "expr": t.expr, "legendFormat": t.legend})
	}
	return map[string]any{
		"id": id, "title": title, "type": "timeseries",
		"datasource":  map[string]any{"type": "prometheus", "uid": "prometheus"},
		"gridPos":     map[string]any{"x": x, "y": y, "w": 12, "h": 8},
		"fieldConfig": map[string]any{"defaults": map[string]any{"unit": unit}, "overrides": []any{}},
		"targets":     ts,
	}
}

func dashboardModel(uid, title string, panels ...map[string]any) map[string]any {
	ps := make([]any, len(panels))
	for i, p := range panels {
		ps[i] = p
	}
	return map[string]any{
		"uid": uid, "title": title, "schemaVersion": 39, "version": 1, "editable": false,
		"tags":       []any{"personalization"},
		"time":       map[string]any{"from": "now-6h", "to": "now"},
		"refresh":    "30s",
		"panels":     ps,
		"templating": map[string]any{"list": []any{}},
	}
}

// Dashboards are the service's dashboards: the design's Service Overview
// (request rate, error rate, p95 latency, CPU), Resource Utilization, and
// SLO tracking with the error budget left. The error-rate and latency
// panels link to the series' service's error logs and failed or slow
// traces, where the stack has them.
func Dashboards(namespace string, objectivePercent float64, links Links) []Dashboard {
	ns := fmt.Sprintf(`namespace=%q`, namespace)
	budget := num(1 - objectivePercent/100)
	availability30d := fmt.Sprintf(`1 - (sum by (service) (increase(%s{%s,status=~"5.."}[30d])) / sum by (service) (increase(%s{%s}[30d])))`,
		RequestsMetric, ns, RequestsMetric, ns)
	return []Dashboard{
		{Name: "personalization-service-overview", Model: dashboardModel("personalization-overview", "Personalization / Service Overview",
			panel(1, "Request rate", "reqps", 0, 0, target{fmt.Sprintf(`sum by (service) (rate(%s{%s}[5m]))`, RequestsMetric, ns), "{{service}}"}),
			withLinks(panel(2, "Error rate (5xx share)", "percentunit", 12, 0, target{fmt.Sprintf(`sum by (service) (rate(%s{%s,status=~"5.."}[5m])) / sum by (service) (rate(%s{%s}[5m]))`, RequestsMetric, ns, RequestsMetric, ns), "{{service}}"}),
				links, "status=error"),
			withLinks(panel(3, "p95 latency", "s", 0, 8, target{fmt.Sprintf(`histogram_quantile(0.95, sum by (service, le) (rate(%s{%s}[5m])))`, DurationMetric, ns), "{{service}}"}),
				links, "duration>"+num(links.SlowSeconds)+"s"),
			panel(4, "CPU", "cores", 12, 8, target{fmt.Sprintf(`sum by (pod) (rate(container_cpu_usage_seconds_total{%s,container!=""}[5m]))`, ns), "{{pod}}"}),
		)},
		{Name: "personalization-resources", Model: dashboardModel("personalization-resources", "Personalization / Resource Utilization",
			panel(1, "CPU against requests", "percentunit", 0, 0, target{fmt.Sprintf(`sum by (pod) (rate(container_cpu_usage_seconds_total{%s,container!=""}[5m])) / sum by (pod) (kube_pod_container_resource_requests{%s,resource="cpu"})`, ns, ns), "{{pod}}"}),
			panel(2, "Memory against limits", "percentunit", 12, 0, target{fmt.Sprintf(`sum by (pod) (container_memory_working_set_bytes{%s,container!=""}) / sum by (pod) (kube_pod_container_resource_limits{%s,resource="memory"})`, ns, ns), "{{pod}}"}),
			panel(3, "Restarts (1h)", "short", 0, 8, target{fmt.Sprintf(`sum by (pod) (increase(kube_pod_container_status_restarts_total{%s}[1h]))`, ns), "{{pod}}"}),
			panel(4, "Replicas", "short", 12, 8,
				target{fmt.Sprintf(`kube_horizontalpodautoscaler_status_current_replicas{%s}`, ns), "{{horizontalpodautoscaler}} current"},
				target{fmt.Sprintf(`kube_horizontalpodautoscaler_spec_max_replicas{%s}`, ns), "{{horizontalpodautoscaler}} max"}),
		)},
		{Name: "personalization-slo", Model: dashboardModel("personalization-slo", "Personalization / SLO",
			panel(1, "Availability (30 days)", "percentunit", 0, 0, target{availability30d, "{{service}}"}),
			panel(2, "Error budget left (30 days)", "percentunit", 12, 0, target{fmt.Sprintf(`1 - ((1 - (%s)) / %s)`, availability30d, budget), "{{service}}"}),
			panel(3, "Burn rate", "short", 0, 8,
				target{fmt.Sprintf(`%s / %s`, ErrorRatioRecord("1h"), budget), "{{service}} 1h"},
				target{fmt.Sprintf(`%s / %s`, ErrorRatioRecord("6h"), budget), "{{service}} 6h"}),
		)},
	}
}

// withLinks adds data links to a panel: its series' service's error logs
// and its traces matching a TraceQL filter.
func withLinks(p map[string]any, l Links, traceFilter string) map[string]any {
	var links []any
	if len(l.LogGroups) > 0 {
		links = append(links, l.LogsLink())
	}
	if l.Traces {
		links = append(links, TracesLink(traceFilter))
	}
	if len(links) > 0 {
		p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["links"] = links
	}
	return p
}
