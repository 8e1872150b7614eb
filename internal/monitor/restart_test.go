package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/notify/webhook"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// crashAfterPublish queues and sends a message, then closes the database:
// the server dies after announcing an alert and before storing that it
// did (the monitor stores the alert's state after publishing).
type crashAfterPublish struct {
	d  *notify.Dispatcher
	db *store.DB
}

func (c crashAfterPublish) Publish(ctx context.Context, m notify.Message, only ...string) ([]string, error) {
	reached, err := c.d.Publish(ctx, m, only...)
	if err == nil {
		_, err = c.d.RunDue(ctx)
	}
	c.db.Close()
	return reached, err
}

// TestAlertAnnouncedBeforeACrashIsNotAnnouncedAgain: an alert announced
// just before the server died, before it stored the alert's state, was
// announced again after the restart under a new ID (IDs were the
// evaluation's time), so the delivery log sent it twice and a webhook
// receiver could not tell it was the same; its ID derives from the
// alert's stored state now, so the restarted server's announcement has
// the same ID and is not sent again. The alert's next changes (its
// resolution, its next episode) have IDs of their own.
func TestAlertAnnouncedBeforeACrashIsNotAnnouncedAgain(t *testing.T) {
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Phoenix-Event")+" "+r.Header.Get("X-Phoenix-Delivery"))
		mu.Unlock()
	}))
	defer hook.Close()
	received := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
	path := filepath.Join(t.TempDir(), "state.db")
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	src := &listing[Undeliverable]{}
	failing := Undeliverable{Project: "shop", Channel: "mail", Event: "alert.firing", At: clock.Now(), Failed: 1, Error: "email: 550 mailbox unavailable"}
	src.set(nil, failing)
	ctx := context.Background()
	start := func(publisher func(*notify.Dispatcher, *store.DB) Publisher) (*Monitor, *notify.Dispatcher) {
		t.Helper()
		m, d, _ := openWithWebhook(t, path, hook.URL, clock, src, publisher)
		return m, d
	}

	m, _ := start(func(d *notify.Dispatcher, db *store.DB) Publisher { return crashAfterPublish{d, db} })
	if err := m.Evaluate(ctx); err == nil {
		t.Fatal("the alert's state was stored on a closed database")
	}
	before := received()
	if len(before) != 1 || !strings.HasPrefix(before[0], "alert.firing ") {
		t.Fatalf("before the crash the receiver got %q", before)
	}

	clock.Add(5 * time.Second)
	m, d := start(func(d *notify.Dispatcher, _ *store.DB) Publisher { return d })
	step := func() {
		t.Helper()
		if err := m.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Add(5 * time.Second)
	}
	step()
	if r := received(); !slices.Equal(r, before) {
		t.Fatalf("after the restart the receiver got %q, want the firing once", r)
	}
	if before[0] != "alert.firing alert-firing-notify:shop/mail-notify-undeliverable-0" { // an alert never stored: episode 0
		t.Errorf("the firing's ID: %q", before[0])
	}
	if as, _ := m.Alerts(ctx, false); len(as) != 1 || as[0].State != StateFiring || as[0].LastNotified.IsZero() {
		t.Fatalf("alerts after the restart: %+v", as)
	}

	src.set(nil) // the channel works again: resolved, then it fails again: a new episode
	step()
	src.set(nil, failing)
	step()
	r := received()
	if len(r) != 3 || r[1] != "alert.resolved alert-resolved-notify:shop/mail-notify-undeliverable-1795773605000" ||
		r[2] != "alert.firing alert-firing-notify:shop/mail-notify-undeliverable-1795773610000" {
		t.Fatalf("the receiver got %q, want the resolution and the next firing, each with an ID of its own", r)
	}
}

// refusingPublisher stores nothing: the message store failed (or the
// server died inside Publish, before its transaction committed).
type refusingPublisher struct{}

func (refusingPublisher) Publish(context.Context, notify.Message, ...string) ([]string, error) {
	return nil, context.DeadlineExceeded
}

// TestAlertStoredButNotAnnouncedIsAnnouncedNext: an alert whose firing
// was stored while its announcement was not (Publish stored nothing) is
// not lost until the reminder hours later: an alert firing that was never
// announced is due at the next evaluation, under the real publisher after
// a restart.
func TestAlertStoredButNotAnnouncedIsAnnouncedNext(t *testing.T) {
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Phoenix-Event"))
		mu.Unlock()
	}))
	defer hook.Close()
	path := filepath.Join(t.TempDir(), "state.db")
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	src := &listing[Undeliverable]{}
	src.set(nil, Undeliverable{Project: "shop", Channel: "mail", Event: "alert.firing", At: clock.Now(), Failed: 1, Error: "email: 550"})
	ctx := context.Background()
	m, _, db := openWithWebhook(t, path, hook.URL, clock, src, func(*notify.Dispatcher, *store.DB) Publisher { return refusingPublisher{} })
	m.Evaluate(ctx) // the error is the publisher's; the alert's state is stored
	if as, _ := m.Alerts(ctx, false); len(as) != 1 || as[0].State != StateFiring || !as[0].LastNotified.IsZero() {
		t.Fatalf("alerts stored with the announcement refused: %+v", as)
	}
	db.Close()
	clock.Add(5 * time.Second)
	m, d, _ := openWithWebhook(t, path, hook.URL, clock, src, func(d *notify.Dispatcher, _ *store.DB) Publisher { return d })
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "alert.firing" {
		t.Fatalf("the receiver got %q at the first evaluation after the restart, want the firing", got)
	}
}

// openWithWebhook opens (again) the monitor over the SQLite file path with
// one channel, shop/teams, a webhook to hook, and the publisher publisher
// makes of its dispatcher and database: a server started over a data dir.
func openWithWebhook(t *testing.T, path, hook string, clock *fakeClock, src *listing[Undeliverable],
	publisher func(*notify.Dispatcher, *store.DB) Publisher) (*Monitor, *notify.Dispatcher, *store.DB) {
	t.Helper()
	db := testkit.OpenStore(t, path)
	if err := db.Migrate(context.Background(), Migrations(), notify.Migrations()); err != nil {
		t.Fatal(err)
	}
	wh, err := webhook.New(webhook.Options{URL: hook + "/phoenix"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := notify.NewDispatcher(notify.Options{DB: db, Now: clock.Now,
		Channels: map[string]notify.Channel{"shop/teams": {Notifier: wh, MinSeverity: notify.Verbose}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{DB: db, Now: clock.Now, Publisher: publisher(d, db), Proc: "-", Undeliverable: src.list})
	if err != nil {
		t.Fatal(err)
	}
	return m, d, db
}
