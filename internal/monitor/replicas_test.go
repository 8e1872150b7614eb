package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// replicaAlerts evaluates once and returns the replica alerts by replica.
func replicaAlerts(t *testing.T, m *Monitor, clock *fakeClock) map[string]Alert {
	t.Helper()
	return builtinAlerts(t, m, clock, ReplicaRule, replicaPrefix)
}

// builtinAlerts evaluates once, a second later, and returns the alerts of
// built-in rule that ever fired, by their instance without prefix.
func builtinAlerts(t *testing.T, m *Monitor, clock *fakeClock, rule, prefix string) map[string]Alert {
	t.Helper()
	clock.Add(time.Second)
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	as, err := m.Alerts(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Alert{}
	for _, a := range as {
		if a.Rule == rule && a.State != StateInactive {
			out[strings.TrimPrefix(a.Environment, prefix)] = a
		}
	}
	return out
}

// TestReplicaDownAlert: with no rule written, a silent replica, one
// whose own edge fails and one behind on an environment fire at once, a healthy one does not; each
// resolves when healthy again or stopped cleanly; a failed listing changes
// nothing; a replica no longer listed resolves.
func TestReplicaDownAlert(t *testing.T) {
	const a, b, c = "http://10.0.0.1:7070", "http://10.0.0.2:7070", "http://10.0.0.3:7070"
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	pub := &fakePublisher{}
	src := &listing[ReplicaHealth]{}
	m, err := New(Options{DB: openDB(t), Now: clock.Now, Publisher: pub, Proc: "-", ReplicaHealth: src.list})
	if err != nil {
		t.Fatal(err)
	}
	src.set(nil, ReplicaHealth{Replica: a}, ReplicaHealth{Replica: b, Silent: true}, ReplicaHealth{Replica: c, EdgeDown: true})
	got := replicaAlerts(t, m, clock)
	if _, listed := got[a]; listed || got[b].State != StateFiring || got[c].State != StateFiring {
		t.Fatalf("alerts %+v", got)
	}
	if al := got[b]; al.ID != ReplicaRule+"@replica:"+b || al.Environment != ReplicaInstance(b) || !ServerInstance(al.Environment) ||
		!strings.Contains(al.Summary, "no heartbeat") {
		t.Errorf("silent replica's alert %+v", al)
	}
	st, err := m.Status(context.Background())
	if err != nil || len(st) != 0 {
		t.Errorf("the status page (public) lists the server's replica alerts as environments: %+v %v", st, err)
	}
	if !strings.Contains(got[c].Summary, "own edge") {
		t.Errorf("edge-down replica's summary %q", got[c].Summary)
	}
	if titles := strings.Join(pub.titles(), "\n"); !strings.Contains(titles, "[replica:"+b+"] "+ReplicaRule+" firing") {
		t.Errorf("notifications %q", titles)
	}

	src.set(errors.New("database down"))
	if got := replicaAlerts(t, m, clock); got[b].State != StateFiring || got[c].State != StateFiring {
		t.Fatalf("a failed listing changed the alerts: %+v", got)
	}
	// b stopped cleanly (healthy, not silent), c's edge answers again.
	src.set(nil, ReplicaHealth{Replica: a}, ReplicaHealth{Replica: b}, ReplicaHealth{Replica: c})
	if got := replicaAlerts(t, m, clock); got[b].State != StateResolved || got[c].State != StateResolved {
		t.Fatalf("after recovery: %+v", got)
	}
	src.set(nil, ReplicaHealth{Replica: a, Silent: true})
	if got := replicaAlerts(t, m, clock); got[a].State != StateFiring {
		t.Fatalf("a silent again: %+v", got)
	}
	// d serves a release other than the active one of an environment for
	// more than two polls (it cannot fetch its blobs); it catches up.
	const d = "http://10.0.0.4:7070"
	src.set(nil, ReplicaHealth{Replica: a, Silent: true}, ReplicaHealth{Replica: d, Behind: []string{"production.shop"}})
	if got := replicaAlerts(t, m, clock); got[d].State != StateFiring || !strings.Contains(got[d].Summary, "active release") {
		t.Fatalf("a replica behind: %+v", got[d])
	}
	src.set(nil, ReplicaHealth{Replica: a, Silent: true}, ReplicaHealth{Replica: d})
	if got := replicaAlerts(t, m, clock); got[d].State != StateResolved {
		t.Fatalf("a replica caught up: %+v", got[d])
	}
	src.set(nil) // forgotten after a week
	if got := replicaAlerts(t, m, clock); got[a].State != StateResolved {
		t.Fatalf("a forgotten replica's alert: %+v", got[a])
	}
}
