package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LoadTest is a load-test step's inputs, checked and with defaults
// filled in (docs/pipelines.md, "Load tests").
type LoadTest struct {
	Environment string        // the environment whose paths are loaded ("" with URL)
	URL         string        // a full base URL instead of an environment
	Paths       []string      // paths (or full URLs), visited in turn; default ["/"]
	Rate        int           // request starts per second, on a fixed schedule
	Duration    time.Duration // how long requests are started
	MaxInFlight int           // requests open at once; a start beyond it is dropped
	Timeout     time.Duration // per request
	Thresholds  LoadThresholds
}

// LoadThresholds are the limits a load test fails on.
type LoadThresholds struct {
	Percentiles []PercentileLimit // sorted by percentile
	Max         time.Duration     // 0: no limit on the slowest response
	ErrorRate   float64           // fraction of requests failing (transport errors, 5xx)
	DropRate    float64           // fraction of scheduled starts dropped at max_in_flight
}

// PercentileLimit bounds one latency percentile.
type PercentileLimit struct {
	Name  string  // as written, normalised: p95, p99.9
	P     float64 // 95, 99.9
	Limit time.Duration
}

// Load-test limits and defaults.
const (
	LoadMaxRate     = 10000
	LoadMaxInFlight = 10000
	LoadMaxPaths    = 50
	loadDefaultRate = 20
)

// InputError is a problem with one input of an action, named as
// with.FIELD.
type InputError struct {
	Field string // e.g. rate, thresholds.p95
	Msg   string
	Hint  string
}

func (e InputError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("with.%s: %s (%s)", e.Field, e.Msg, e.Hint)
	}
	return fmt.Sprintf("with.%s: %s", e.Field, e.Msg)
}

// InputErrors lists every problem found in an action's inputs.
type InputErrors []InputError

func (es InputErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

var loadTestKeys = []string{"environment", "url", "paths", "rate", "duration", "max_in_flight", "timeout", "thresholds"}

// ParseLoadTest checks the inputs of a load-test step and fills in the
// defaults. Its error is InputErrors, naming every bad input.
func ParseLoadTest(with map[string]any) (*LoadTest, error) {
	p := &loadParser{with: with}
	lt := &LoadTest{
		Environment: p.str("environment"),
		URL:         p.baseURL(),
		Paths:       p.paths(),
		Rate:        p.intIn("rate", loadDefaultRate, 1, LoadMaxRate),
		Duration:    p.duration("duration", 30*time.Second, time.Second, time.Hour),
		Timeout:     p.duration("timeout", 10*time.Second, time.Millisecond, time.Minute),
	}
	lt.MaxInFlight = p.intIn("max_in_flight", min(max(lt.Rate, 100), LoadMaxInFlight), 1, LoadMaxInFlight)
	lt.Thresholds = p.thresholds()
	if lt.Environment != "" && lt.URL != "" {
		p.fail("url", "give environment or url, not both", "environment loads the environment on this server; url loads any address")
	}
	for k := range with {
		if !slices.Contains(loadTestKeys, k) {
			p.fail(k, "unknown input", orHint(didYouMean(k, loadTestKeys), "inputs: "+strings.Join(loadTestKeys, ", ")))
		}
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b InputError) int { return strings.Compare(a.Field, b.Field) })
		return nil, p.errs
	}
	return lt, nil
}

type loadParser struct {
	with map[string]any
	errs InputErrors
}

func (p *loadParser) fail(field, msg, hint string) {
	p.errs = append(p.errs, InputError{Field: field, Msg: msg, Hint: hint})
}

// scalar returns a string or number input as text; ok is false when unset.
func scalar(v any) (s string, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return strings.TrimSpace(x), true, nil
	case int, int64, uint64, float64:
		return fmt.Sprint(x), true, nil
	default:
		return "", false, errors.New("must be a single value, not a list or map")
	}
}

func (p *loadParser) str(name string) string {
	s, _, err := scalar(p.with[name])
	if err != nil {
		p.fail(name, err.Error(), "")
	}
	return s
}

func (p *loadParser) intIn(name string, def, lo, hi int) int {
	s := p.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "/s"))
	if err != nil || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("must be %d..%d, got %q", lo, hi, clip(s)), "a whole number")
		return def
	}
	return n
}

