package report

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/monitor"
)

// Performance is availability, traffic and latency per environment, and
// the server's cpu and memory.
type Performance struct {
	Environments []EnvPerformance `json:"environments"`
	Host         *Host            `json:"host,omitempty"`
	Note         string           `json:"note,omitempty"`
}

// EnvPerformance is one environment's figures. Availability is the
// probes' (share of good checks) when the environment has probes, else
// the edge's (share of requests without a 5xx), as the status page does.
type EnvPerformance struct {
	Project         string   `json:"project"`
	Environment     string   `json:"environment"`
	AvailabilityPct *float64 `json:"availability_pct"`
	Basis           string   `json:"basis"`                // probes or requests
	TargetPct       *float64 `json:"target_pct,omitempty"` // the availability alert rule's threshold
	MetTarget       *bool    `json:"met_target,omitempty"`
	Probes          *Stats   `json:"probes,omitempty"`
	Requests        *Stats   `json:"requests,omitempty"`
	// Since is the environment's first probe (or request, by Basis) when
	// it came after the window's start: the availability covers only
	// since then.
	Since time.Time `json:"since,omitzero"`
}

// Stats aggregates a window of probe checks or edge requests.
type Stats struct {
	Count           int64   `json:"count"`
	Good            int64   `json:"good"`
	AvailabilityPct float64 `json:"availability_pct"`
	ErrorRatePct    float64 `json:"error_rate_pct"`
	MeanMS          float64 `json:"mean_ms"`
	// MaxMS is the slowest probe, or for requests the upper bound of the
	// slowest latency bucket the edge counted (its histogram's resolution).
	MaxMS float64 `json:"max_ms"`
	// WorstHour is the clock hour (UTC) with the highest mean latency,
	// WorstAvailabilityHour the one with the lowest availability.
	WorstHour             *Hour `json:"worst_hour,omitempty"`
	WorstAvailabilityHour *Hour `json:"worst_availability_hour,omitempty"`
}

// Hour is one clock hour's aggregate.
type Hour struct {
	Start           time.Time `json:"start"`
	Count           int64     `json:"count"`
	MeanMS          float64   `json:"mean_ms"`
	AvailabilityPct float64   `json:"availability_pct"`
}

// Host is the server's own utilization, sampled every 15 s.
type Host struct {
	CPU    *Usage `json:"cpu,omitempty"`
	Memory *Usage `json:"memory,omitempty"`
}

// Usage is a percentage's samples over the window.
type Usage struct {
	Samples          int64     `json:"samples"`
	MeanPct          float64   `json:"mean_pct"`
	MaxPct           float64   `json:"max_pct"`
	WorstHourMeanPct float64   `json:"worst_hour_mean_pct"`
	WorstHourStart   time.Time `json:"worst_hour_start"`
}

func (b *builder) performance(ctx context.Context) (*Performance, error) {
	if b.src.Metrics == nil {
		b.note("performance: left out: this server keeps no metrics")
		return nil, nil
	}
	p := &Performance{Environments: []EnvPerformance{}}
	byEnv := map[string]*EnvPerformance{}
	for _, kind := range []string{"probe/", "edge/"} {
		if err := b.collect(ctx, kind, byEnv); err != nil {
			return nil, err
		}
	}
	targets := map[string]float64{}
	if b.src.Alerts != nil {
		targets = b.src.Alerts.AvailabilityTargets()
	}
	for _, menv := range sortedKeys(byEnv) {
		e := byEnv[menv]
		finishEnv(e, menv, targets)
		if err := b.since(ctx, e, menv); err != nil {
			return nil, err
		}
		p.Environments = append(p.Environments, *e)
	}
	if len(p.Environments) == 0 {
		p.Note = "no probe results or edge requests were recorded in the window"
	}
	host, err := b.host(ctx)
	p.Host = host
	return p, err
}

