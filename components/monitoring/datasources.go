package monitoring

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// Data source UIDs: dashboards and links refer to them.
const (
	PrometheusUID = "prometheus"
	CloudWatchUID = "cloudwatch"
	TempoUID      = "tempo"
)

// DataSources is the Grafana provisioning file of the logs and traces:
// CloudWatch (Logs Insights over the container log groups, through
// Grafana's IRSA role) and Tempo, with its service graph and span metrics
// read from Prometheus. (Grafana's trace-to-logs link does not read
// CloudWatch; the dashboards' links and the runbook go from logs to traces
// by trace id instead.)
func DataSources(t Telemetry, account string) (string, error) {
	var sources []any
	if len(t.LogGroups) > 0 {
		sources = append(sources, map[string]any{
			"name": "CloudWatch Logs", "uid": CloudWatchUID, "type": "cloudwatch", "editable": false,
			"jsonData": map[string]any{
				// "default": the AWS SDK's chain, which reads IRSA's token.
				"authType": "default", "defaultRegion": t.Region,
				"logGroups": logGroupRefs(t.Region, account, t.LogGroups),
			},
		})
	}
	if t.TempoURL != "" {
		tempo := map[string]any{
			"serviceMap": map[string]any{"datasourceUid": PrometheusUID},
			"nodeGraph":  map[string]any{"enabled": true},
			"search":     map[string]any{"hide": false},
			"tracesToMetrics": map[string]any{
				"datasourceUid": PrometheusUID,
				"tags":          []any{map[string]any{"key": "service.name", "value": "service"}},
			},
		}
		sources = append(sources, map[string]any{
			"name": "Tempo", "uid": TempoUID, "type": "tempo", "access": "proxy", "url": t.TempoURL, "editable": false,
			"jsonData": tempo,
		})
	}
	b, err := yaml.Marshal(map[string]any{"apiVersion": 1, "datasources": sources})
	if err != nil {
		return "", fmt.Errorf("data sources: %w", err)
	}
	return string(b), nil
}

func logGroupRefs(region, account string, groups []string) []any {
	var refs []any
	for _, g := range groups {
		refs = append(refs, map[string]any{"name": g, "arn": "arn:aws:logs:" + region + ":" + account + ":log-group:" + g + ":*"})
	}
	return refs
}

// Links are the dashboards' ways from a panel to the logs and traces.
type Links struct {
	Region, Account string
	LogGroups       []string
	Traces          bool
	// SlowSeconds is the span duration the latency panel's trace link
	// looks for: the latency warning's threshold.
	SlowSeconds float64
}

func (a *Args) links() Links {
	t := a.Telemetry
	return Links{Region: t.Region, Account: a.Alarms.AccountID, LogGroups: t.LogGroups, Traces: t.TempoURL != "", SlowSeconds: a.Thresholds.LatencyWarningSeconds}
}

// Grafana data-link variables, kept out of the escaping: Grafana fills
// them in when the link is followed.
const (
	serviceVar = "${__field.labels.service:percentencode}"
	fromVar    = "${__from}"
	toVar      = "${__to}"
)

// explore is a link into Grafana's Explore with one query, over the
// panel's time range, for the series' service. The pane is JSON in the
// URL; the variables are put back unescaped so Grafana substitutes them.
func explore(query map[string]any) string {
	pane := map[string]any{"a": map[string]any{
		"datasource": query["datasource"].(map[string]any)["uid"],
		"queries":    []any{query},
		"range":      map[string]any{"from": "__FROM__", "to": "__TO__"},
	}}
	b, _ := json.Marshal(pane) // plain maps and strings: cannot fail
	escaped := url.QueryEscape(string(b))
	escaped = strings.NewReplacer("__SERVICE__", serviceVar, "__FROM__", fromVar, "__TO__", toVar).Replace(escaped)
	return "/explore?schemaVersion=1&orgId=1&panes=" + escaped
}

// TracesLink opens the service's failed or slow traces in Tempo.
func TracesLink(filter string) map[string]any {
	return map[string]any{
		"title": "Traces of ${__field.labels.service}",
		"url": explore(map[string]any{
			"refId": "A", "datasource": map[string]any{"type": "tempo", "uid": TempoUID},
			"queryType": "traceql", "limit": 20,
			"query": `{resource.service.name="__SERVICE__" && ` + filter + `}`,
		}),
	}
}

// LogsLink opens the service's error log lines in CloudWatch Logs
// Insights, newest first, with their trace ids.
func (l Links) LogsLink() map[string]any {
	return map[string]any{
		"title": "Error logs of ${__field.labels.service}",
		"url": explore(map[string]any{
			"refId": "A", "datasource": map[string]any{"type": "cloudwatch", "uid": CloudWatchUID},
			"queryMode": "Logs", "region": l.Region, "logGroups": logGroupRefs(l.Region, l.Account, l.LogGroups),
			"expression": `fields @timestamp, kubernetes.pod_name, level, trace_id, @message` +
				` | filter kubernetes.container_name = "__SERVICE__" and (level in ["error", "ERROR"] or status >= 500)` +
				` | sort @timestamp desc | limit 200`,
		}),
	}
}
