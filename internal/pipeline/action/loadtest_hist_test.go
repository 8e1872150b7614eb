package action

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The histogram's percentiles are never below the exact ones and at most
// 1/128 above them (plus the 1µs resolution), over latencies from
// microseconds to minutes.
func TestHistogramQuantilesWithinBoundedError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, spread := range []float64{3, 8, 14, 20} { // log-normal around e^spread ns
		h := newHistogram()
		var exact []time.Duration
		for range 20000 {
			d := time.Duration(math.Exp(spread + 2*r.NormFloat64()))
			h.record(d)
			exact = append(exact, d)
		}
		slices.Sort(exact)
		for _, p := range []float64{1, 50, 90, 95, 99, 99.9, 100} {
			want := exact[int(math.Ceil(p/100*float64(len(exact))))-1]
			got := h.quantile(p)
			limit := want + want/128 + time.Microsecond
			if got < want || got > limit {
				t.Errorf("spread %v p%v = %s, exact %s (allowed up to %s)", spread, p, got, want, limit)
			}
		}
		if h.quantile(100) != exact[len(exact)-1] || h.max != exact[len(exact)-1] {
			t.Errorf("max %s, exact %s", h.max, exact[len(exact)-1])
		}
	}
}

// Every value falls in a bucket whose range holds it, and buckets are in
// order, up to the largest value the histogram covers.
func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<20 + 1, 1 << 41, 1<<42 - 1} {
		i := bucket(v)
		if i < prev || upper(i) < v || (i > 0 && upper(i-1) >= v) {
			t.Errorf("value %d in bucket %d (upper %d, previous upper %d)", v, i, upper(i), upper(i-1))
		}
		prev = i
	}
	if i := bucket(math.MaxUint64); i != len(newHistogram().counts)-1 {
		t.Errorf("huge value in bucket %d, want the last", i)
	}
	h := newHistogram()
	if h.quantile(99) != 0 {
		t.Error("an empty histogram has a p99")
	}
	h.record(-time.Second)
	h.record(time.Hour)
	if h.quantile(50) >= time.Microsecond || h.quantile(100) != time.Hour { // 1µs resolution
		t.Errorf("p50 %s p100 %s", h.quantile(50), h.quantile(100))
	}
}

func TestLoadTestFormats(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0.0ms", 1840 * time.Microsecond: "1.8ms", 401400 * time.Microsecond: "401ms",
		time.Second: "1s", 2500 * time.Millisecond: "2.5s", 100 * time.Second: "100s"} {
		if got := ms(d); got != want {
			t.Errorf("ms(%s) = %q, want %q", d, got, want)
		}
	}
	for f, want := range map[float64]string{0: "0%", 0.0267: "2.67%", 0.1: "10%", 1: "100%", 0.005: "0.5%"} {
		if got := pct(f); got != want {
			t.Errorf("pct(%v) = %q, want %q", f, got, want)
		}
	}
}
