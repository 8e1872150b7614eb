package monitor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/notify/teams"
	"github.com/phoenixvc/phoenix/internal/notify/webhook"
)

// receiver is an HTTP server on 127.0.0.1 that keeps the bodies posted
// to each path.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies map[string][]string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{bodies: map[string][]string{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies[r.URL.Path] = append(rc.bodies[r.URL.Path], string(b))
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got(path string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.bodies[path])
}

// TestAlertPayloadNamesProjectAndEnvironment: an alert of the monitor's
// production.shop reaches a webhook as project "shop", environment
// "production", with the alert's ID to acknowledge it by, and a Teams
// card as shop/production: never under the edge's name (but in the ID it
// says to acknowledge it with).
func TestAlertPayloadNamesProjectAndEnvironment(t *testing.T) {
	rc := newReceiver(t)
	hook, _ := webhook.New(webhook.Options{URL: rc.URL + "/hook"})
	card, _ := teams.New(teams.Options{URL: rc.URL + "/teams"})
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	db := openDB(t)
	d, err := notify.NewDispatcher(notify.Options{DB: db, Now: clock.Now, Channels: map[string]notify.Channel{
		"hook": {Notifier: hook}, "teams": {Notifier: card}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{DB: db, Now: clock.Now, Publisher: d, Proc: "-"})
	if err != nil {
		t.Fatal(err)
	}
	m.SetRules(availabilityRules(t))
	eval := stepper(t, m, clock)
	probePoint(m, "production.shop", "home", clock.Now(), false, 40)
	eval()
	eval()
	if n, err := d.RunDue(context.Background()); err != nil || n != 2 {
		t.Fatalf("delivered %d (%v), want 2", n, err)
	}
	bodies := rc.got("/hook")
	if len(bodies) != 1 {
		t.Fatalf("webhook got %d bodies", len(bodies))
	}
	var b webhook.Body
	if err := json.Unmarshal([]byte(bodies[0]), &b); err != nil {
		t.Fatal(err)
	}
	if b.Project != "shop" || b.Environment != "production" || !slices.Equal(b.Alerts, []string{"critical-availability@production.shop"}) ||
		b.Title != "[shop/production] critical-availability firing" {
		t.Errorf("webhook body %s", bodies[0])
	}
	// production.shop only in the alert's ID, which the card gives to acknowledge it by
	if cards := rc.got("/teams"); len(cards) != 1 || !strings.Contains(cards[0], "shop/production") ||
		strings.Contains(strings.ReplaceAll(cards[0], "ack critical-availability@production.shop --comment", ""), "production.shop") {
		t.Errorf("teams card %v", cards)
	}
}

// factsOf returns m's facts as "NAME=VALUE" lines.
func factsOf(m notify.Message) []string {
	var out []string
	for _, f := range m.Facts {
		out = append(out, f.Name+"="+f.Value)
	}
	return out
}

// TestFiringMessageSaysHowToAcknowledge: a Teams card (or Slack, email)
// said what fired and where but not the ID 'phoenix alerts ack' takes, so
// whoever took it on had to look it up first; only a webhook's body had
// it. Each alert of a firing message that nobody acknowledged says the
// command; a resolved one does not.
func TestFiringMessageSaysHowToAcknowledge(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	ctx := context.Background()
	m.SetRules([]Rule{
		{Name: "Down", Metric: "availability", Threshold: 99.9, Window: time.Minute, FailureThreshold: 1, SuccessThreshold: 1, RepeatInterval: time.Hour},
		{Name: "Slow", Metric: "response_time", Threshold: 10, Window: time.Minute, FailureThreshold: 1, SuccessThreshold: 1, RepeatInterval: time.Hour},
	})
	eval := func() {
		t.Helper()
		clock.Add(5 * time.Second)
		if err := m.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	probePoint(m, "production.shop", "home", clock.Now(), false, 40)
	eval()
	if len(pub.msgs) != 1 {
		t.Fatalf("notifications %v", pub.titles())
	}
	want := []string{
		"Down=availability 0% < 99.9% over 1m",
		`Acknowledge=phoenix alerts ack Down@production.shop --comment "…"`,
		"Slow=response_time 40 ms > 10 ms over 1m",
		`Acknowledge=phoenix alerts ack Slow@production.shop --comment "…"`,
	}
	if got := factsOf(pub.msgs[0]); !slices.Equal(got[:len(got)-1], want) {
		t.Errorf("firing message's facts:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Acknowledged: the reminder is held back; the other's says how.
	if _, err := m.Acknowledge(ctx, "Down@production.shop", "alice", "on it"); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	probePoint(m, "production.shop", "home", clock.Now(), false, 40)
	eval()
	last := pub.msgs[len(pub.msgs)-1]
	if got := factsOf(last); last.Event != "alert.firing" || !slices.Contains(got, `Acknowledge=phoenix alerts ack Slow@production.shop --comment "…"`) ||
		slices.Contains(got, `Acknowledge=phoenix alerts ack Down@production.shop --comment "…"`) {
		t.Errorf("reminder %s: %v", last.Title, got)
	}
	clock.Add(2 * time.Minute)
	eval()
	last = pub.msgs[len(pub.msgs)-1]
	if got := factsOf(last); last.Event != "alert.resolved" || slices.ContainsFunc(got, func(f string) bool { return strings.HasPrefix(f, "Acknowledge=") }) {
		t.Errorf("resolved %s: %v", last.Title, got)
	}
}

// TestResolvedMessageSaysHowLongItFired: a resolved message's only time
// was Since, the resolution's own (the message's time again), so whoever
// read it could not tell when the alert had fired nor for how long
// without finding the firing message. Each alert of it says so.
func TestResolvedMessageSaysHowLongItFired(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	ctx := context.Background()
	m.SetRules([]Rule{{Name: "Down", Metric: "availability", Threshold: 99.9, Window: time.Minute, FailureThreshold: 1, SuccessThreshold: 1}})
	probePoint(m, "production.shop", "home", clock.Now(), false, 40)
	clock.Add(5 * time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	fired := clock.Now()
	clock.Add(2*time.Minute + 30*time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	last := pub.msgs[len(pub.msgs)-1]
	want := "Fired=" + fired.Format(time.RFC3339) + " (for 2m30s)"
	if got := factsOf(last); last.Event != "alert.resolved" || !slices.Contains(got, want) {
		t.Errorf("%s: %v, want %s", last.Title, got, want)
	}
}

// TestAvailabilityAlertNamesWhatIsDown: an availability alert said how
// much failed ("availability 66.67% < 99.9% over 5m") but not which probe
// nor why, which 'phoenix status' knows; whoever was paged had to go and
// look before knowing where to start. Its message names each probe of
// the environment that is down, with its error.
func TestAvailabilityAlertNamesWhatIsDown(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	ctx := context.Background()
	m.SetRules([]Rule{{Name: "Down", Metric: "availability", Threshold: 99.9, Window: time.Minute, FailureThreshold: 1, SuccessThreshold: 1}})
	for _, p := range []struct {
		env, name string
		ok        bool
		err       string
	}{
		{"production.shop", "home", true, ""},
		{"production.shop", "api", false, "condition failed: [STATUS] == 200 (got 503)"},
		{"production.shop", "db", false, "connection refused"},
		{"staging.shop", "api", false, "timeout"}, // another environment's
	} {
		tg := Target{Name: p.name, Environment: p.env, URL: "https://example.com/"}
		m.record(tg, Result{Target: tg.ID(), Name: p.name, Environment: p.env, Time: clock.Now(), Success: p.ok, Error: p.err})
	}
	clock.Add(5 * time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	var firing *notify.Message
	for i := range pub.msgs {
		if pub.msgs[i].Title == "[shop/production] Down firing" {
			firing = &pub.msgs[i]
		}
	}
	if firing == nil {
		t.Fatalf("notifications %v", pub.titles())
	}
	got := factsOf(*firing)
	for _, want := range []string{"Down probe=api: condition failed: [STATUS] == 200 (got 503)", "Down probe=db: connection refused"} {
		if !slices.Contains(got, want) {
			t.Errorf("facts %v lack %q", got, want)
		}
	}
	if slices.ContainsFunc(got, func(f string) bool { return strings.Contains(f, "home") || strings.Contains(f, "timeout") }) {
		t.Errorf("facts %v name a probe that is up or another environment's", got)
	}
}