// collect aggregates the series under kind ("probe/" or "edge/") per
// environment, with their hourly buckets.
func (b *builder) collect(ctx context.Context, kind string, byEnv map[string]*EnvPerformance) error {
	per, err := b.src.Metrics.Query(ctx, kind, b.o.From, b.o.To)
	if err != nil {
		return err
	}
	type acc struct {
		total monitor.Agg
		hours []monitor.Agg
	}
	accs := map[string]*acc{}
	for _, series := range sortedKeys(per) {
		menv, _, _ := strings.Cut(strings.TrimPrefix(series, kind), "/")
		project, env := projectOf(menv)
		if !b.visible(project, env) || per[series].N == 0 {
			continue
		}
		a := accs[menv]
		if a == nil {
			a = &acc{}
			accs[menv] = a
		}
		a.total.Merge(per[series])
		hours, err := b.hours(ctx, series)
		if err != nil {
			return err
		}
		a.hours = mergeHours(a.hours, hours)
	}
	for menv, a := range accs {
		e := byEnv[menv]
		if e == nil {
			project, env := projectOf(menv)
			e = &EnvPerformance{Project: project, Environment: env}
			byEnv[menv] = e
		}
		st := stats(a.total, a.hours, b.hourStart())
		if kind == "probe/" {
			e.Probes = st
		} else {
			e.Requests = st
		}
	}
	return nil
}

func (b *builder) hourStart() time.Time { return b.o.From.UTC().Truncate(time.Hour) }

// hours returns a series' clock-hour buckets over the window.
func (b *builder) hours(ctx context.Context, series string) ([]monitor.Agg, error) {
	start := b.hourStart()
	end := b.o.To.UTC().Truncate(time.Hour)
	if end.Before(b.o.To) {
		end = end.Add(time.Hour)
	}
	return b.src.Metrics.Buckets(ctx, series, start, end, time.Hour)
}

func mergeHours(into, add []monitor.Agg) []monitor.Agg {
	if into == nil {
		into = make([]monitor.Agg, len(add))
	}
	for i := range add {
		if i < len(into) {
			into[i].Merge(add[i])
		}
	}
	return into
}

func stats(a monitor.Agg, hours []monitor.Agg, start time.Time) *Stats {
	s := &Stats{Count: a.N, Good: a.Good, AvailabilityPct: round(a.Availability(), 3), MeanMS: round(a.Avg(), 1), MaxMS: round(a.Max, 1)}
	s.ErrorRatePct = round(100-a.Availability(), 3)
	for i, h := range hours {
		if h.N == 0 {
			continue
		}
		hr := &Hour{Start: start.Add(time.Duration(i) * time.Hour), Count: h.N, MeanMS: round(h.Avg(), 1), AvailabilityPct: round(h.Availability(), 3)}
		if s.WorstHour == nil || h.Avg() > s.WorstHour.MeanMS {
			s.WorstHour = hr
		}
		if s.WorstAvailabilityHour == nil || h.Availability() < s.WorstAvailabilityHour.AvailabilityPct {
			s.WorstAvailabilityHour = hr
		}
	}
	return s
}

func finishEnv(e *EnvPerformance, menv string, targets map[string]float64) {
	basis := e.Probes
	e.Basis = "probes"
	if basis == nil {
		basis, e.Basis = e.Requests, "requests"
	}
	v := basis.AvailabilityPct
	e.AvailabilityPct = &v
	t, ok := targets[menv]
	if !ok {
		t, ok = targets[""]
	}
	if ok {
		met := v >= t
		e.TargetPct, e.MetTarget = &t, &met
	}
}

// since sets e.Since when the series its availability comes from were
// first observed after the window's start.
func (b *builder) since(ctx context.Context, e *EnvPerformance, menv string) error {
	prefix := "probe/" + menv + "/"
	if e.Basis == "requests" {
		prefix = "edge/" + menv
	}
	first, err := b.src.Metrics.First(ctx, prefix)
	if err == nil && first.After(b.o.From) {
		e.Since = first
	}
	return err
}

// host reads the server's cpu and memory samples.
func (b *builder) host(ctx context.Context) (*Host, error) {
	per, err := b.src.Metrics.Query(ctx, "host/", b.o.From, b.o.To)
	if err != nil || len(per) == 0 {
		return nil, err
	}
	h := &Host{}
	for series, dst := range map[string]**Usage{"host/cpu": &h.CPU, "host/memory": &h.Memory} {
		a, ok := per[series]
		if !ok || a.N == 0 {
			continue
		}
		hours, err := b.hours(ctx, series)
		if err != nil {
			return nil, err
		}
		u := &Usage{Samples: a.N, MeanPct: round(a.Avg(), 1), MaxPct: round(a.Max, 1)}
		for i, hr := range hours {
			if hr.N > 0 && hr.Avg() > u.WorstHourMeanPct {
				u.WorstHourMeanPct, u.WorstHourStart = round(hr.Avg(), 1), b.hourStart().Add(time.Duration(i)*time.Hour)
			}
		}
		*dst = u
	}
	return h, nil
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
