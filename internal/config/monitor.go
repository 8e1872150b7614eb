package config

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Monitor holds the health probes and alert rules.
type Monitor struct {
	Endpoints   []Endpoint  `yaml:"endpoints" doc:"HTTP probes run on an interval."`
	Alerts      []Alert     `yaml:"alerts" doc:"Alert rules over metrics."`
	AlertConfig AlertConfig `yaml:"alert_config" doc:"Alert rules grouped by level (critical, warning), as in the seed workflow."`
}

// Endpoint is one HTTP probe.
type Endpoint struct {
	Name        string            `yaml:"name" required:"true" pattern:"name" doc:"Probe name, unique in its list."`
	URL         string            `yaml:"url" required:"true" doc:"URL to probe; a path like /health is resolved against the environment's domain."`
	Environment string            `yaml:"environment" pattern:"slug" doc:"Environment the probe belongs to (needed for path-only URLs)."`
	Method      string            `yaml:"method" enum:"GET,HEAD,POST" doc:"HTTP method (default GET)."`
	Headers     map[string]string `yaml:"headers" keys:"header" doc:"Request headers."`
	Interval    Duration          `yaml:"interval" doc:"Time between probes: 60, \"60s\" or \"1m\" (default 60s)."`
	Timeout     Duration          `yaml:"timeout" doc:"Probe time limit (default 10s)."`
	Conditions  []Condition       `yaml:"conditions" doc:"All must hold for the probe to pass; default [STATUS] == 200."`
}

func (e *Endpoint) setDefaults() {
	e.Method = "GET"
	e.Interval = Duration(60 * time.Second)
	e.Timeout = Duration(defaultProbeTimeout)
}

// defaultProbeTimeout is a probe's timeout when phoenix.yaml gives none.
const defaultProbeTimeout = 10 * time.Second

// Metric names accepted in alert rules.
var Metrics = []string{
	"requests/failed", "requests/duration", "requests/count", "availability",
	"error_rate", "response_time", "cpu_usage", "memory_usage",
}

// Alert is one alert rule: it fires when the metric crosses the threshold
// over the window.
type Alert struct {
	Name        string    `yaml:"name" required:"true" doc:"Rule name, unique, e.g. HighErrorRate."`
	Metric      string    `yaml:"metric" required:"true" enum:"requests/failed,requests/duration,requests/count,availability,error_rate,response_time,cpu_usage,memory_usage" doc:"Metric the rule watches."`
	Threshold   Threshold `yaml:"threshold" required:"true" doc:"Limit: a number or a string like \"1%\", \"1000ms\", \"99.9\"."`
	Operator    string    `yaml:"operator" enum:">,>=,<,<=" doc:"Comparison that fires the alert; default < for availability, > otherwise."`
	Window      Duration  `yaml:"window" doc:"Evaluation window: \"PT5M\" or \"5m\" (default 5m)."`
	Severity    int       `yaml:"severity" min:"0" max:"4" doc:"0 critical, 1 error, 2 warning, 3 informational, 4 verbose (default 2)."`
	Environment string    `yaml:"environment" pattern:"slug" doc:"Environment whose telemetry the rule reads; default all."`
	Notify      []string  `yaml:"notify" doc:"Notification channels; default every channel subscribed to alert events."`
	MinRequests int       `yaml:"min_requests" min:"1" doc:"error_rate and availability from the edge's requests: the fewest requests the window must hold before the rule can breach (default 10), so one failed request on a quiet site does not page."`
}

// DefaultMinRequests is the fewest requests a window must hold before a
// rate of the edge's requests (error_rate, availability without probes)
// can breach: App Insights and Grafana alerts have such a floor too.
const DefaultMinRequests = 10

func (a *Alert) setDefaults() {
	a.Window = Duration(5 * time.Minute)
	a.Severity = 2
	a.MinRequests = DefaultMinRequests
}

// Op returns the effective operator.
func (a *Alert) Op() string {
	if a.Operator != "" {
		return a.Operator
	}
	if a.Metric == "availability" {
		return "<"
	}
	return ">"
}

// AlertConfig groups rules by level, the seed's alert_config shape.
type AlertConfig struct {
	Critical []LevelRule `yaml:"critical" doc:"Rules that page: severity 0."`
	Warning  []LevelRule `yaml:"warning" doc:"Rules that warn: severity 2."`
}

// LevelRule is an alert_config entry.
type LevelRule struct {
	Type        string    `yaml:"type" required:"true" enum:"requests/failed,requests/duration,requests/count,availability,error_rate,response_time,cpu_usage,memory_usage" doc:"Metric the rule watches."`
	Threshold   Threshold `yaml:"threshold" required:"true" doc:"Limit, e.g. 99.9, \"1%\", \"1000ms\"."`
	Window      Duration  `yaml:"window" doc:"Evaluation window (default 5m)."`
	Name        string    `yaml:"name" doc:"Rule name; default <level>-<type>."`
	Environment string    `yaml:"environment" pattern:"slug" doc:"Environment; default all."`
	MinRequests int       `yaml:"min_requests" min:"1" doc:"error_rate and availability from the edge's requests: the fewest requests the window must hold before the rule can breach (default 10)."`
}

func (r *LevelRule) setDefaults() {
	r.Window = Duration(5 * time.Minute)
	r.MinRequests = DefaultMinRequests
}

