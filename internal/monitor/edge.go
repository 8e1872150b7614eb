package monitor

import (
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge"
)

// EdgeSource is one server's edge telemetry: growing counters since that
// server started. Servers sharing a database (replicas) publish theirs;
// the leader's monitor merges them with its own edge's.
type EdgeSource struct {
	// Server names the server ("" for this one's edge); Boot tells its
	// starts apart (a new Boot is a new set of counters from zero).
	Server, Boot string
	Started      time.Time // when that server's counters started
	Stats        []edge.EnvStats
}

// edgeKey is one environment's counters on one server's start.
type edgeKey struct{ server, boot, env string }

// edgeCollector turns the edges' growing counters into interval points,
// one per environment summed over every server. Run's ticker and callers
// of SampleEdge may collect at once.
type edgeCollector struct {
	mu    sync.Mutex
	start time.Time // the first collect
	prev  map[edgeKey]edge.EnvStats
	seen  map[edgeKey]time.Time // last collect a source showed the key
	boots map[edgeKey]time.Time // last collect a server's start published anything (env "")
}

// forget is how long the counters of a source that stopped publishing are
// kept, to take its next figures as a difference if it comes back.
const forget = time.Hour

// collect returns one point per environment that answered requests since
// the previous call: n = requests, good = requests without a 5xx, sum =
// latency ms in total, min and max = bounds of the latency buckets used.
// A source's first figures are a base, unless its server started after
// the first collect or published before (a new environment on a known
// server start): they are all new then. A counter that went
// backwards (the process restarted) starts afresh.
func (c *edgeCollector) collect(sources []EdgeSource, now time.Time) []Point {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prev == nil {
		c.prev, c.seen, c.boots, c.start = map[edgeKey]edge.EnvStats{}, map[edgeKey]time.Time{}, map[edgeKey]time.Time{}, now
	}
	sums := map[string]*delta{}
	var envs []string
	for _, src := range sources {
		boot := edgeKey{server: src.Server, boot: src.Boot}
		_, known := c.boots[boot]
		if src.Server != "" {
			c.boots[boot] = now
		}
		for _, s := range src.Stats {
			if s.Env == "" {
				continue // unknown hosts belong to no environment
			}
			k := edgeKey{src.Server, src.Boot, s.Env}
			p, seen := c.prev[k]
			c.prev[k], c.seen[k] = s, now
			if !seen && (src.Server == "" || !known && !src.Started.After(c.start)) {
				continue
			}
			d := sums[s.Env]
			if d == nil {
				d = &delta{}
				sums[s.Env] = d
				envs = append(envs, s.Env)
			}
			d.add(s, p)
		}
	}
	c.expire(now)
	var out []Point
	for _, env := range envs {
		if d := sums[env]; d.n > 0 {
			out = append(out, Point{Series: "edge/" + env, Time: now, Agg: d.agg()})
		}
	}
	return out
}

// expire forgets the sources not seen for an hour.
func (c *edgeCollector) expire(now time.Time) {
	for k, t := range c.seen {
		if now.Sub(t) > forget {
			delete(c.seen, k)
			delete(c.prev, k)
		}
	}
	for k, t := range c.boots {
		if now.Sub(t) > forget {
			delete(c.boots, k)
		}
	}
}

// delta is the sum of several sources' growth over one interval.
type delta struct {
	n, failed uint64
	sum       time.Duration
	latency   [len(edge.LatencyBuckets) + 1]uint64
}

// add adds s's growth since p (from zero when the counters went back).
func (d *delta) add(s, p edge.EnvStats) {
	if s.Requests < p.Requests || s.Failed < p.Failed || s.LatencySum < p.LatencySum {
		p = edge.EnvStats{}
	}
	n := s.Requests - p.Requests
	d.n += n
	d.failed += min(s.Failed-p.Failed, n)
	d.sum += s.LatencySum - p.LatencySum
	for i := range s.Latency {
		if s.Latency[i] > p.Latency[i] {
			d.latency[i] += s.Latency[i] - p.Latency[i]
		}
	}
}

func (d *delta) agg() Agg {
	a := Agg{N: int64(d.n), Good: int64(d.n - d.failed), Sum: float64(d.sum) / float64(time.Millisecond)}
	a.Min, a.Max = latencyBounds(d.latency)
	return a
}

// latencyBounds returns the lower bound of the first and the upper bound of
// the last histogram bucket counted, in ms.
func latencyBounds(grew [len(edge.LatencyBuckets) + 1]uint64) (lo, hi float64) {
	first, last := -1, -1
	for i := range grew {
		if grew[i] > 0 {
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
