package stacks

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Logging is where the containers' logs go and how long they stay: every
// container's stdout and stderr, shipped off the nodes to CloudWatch Logs.
type Logging struct {
	// RetentionDays keeps container logs: one of the periods CloudWatch
	// Logs accepts.
	RetentionDays int `json:"retentionDays"`
	// RetentionReason says why production keeps container logs for less
	// than a year (policy CW-01 asks a year or a reason); it is tagged on
	// the log groups.
	RetentionReason string `json:"retentionReason"`
}

// Tracing is the OpenTelemetry pipeline: the workloads' SDKs send OTLP to
// a collector, which batches and exports.
type Tracing struct {
	// Exporter is where the collector sends spans: "tempo", the in-cluster
	// Tempo, or "otlp", an external OTLP/gRPC endpoint over TLS.
	Exporter string `json:"exporter"`
	// Endpoint is the external endpoint ("host:port") of exporter "otlp".
	Endpoint string `json:"endpoint"`
	// SamplingRatio is the share of new traces the SDKs record, from 0 to
	// 1; a request inherits its caller's decision.
	SamplingRatio float64 `json:"samplingRatio"`
	// RetentionHours keeps traces in Tempo.
	RetentionHours int `json:"retentionHours"`
	// StorageGiB sizes Tempo's gp3 volume.
	StorageGiB int `json:"storageGiB"`
	// CollectorReplicas runs that many collectors.
	CollectorReplicas int `json:"collectorReplicas"`
}

// Trace exporters the collector supports.
const (
	ExporterTempo = "tempo"
	ExporterOTLP  = "otlp"
)

// TraceExporters lists the supported exporters.
func TraceExporters() []string { return []string{ExporterTempo, ExporterOTLP} }

func defaultObservability(env Environment) (Logging, Tracing) {
	switch env {
	case Production:
		return Logging{
			RetentionDays: 90,
			// Container logs are high-volume request logs; the audit
			// trail (control plane, flow logs, RDS) is kept 365 days.
			RetentionReason: "application logs serve debugging; the audit logs are kept 365 days",
		}, Tracing{Exporter: ExporterTempo, SamplingRatio: 0.25, RetentionHours: 336, StorageGiB: 50, CollectorReplicas: 2}
	case Staging:
		return Logging{RetentionDays: 30}, Tracing{Exporter: ExporterTempo, SamplingRatio: 0.5, RetentionHours: 168, StorageGiB: 20, CollectorReplicas: 2}
	}
	return Logging{RetentionDays: 7}, Tracing{Exporter: ExporterTempo, SamplingRatio: 1, RetentionHours: 72, StorageGiB: 10, CollectorReplicas: 1}
}

func validateLogging(env Environment, l *Logging) []*FieldError {
	var errs []*FieldError
	if err := validateRetention(key("logging", "retentionDays"), l.RetentionDays); err != nil {
		errs = append(errs, err)
	} else if env == Production && l.RetentionDays < 365 && strings.TrimSpace(l.RetentionReason) == "" {
		errs = append(errs, &FieldError{Key: key("logging", "retentionReason"), Problem: fmt.Sprintf("is empty, and production keeps container logs %d days, under a year", l.RetentionDays),
			Allowed: "a sentence saying why less than a year is enough, or logging.retentionDays of 365 or more"})
	}
	return errs
}

func validateTracing(t *Tracing) []*FieldError {
	var errs []*FieldError
	at := func(f string) string { return key("tracing", f) }
	switch {
	case !slices.Contains(TraceExporters(), t.Exporter):
		errs = append(errs, &FieldError{Key: at("exporter"), Value: t.Exporter, Problem: "is not a supported trace exporter", Allowed: oneOf(TraceExporters())})
	case t.Exporter == ExporterOTLP:
		if host, port, err := net.SplitHostPort(t.Endpoint); err != nil || host == "" || !validPort(port) {
			errs = append(errs, &FieldError{Key: at("endpoint"), Value: t.Endpoint, Problem: "is not a host:port the OTLP exporter can dial",
				Allowed: `an OTLP/gRPC endpoint such as "otlp.example.com:4317"`})
		}
	case t.Endpoint != "":
		errs = append(errs, &FieldError{Key: at("endpoint"), Value: t.Endpoint, Problem: "is set, but the exporter is " + t.Exporter + ", which has its own",
			Allowed: `"" with exporter "tempo", or exporter "otlp"`})
	}
	if t.SamplingRatio < 0 || t.SamplingRatio > 1 {
		errs = append(errs, &FieldError{Key: at("samplingRatio"), Value: formatFloat(t.SamplingRatio), Problem: "is not a ratio",
			Allowed: "a number from 0 (no new traces) to 1 (every trace)"})
	}
	for f, r := range map[string][3]int{
		"retentionHours":    {t.RetentionHours, 1, 24 * 90},
		"storageGiB":        {t.StorageGiB, 1, 16384},
		"collectorReplicas": {t.CollectorReplicas, 1, 20},
	} {
		if err := intInRange(at(f), r[0], r[1], r[2]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536
}
