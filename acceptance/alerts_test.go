package acceptance

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"

	"github.com/personalization/platform/components/monitoring"
	"github.com/personalization/platform/stacks"
)

// alertRules are the production stack's alerts, by name, with their
// recording rules inlined: a recording rule is its expression computed
// ahead of time, so the alert reads the same numbers either way.
func alertRules(t *testing.T) map[string]monitoring.Rule {
	t.Helper()
	a := stacks.Defaults(stacks.Production).Monitoring.Alerts
	groups := monitoring.Rules(monitoring.Thresholds{
		ErrorRatePercent: a.ErrorRatePercent, LatencyWarningSeconds: a.LatencyWarningSeconds,
		LatencyCriticalSeconds: a.LatencyCriticalSeconds, MemoryPercent: a.MemoryPercent,
		RestartsPerHour: a.RestartsPerHour, AvailabilityObjective: a.AvailabilityObjective,
	}, "personalization", "https://example.com/ops.md")
	records := map[string]string{}
	out := map[string]monitoring.Rule{}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				records[r.Record] = r.Expr
				continue
			}
			for name, expr := range records {
				r.Expr = strings.ReplaceAll(r.Expr, name, "("+expr+")")
			}
			out[r.Alert] = r
		}
	}
	return out
}

// fires evaluates an alert with Prometheus's rule engine every minute over
// the last part of the loaded series and says whether it ends up firing.
func fires(t *testing.T, rule monitoring.Rule, series string, end time.Duration) bool {
	t.Helper()
	storage := promqltest.LoadedStorage(t, "load 1m\n"+series)
	engine := promqltest.NewTestEngine(t, false, 0, 50_000_000)
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(rule.Expr)
	if err != nil {
		t.Fatalf("%s: %v", rule.Alert, err)
	}
	hold := time.Duration(0)
	if rule.For != "" {
		if hold, err = time.ParseDuration(rule.For); err != nil {
			t.Fatal(err)
		}
	}
	ar := rules.NewAlertingRule(rule.Alert, expr, hold, 0, labels.FromMap(rule.Labels), labels.FromMap(rule.Annotations),
		labels.EmptyLabels(), "", true, slog.New(slog.DiscardHandler))
	query := rules.EngineQueryFunc(engine, storage)
	start := end - hold - 3*time.Minute
	for ts := start; ts <= end; ts += time.Minute {
		if _, err := ar.Eval(context.Background(), 0, time.Unix(0, 0).Add(ts), query, nil, 0); err != nil {
			t.Fatalf("%s at %s: %v", rule.Alert, ts, err)
		}
	}
	for _, a := range ar.ActiveAlerts() {
		if a.State == rules.StateFiring {
			return true
		}
	}
	return false
}

// requests is a request counter pair for the API: ok and 5xx requests per
// minute, over minutes.
func requests(ok, failed, minutes int) string {
	return fmt.Sprintf(`  http_requests_total{namespace="personalization",service="personalization-api",status="200"} 0+%dx%d
  http_requests_total{namespace="personalization",service="personalization-api",status="500"} 0+%dx%d
`, ok, minutes, failed, minutes)
}

// latency is a request-duration histogram whose requests per minute fall
// into the buckets ≤0.1 s, ≤0.5 s, ≤1 s and ≤2 s as given.
func latency(b01, b05, b1, b2, minutes int) string {
	var s strings.Builder
	cum := 0
	for _, b := range []struct {
		le string
		n  int
	}{{"0.1", b01}, {"0.5", b05}, {"1", b1}, {"2", b2}, {"+Inf", 0}} {
		cum += b.n
		fmt.Fprintf(&s, "  http_request_duration_seconds_bucket{namespace=\"personalization\",service=\"personalization-api\",le=%q} 0+%dx%d\n", b.le, cum, minutes)
	}
	return s.String()
}

func memory(workingSetMiB, limitMiB, minutes int) string {
	return fmt.Sprintf(`  container_memory_working_set_bytes{namespace="personalization",pod="api-1",container="personalization-api"} %dx%d
  kube_pod_container_resource_limits{namespace="personalization",pod="api-1",container="personalization-api",resource="memory"} %dx%d
`, workingSetMiB<<20, minutes, limitMiB<<20, minutes)
}

func lastBackup(at, minutes int) string {
	return fmt.Sprintf("  kube_cronjob_status_last_successful_time{namespace=\"personalization\",cronjob=\"database-backup\"} %dx%d\n", at, minutes)
}

func failedJob(failed, minutes int) string {
	return fmt.Sprintf("  kube_job_status_failed{namespace=\"personalization\",job_name=\"database-backup-29130840\"} %dx%d\n", failed, minutes)
}

func rolloutInfo(phase string, minutes int) string {
	return fmt.Sprintf("  rollout_info{namespace=\"personalization\",name=\"personalization-api\",phase=%q,strategy=\"canary\"} 1x%d\n", phase, minutes)
}

func restarts(perTenMinutes, minutes int) string {
	return fmt.Sprintf("  kube_pod_container_status_restarts_total{namespace=\"personalization\",pod=\"api-1\",container=\"personalization-api\"} 0+%gx%d\n",
		float64(perTenMinutes)/10, minutes)
}

