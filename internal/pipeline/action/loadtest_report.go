package action

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// loadReport is a finished load test's figures: per target and in total.
type loadReport struct {
	paths []loadTarget
	stats []*pathStats
	total *pathStats
	span  time.Duration
	errs  map[string]uint64
}

func summarize(g *loadGen, span time.Duration) *loadReport {
	r := &loadReport{paths: g.targets, stats: g.stats, total: &pathStats{hist: newHistogram()}, span: span, errs: g.errs}
	for _, s := range g.stats {
		r.total.add(s)
	}
	return r
}

func (s *pathStats) add(o *pathStats) {
	s.hist.merge(o.hist)
	s.scheduled += o.scheduled
	s.requests += o.requests
	s.ok += o.ok
	s.c4xx += o.c4xx
	s.c5xx += o.c5xx
	s.transport += o.transport
	s.dropped += o.dropped
}

// errorRate is the share of started requests that got no answer or a 5xx.
func (s *pathStats) errorRate() float64 {
	if s.requests == 0 {
		return 0
	}
	return float64(s.transport+s.c5xx) / float64(s.requests)
}

// dropRate is the share of scheduled starts dropped at max_in_flight.
func (s *pathStats) dropRate() float64 {
	if s.scheduled == 0 {
		return 0
	}
	return float64(s.dropped) / float64(s.scheduled)
}

func (r *loadReport) rps(s *pathStats) float64 { return float64(s.requests) / r.span.Seconds() }

// log writes the one-line summary, a table per path and the kinds of
// transport errors seen.
func (r *loadReport) log(sc *Context, where string, rate int) {
	t := r.total
	sc.Logf("%s: %d requests in %s (%.1f/s of %d/s), p50 %s p95 %s p99 %s max %s; errors %s (5xx %d, transport %d), 4xx %d, dropped %d (%s)",
		where, t.requests, r.span.Round(time.Millisecond), r.rps(t), rate, ms(t.hist.quantile(50)), ms(t.hist.quantile(95)),
		ms(t.hist.quantile(99)), ms(t.hist.max), pct(t.errorRate()), t.c5xx, t.transport, t.c4xx, t.dropped, pct(t.dropRate()))
	tw := tabwriter.NewWriter(sc.Log, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\trequests\trps\tp50\tp95\tp99\tmax\t1-3xx\t4xx\t5xx\ttransport\tdropped")
	for i, s := range r.stats {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", clipStr(r.paths[i].name, 60), s.requests, r.rps(s),
			ms(s.hist.quantile(50)), ms(s.hist.quantile(95)), ms(s.hist.quantile(99)), ms(s.hist.max), s.ok, s.c4xx, s.c5xx, s.transport, s.dropped)
	}
	tw.Flush()
	kinds := make([]string, 0, len(r.errs))
	for k := range r.errs {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		return r.errs[kinds[i]] > r.errs[kinds[j]] || r.errs[kinds[i]] == r.errs[kinds[j]] && kinds[i] < kinds[j]
	})
	for _, k := range kinds[:min(len(kinds), 5)] {
		sc.Logf("transport error ×%d: %s", r.errs[k], clipStr(k, 200))
	}
	if t.c4xx > 0 {
		sc.Logf("note: %d answers were 4xx, not counted as errors: check the paths in the table", t.c4xx)
	}
}

// setOutputs publishes the totals for later steps and notifications.
func (r *loadReport) setOutputs(sc *Context) {
	t := r.total
	for name, v := range map[string]string{
		"requests":   strconv.FormatUint(t.requests, 10),
		"dropped":    strconv.FormatUint(t.dropped, 10),
		"rps":        strconv.FormatFloat(r.rps(t), 'f', 1, 64),
		"p50_ms":     msNum(t.hist.quantile(50)),
		"p95_ms":     msNum(t.hist.quantile(95)),
		"p99_ms":     msNum(t.hist.quantile(99)),
		"max_ms":     msNum(t.hist.max),
		"error_rate": strconv.FormatFloat(100*t.errorRate(), 'f', 2, 64),
	} {
		sc.SetOutput(name, v)
	}
}

// check logs each threshold against its value and returns the breached
// ones as "NAME VALUE > LIMIT".
func (r *loadReport) check(sc *Context, th config.LoadThresholds) []string {
	t := r.total
	var breached []string
	over := func(name, value, limit string, bad bool) {
		verdict := "ok"
		if bad {
			verdict = "BREACHED"
			breached = append(breached, fmt.Sprintf("%s %s > %s", name, value, limit))
		}
		sc.Logf("threshold %s <= %s: %s %s", name, limit, value, verdict)
	}
	for _, p := range th.Percentiles {
		v := t.hist.quantile(p.P)
		over(p.Name, ms(v), ms(p.Limit), v > p.Limit)
	}
	if th.Max > 0 {
		over("max", ms(t.hist.max), ms(th.Max), t.hist.max > th.Max)
	}
	over("error_rate", pct(t.errorRate()), pct(th.ErrorRate), t.errorRate() > th.ErrorRate)
	over("drop_rate", pct(t.dropRate()), pct(th.DropRate), t.dropRate() > th.DropRate)
	return breached
}

// ms writes a latency: to 0.1 ms below 10 ms, in whole milliseconds below
// a second, then in seconds (1.25s).
func ms(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d < time.Second:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + "ms"
	}
	return trimZeros(strconv.FormatFloat(d.Seconds(), 'f', 2, 64)) + "s"
}

func msNum(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// pct writes a fraction as a percentage, e.g. 0.0125 as 1.25%.
func pct(f float64) string { return trimZeros(strconv.FormatFloat(100*f, 'f', 2, 64)) + "%" }

// trimZeros drops the zeros ending a decimal fraction, and its point.
func trimZeros(s string) string { return strings.TrimSuffix(strings.TrimRight(s, "0"), ".") }
