package stacks

// Monitoring is the monitoring stack's shape: kube-prometheus-stack's sizes,
// the alert thresholds of the service's design, and the CloudWatch alarms on
// the data services.
type Monitoring struct {
	// PrometheusRetention is how long Prometheus keeps samples ("15d").
	PrometheusRetention string `json:"prometheusRetention"`
	// PrometheusStorageGiB sizes each Prometheus replica's gp3 volume.
	PrometheusStorageGiB int `json:"prometheusStorageGiB"`
	PrometheusReplicas   int `json:"prometheusReplicas"`
	AlertmanagerReplicas int `json:"alertmanagerReplicas"`
	// ScrapeInterval is the default scrape interval ("15s").
	ScrapeInterval string `json:"scrapeInterval"`
	// RunbookBaseURL is where alerts' runbook_url annotations point; each
	// alert appends its anchor.
	RunbookBaseURL string `json:"runbookBaseUrl"`
	// AlarmEmail, when set, subscribes an address to the alarm topic.
	AlarmEmail string          `json:"alarmEmail"`
	Alerts     AlertThresholds `json:"alerts"`
	Alarms     AlarmThresholds `json:"alarms"`
}

// AlertThresholds are the Prometheus alerts' thresholds.
type AlertThresholds struct {
	// ErrorRatePercent: 5xx share of requests over 5 minutes (HighErrorRate).
	ErrorRatePercent float64 `json:"errorRatePercent"`
	// LatencyWarningSeconds and LatencyCriticalSeconds: p95 latency
	// (HighResponseTime, HighLatency).
	LatencyWarningSeconds  float64 `json:"latencyWarningSeconds"`
	LatencyCriticalSeconds float64 `json:"latencyCriticalSeconds"`
	// MemoryPercent: working set as a share of the memory limit.
	MemoryPercent float64 `json:"memoryPercent"`
	// RestartsPerHour: container restarts in an hour.
	RestartsPerHour int `json:"restartsPerHour"`
	// AvailabilityObjective is the SLO, in percent (99.9).
	AvailabilityObjective float64 `json:"availabilityObjective"`
}

// AlarmThresholds are the CloudWatch alarms' thresholds.
type AlarmThresholds struct {
	DatabaseCPUPercent         float64 `json:"databaseCpuPercent"`
	DatabaseFreeStoragePercent float64 `json:"databaseFreeStoragePercent"`
	DatabaseFreeableMemoryMiB  int     `json:"databaseFreeableMemoryMiB"`
	DatabaseConnections        int     `json:"databaseConnections"`
	CacheCPUPercent            float64 `json:"cacheCpuPercent"`
	CacheMemoryPercent         float64 `json:"cacheMemoryPercent"`
	CacheEvictions             int     `json:"cacheEvictions"`
	CacheReplicationLagSeconds float64 `json:"cacheReplicationLagSeconds"`
}

func defaultMonitoring(env Environment) Monitoring {
	m := Monitoring{
		PrometheusRetention:  "7d",
		PrometheusStorageGiB: 20,
		PrometheusReplicas:   1,
		AlertmanagerReplicas: 1,
		ScrapeInterval:       "15s",
		RunbookBaseURL:       "https://github.com/personalization/personalization-platform/blob/main/docs/operations.md",
		Alerts: AlertThresholds{
			ErrorRatePercent:       5,
			LatencyWarningSeconds:  0.5,
			LatencyCriticalSeconds: 1,
			MemoryPercent:          90,
			RestartsPerHour:        3,
			AvailabilityObjective:  99.9,
		},
		Alarms: AlarmThresholds{
			DatabaseCPUPercent:         80,
			DatabaseFreeStoragePercent: 10,
			DatabaseFreeableMemoryMiB:  256,
			DatabaseConnections:        400,
			CacheCPUPercent:            75,
			CacheMemoryPercent:         80,
			CacheEvictions:             100,
			CacheReplicationLagSeconds: 1,
		},
	}
	switch env {
	case Staging:
		m.PrometheusRetention = "15d"
		m.PrometheusStorageGiB = 50
		m.PrometheusReplicas = 2
		m.AlertmanagerReplicas = 2
	case Production:
		m.PrometheusRetention = "30d"
		m.PrometheusStorageGiB = 200
		m.PrometheusReplicas = 2
		m.AlertmanagerReplicas = 3
	}
	return m
}
