package action

import (
	"math"
	"math/bits"
	"time"
)

// histogram records latencies in microseconds in log-linear buckets, as
// HdrHistogram does: exact below 128µs, then 128 buckets per power of
// two, so a percentile read from it is at most 1/128 (0.8 %) above the
// true value and never below it. It covers 0 to about 2^40µs (12 days)
// in about 4,600 counters; it is not safe for concurrent use.
type histogram struct {
	counts []uint64
	n      uint64
	max    time.Duration
}

const (
	subBits    = 7
	subBuckets = 1 << subBits // 128
	maxExp     = 34           // values up to 2^(34+8) µs
)

func newHistogram() *histogram {
	return &histogram{counts: make([]uint64, subBuckets+(maxExp+1)*subBuckets)}
}

// bucket returns the index of the bucket holding v µs.
func bucket(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [128, 256)
	if e > maxExp {
		return subBuckets + (maxExp+1)*subBuckets - 1
	}
	return subBuckets + e*subBuckets + int(v>>e) - subBuckets
}

// upper returns the highest value (µs) bucket i holds.
func upper(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	e := (i - subBuckets) / subBuckets
	sub := uint64((i-subBuckets)%subBuckets + subBuckets)
	return (sub+1)<<e - 1
}

// record adds one latency; negative ones count as 0.
func (h *histogram) record(d time.Duration) {
	h.counts[bucket(uint64(max(d, 0)/time.Microsecond))]++
	h.n++
	h.max = max(h.max, d)
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency at percentile p (0 < p <= 100): the upper
// end of the bucket holding the ceil(p% of n)-th value, capped at the
// largest value recorded. It is 0 without values.
func (h *histogram) quantile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(time.Duration(upper(i))*time.Microsecond+time.Microsecond-1, h.max)
		}
	}
	return h.max
}
