package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db := testkit.OpenStore(t, filepath.Join(t.TempDir(), "state.db"))
	if err := db.Migrate(context.Background(), Migrations()); err != nil {
		t.Fatal(err)
	}
	return db
}

// receiver is an HTTP endpoint that is down (503) until upAt on clock.
type receiver struct {
	clock *fakeClock
	upAt  time.Time
	mu    sync.Mutex
	got   []string
	tries int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.clock.Now().Before(r.upAt) {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.got = append(r.got, req.Header.Get("X-Id"))
}

type postNotifier struct{ url string }

func (p postNotifier) Notify(ctx context.Context, m Message) error {
	h := http.Header{}
	h.Set("X-Id", m.ID)
	return PostJSON(ctx, nil, "test", p.url, []byte(`{}`), h)
}

func TestReceiverDownFiveMinutesLosesNothing(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	rcv := &receiver{clock: clock, upAt: clock.Now().Add(5 * time.Minute)}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	secretURL := srv.URL + "/hook/very-secret-token-123"
	var logs bytes.Buffer
	d, err := NewDispatcher(Options{DB: openDB(t), Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Channels: map[string]Channel{"ops": {Notifier: postNotifier{secretURL}, Secrets: []string{secretURL}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := d.Publish(ctx, Message{ID: id, Event: "alert.firing", Severity: 0, Title: "down " + id}); err != nil {
			t.Fatal(err)
		}
	}
	// Walk the clock from one due time to the next, as Run would.
	for step := 0; step < 50; step++ {
		if _, err := d.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		next, ok := d.nextDue(ctx)
		if !ok {
			break
		}
		clock.Add(max(next.Sub(clock.Now()), 0))
	}
	if len(rcv.got) != 3 {
		t.Fatalf("receiver got %v, want a, b and c once each", rcv.got)
	}
	sent, _ := d.Deliveries(ctx, StateSent, 0)
	if len(sent) != 3 {
		t.Fatalf("sent deliveries: %+v", sent)
	}
	// Backoff 5s,10s,20s,40s,80s,160s: attempts at 0,5,15,35,75,155,315 s;
	// the receiver is back at 300 s, so the 7th attempt succeeds.
	for _, s := range sent {
		if s.Attempts != 7 || s.SentAt.Sub(s.CreatedAt) != 315*time.Second {
			t.Errorf("delivery %s: %d attempts, sent after %s", s.MessageID, s.Attempts, s.SentAt.Sub(s.CreatedAt))
		}
	}
	if strings.Contains(logs.String(), "very-secret-token-123") {
		t.Errorf("the webhook URL reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "will retry") {
		t.Errorf("no retry logged:\n%s", logs.String())
	}
}

func TestDeliveryOutcomes(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		advance   time.Duration
		wantState string
	}{
		{"permanent error fails at once", Permanent(errors.New("400 bad card")), 0, StateFailed},
		{"temporary error stays pending", Temporary(errors.New("503")), 0, StatePending},
		{"gives up after a day", Temporary(errors.New("503")), 25 * time.Hour, StateFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
			d, _ := NewDispatcher(Options{DB: openDB(t), Now: clock.Now, Channels: map[string]Channel{
				"x": {Notifier: NotifierFunc(func(context.Context, Message) error { return tc.err })}}})
			ctx := context.Background()
			if _, err := d.Publish(ctx, Message{ID: "1", Event: "deploy.failed"}); err != nil {
				t.Fatal(err)
			}
			clock.Add(tc.advance)
			if n, err := d.RunDue(ctx); n != 1 || err != nil {
				t.Fatalf("RunDue = %d, %v", n, err)
			}
			all, _ := d.Deliveries(ctx, "", 0)
			if len(all) != 1 || all[0].State != tc.wantState || all[0].LastError == "" {
				t.Fatalf("deliveries %+v", all)
			}
		})
	}
}

// countDeliveries returns a count of the deliveries by "CHANNEL:ID" and a
// maker of Notifiers that count theirs in it (read it after RunDue).
func countDeliveries() (map[string]int, func(name string) Notifier) {
	var mu sync.Mutex
	got := map[string]int{}
	return got, func(name string) Notifier {
		return NotifierFunc(func(_ context.Context, m Message) error {
			mu.Lock()
			got[name+":"+m.ID]++
			mu.Unlock()
			return nil
		})
	}
}

func TestRoutingAndDedup(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	got, rec := countDeliveries()
	d, _ := NewDispatcher(Options{DB: openDB(t), Now: clock.Now, Channels: map[string]Channel{
		"teams":  {Notifier: rec("teams"), Events: []string{"deploy.*", "alert.firing"}, MinSeverity: 4},
		"pager":  {Notifier: rec("pager"), Events: []string{"alert.*"}, MinSeverity: 0},
		"all":    {Notifier: rec("all"), Events: []string{"*"}, MinSeverity: 4},
		"deflt":  {Notifier: rec("deflt"), MinSeverity: 4},
		"backup": {Notifier: rec("backup"), Events: []string{"backup.failed"}},
	}})
	ctx := context.Background()
	cases := []struct {
		m    Message
		only []string
		want string
	}{
		{Message{ID: "1", Event: "deploy.rolled_back", Severity: 0}, nil, "all,deflt,teams"},
		{Message{ID: "2", Event: "alert.firing", Severity: 2}, nil, "all,deflt,teams"},
		{Message{ID: "3", Event: "alert.firing", Severity: 0}, nil, "all,deflt,pager,teams"},
		{Message{ID: "4", Event: "secret.rotated"}, nil, "all"},
		{Message{ID: "5", Event: "alert.firing"}, []string{"backup", "nope"}, "backup"},
		{Message{ID: "3", Event: "alert.firing", Severity: 0}, nil, "all,deflt,pager,teams"}, // duplicate
	}
	for _, tc := range cases {
		chs, err := d.Publish(ctx, tc.m, tc.only...)
		if err != nil || strings.Join(chs, ",") != tc.want {
			t.Errorf("message %s went to %v (%v), want %s", tc.m.ID, chs, err, tc.want)
		}
	}
	if _, err := d.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if got["pager:3"] != 1 || got["teams:3"] != 1 || got["backup:5"] != 1 {
		t.Errorf("deliveries %v", got)
	}
	all, _ := d.Deliveries(ctx, StateSent, 0)
	if len(all) != 12 {
		t.Errorf("%d deliveries sent, want 12 (the duplicate of 3 is not queued twice)", len(all))
	}
}

func TestRunDeliversOnKick(t *testing.T) {
	done := make(chan Message, 1)
	d, _ := NewDispatcher(Options{DB: openDB(t), Channels: map[string]Channel{
		"x": {Notifier: NotifierFunc(func(_ context.Context, m Message) error { done <- m; return nil })}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	if _, err := d.Publish(ctx, Message{Event: "deploy.succeeded", Title: "live"}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-done:
		if m.Title != "live" || m.ID == "" {
			t.Errorf("got %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not delivered")
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: 5 * time.Second, Max: 5 * time.Minute}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 300, 300}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Second {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got, w*time.Second)
		}
	}
}

func TestRedactString(t *testing.T) {
	url := "https://prod-12.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGVALUE"
	cases := map[string]string{
		"whole URL":  "post " + url + " failed",
		"query only": "bad query api-version=2016-06-01&sig=SIGVALUE",
		"path only":  "GET /workflows/abc123/triggers/manual/paths/invoke: 404",
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			got := RedactString(s, url)
			if strings.Contains(got, "SIGVALUE") || strings.Contains(got, "abc123") {
				t.Errorf("RedactString left the secret: %s", got)
			}
		})
	}
}

// TestOnlyNamesTheProjectsChannel: the server keys each project's
// channels PROJECT/NAME, and an alert rule's notify: [teams] names the
// project's own; such an alert went to no channel at all ("notify:
// unknown channel", offered again every evaluation, never delivered).
func TestOnlyNamesTheProjectsChannel(t *testing.T) {
	got, rec := countDeliveries()
	d, _ := NewDispatcher(Options{DB: openDB(t), Channels: map[string]Channel{
		"shop/teams": {Notifier: rec("shop/teams")},
		"shop/hook":  {Notifier: rec("shop/hook")},
		"blog/teams": {Notifier: rec("blog/teams")},
		"ops":        {Notifier: rec("ops")},
	}})
	ctx := context.Background()
	cases := []struct {
		m    Message
		only []string
		want string
	}{
		{Message{ID: "1", Event: "alert.firing", Project: "shop", Environment: "production"}, []string{"teams"}, "shop/teams"},
		{Message{ID: "2", Event: "alert.firing", Project: "blog", Environment: "production"}, []string{"teams", "hook"}, "blog/teams"},
		{Message{ID: "3", Event: "alert.firing"}, []string{"teams"}, "blog/teams,shop/teams"}, // a host alert: every project's teams
		{Message{ID: "4", Event: "alert.firing", Project: "shop"}, []string{"shop/hook", "ops"}, "shop/hook,ops"},
		{Message{ID: "5", Event: "alert.firing", Project: "shop"}, []string{"pager"}, ""},
	}
	for _, tc := range cases {
		chs, err := d.Publish(ctx, tc.m, tc.only...)
		if err != nil || strings.Join(chs, ",") != tc.want {
			t.Errorf("message %s naming %v went to %v (%v), want %q", tc.m.ID, tc.only, chs, err, tc.want)
		}
	}
	if _, err := d.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if got["shop/teams:1"] != 1 || got["blog/teams:2"] != 1 || got["shop/teams:3"] != 1 || got["blog/teams:3"] != 1 {
		t.Errorf("deliveries %v", got)
	}
}

// TestResolvedNeverOvertakesItsFiring: a receiver down for a while (Teams
// throttling, a webhook's restart) got an alert's resolution before its
// firing: the firing, queued first, waited out a longer backoff than the
// resolution's first retries, so the channel showed the alert firing
// last, and an incident tool opened an incident nothing would close. An
// alert's messages reach a channel in the order they were made; other
// messages, and other alerts', do not wait.
func TestResolvedNeverOvertakesItsFiring(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	rcv := &receiver{clock: clock, upAt: clock.Now().Add(200 * time.Second)}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	d, err := NewDispatcher(Options{DB: openDB(t), Now: clock.Now,
		Channels: map[string]Channel{"ops": {Notifier: postNotifier{srv.URL}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	publish := func(id, event string, alerts ...string) {
		t.Helper()
		if _, err := d.Publish(ctx, Message{ID: id, Event: event, Alerts: alerts, Title: id}); err != nil {
			t.Fatal(err)
		}
	}
	// Walk the clock from one due time to the next, as Run would, until
	// at.
	walk := func(until time.Time) {
		t.Helper()
		for clock.Now().Before(until) {
			if _, err := d.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			next, ok := d.nextDue(ctx)
			if !ok || next.After(until) {
				clock.Add(until.Sub(clock.Now()))
				break
			}
			clock.Add(max(next.Sub(clock.Now()), time.Millisecond))
		}
	}
	start := clock.Now()
	publish("firing", "alert.firing", "Down@production.shop") // attempts at 0, 5, 15, 35, 75, 155, 315 s
	publish("other", "alert.firing", "Slow@production.shop")  // another alert: not held
	walk(start.Add(160 * time.Second))
	publish("ack", "alert.acknowledged", "Down@production.shop") // alone: 160, 165, 175, 195, 235 s
	publish("resolved", "alert.resolved", "Down@production.shop")
	publish("deploy", "deploy.succeeded") // not an alert's: 160, …, 235 s
	walk(start.Add(time.Hour))
	got := strings.Join(rcv.got, ",")
	if i, j, k := strings.Index(got, "firing"), strings.Index(got, "ack"), strings.Index(got, "resolved"); i < 0 || j < i || k < j {
		t.Errorf("the receiver got %s: Down's firing, acknowledgement and resolution out of order", got)
	}
	if strings.Index(got, "deploy") > strings.Index(got, "firing") {
		t.Errorf("the receiver got %s: a message of no alert waited for an alert's", got)
	}
	if sent, _ := d.Deliveries(ctx, StateSent, 0); len(sent) != 5 {
		t.Errorf("sent %d of 5", len(sent))
	}
}
