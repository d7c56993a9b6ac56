package monitoring

import (
	"fmt"
	"math"
	"strconv"
)

// Metric names the services expose (the usual names of the Prometheus
// client libraries' HTTP middleware), with the `service` label the
// ServiceMonitor adds.
const (
	RequestsMetric = "http_requests_total"
	DurationMetric = "http_request_duration_seconds_bucket"
)

// Thresholds are the alerts' thresholds.
type Thresholds struct {
	ErrorRatePercent       float64
	LatencyWarningSeconds  float64
	LatencyCriticalSeconds float64
	MemoryPercent          float64
	RestartsPerHour        int
	// AvailabilityObjective is the SLO in percent (99.9).
	AvailabilityObjective float64
}

// Rule is one Prometheus recording or alerting rule.
type Rule struct {
	Record      string            `json:"record,omitempty"`
	Alert       string            `json:"alert,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RuleGroup is a group of rules evaluated together.
type RuleGroup struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Rules    []Rule `json:"rules"`
}

// SLOWindows are the windows of the error-ratio recording rules the
// multi-window, multi-burn-rate alerts read.
func SLOWindows() []string { return []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} }

// ErrorRatioRecord is the recording rule of the 5xx share over a window.
func ErrorRatioRecord(window string) string { return "service:http_requests:error_ratio_rate" + window }

// num writes a threshold, rounded to 12 decimals so that 1 - 0.999 reads
// 0.001 and not 0.0009999999999998899.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e12)/1e12, 'g', -1, 64)
}

// Rules are the service's alerts: the design's five, and the
// multi-window, multi-burn-rate alerts of its availability objective
// (Google SRE workbook, chapter 5).
func Rules(t Thresholds, namespace, runbookBase string) []RuleGroup {
	ns := fmt.Sprintf(`namespace=%q`, namespace)
	annotate := func(anchor, summary, description string) map[string]string {
		return map[string]string{
			"summary":     summary,
			"description": description,
			"runbook_url": runbookBase + "#" + anchor,
		}
	}
	errorRatio := func(window string) string {
		return fmt.Sprintf(`sum by (namespace, service) (rate(%s{%s,status=~"5.."}[%s])) / sum by (namespace, service) (rate(%s{%s}[%s]))`,
			RequestsMetric, ns, window, RequestsMetric, ns, window)
	}
	p95 := fmt.Sprintf(`histogram_quantile(0.95, sum by (namespace, service, le) (rate(%s{%s}[5m])))`, DurationMetric, ns)

	service := RuleGroup{Name: "personalization.service", Rules: []Rule{
		{
			Alert: "HighErrorRate", Expr: errorRatio("5m") + " > " + num(t.ErrorRatePercent/100), For: "5m",
			Labels: map[string]string{"severity": "critical"},
			Annotations: annotate("alert-higherrorrate", "{{ $labels.service }} fails more than "+num(t.ErrorRatePercent)+" % of requests",
				"{{ $labels.service }} answered {{ $value | humanizePercentage }} of its requests with a 5xx over the last 5 minutes."),
		},
		{
			Alert: "HighResponseTime", Expr: p95 + " > " + num(t.LatencyWarningSeconds), For: "5m",
			Labels: map[string]string{"severity": "warning"},
			Annotations: annotate("alert-highresponsetime", "{{ $labels.service }} p95 latency above "+num(t.LatencyWarningSeconds)+" s",
				"The 95th percentile of {{ $labels.service }}'s response time is {{ $value | humanizeDuration }}."),
		},
		{
			Alert: "HighLatency", Expr: p95 + " > " + num(t.LatencyCriticalSeconds), For: "5m",
			Labels: map[string]string{"severity": "critical"},
			Annotations: annotate("alert-highlatency", "{{ $labels.service }} p95 latency above "+num(t.LatencyCriticalSeconds)+" s",
				"The 95th percentile of {{ $labels.service }}'s response time is {{ $value | humanizeDuration }}."),
		},
		{
			Alert: "PodMemoryUsage",
			Expr: fmt.Sprintf(`max by (namespace, pod, container) (container_memory_working_set_bytes{%s,container!=""}) / max by (namespace, pod, container) (kube_pod_container_resource_limits{%s,resource="memory"}) > %s`,
				ns, ns, num(t.MemoryPercent/100)),
			For:    "5m",
			Labels: map[string]string{"severity": "critical"},
			Annotations: annotate("alert-podmemoryusage", "{{ $labels.pod }} uses more than "+num(t.MemoryPercent)+" % of its memory limit",
				"Container {{ $labels.container }} of {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit; it will be OOM-killed at 100 %."),
		},
		{
			Alert:  "PodRestartingTooFrequently",
			Expr:   fmt.Sprintf(`increase(kube_pod_container_status_restarts_total{%s}[1h]) > %d`, ns, t.RestartsPerHour),
			Labels: map[string]string{"severity": "warning"},
			Annotations: annotate("alert-podrestartingtoofrequently", "{{ $labels.pod }} restarts too often",
				"Container {{ $labels.container }} of {{ $labels.pod }} restarted {{ $value }} times in the last hour."),
		},
	}}

	budget := 1 - t.AvailabilityObjective/100
	slo := RuleGroup{Name: "personalization.slo"}
	for _, w := range SLOWindows() {
		slo.Rules = append(slo.Rules, Rule{Record: ErrorRatioRecord(w), Expr: errorRatio(w)})
	}
	burn := func(long, short string, factor float64) string {
		threshold := num(factor) + " * " + num(budget)
		return fmt.Sprintf("(%s > (%s) and %s > (%s))", ErrorRatioRecord(long), threshold, ErrorRatioRecord(short), threshold)
	}
	objective := num(t.AvailabilityObjective)
	slo.Rules = append(slo.Rules,
		Rule{
			Alert:  "ErrorBudgetBurnFast",
			Expr:   burn("1h", "5m", 14.4) + " or " + burn("6h", "30m", 6),
			Labels: map[string]string{"severity": "critical"},
			Annotations: annotate("alert-errorbudgetburnfast", "{{ $labels.service }} burns its error budget fast",
				"At this rate {{ $labels.service }} spends its monthly error budget (objective "+objective+" %) within days: 2 % of it in an hour or 5 % in six."),
		},
		Rule{
			Alert:  "ErrorBudgetBurnSlow",
			Expr:   burn("1d", "2h", 3) + " or " + burn("3d", "6h", 1),
			Labels: map[string]string{"severity": "warning"},
			Annotations: annotate("alert-errorbudgetburnslow", "{{ $labels.service }} burns its error budget steadily",
				"{{ $labels.service }} spends its error budget (objective "+objective+" %) faster than the month allows."),
		},
	)
	releases := RuleGroup{Name: "personalization.releases", Rules: []Rule{{
		Alert:  "RolloutDegraded",
		Expr:   `max by (namespace, name) (rollout_info{` + ns + `,phase="Degraded"}) > 0`,
		For:    "1m",
		Labels: map[string]string{"severity": "critical"},
		Annotations: annotate("alert-rolloutdegraded", "release of {{ $labels.name }} aborted or degraded",
			"Argo Rollouts reports {{ $labels.name }} Degraded: an analysis failed or the new pods never turned ready, and traffic went back to the stable version."),
	}}}
	job := fmt.Sprintf(`%s,cronjob=%q`, ns, BackupCronJob)
	backups := RuleGroup{Name: "personalization.backups", Rules: []Rule{
		{
			Alert:  "DatabaseBackupStale",
			Expr:   fmt.Sprintf(`time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{%s}) > 26 * 3600`, job),
			For:    "10m",
			Labels: map[string]string{"severity": "critical"},
			Annotations: annotate("alert-databasebackupstale", "the nightly database dump has not succeeded for over 26 hours",
				"The last successful run of {{ $labels.cronjob }} is {{ $value | humanizeDuration }} old: the newest dump in the bucket is older than a day."),
		},
		{
			Alert:  "DatabaseBackupFailed",
			Expr:   fmt.Sprintf(`max by (namespace, job_name) (kube_job_status_failed{%s,job_name=~"%s-.*"}) > 0`, ns, BackupCronJob),
			Labels: map[string]string{"severity": "critical"},
			Annotations: annotate("alert-databasebackupfailed", "a nightly database dump failed",
				"Job {{ $labels.job_name }} failed after its retries: no dump was uploaded tonight."),
		},
	}}
	return []RuleGroup{service, slo, releases, backups, telemetryRules(annotate)}
}

// Namespaces of the log and trace pipelines, whose own metrics the
// telemetry alerts read.
const (
	LoggingNamespace = "logging"
	TracingNamespace = "tracing"
)

// telemetryRules watch the pipelines that carry logs and traces: an agent
// that reads logs but delivers none, or gives records up; a collector that
// refuses spans (its memory limiter) or fails to export them.
func telemetryRules(annotate func(anchor, summary, description string) map[string]string) RuleGroup {
	logs := fmt.Sprintf(`namespace=%q`, LoggingNamespace)
	traces := fmt.Sprintf(`namespace=%q`, TracingNamespace)
	return RuleGroup{Name: "personalization.telemetry", Rules: []Rule{
		{
			Alert: "LogShippingStalled",
			Expr: fmt.Sprintf(`sum by (namespace, pod) (rate(fluentbit_input_records_total{%s}[10m])) > 0 unless sum by (namespace, pod) (rate(fluentbit_output_proc_records_total{%s}[10m])) > 0`,
				logs, logs),
			For:    "15m",
			Labels: map[string]string{"severity": "critical"},
			Annotations: annotate("alert-logshippingstalled", "{{ $labels.pod }} reads container logs but ships none",
				"Fluent Bit pod {{ $labels.pod }} took in log records for 15 minutes and delivered none to CloudWatch Logs: that node's logs are piling up in its buffer."),
		},
		{
			Alert:  "LogShippingFailing",
			Expr:   fmt.Sprintf(`sum by (namespace, pod) (rate(fluentbit_output_retries_failed_total{%s}[10m]) + rate(fluentbit_output_dropped_records_total{%s}[10m])) > 0`, logs, logs),
			For:    "10m",
			Labels: map[string]string{"severity": "warning"},
			Annotations: annotate("alert-logshippingfailing", "{{ $labels.pod }} gives up on log records",
				"Fluent Bit pod {{ $labels.pod }} exhausted its retries or dropped records: those log lines are lost."),
		},
		{
			Alert:  "TraceSpansRefused",
			Expr:   fmt.Sprintf(`sum by (namespace, pod) (rate(otelcol_receiver_refused_spans_total{%s}[5m])) > 0`, traces),
			For:    "5m",
			Labels: map[string]string{"severity": "warning"},
			Annotations: annotate("alert-tracespansrefused", "the trace collector {{ $labels.pod }} refuses spans",
				"Collector {{ $labels.pod }} refuses {{ $value | humanize }} spans a second, usually its memory limiter at work: the SDKs retry, then drop."),
		},
		{
			Alert:  "TraceSpansDropped",
			Expr:   fmt.Sprintf(`sum by (namespace, pod) (rate({__name__=~"otelcol_exporter_(send|enqueue)_failed_spans_total",%s}[5m])) > 0`, traces),
			For:    "5m",
			Labels: map[string]string{"severity": "warning"},
			Annotations: annotate("alert-tracespansdropped", "the trace collector {{ $labels.pod }} fails to export spans",
				"Collector {{ $labels.pod }} could not send or queue {{ $value | humanize }} spans a second to its exporter: those traces are incomplete."),
		},
	}}
}

// BackupCronJob is the nightly dump's CronJob, which the backup alerts watch.
const BackupCronJob = "database-backup"

// Exprs lists every PromQL expression of the groups.
func Exprs(groups []RuleGroup) []string {
	var out []string
	for _, g := range groups {
		for _, r := range g.Rules {
			out = append(out, r.Expr)
		}
	}
	return out
}