func (p *loadParser) duration(name string, def, lo, hi time.Duration) time.Duration {
	s := p.str(name)
	if s == "" {
		return def
	}
	d, err := ParseDuration(s)
	if err != nil || d < lo || d > hi {
		p.fail(name, fmt.Sprintf("must be a duration from %s to %s, got %q", FormatDuration(lo), FormatDuration(hi), clip(s)), "e.g. 30s; a bare number is seconds")
		return def
	}
	return d
}

func (p *loadParser) baseURL() string {
	s := p.str("url")
	if s == "" {
		return ""
	}
	if err := checkLoadURL(s); err != nil {
		p.fail("url", err.Error(), "")
		return ""
	}
	return s
}

// checkLoadURL accepts an absolute http(s) URL without credentials (they
// would show in the step log).
func checkLoadURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%q is not a full http:// or https:// URL", clip(s))
	case u.User != nil:
		return errors.New("must not hold credentials: they would be written to the step log")
	}
	return nil
}

func (p *loadParser) paths() []string {
	var raw []any
	switch x := p.with["paths"].(type) {
	case nil:
		return []string{"/"}
	case []any:
		raw = x
	case []string:
		for _, s := range x {
			raw = append(raw, s)
		}
	case string:
		raw = []any{x}
	default:
		p.fail("paths", "must be a list of paths, e.g. [\"/\", \"/assets/app.js\"]", "")
		return nil
	}
	if len(raw) == 0 || len(raw) > LoadMaxPaths {
		p.fail("paths", fmt.Sprintf("give 1 to %d paths, got %d", LoadMaxPaths, len(raw)), "")
		return nil
	}
	out := make([]string, 0, len(raw))
	for i, r := range raw {
		s, ok := r.(string)
		field := fmt.Sprintf("paths[%d]", i)
		switch {
		case !ok:
			p.fail(field, "must be a path such as /assets/app.js", "")
		case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
			if err := checkLoadURL(s); err != nil {
				p.fail(field, err.Error(), "")
			}
		case !strings.HasPrefix(s, "/") || strings.ContainsAny(s, " \t\r\n\x00#"):
			p.fail(field, fmt.Sprintf("%q is not a path", clip(s)), "start it with /, e.g. /assets/app.js, or give a full URL")
		default:
			if _, err := url.ParseRequestURI(s); err != nil {
				p.fail(field, fmt.Sprintf("%q is not a path", clip(s)), "")
			}
		}
		out = append(out, s)
	}
	return out
}

var percentileRx = regexp.MustCompile(`^p\(?([0-9]{1,2}(?:\.[0-9]{1,3})?)\)?$`)

func (p *loadParser) thresholds() LoadThresholds {
	t := LoadThresholds{ErrorRate: 0.01, DropRate: 0.01}
	var m map[string]any
	switch x := p.with["thresholds"].(type) {
	case nil:
		return t
	case map[string]any:
		m = x
	default:
		p.fail("thresholds", "must be a map, e.g. {p95: 300ms, error_rate: 1%}", "")
		return t
	}
	for _, k := range sortedKeys(m) {
		field := "thresholds." + k
		s, _, err := scalar(m[k])
		if err != nil || s == "" {
			p.fail(field, "give a limit", "a duration such as 300ms, or a percentage such as 1%")
			continue
		}
		switch k {
		case "error_rate", "drop_rate":
			f, err := ParsePercent(s)
			if err != nil {
				p.fail(field, err.Error(), "")
			} else if k == "error_rate" {
				t.ErrorRate = f
			} else {
				t.DropRate = f
			}
		case "max":
			t.Max = p.latency(field, s)
		default:
			p.percentile(&t, field, k, s)
		}
	}
	slices.SortFunc(t.Percentiles, func(a, b PercentileLimit) int { return cmpFloat(a.P, b.P) })
	return t
}

