package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// undeliverableMonitor is a monitor whose notify-undeliverable alert reads
// src, publishing to pub.
func undeliverableMonitor(t *testing.T) (*Monitor, *fakeClock, *fakePublisher, *listing[Undeliverable]) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	pub := &fakePublisher{}
	src := &listing[Undeliverable]{}
	m, err := New(Options{DB: openDB(t), Now: clock.Now, Publisher: pub, Proc: "-", Undeliverable: src.list})
	if err != nil {
		t.Fatal(err)
	}
	return m, clock, pub, src
}

// TestUndeliverableAlert: with no rule written, a channel whose message
// failed for good fires one alert for that channel, and a project whose
// channels did not load one for the project; the server's alerts, off the
// status page, but their messages name the project, so only its channels
// get them; a failed read changes nothing; a channel that works again
// resolves its alert.
func TestUndeliverableAlert(t *testing.T) {
	m, clock, pub, src := undeliverableMonitor(t)
	alerts := func() map[string]Alert { return builtinAlerts(t, m, clock, UndeliverableRule, notifyPrefix) }
	teams := Undeliverable{Project: "shop", Channel: "teams", Event: "alert.firing", At: clock.Now(), Failed: 2,
		Error: "teams: receiver answered 404 [redacted]"}
	src.set(nil, teams, Undeliverable{Project: "blog", Error: "notifications.channels.mail.smtp.password: cannot read secret:SMTP: the vault is sealed"})
	got := alerts()
	if a := got["shop/teams"]; a.State != StateFiring || a.ID != "notify-undeliverable@notify:shop/teams" || !ServerInstance(a.Environment) ||
		a.Summary != "alert.firing not delivered, failed for good at 2026-11-27T10:00:00Z (2 since the channel's last success): teams: receiver answered 404 [redacted]" {
		t.Fatalf("shop/teams: %+v", a)
	}
	if a := got["blog"]; a.State != StateFiring || !strings.Contains(a.Summary, "channels did not load: notifications.channels.mail") {
		t.Fatalf("blog: %+v", a)
	}
	projects := map[string]bool{}
	for _, msg := range pub.msgs {
		projects[msg.Project] = true
	}
	if len(projects) != 2 || !projects["shop"] || !projects["blog"] {
		t.Errorf("the alerts' messages are for projects %v, want shop's and blog's", projects)
	}
	src.set(errors.New("database gone"))
	if a := alerts()["shop/teams"]; a.State != StateFiring {
		t.Fatalf("a failed read changed the alert: %+v", a)
	}
	src.set(nil, Undeliverable{Project: "blog", Error: "sealed"}) // a message reached shop/teams
	if a := alerts()["shop/teams"]; a.State != StateResolved {
		t.Fatalf("after a delivery: %+v", a)
	}
	if UndeliverableProject("production.shop") != "" || UndeliverableProject("notify:shop/teams") != "shop" {
		t.Error("UndeliverableProject")
	}
}

// TestEvaluateUndeliverableResolvesAtOnce: after a channel's test message
// got through, EvaluateUndeliverable resolves its alert there and then,
// and announces it, without evaluating the other rules.
func TestEvaluateUndeliverableResolvesAtOnce(t *testing.T) {
	m, clock, pub, src := undeliverableMonitor(t)
	src.set(nil, Undeliverable{Project: "shop", Channel: "teams", Event: "alert.firing", At: clock.Now(), Failed: 1, Error: "teams: receiver answered 404"})
	if a := builtinAlerts(t, m, clock, UndeliverableRule, notifyPrefix)["shop/teams"]; a.State != StateFiring {
		t.Fatalf("not firing: %+v", a)
	}
	src.set(nil)
	if err := m.EvaluateUndeliverable(context.Background()); err != nil {
		t.Fatal(err)
	}
	as, err := m.Alerts(context.Background(), true)
	if err != nil || len(as) != 1 || as[0].State != StateResolved {
		t.Fatalf("after EvaluateUndeliverable: %+v %v", as, err)
	}
	if titles := pub.titles(); len(titles) != 2 || !strings.Contains(titles[1], "resolved") {
		t.Fatalf("messages %q, want the firing and the resolution", titles)
	}
}