// AllAlerts returns alerts followed by the alert_config rules turned into
// Alerts (critical: severity 0, warning: severity 2).
func (m *Monitor) AllAlerts() []Alert {
	out := slices.Clone(m.Alerts)
	add := func(level string, sev int, rules []LevelRule) {
		for _, r := range rules {
			name := r.Name
			if name == "" {
				name = level + "-" + strings.ReplaceAll(r.Type, "/", "-")
			}
			out = append(out, Alert{Name: name, Metric: r.Type, Threshold: r.Threshold,
				Window: r.Window, Severity: sev, Environment: r.Environment, MinRequests: r.MinRequests})
		}
	}
	add("critical", 0, m.AlertConfig.Critical)
	add("warning", 2, m.AlertConfig.Warning)
	return out
}

func (m *Monitor) validate(v *validator) {
	validateEndpoints(v, "monitor.endpoints", m.Endpoints, false)
	for i := range m.Alerts {
		a, p := &m.Alerts[i], indexPath("monitor.alerts", i)
		validateRule(v, p, a.Metric, "metric", a.Threshold, a.Window)
		v.envRef(p+".environment", a.Environment)
		for j, ch := range a.Notify {
			v.channelRef(indexPath(p+".notify", j), ch)
		}
	}
	for level, rules := range map[string][]LevelRule{"critical": m.AlertConfig.Critical, "warning": m.AlertConfig.Warning} {
		for i, r := range rules {
			p := indexPath("monitor.alert_config."+level, i)
			validateRule(v, p, r.Type, "type", r.Threshold, r.Window)
			v.envRef(p+".environment", r.Environment)
		}
	}
	all := m.AllAlerts()
	v.uniqueNames("monitor.alerts", len(m.Alerts), func(i int) string { return all[i].Name })
	for i := len(m.Alerts); i < len(all); i++ {
		if slices.IndexFunc(all[:i], func(a Alert) bool { return a.Name == all[i].Name }) >= 0 {
			v.errorf("monitor.alert_config", "give the rule a distinct name", "rule name %q is used twice", all[i].Name)
		}
	}
}

// validateRule checks a rule's metric, threshold units and window.
func validateRule(v *validator, p, metric, field string, t Threshold, w Duration) {
	if metric == "" {
		v.errorf(p+"."+field, "use one of "+strings.Join(Metrics, ", "), "is required")
	}
	if w <= 0 {
		v.errorf(p+".window", `write e.g. "5m" or "PT5M"`, "must be positive")
	}
	switch {
	case t.Unit == "%" && (t.Value < 0 || t.Value > 100):
		v.errorf(p+".threshold", "a percentage lies between 0 and 100", "%s is out of range", t)
	case t.Unit == "%" && !slices.Contains([]string{"availability", "error_rate", "cpu_usage", "memory_usage"}, metric):
		v.errorf(p+".threshold", "use a number or milliseconds for "+metric, "a percentage does not apply to %s", metric)
	case t.Unit == "ms" && !slices.Contains([]string{"requests/duration", "response_time"}, metric):
		v.errorf(p+".threshold", "use a number or a percentage for "+metric, "a duration does not apply to %s", metric)
	case metric == "availability" && (t.Value <= 0 || t.Value > 100):
		v.errorf(p+".threshold", "write the availability target in percent, e.g. 99.9", "%s is out of range", t)
	}
}

// validateEndpoints checks a list of probes; inEnv allows path-only URLs.
func validateEndpoints(v *validator, p string, eps []Endpoint, inEnv bool) {
	v.uniqueNames(p, len(eps), func(i int) string { return eps[i].Name })
	for i := range eps {
		e, ep := &eps[i], indexPath(p, i)
		if e.Name == "" {
			v.errorf(ep+".name", "name the probe, e.g. production-health", "is required")
		}
		validateProbeURL(v, ep+".url", e.URL, inEnv || e.Environment != "")
		v.envRef(ep+".environment", e.Environment)
		if e.Interval < Duration(time.Second) {
			v.errorf(ep+".interval", `write e.g. 60, "60s" or "1m"`, "must be at least 1s")
		}
		if e.Timeout <= 0 {
			v.errorf(ep+".timeout", `write e.g. 10, "10s"`, "must be positive")
		} else if e.Timeout > e.Interval {
			timeout := FormatDuration(e.Timeout.D())
			if _, written := v.pos[ep+".timeout"]; !written && v.pos != nil && e.Timeout == Duration(defaultProbeTimeout) {
				timeout += " (the default)" // not in the file: it would send its reader looking for one
			}
			v.warnf(ep+".timeout", "make the timeout shorter than the interval", "timeout %s is longer than the interval %s",
				timeout, FormatDuration(e.Interval.D()))
		}
		for j := range e.Conditions {
			e.Conditions[j].validate(v, indexPath(ep+".conditions", j))
		}
	}
}

func validateProbeURL(v *validator, p, raw string, pathOK bool) {
	if raw == "" {
		v.errorf(p, "e.g. https://www.example.com/health", "is required")
		return
	}
	if strings.HasPrefix(raw, "/") {
		if !pathOK {
			v.errorf(p, "set environment: NAME so the path is resolved against its domain, or give a full URL", "a path-only URL needs an environment")
		}
		return
	}
	u, err := url.Parse(raw)
	ok := err == nil && u.Host != ""
	switch {
	case !ok:
	case u.Scheme == "http", u.Scheme == "https":
	case u.Scheme == "tcp":
		ok = u.Port() != ""
	case u.Scheme == "dns":
		ok = strings.Trim(u.Path, "/") != ""
	default:
		ok = false
	}
	if !ok {
		v.errorf(p, "write an absolute http(s) URL, tcp://host:port, dns://server/name?type=A, or a path starting with /",
			"%q is not a valid probe URL", clip(raw))
	}
}
