package monitor

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
func (c *fakeClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db := testkit.OpenStore(t, filepath.Join(t.TempDir(), "state.db"))
	if err := db.Migrate(context.Background(), Migrations(), notify.Migrations()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestSLAOverAYear feeds a year of probe results every 30 minutes, with
// known outages, pruning as the server would, and checks the 24 h, 30 d
// and 365 d availability against the truth computed from the inputs.
func TestSLAOverAYear(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a year of points")
	}
	start := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	st := NewStore(openDB(t), clock.Now)
	ctx := context.Background()
	const step = 30 * time.Minute
	end := start.Add(365 * 24 * time.Hour)
	type obs struct {
		t  time.Time
		ok bool
	}
	var truth []obs
	down := func(t time.Time) bool {
		// A 6-hour outage on the 10th of every month, and the last 2 hours.
		return t.Day() == 10 && t.Hour() < 6 || end.Sub(t) <= 2*time.Hour
	}
	for ts := start; ts.Before(end); ts = ts.Add(step) {
		clock.Set(ts)
		ok := !down(ts)
		truth = append(truth, obs{ts, ok})
		good := int64(0)
		if ok {
			good = 1
		}
		st.Add(Point{Series: "probe/production/home", Time: ts, Agg: Agg{N: 1, Good: good, Sum: 50, Min: 50, Max: 50}})
		if ts.Minute() == 0 && ts.Hour()%6 == 0 {
			if err := st.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if ts.Hour() == 0 {
				if err := st.Prune(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	now := end
	clock.Set(now)
	if err := st.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	want := func(from time.Time) float64 {
		var n, g float64
		for _, o := range truth {
			if !o.t.Before(from) && o.t.Before(now) {
				n++
				if o.ok {
					g++
				}
			}
		}
		return 100 * g / n
	}
	cases := []struct {
		name string
		span time.Duration
		res  int
	}{
		{"24h from raw", 24 * time.Hour, ResRaw},
		{"30d from minutes", 30 * 24 * time.Hour, ResMinute},
		{"365d from hours", 365 * 24 * time.Hour, ResHour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from := now.Add(-tc.span)
			if got := st.resolutionFor(from); got != tc.res {
				t.Errorf("resolution %d, want %d", got, tc.res)
			}
			a, err := st.Total(ctx, "probe/production/", from, now)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(a.Availability()-want(from)) > 1e-9 {
				t.Errorf("availability %.6f%%, want %.6f%% (%d checks)", a.Availability(), want(from), a.N)
			}
		})
	}
	var rawOld, minuteOld int
	db := st.db
	_ = db.QueryRow(`SELECT COUNT(*) FROM monitor_points WHERE res = 0 AND ts < $1`, now.Add(-49*time.Hour).UnixMilli()).Scan(&rawOld)
	_ = db.QueryRow(`SELECT COUNT(*) FROM monitor_points WHERE res = 60 AND ts < $1`, now.Add(-31*24*time.Hour).UnixMilli()).Scan(&minuteOld)
	if rawOld != 0 || minuteOld != 0 {
		t.Errorf("retention: %d raw points older than 48h, %d minute points older than 30d", rawOld, minuteOld)
	}
	// A calendar month (October 2026) from hour rollups.
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	a, _ := st.Total(ctx, "probe/production/", oct, oct.AddDate(0, 1, 0))
	var n, g float64
	for _, o := range truth {
		if !o.t.Before(oct) && o.t.Before(oct.AddDate(0, 1, 0)) {
			n++
			if o.ok {
				g++
			}
		}
	}
	if math.Abs(a.Availability()-100*g/n) > 1e-9 || a.Availability() > 99.2 {
		t.Errorf("October: %.4f%%, want %.4f%%", a.Availability(), 100*g/n)
	}
}

func TestBuckets(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	st := NewStore(openDB(t), clock.Now)
	ctx := context.Background()
	day := clock.Now().Truncate(24 * time.Hour)
	st.Add(Point{Series: "probe/p/x", Time: day.Add(time.Hour), Agg: Agg{N: 1, Good: 1}})
	st.Add(Point{Series: "probe/p/x", Time: day.Add(2 * time.Hour), Agg: Agg{N: 1, Good: 0}})
	st.Add(Point{Series: "probe/p/x", Time: day.Add(-time.Hour), Agg: Agg{N: 1, Good: 1}})
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := st.Buckets(ctx, "probe/p/x", day.Add(-24*time.Hour), day.Add(24*time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 2 || b[0].N != 1 || b[1].N != 2 || b[1].Good != 1 {
		t.Fatalf("buckets %+v", b)
	}
}

func TestParseProcStat(t *testing.T) {
	cases := []struct {
		name, in string
		want     CPUTimes
		err      string
	}{
		{"linux", "cpu  100 0 50 800 50 0 0 0 10 0\ncpu0 1 2 3 4\n", CPUTimes{Total: 1000, Idle: 850}, ""},
		{"short", "cpu  1 2 3 4\n", CPUTimes{Total: 10, Idle: 4}, ""},
		{"garbage", "cpu  1 x 3 4\n", CPUTimes{}, "not a number"},
		{"missing", "intr 1\n", CPUTimes{}, "no cpu line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcStat(strings.NewReader(tc.in))
			if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("got %+v, %v", got, err)
			}
		})
	}
	if p, ok := CPUPercent(CPUTimes{1000, 850}, CPUTimes{2000, 1100}); !ok || p != 75 {
		t.Errorf("cpu %v %v", p, ok)
	}
	if _, ok := CPUPercent(CPUTimes{1000, 850}, CPUTimes{1000, 850}); ok {
		t.Error("no elapsed time gave a reading")
	}
}

func TestParseMeminfo(t *testing.T) {
	got, err := ParseMeminfo(strings.NewReader("MemTotal:       1000 kB\nMemFree: 100 kB\nMemAvailable:    250 kB\n"))
	if err != nil || got != 75 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := ParseMeminfo(strings.NewReader("MemTotal: 1000 kB\n")); err == nil {
		t.Error("accepted meminfo without MemAvailable")
	}
	h := &hostSampler{proc: "/proc"}
	if _, _, mem, err := h.sample(); err != nil || mem <= 0 || mem > 100 {
		t.Errorf("this host: mem %v %v", mem, err)
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add("cpu  100 0 50 800 50 0 0 0 10 0\n")
	f.Add("cpu 18446744073709551615 1 1 1\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseProcStat(strings.NewReader(s))
		if err == nil && c.Idle > c.Total && c.Total > c.Idle { // overflow is tolerated, contradictions are not
			t.Fatal(c)
		}
		if p, ok := CPUPercent(CPUTimes{}, c); ok && (p < 0 || p > 100) {
			t.Fatalf("cpu %v from %+v", p, c)
		}
	})
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add("MemTotal: 1000 kB\nMemAvailable: 250 kB\n")
	f.Add("MemTotal: 0 kB\nMemAvailable: 5 kB\n")
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParseMeminfo(strings.NewReader(s)); err == nil && (p < 0 || p > 100 || math.IsNaN(p)) {
			t.Fatalf("%v from %q", p, s)
		}
	})
}

func TestEdgeCollector(t *testing.T) {
	var c edgeCollector
	now := time.Unix(1_800_000_000, 0)
	snap := func(req, failed uint64, lat time.Duration, bucket int) edge.EnvStats {
		s := edge.EnvStats{Env: "production", Requests: req, Failed: failed, LatencySum: lat}
		s.Latency[bucket] = req
		return s
	}
	if pts := c.collect(local(snap(10, 0, time.Second, 3), edge.EnvStats{Env: ""}), now); len(pts) != 0 {
		t.Fatalf("first snapshot gave %v", pts)
	}
	pts := c.collect(local(snap(110, 5, 11*time.Second, 5)), now)
	if len(pts) != 1 || pts[0].N != 100 || pts[0].Good != 95 || pts[0].Avg() != 100 || pts[0].Max != 25 {
		t.Fatalf("interval %+v", pts)
	}
	pts = c.collect(local(snap(3, 1, 300*time.Millisecond, 0)), now) // restarted
	if len(pts) != 1 || pts[0].N != 3 || pts[0].Good != 2 {
		t.Fatalf("after restart %+v", pts)
	}
}
