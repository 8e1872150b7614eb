package monitor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Rule is an alert rule: it breaches when Metric compared with Threshold by
// Op holds over the last Window.
type Rule struct {
	Name        string
	Metric      string // one of config.Metrics
	Threshold   float64
	Unit        string // "", "%" or "ms", for display
	Op          string // >, >=, <, <=
	Window      time.Duration
	Severity    int    // 0 critical … 4 verbose
	Environment string // "" evaluates every environment separately
	Notify      []string
	// FailureThreshold is how many evaluations in a row must breach before
	// the alert fires (default 2); SuccessThreshold how many must pass
	// before it resolves (default 2). They keep a flapping metric from
	// paging on every wobble.
	FailureThreshold int
	SuccessThreshold int
	// RepeatInterval re-sends a firing alert this often (default 4h).
	RepeatInterval time.Duration
	// MinRequests is the fewest requests a window must hold before a rate
	// of the edge's requests (error_rate; availability where no probe
	// ran) has a value: with fewer the instance has no data, so one
	// failed request of two on a quiet site does not page. 0: none.
	MinRequests int
	// details are a built-in rule's own summaries of its breached
	// instances, by instance (CertOrderRule's name the domain and the
	// CA's error), for one evaluation.
	details map[string]string
}

// RulesFromConfig turns monitor.alerts and monitor.alert_config into Rules.
func RulesFromConfig(m config.Monitor) []Rule {
	var out []Rule
	for _, a := range m.AllAlerts() {
		out = append(out, Rule{Name: a.Name, Metric: a.Metric, Threshold: a.Threshold.Value, Unit: a.Threshold.Unit,
			Op: a.Op(), Window: a.Window.D(), Severity: a.Severity, Environment: a.Environment, Notify: a.Notify,
			MinRequests: a.MinRequests})
	}
	return out
}

func (r Rule) withDefaults() Rule {
	if r.Op == "" {
		r.Op = ">"
		if r.Metric == "availability" {
			r.Op = "<"
		}
	}
	if r.Window <= 0 {
		r.Window = 5 * time.Minute
	}
	if r.FailureThreshold <= 0 {
		r.FailureThreshold = 2
	}
	if r.SuccessThreshold <= 0 {
		r.SuccessThreshold = 2
	}
	if r.RepeatInterval <= 0 {
		r.RepeatInterval = 4 * time.Hour
	}
	return r
}

// ThresholdString shows the threshold with its unit, e.g. "99.9%".
func (r Rule) ThresholdString() string {
	return strconv.FormatFloat(r.Threshold, 'f', -1, 64) + r.unit()
}

func (r Rule) unit() string {
	switch r.Metric {
	case "availability", "error_rate", "cpu_usage", "memory_usage":
		return "%"
	case "requests/duration", "response_time":
		return " ms"
	case certMetric:
		return " days"
	case backupMetric, certOrderMetric:
		return " hours"
	}
	return ""
}

// describe says what the rule saw: breached, the comparison that holds
// ("availability 97.5% < 99.9% over 5m0s"); not breached, the one that
// holds instead ("availability 100% >= 99.9% over 5m0s"), so a resolved
// alert never states its breach.
func (r Rule) describe(v float64, breached bool) string {
	switch {
	case v == noData:
		return r.describeNoData()
	case r.Metric == replicaMetric:
		return describeReplica(v)
	case r.Metric == backupMetric:
		return describeBackup(v)
	case r.Metric == blobMetric:
		return describeBlobs(v)
	case r.Metric == undeliverableMetric:
		return describeUndeliverable(v)
	case r.Metric == diskMetric, r.Metric == storeWriteMetric:
		return describeStorage(r.Metric, v)
	case r.Metric == certMetric:
		return describeCert(v, r.ThresholdString())
	case r.Metric == certOrderMetric:
		return describeCertOrderOK(v, r.ThresholdString())
	}
	op := r.Op
	if !breached {
		op = negate(op)
	}
	return fmt.Sprintf("%s %s%s %s %s over %s", r.Metric, strconv.FormatFloat(round2(v), 'f', -1, 64), r.unit(),
		op, r.ThresholdString(), config.FormatDuration(r.Window))
}

