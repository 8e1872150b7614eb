package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// checkAll probes every target once against the real server and records
// the results, as the scheduler does.
func checkAll(t *testing.T, m *Monitor, ts []Target) {
	t.Helper()
	for _, tg := range ts {
		tg, err := tg.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		m.record(tg, m.opts.Prober.Probe(context.Background(), tg))
	}
	if err := m.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func endpointsOf(t *testing.T, m *Monitor) (names []string, health string) {
	t.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range st {
		health = e.Health
		for _, ep := range e.Endpoints {
			names = append(names, ep.Name)
		}
	}
	return names, health
}

func savedTargets(t *testing.T, m *Monitor) int {
	t.Helper()
	var n int
	if err := m.opts.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM monitor_last`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// probeServer answers /health and nothing else.
func probeServer(t *testing.T) (home, broken Target) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return Target{Name: "home", Environment: "production.shop", URL: srv.URL + "/health"},
		Target{Name: "broken", Environment: "production.shop", URL: srv.URL + "/broken"}
}

// TestRemovedProbeLeavesStatus: a probe dropped from phoenix.yaml while
// the monitor runs stops counting at the next flush.
func TestRemovedProbeLeavesStatus(t *testing.T) {
	home, broken := probeServer(t)
	m, _, _ := newTestMonitor(t)
	if err := m.SetTargets([]Target{home, broken}); err != nil {
		t.Fatal(err)
	}
	checkAll(t, m, []Target{home, broken})
	if names, health := endpointsOf(t, m); len(names) != 2 || health != HealthDegraded {
		t.Fatalf("with both probes: endpoints %v, health %s", names, health)
	}
	if err := m.SetTargets([]Target{home}); err != nil {
		t.Fatal(err)
	}
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if names, health := endpointsOf(t, m); len(names) != 1 || names[0] != "home" || health != HealthUp {
		t.Fatalf("after dropping broken: endpoints %v, health %s", names, health)
	}
	if n := savedTargets(t, m); n != 1 {
		t.Errorf("%d rows in monitor_last, want 1", n)
	}
}

// TestRestartWithoutProbeRemovesIt: a server started with a phoenix.yaml
// that no longer has a probe deletes the row an earlier run left.
func TestRestartWithoutProbeRemovesIt(t *testing.T) {
	home, broken := probeServer(t)
	before, _, _ := newTestMonitor(t)
	if err := before.SetTargets([]Target{home, broken}); err != nil {
		t.Fatal(err)
	}
	checkAll(t, before, []Target{home, broken})
	after, err := New(Options{DB: before.opts.DB, Now: before.opts.Now, Proc: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if err := after.SetTargets([]Target{home}); err != nil {
		t.Fatal(err)
	}
	if err := after.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if names, health := endpointsOf(t, after); len(names) != 1 || names[0] != "home" || health != HealthUp {
		t.Fatalf("after a restart without broken: endpoints %v, health %s", names, health)
	}
}

// TestLateResultOfRemovedProbeIsDropped: a run in flight when its probe
// was removed does not bring its row back.
func TestLateResultOfRemovedProbeIsDropped(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	gone := Target{Name: "gone", Environment: "production.shop", URL: "https://gone.example.com/"}
	if err := m.SetTargets(nil); err != nil {
		t.Fatal(err)
	}
	m.record(gone, Result{Target: gone.ID(), Name: gone.Name, Environment: gone.Environment, Time: clock.Now().Add(-time.Second)})
	if err := m.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := savedTargets(t, m); n != 0 {
		t.Errorf("%d rows in monitor_last, want 0", n)
	}
}
