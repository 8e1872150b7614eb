package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// setClock is a clock tests move by hand; After fires when Set passes it.
type setClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *setClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *setClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, clockWaiter{c.now.Add(d), ch})
	return ch
}

func (c *setClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	c.waiters = kept
}

// replica is a Service sharing the fixture's database, opened, not leading.
func replica(t *testing.T, f *fixture, name string, clock Clock) *Service {
	t.Helper()
	svc, err := New(Options{DB: f.db, LogDir: filepath.Join(f.dir, name), Clock: clock, Grace: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc.Open(context.Background())
	t.Cleanup(func() { svc.Stop(context.Background()) })
	return svc
}

// twoReplicas opens two services, a and b, on one new database, neither
// leading, on a settable clock.
func twoReplicas(t *testing.T) (*fixture, *setClock, *Service, *Service) {
	f := &fixture{t: t, dir: t.TempDir(), audit: &auditLog{}}
	f.db = openDB(t, f.dir)
	clock := &setClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return f, clock, replica(t, f, "a", clock), replica(t, f, "b", clock)
}

// lead runs svc.Lead until the returned stop is called (stop waits).
func lead(svc *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Lead(ctx) }()
	return func() { cancel(); <-done }
}

// runsBy polls until n runs of trigger exist and all finished, and
// returns them.
func runsBy(t *testing.T, svc *Service, trigger string, n int) []Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := svc.Runs(context.Background(), RunFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []Run
		done := true
		for _, r := range runs {
			if r.Trigger == trigger {
				got = append(got, r)
				done = done && Finished(r.Status)
			}
		}
		if len(got) > n {
			t.Fatalf("%d %s runs, want %d", len(got), trigger, n)
		}
		if len(got) == n && done {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d %s runs, or not finished: %+v", len(got), n, trigger, got)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not timing it
	}
}

// TestReplicasOneLeaderRuns: two services on one database; a workflow
// registered and queued on the follower runs on the leader, once; the
// cron schedule fires on the leader only, and after a hand-over the new
// leader goes on from the tick the old one recorded (no tick twice).
func TestReplicasOneLeaderRuns(t *testing.T) {
	ctx := context.Background()
	f, clock, a, b := twoReplicas(t)
	dir := f.project("version: 1\nproject:\n  name: shop\nenvironments:\n  production: {}\nworkflows:\n  nightly:\n" +
		"    triggers: [{cron: \"0 3 * * *\"}]\n    steps:\n      - {name: say, run: echo ran}\n")
	cfg, err := config.Load(filepath.Join(dir, "phoenix.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.RegisterProject(ctx, dir, cfg); err != nil { // a release on b
		t.Fatal(err)
	}
	stopA := lead(a)
	if _, err := b.StartWorkflow(ctx, WorkflowRequest{Dir: dir, Workflow: "nightly", Actor: "t", Trigger: "manual"}); err != nil {
		t.Fatal(err)
	}
	a.Poke(ctx) // what b's notification makes a do
	manual := runsBy(t, b, "manual", 1)
	if _, err := os.Stat(filepath.Join(f.dir, "a", itoa(manual[0].ID))); err != nil || manual[0].Status != Succeeded {
		t.Fatalf("the queued run (%s) did not run on the leader: %v", manual[0].Status, err)
	}
	clock.Set(time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC)) // the 03:00 tick is due
	// The loop may have measured its wait against the old time and now
	// waits for a fake-clock instant that no Set reaches: run the due
	// ticks here too (a tick fires once, whichever of the two gets it).
	a.sched.RunDue(ctx)
	runsBy(t, b, "cron", 1)
	stopA()
	clock.Set(time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)) // b takes over after a's 03:00 tick: not due again
	stopB := lead(b)
	defer stopB()
	for !b.isLeading() {
		time.Sleep(time.Millisecond) // polling a condition, not timing it
	}
	b.sched.RunDue(ctx)                                    // fires a tick b remembers wrongly, if it does, before the next day's
	clock.Set(time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)) // the next day's tick
	b.sched.RunDue(ctx)                                    // as above: the loop may wait for a fake instant no Set reaches
	ticks := map[string]Run{}
	for _, r := range runsBy(t, b, "cron", 2) {
		ticks[r.Inputs.Values["tick"]] = r
	}
	first, second := ticks["2026-01-01T04:00:00Z"], ticks["2026-01-02T04:00:00Z"]
	if first.Status != Succeeded || second.Status != Succeeded {
		t.Fatalf("cron runs by tick: %+v", ticks)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "b", itoa(second.ID))); err != nil {
		t.Fatalf("the second day's run did not run on the new leader: %v", err)
	}
}

func (s *Service) isLeading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// TestReplicasApprovalOnAnotherServer: a release queued on the follower
// waits on the leader; an approval recorded on the follower lets it go on
// once the leader is poked (as the follower's notification does).
func TestReplicasApprovalOnAnotherServer(t *testing.T) {
	ctx := context.Background()
	f := &fixture{t: t, dir: t.TempDir(), audit: &auditLog{}}
	f.db = openDB(t, f.dir)
	a, b := replica(t, f, "a", nil), replica(t, f, "b", nil)
	defer lead(a)()
	dir := f.project(strings.Replace(approvalYAML, "approvals: 2", "approvals: 1", 1))
	r, err := b.Release(ctx, ReleaseRequest{Dir: dir, Version: "3.0.0", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	a.Poke(ctx)
	waitFor(t, b, r.ID, Waiting)
	if err := b.Approve(ctx, r.ID, "", "bob", "lgtm"); err != nil {
		t.Fatal(err)
	}
	a.Poke(ctx)
	waitFor(t, b, r.ID, Succeeded)
}

// waitFor polls svc until run id is status.
func waitFor(t *testing.T, svc *Service, id int64, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == status {
			return
		}
		if Finished(d.Status) || time.Now().After(deadline) {
			t.Fatalf("run %d is %s (%s), want %s", id, d.Status, d.Message, status)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not timing it
	}
}