// describeNoData says why an instance without data is not breached.
func (r Rule) describeNoData() string {
	if r.Metric == certMetric {
		return "no such certificate any more (nothing to expire)"
	}
	if r.edgeRate() && r.MinRequests > 1 {
		return fmt.Sprintf("%s: fewer than %d requests over %s (not breached)", r.Metric, r.MinRequests, config.FormatDuration(r.Window))
	}
	return fmt.Sprintf("%s: no data over %s (not breached)", r.Metric, config.FormatDuration(r.Window))
}

func describeCert(v float64, threshold string) string {
	if v < 0 {
		return fmt.Sprintf("certificate expired %s days ago (alert below %s)", strconv.FormatFloat(round2(-v), 'f', -1, 64), threshold)
	}
	// Cut, not rounded: 4.999 days is "4.99", as 'phoenix certificates'
	// says 4 whole days left, never the 5 a rounding would promise.
	left := math.Floor(v*100) / 100
	return fmt.Sprintf("certificate expires in %s days (alert below %s)", strconv.FormatFloat(left, 'f', -1, 64), threshold)
}

// edgeRate reports whether r's metric can be a rate of the edge's
// requests, which MinRequests applies to.
func (r Rule) edgeRate() bool { return r.Metric == "error_rate" || r.Metric == "availability" }

// enough reports whether an environment's window holds enough requests
// for r's value: probes (availability) always count; the edge's requests
// need MinRequests.
func (r Rule) enough(probe, edge Agg) bool {
	if !r.edgeRate() || (r.Metric == "availability" && probe.N > 0) {
		return true
	}
	return edge.N >= int64(r.MinRequests)
}

// negate is the comparison that holds when op does not.
func negate(op string) string {
	switch op {
	case "<":
		return ">="
	case "<=":
		return ">"
	case ">":
		return "<="
	case ">=":
		return "<"
	case "==":
		return "!="
	case "!=":
		return "=="
	}
	return "not " + op
}

func round2(v float64) float64 {
	return float64(int64(v*100+0.5)) / 100
}

// source is where a metric's data lives: the series prefix and how a
// window's aggregate becomes the metric's value.
func metricSource(metric, env string) (prefix string, value func(probe, edge Agg) (float64, bool)) {
	edgePrefix := "edge/" + env
	if env == "" {
		edgePrefix = "edge/"
	}
	switch metric {
	case "requests/failed":
		return edgePrefix, func(_, e Agg) (float64, bool) { return float64(e.N - e.Good), true }
	case "requests/count":
		return edgePrefix, func(_, e Agg) (float64, bool) { return float64(e.N), true }
	case "requests/duration":
		return edgePrefix, func(_, e Agg) (float64, bool) { return e.Avg(), e.N > 0 }
	case "error_rate":
		return edgePrefix, func(_, e Agg) (float64, bool) { return 100 - e.Availability(), e.N > 0 }
	case "availability":
		return "", func(p, e Agg) (float64, bool) {
			if p.N > 0 {
				return p.Availability(), true
			}
			return e.Availability(), e.N > 0
		}
	case "response_time":
		return "probe/", func(p, _ Agg) (float64, bool) { return p.Avg(), p.N > 0 }
	case "cpu_usage":
		return "host/cpu", func(p, _ Agg) (float64, bool) { return p.Avg(), p.N > 0 }
	case "memory_usage":
		return "host/memory", func(p, _ Agg) (float64, bool) { return p.Avg(), p.N > 0 }
	}
	return "", nil
}

// envOf returns the environment of a series name ("probe/prod/x", "edge/prod").
func envOf(series string) string {
	parts := strings.SplitN(series, "/", 3)
	if len(parts) < 2 || parts[0] == "host" {
		return ""
	}
	return parts[1]
}
