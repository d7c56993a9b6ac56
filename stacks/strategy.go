package stacks

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The release strategies of a service.
const (
	Rolling   = "rolling"
	Canary    = "canary"
	BlueGreen = "blueGreen"
)

// Strategies lists the allowed release strategies.
func Strategies() []string { return []string{Rolling, Canary, BlueGreen} }

// Strategy is how a service's new versions are released. Anything but
// rolling runs as an Argo Rollout that analyses each step on Prometheus and
// rolls itself back when the analysis fails.
type Strategy struct {
	Type string `json:"type"`
	// Steps are the canary's traffic weights, each followed by a pause and
	// an analysis.
	Steps []CanaryStep `json:"steps"`
	// PreviewPort is the blue-green preview Service's port.
	PreviewPort int `json:"previewPort"`
	// AutoPromote promotes a healthy blue-green preview without a person.
	AutoPromote bool     `json:"autoPromote"`
	Analysis    Analysis `json:"analysis"`
}

// CanaryStep sends Weight percent of traffic to the new version, then
// waits Pause (a duration such as "5m").
type CanaryStep struct {
	Weight int    `json:"weight"`
	Pause  string `json:"pause"`
}

// Analysis is the rollback condition of a release, from the service design:
// 5xx share above ErrorRatePercent, canary p95 above LatencyRatio times the
// stable pods' p95, or pods restarting.
type Analysis struct {
	ErrorRatePercent float64 `json:"errorRatePercent"`
	LatencyRatio     float64 `json:"latencyRatio"`
	// Interval between measurements and how many are taken per analysis.
	Interval string `json:"interval"`
	Count    int    `json:"count"`
}

func defaultStrategy(env Environment, service string) Strategy {
	s := Strategy{Type: Rolling, Analysis: Analysis{ErrorRatePercent: 5, LatencyRatio: 2, Interval: "1m", Count: 5}}
	if service != APIService {
		return s
	}
	pause := "5m"
	if env != Production {
		// Exercised in dev and staging too, with shorter pauses.
		pause, s.Analysis.Interval, s.Analysis.Count = "1m", "30s", 2
	}
	s.Type = Canary
	s.Steps = []CanaryStep{{10, pause}, {25, pause}, {50, pause}, {100, ""}}
	return s
}

func validateStrategy(at func(string) string, s Strategy) []*FieldError {
	var errs []*FieldError
	if !slices.Contains(Strategies(), s.Type) {
		return []*FieldError{{Key: at("strategy.type"), Value: s.Type, Problem: "is not a release strategy", Allowed: oneOf(Strategies())}}
	}
	if s.Type == Rolling {
		return nil
	}
	a := s.Analysis
	if a.ErrorRatePercent <= 0 || a.ErrorRatePercent > 100 {
		errs = append(errs, &FieldError{Key: at("strategy.analysis.errorRatePercent"), Value: formatFloat(a.ErrorRatePercent),
			Problem: "is not a percentage", Allowed: "a number in (0, 100]"})
	}
	if a.LatencyRatio <= 1 {
		errs = append(errs, &FieldError{Key: at("strategy.analysis.latencyRatio"), Value: formatFloat(a.LatencyRatio),
			Problem: "would fail a canary as fast as the stable version", Allowed: "a ratio above 1, such as 2"})
	}
	if problem := pauseProblem(a.Interval); problem != "" || a.Interval == "" {
		errs = append(errs, &FieldError{Key: at("strategy.analysis.interval"), Value: a.Interval, Problem: "is not a duration: " + problem, Allowed: `a duration such as "30s" or "1m"`})
	}
	if err := intInRange(at("strategy.analysis.count"), a.Count, 1, 100); err != nil {
		errs = append(errs, err)
	}
	switch s.Type {
	case Canary:
		if len(s.Steps) == 0 {
			errs = append(errs, &FieldError{Key: at("strategy.steps"), Value: "[]", Problem: "is empty", Allowed: "traffic weights rising to 100, such as 10, 25, 50, 100"})
		}
		last := 0
		for i, st := range s.Steps {
			k := at(fmt.Sprintf("strategy.steps[%d]", i))
			if st.Weight <= last || st.Weight > 100 {
				errs = append(errs, &FieldError{Key: k + ".weight", Value: strconv.Itoa(st.Weight),
					Problem: "does not rise above the previous step or exceeds 100", Allowed: fmt.Sprintf("%d to 100", last+1)})
			}
			last = st.Weight
			if problem := pauseProblem(st.Pause); problem != "" {
				errs = append(errs, &FieldError{Key: k + ".pause", Value: st.Pause, Problem: "is not a pause Argo Rollouts accepts: " + problem,
					Allowed: `a duration in s, m or h such as "30s" or "5m", or "" for none`})
			}
		}
	case BlueGreen:
		if err := intInRange(at("strategy.previewPort"), s.PreviewPort, 1, 65535); err != nil {
			err.Problem = "is not a port: a blue-green service needs a preview port"
			errs = append(errs, err)
		}
	}
	return errs
}

// pauseProblem holds a pause to both Go's duration parser and Argo's units
// (s, m, h; no fractions, no sub-second units).
func pauseProblem(d string) string {
	if d == "" {
		return ""
	}
	parsed, err := time.ParseDuration(d)
	switch {
	case err != nil:
		return err.Error()
	case parsed <= 0:
		return "not positive"
	case parsed%time.Second != 0:
		return "Argo Rollouts counts whole seconds"
	}
	for _, r := range d {
		if r == '.' || r == 'u' || r == 'n' || r == 'µ' {
			return "Argo Rollouts takes s, m and h only"
		}
	}
	if len(d) > 2 && d[len(d)-2:] == "ms" {
		return "Argo Rollouts takes s, m and h only"
	}
	return ""
}
