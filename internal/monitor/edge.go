package monitor

import (
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge"
)

// edgeCollector turns the edge's growing counters into interval points.
// Run's ticker and callers of SampleEdge may collect at once.
type edgeCollector struct {
	mu   sync.Mutex
	prev map[string]edge.EnvStats
}

// collect returns one point per environment that answered requests since
// the previous call: n = requests, good = requests without a 5xx, sum =
// latency ms in total, min and max = bounds of the latency buckets used.
// A counter that went backwards (the process restarted) starts afresh.
func (c *edgeCollector) collect(snaps []edge.EnvStats, now time.Time) []Point {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prev == nil {
		c.prev = map[string]edge.EnvStats{}
	}
	var out []Point
	for _, s := range snaps {
		if s.Env == "" {
			continue // unknown hosts belong to no environment
		}
		p, seen := c.prev[s.Env]
		c.prev[s.Env] = s
		if !seen {
			continue
		}
		if s.Requests < p.Requests || s.Failed < p.Failed {
			p = edge.EnvStats{}
		}
		n := s.Requests - p.Requests
		if n == 0 {
			continue
		}
		a := Agg{N: int64(n), Good: int64(n - min(s.Failed-p.Failed, n)),
			Sum: float64(s.LatencySum-p.LatencySum) / float64(time.Millisecond)}
		a.Min, a.Max = latencyBounds(s.Latency, p.Latency)
		out = append(out, Point{Series: "edge/" + s.Env, Time: now, Agg: a})
	}
	return out
}

// latencyBounds returns the lower bound of the first and the upper bound of
// the last histogram bucket that grew, in ms.
func latencyBounds(cur, prev [len(edge.LatencyBuckets) + 1]uint64) (lo, hi float64) {
	first, last := -1, -1
	for i := range cur {
		if cur[i] > prev[i] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	bound := func(i int) float64 {
		if i >= len(edge.LatencyBuckets) {
			return 2 * edge.LatencyBuckets[len(edge.LatencyBuckets)-1] * 1000
		}
		return edge.LatencyBuckets[i] * 1000
	}
	if first < 0 {
		return 0, 0
	}
	if first > 0 {
		lo = bound(first - 1)
	}
	return lo, bound(last)
}
