package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// leaders runs Lead on n handles of one database and counts who leads.
type leaders struct {
	dbs     []*store.DB
	leading []atomic.Bool
	starts  atomic.Int32
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startLeaders(t *testing.T, dsn string, n int) *leaders {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &leaders{leading: make([]atomic.Bool, n), cancel: cancel}
	for i := range n {
		db, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		l.dbs = append(l.dbs, db)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			db.Lead(ctx, store.LeaderOptions{Retry: 20 * time.Millisecond, Check: 20 * time.Millisecond}, func(ctx context.Context) {
				l.starts.Add(1)
				l.leading[i].Store(true)
				<-ctx.Done()
				l.leading[i].Store(false)
			})
		}()
	}
	t.Cleanup(func() { cancel(); l.wg.Wait() })
	return l
}

// leader waits for exactly one leader other than not and returns it.
func (l *leaders) leader(t *testing.T, not int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		who, count := -1, 0
		for i := range l.leading {
			if l.leading[i].Load() {
				who, count = i, count+1
			}
		}
		if count > 1 {
			t.Fatalf("%d leaders at once", count)
		}
		if count == 1 && who != not {
			return who
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no leader")
	return -1
}

// TestLeadOneAtATime: of three servers one leads; when its session is
// killed (pg_terminate_backend) it stops at once and another takes over;
// never two at a time.
func TestLeadOneAtATime(t *testing.T) {
	dsn := testkit.Postgres(t).NewDatabase(t)
	l := startLeaders(t, dsn, 3)
	first := l.leader(t, -1)
	var pid int
	err := l.dbs[first].QueryRowContext(context.Background(), `SELECT pid FROM pg_locks WHERE locktype = 'advisory'
		AND granted AND ((classid::bigint << 32) | objid::bigint) = $1`, int64(0x70686f656e69784c)).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.dbs[first].ExecContext(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	second := l.leader(t, first)
	if second == first || l.leading[first].Load() {
		t.Fatalf("leader %d, then %d", first, second)
	}
	if n := l.starts.Load(); n != 2 {
		t.Fatalf("leadership started %d times, want 2", n)
	}
	// A leader that vanishes from the network loses its lock in seconds.
	if v, err := store.LeaderKeepaliveForTest(context.Background(), l.dbs[0]); err != nil || v != "5" {
		t.Fatalf("the lock session's tcp_keepalives_idle = %q, %v; want 5", v, err)
	}
}

// TestNotifyReachesListeners: a notification on one handle reaches a
// Listen on another, after the listener's "(re)connected" call.
func TestNotifyReachesListeners(t *testing.T) {
	dsn := testkit.Postgres(t).NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan store.Notification, 4)
	go b.Listen(ctx, []string{"phoenix_test"}, nil, func(n store.Notification) { got <- n })
	if n := <-got; n.Channel != "" {
		t.Fatalf("first call %+v, want the connected call", n)
	}
	if err := a.Notify(ctx, "phoenix_test", "shop/production"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n.Channel != "phoenix_test" || n.Payload != "shop/production" {
			t.Fatalf("got %+v", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
}

// TestSerializeStart: a second start waits for the first's release.
func TestSerializeStart(t *testing.T) {
	dsn := testkit.Postgres(t).NewDatabase(t)
	ctx := context.Background()
	a, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	release, err := a.SerializeStart(ctx, func() { t.Error("the first start waited") })
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	waited := false
	if _, err := a.SerializeStart(tctx, func() { waited = true }); err == nil || !waited {
		t.Fatalf("a second start did not wait: %v", err)
	}
	release()
	r2, err := a.SerializeStart(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r2()
}
