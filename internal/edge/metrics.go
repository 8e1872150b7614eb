package edge

import (
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds (seconds) of the latency histogram.
var LatencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// bucketNanos mirrors LatencyBuckets in nanoseconds for the hot path.
var bucketNanos = func() (b [len(LatencyBuckets)]int64) {
	for i, s := range LatencyBuckets {
		b[i] = int64(s * 1e9)
	}
	return b
}()

// telemetry is one environment's counters. All fields are atomics: the hot
// path takes no lock.
type telemetry struct {
	byClass  [6]atomic.Uint64 // index status/100 (0 unused)
	failed   atomic.Uint64
	limited  atomic.Uint64 // 429 from the rate limiter
	denied   atomic.Uint64 // 403 from the IP allow-list
	probes   atomic.Uint64 // the server's own probes, left out of the rest
	bytes    atomic.Uint64
	buckets  [len(LatencyBuckets) + 1]atomic.Uint64 // last is +Inf
	sumNanos atomic.Uint64
	waf      wafCounts // firewall matches (firewall.go)
}

// observe records one finished request. Failed means a server error (5xx):
// what an availability SLO counts against the edge.
func (t *telemetry) observe(status int, bytes int64, d time.Duration) {
	c := status / 100
	if c < 1 || c > 5 {
		c = 5
	}
	t.byClass[c].Add(1)
	if c == 5 {
		t.failed.Add(1)
	}
	if bytes > 0 {
		t.bytes.Add(uint64(bytes))
	}
	n := int64(d)
	i := 0
	for i < len(bucketNanos) && n > bucketNanos[i] {
		i++
	}
	t.buckets[i].Add(1)
	t.sumNanos.Add(uint64(max(n, 0)))
}

// EnvStats is a point-in-time copy of one environment's telemetry.
type EnvStats struct {
	Env       string
	Release   string    // ID of the Site served now; "" when none
	Requests  uint64    // all requests
	ByClass   [6]uint64 // ByClass[2] = 2xx count, etc. (index 0 unused)
	Failed    uint64    // 5xx responses
	Limited   uint64    // 429 answers of the rate limiter
	Denied    uint64    // 403 answers of the IP allow-list
	BytesSent uint64    // body bytes sent
	// Probes counts the server's own probes (verification, monitor,
	// health-check and load-test steps), which the figures above leave out:
	// they describe visitors.
	Probes uint64
	// Latency is a cumulative-free histogram: Latency[i] counts requests with
	// duration <= LatencyBuckets[i] (and > the previous bound); the last
	// entry counts the rest.
	Latency     [len(LatencyBuckets) + 1]uint64
	LatencySum  time.Duration
	ActivatedAt time.Time // when Release was set
	// Firewall counts the firewall's matches by rule and action.
	Firewall []FirewallMatch
}

func (t *telemetry) snapshot(s *EnvStats) {
	for i := range t.byClass {
		s.ByClass[i] = t.byClass[i].Load()
		s.Requests += s.ByClass[i]
	}
	s.Failed = t.failed.Load()
	s.Limited = t.limited.Load()
	s.Denied = t.denied.Load()
	s.Probes = t.probes.Load()
	s.BytesSent = t.bytes.Load()
	for i := range t.buckets {
		s.Latency[i] = t.buckets[i].Load()
	}
	s.LatencySum = time.Duration(t.sumNanos.Load())
	s.Firewall = t.waf.snapshot()
}