func (p *loadParser) percentile(t *LoadThresholds, field, k, s string) {
	m := percentileRx.FindStringSubmatch(k)
	if m == nil {
		p.fail(field, "unknown threshold", orHint(didYouMean(k, []string{"p50", "p90", "p95", "p99", "max", "error_rate", "drop_rate"}),
			"use pN (p50, p95, p99.9), max, error_rate or drop_rate"))
		return
	}
	pct, _ := strconv.ParseFloat(m[1], 64)
	if pct <= 0 || pct >= 100 {
		p.fail(field, "a percentile must be above 0 and below 100", "")
		return
	}
	name := "p" + strconv.FormatFloat(pct, 'f', -1, 64)
	for _, have := range t.Percentiles {
		if have.P == pct {
			p.fail(field, "given twice (as "+have.Name+")", "")
			return
		}
	}
	t.Percentiles = append(t.Percentiles, PercentileLimit{Name: name, P: pct, Limit: p.latency(field, s)})
}

// latency reads a latency limit: a duration, a bare number in milliseconds.
func (p *loadParser) latency(field, s string) time.Duration {
	d, err := parseDurationUnit(s, time.Millisecond)
	if err != nil || d <= 0 || d > time.Hour {
		p.fail(field, fmt.Sprintf("%q is not a latency limit", clip(s)), "a duration such as 300ms or 1s; a bare number is milliseconds")
		return 0
	}
	return d
}

// ParsePercent reads a rate limit: "1%", "0.5%", or a fraction from 0 to
// 1 written as a bare number (0.01 is 1%). It returns the fraction.
func ParsePercent(s string) (float64, error) {
	s = strings.TrimSpace(s)
	num, pct := strings.CutSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(num, "xXpP_") {
		return 0, fmt.Errorf("%q is not a percentage; write e.g. 1%% or 0.5%%", clip(s))
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		if !pct {
			return 0, fmt.Errorf("%q is above 1: write a percentage with %% (e.g. %s%%) or a fraction from 0 to 1", clip(s), clip(num))
		}
		return 0, fmt.Errorf("%q must be from 0%% to 100%%", clip(s))
	}
	return f, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// validateLoadTestInputs checks a load-test step's inputs when the config
// is loaded. A top-level input holding ${{ ... }} is only known at run time
// and is left to the step (the engine expands top-level strings only).
func validateLoadTestInputs(v *validator, p string, with map[string]any, stepTimeout time.Duration) {
	literal := map[string]any{}
	for k, val := range with {
		if s, ok := val.(string); !ok || !strings.Contains(s, "${{") {
			literal[k] = val
		}
	}
	if env, ok := literal["environment"].(string); ok {
		v.envRef(p+".environment", env)
	}
	lt, err := ParseLoadTest(literal)
	var errs InputErrors
	if errors.As(err, &errs) {
		for _, e := range errs {
			v.errorf(p+"."+e.Field, e.Hint, "%s", e.Msg)
		}
		return
	}
	if stepTimeout > 0 && lt.Duration+lt.Timeout > stepTimeout {
		v.errorf(p+".duration", "raise the step's timeout: or shorten duration",
			"%s of load plus the %s request timeout do not fit in the step's timeout of %s",
			FormatDuration(lt.Duration), FormatDuration(lt.Timeout), FormatDuration(stepTimeout))
	}
}

// EnvLoadTestTimeout is the time limit of the step an environment's
// load_test becomes in the release pipeline, beyond its duration and
// request timeout.
const EnvLoadTestTimeout = time.Minute

// EnvLoadTestInputs are the load-test action's inputs for environment
// env's load_test: its own, aimed at env.
func EnvLoadTestInputs(env string, in map[string]any) map[string]any {
	out := make(map[string]any, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out["environment"] = env
	return out
}

// validateEnvLoadTest checks an environment's load_test: the load-test
// action's inputs, aimed at the environment itself.
func validateEnvLoadTest(v *validator, p, env string, in map[string]any) {
	if len(in) == 0 {
		return
	}
	for _, k := range []string{"environment", "url"} {
		if _, ok := in[k]; ok {
			v.errorf(p+"."+k, "remove it: an environment's load_test always loads that environment (a load-test step in a pipeline: can aim elsewhere)",
				"%s is not allowed here", k)
		}
	}
	validateLoadTestInputs(v, p, EnvLoadTestInputs(env, in), 0)
}
