package acceptance

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"

	"github.com/personalization/platform/components/monitoring"
	"github.com/personalization/platform/components/workload"
	"github.com/personalization/platform/stacks"
)

// condition reads the success conditions the analysis emits:
// "len(result) == 0 || isNaN(result[0]) || result[0] <= 0.05".
var condition = regexp.MustCompile(`^len\(result\) == 0 \|\| isNaN\(result\[0\]\) \|\| result\[0\] (<=|<) ([0-9.]+)$`)

func succeeds(t *testing.T, cond string, result []float64) bool {
	t.Helper()
	m := condition.FindStringSubmatch(cond)
	if m == nil {
		t.Fatalf("condition %q is not of the form this test reads", cond)
	}
	limit, _ := strconv.ParseFloat(m[2], 64)
	if len(result) == 0 || math.IsNaN(result[0]) {
		return true
	}
	if m[1] == "<" {
		return result[0] < limit
	}
	return result[0] <= limit
}

// evaluate runs a query on Prometheus's engine over synthetic series.
func evaluate(t *testing.T, series, query string, at time.Duration) []float64 {
	t.Helper()
	storage := promqltest.LoadedStorage(t, "load 1m\n"+series)
	engine := promqltest.NewTestEngine(t, false, 0, 50_000_000)
	q, err := engine.NewInstantQuery(context.Background(), storage, nil, query, time.Unix(0, 0).Add(at))
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	res := q.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("%s: %v", query, res.Err)
	}
	vec, err := res.Vector()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, s := range vec {
		out = append(out, s.F)
	}
	return out
}

func svcRequests(service string, ok, failed int) string {
	return `  http_requests_total{namespace="personalization",service="` + service + `",status="200"} 0+` + strconv.Itoa(ok) + `x30
  http_requests_total{namespace="personalization",service="` + service + `",status="500"} 0+` + strconv.Itoa(failed) + `x30
`
}

func svcLatency(service string, fast, slow int) string {
	// fast requests under 0.1 s, slow ones between 0.5 s and 1 s.
	s := ""
	for _, b := range []struct {
		le string
		n  int
	}{{"0.1", fast}, {"0.5", fast}, {"1", fast + slow}, {"+Inf", fast + slow}} {
		s += `  http_request_duration_seconds_bucket{namespace="personalization",service="` + service + `",le="` + b.le + `"} 0+` + strconv.Itoa(b.n) + "x30\n"
	}
	return s
}

// TestCanaryAnalysisOnPrometheus evaluates the AnalysisTemplate's queries,
// with the arguments Argo would pass, on Prometheus's engine: a bad canary
// (10 % errors; p95 three times the stable one; restarting pods) fails the
// analysis, a good one passes.
func TestCanaryAnalysisOnPrometheus(t *testing.T) {
	a := stacks.Defaults(stacks.Production).Workloads[stacks.APIService].Strategy.Analysis
	metrics := workload.AnalysisMetrics(workload.Analysis{
		ErrorRatio: a.ErrorRatePercent / 100, LatencyRatio: a.LatencyRatio, AppNamespace: "personalization",
		RequestsMetric: monitoring.RequestsMetric, DurationMetric: monitoring.DurationMetric,
		RestartsMetric: "kube_pod_container_status_restarts_total", PodLabelsMetric: "kube_pod_labels",
		PodTemplateLabel: "label_" + monitoring.PodTemplateHashLabel,
	})
	args := map[string]string{"canary-service": "personalization-api-canary", "stable-service": "personalization-api", "canary-hash": "7f9c"}
	byName := map[string]workload.AnalysisMetric{}
	for _, m := range metrics {
		byName[m.Name] = m
	}
	canaryPods := `  kube_pod_labels{namespace="personalization",pod="api-7f9c-a",label_rollouts_pod_template_hash="7f9c"} 1x30
  kube_pod_labels{namespace="personalization",pod="api-5d2e-a",label_rollouts_pod_template_hash="5d2e"} 1x30
`
	tests := []struct {
		metric, name, series string
		pass                 bool
	}{
		{"error-rate", "10 % errors", svcRequests("personalization-api-canary", 90, 10) + svcRequests("personalization-api", 100, 0), false},
		{"error-rate", "1 % errors", svcRequests("personalization-api-canary", 99, 1) + svcRequests("personalization-api", 100, 0), true},
		{"error-rate", "no traffic yet", svcRequests("personalization-api", 100, 0), true},
		{"latency-ratio", "p95 three times the stable one", svcLatency("personalization-api-canary", 10, 90) + svcLatency("personalization-api", 100, 0), false},
		{"latency-ratio", "p95 like the stable one", svcLatency("personalization-api-canary", 100, 0) + svcLatency("personalization-api", 100, 0), true},
		{"restarts", "new pods restarting", canaryPods + `  kube_pod_container_status_restarts_total{namespace="personalization",pod="api-7f9c-a",container="api"} 0+1x30
`, false},
		{"restarts", "only old pods restarting", canaryPods + `  kube_pod_container_status_restarts_total{namespace="personalization",pod="api-5d2e-a",container="api"} 0+1x30
  kube_pod_container_status_restarts_total{namespace="personalization",pod="api-7f9c-a",container="api"} 0x30
`, true},
	}
	for _, tt := range tests {
		t.Run(tt.metric+"/"+tt.name, func(t *testing.T) {
			m, ok := byName[tt.metric]
			if !ok {
				t.Fatalf("no metric %s", tt.metric)
			}
			result := evaluate(t, tt.series, workload.ResolveArgs(m.Query, args), 20*time.Minute)
			if got := succeeds(t, m.SuccessCondition, result); got != tt.pass {
				t.Errorf("result %v: analysis passes %v, want %v", result, got, tt.pass)
			}
		})
	}
}
