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
// card as shop/production: never under the edge's name.
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
	if cards := rc.got("/teams"); len(cards) != 1 || !strings.Contains(cards[0], "shop/production") || strings.Contains(cards[0], "production.shop") {
		t.Errorf("teams card %v", cards)
	}
}
