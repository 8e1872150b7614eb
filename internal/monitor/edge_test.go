package monitor

import (
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge"
)

// local is this server's edge telemetry as the only source.
func local(s ...edge.EnvStats) []EdgeSource { return []EdgeSource{{Stats: s}} }

// stats is one environment's counters: req requests (failed of them 5xx),
// all in latency bucket b, lat in total.
func stats(env string, req, failed uint64, lat time.Duration, b int) edge.EnvStats {
	s := edge.EnvStats{Env: env, Requests: req, Failed: failed, LatencySum: lat}
	s.Latency[b] = req
	return s
}

// TestEdgeCollectorMergesServers: two servers' growth is summed per
// environment, histograms merged; a server that stops publishing adds
// nothing (no frozen or repeated figures); a new start of a server counts
// from zero; a server first seen that started before the monitor is a
// base, and a new environment on a server seen before counts from zero.
func TestEdgeCollectorMergesServers(t *testing.T) {
	var c edgeCollector
	t0 := time.Unix(1_800_000_000, 0)
	old := t0.Add(-time.Hour)
	src := func(server, boot string, started time.Time, s ...edge.EnvStats) EdgeSource {
		return EdgeSource{Server: server, Boot: boot, Started: started, Stats: s}
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 10 * time.Second) }
	if pts := c.collect([]EdgeSource{{Stats: []edge.EnvStats{stats("p", 5, 0, 0, 0)}},
		src("b", "1", old, stats("p", 1000, 10, 0, 0))}, at(0)); len(pts) != 0 {
		t.Fatalf("bases gave %v", pts)
	}
	pts := c.collect([]EdgeSource{{Stats: []edge.EnvStats{stats("p", 15, 0, 10*time.Millisecond, 0)}},
		src("b", "1", old, stats("p", 1100, 60, 0, 0), stats("q", 7, 7, 0, 1)),
		src("c", "9", at(1), stats("p", 20, 20, 20*time.Second, 12))}, at(1))
	want := map[string]Agg{"edge/p": {N: 10 + 100 + 20, Good: 10 + 50, Sum: 10 + 20_000, Min: 0, Max: 5000},
		"edge/q": {N: 7, Good: 0, Min: 0.5, Max: 1}} // q is new on b, which published before: from zero
	got := map[string]Agg{}
	for _, p := range pts {
		got[p.Series] = p.Agg
	}
	if len(pts) != 2 || got["edge/p"] != want["edge/p"] || got["edge/q"] != want["edge/q"] {
		t.Fatalf("merged interval %+v", pts)
	}
	// b stops publishing; c restarts (a new boot) and counts from zero.
	pts = c.collect([]EdgeSource{{Stats: []edge.EnvStats{stats("p", 15, 0, 10*time.Millisecond, 0)}},
		src("c", "10", at(2), stats("p", 3, 1, 3*time.Millisecond, 1))}, at(2))
	if len(pts) != 1 || pts[0].N != 3 || pts[0].Good != 2 || pts[0].Min != 0.5 || pts[0].Max != 1 {
		t.Fatalf("after b stopped and c restarted %+v", pts)
	}
	pts = c.collect([]EdgeSource{{Stats: []edge.EnvStats{stats("p", 15, 0, 10*time.Millisecond, 0)}}}, at(3))
	if len(pts) != 0 {
		t.Fatalf("nothing grew, yet %+v", pts)
	}
	// b comes back within the hour: its growth since it was last seen;
	// its new environment r counts from zero (b published before).
	pts = c.collect([]EdgeSource{src("b", "1", old, stats("p", 1101, 60, 0, 0), stats("r", 4, 0, 0, 0))}, at(4))
	got = map[string]Agg{}
	for _, p := range pts {
		got[p.Series] = p.Agg
	}
	if len(pts) != 2 || got["edge/p"].N != 1 || got["edge/p"].Good != 1 || got["edge/r"].N != 4 {
		t.Fatalf("b back %+v", pts)
	}
	c.collect(nil, at(4).Add(2*forget))
	if len(c.prev) != 0 || len(c.boots) != 0 {
		t.Fatalf("sources unseen for two hours kept: %v", c.prev)
	}
}