// fluentBit is one agent's counters: records read and records delivered,
// retries given up and records dropped, per minute.
func fluentBit(read, delivered, failed, dropped, minutes int) string {
	pod := `namespace="logging",pod="fluent-bit-x7k2p"`
	return fmt.Sprintf(`  fluentbit_input_records_total{%s,name="tail.0"} 0+%dx%d
  fluentbit_output_proc_records_total{%s,name="cloudwatch_logs.0"} 0+%dx%d
  fluentbit_output_retries_failed_total{%s,name="cloudwatch_logs.0"} 0+%dx%d
  fluentbit_output_dropped_records_total{%s,name="cloudwatch_logs.0"} 0+%dx%d
`, pod, read, minutes, pod, delivered, minutes, pod, failed, minutes, pod, dropped, minutes)
}

// collector is one collector's span counters per minute: accepted and
// refused by the receiver, sent and failed by the exporter.
func collector(accepted, refused, sent, failed, minutes int) string {
	pod := `namespace="tracing",pod="otel-collector-6d9f"`
	return fmt.Sprintf(`  otelcol_receiver_accepted_spans_total{%s,receiver="otlp"} 0+%dx%d
  otelcol_receiver_refused_spans_total{%s,receiver="otlp"} 0+%dx%d
  otelcol_exporter_sent_spans_total{%s,exporter="otlp/tempo"} 0+%dx%d
  otelcol_exporter_send_failed_spans_total{%s,exporter="otlp/tempo"} 0+%dx%d
`, pod, accepted, minutes, pod, refused, minutes, pod, sent, minutes, pod, failed, minutes)
}

// TestAlertsFireOnTheirConditionAndOnlyThen runs every alert on synthetic
// series that must fire it and series that must not.
func TestAlertsFireOnTheirConditionAndOnlyThen(t *testing.T) {
	all := alertRules(t)
	const day = 24 * 60
	tests := []struct {
		alert  string
		series string
		end    time.Duration
		want   bool
	}{
		{"HighErrorRate", requests(90, 10, 40), 40 * time.Minute, true},
		{"HighErrorRate", requests(99, 1, 40), 40 * time.Minute, false},
		{"HighResponseTime", latency(10, 10, 80, 0, 40), 40 * time.Minute, true},
		{"HighResponseTime", latency(90, 10, 0, 0, 40), 40 * time.Minute, false},
		{"HighLatency", latency(10, 10, 10, 70, 40), 40 * time.Minute, true},
		{"HighLatency", latency(10, 10, 80, 0, 40), 40 * time.Minute, false},
		{"PodMemoryUsage", memory(490, 512, 40), 40 * time.Minute, true},
		{"PodMemoryUsage", memory(256, 512, 40), 40 * time.Minute, false},
		{"PodRestartingTooFrequently", restarts(10, 120), 120 * time.Minute, true},
		{"PodRestartingTooFrequently", restarts(0, 120), 120 * time.Minute, false},
		// 2 % errors burn the 0.1 % budget 20 times over: fast burn.
		{"ErrorBudgetBurnFast", requests(98, 2, 8*60), 8 * time.Hour, true},
		{"ErrorBudgetBurnFast", requests(1000, 1, 8*60), 8 * time.Hour, false},
		// 0.5 % for two days: slow burn, and not fast.
		{"ErrorBudgetBurnSlow", requests(995, 5, 2*day), 2 * 24 * time.Hour, true},
		{"ErrorBudgetBurnFast", requests(995, 5, 2*day), 2 * 24 * time.Hour, false},
		{"ErrorBudgetBurnSlow", requests(10000, 5, 2*day), 2 * 24 * time.Hour, false},
		{"RolloutDegraded", rolloutInfo("Degraded", 10), 10 * time.Minute, true},
		// The last success was at t=0; 27 h later it is stale, 20 h later not.
		{"DatabaseBackupStale", lastBackup(0, 27*60), 27 * time.Hour, true},
		{"DatabaseBackupStale", lastBackup(0, 20*60), 20 * time.Hour, false},
		{"DatabaseBackupFailed", failedJob(1, 10), 10 * time.Minute, true},
		{"DatabaseBackupFailed", failedJob(0, 10), 10 * time.Minute, false},
		{"RolloutDegraded", rolloutInfo("Healthy", 10), 10 * time.Minute, false},
		// An agent that reads and delivers nothing stalls; a quiet node,
		// reading nothing, does not.
		{"LogShippingStalled", fluentBit(600, 0, 0, 0, 40), 40 * time.Minute, true},
		{"LogShippingStalled", fluentBit(600, 600, 0, 0, 40), 40 * time.Minute, false},
		{"LogShippingStalled", fluentBit(0, 0, 0, 0, 40), 40 * time.Minute, false},
		{"LogShippingFailing", fluentBit(600, 590, 0, 10, 40), 40 * time.Minute, true},
		{"LogShippingFailing", fluentBit(600, 600, 0, 0, 40), 40 * time.Minute, false},
		{"TraceSpansRefused", collector(1000, 50, 1000, 0, 30), 30 * time.Minute, true},
		{"TraceSpansRefused", collector(1000, 0, 1000, 0, 30), 30 * time.Minute, false},
		{"TraceSpansDropped", collector(1000, 0, 900, 100, 30), 30 * time.Minute, true},
		{"TraceSpansDropped", collector(1000, 0, 1000, 0, 30), 30 * time.Minute, false},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		name := fmt.Sprintf("%s fires=%v", tt.alert, tt.want)
		t.Run(name, func(t *testing.T) {
			rule, ok := all[tt.alert]
			if !ok {
				t.Fatalf("no alert %s", tt.alert)
			}
			if got := fires(t, rule, tt.series, tt.end); got != tt.want {
				t.Errorf("%s fired: %v, want %v", tt.alert, got, tt.want)
			}
		})
		tested[tt.alert] = true
	}
	for name := range all {
		if !tested[name] {
			t.Errorf("alert %s has no test", name)
		}
	}
}
