package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// TestUndeliverableAlertsTheOtherChannels: a channel that refused a
// message for good (its webhook answers 404) fires the built-in
// notify-undeliverable, which phoenix alerts lists and the project's
// other channels receive (not another project's), naming the channel and
// the answer but never the URL's token; once a message reaches the
// channel again the alert resolves.
func TestUndeliverableAlertsTheOtherChannels(t *testing.T) {
	t.Parallel()
	const token = "tok-5521-secret-path"
	var teamsUp atomic.Bool
	got := map[string]chan notify.Message{"shop": make(chan notify.Message, 16), "blog": make(chan notify.Message, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, token) {
			if !teamsUp.Load() {
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte("no hook " + r.URL.Path))
			}
			return
		}
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		got[strings.TrimPrefix(r.URL.Path, "/")] <- m
	}))
	t.Cleanup(srv.Close)
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	for _, p := range []string{"shop", "blog"} {
		cfg, err := config.Parse([]byte("version: 1\nproject: {name: "+p+"}\nenvironments: {production: {}}\n"+
			"notifications:\n  channels:\n    hook: {type: webhook, url: \""+srv.URL+"/"+p+"\", events: [\"*\"]}\n"+
			"    teams: {type: webhook, url: \""+srv.URL+"/"+p+"/"+token+"\"}\n"), "phoenix.yaml")
		if err != nil {
			t.Fatal(err)
		}
		a.useConfig(p, cfg, nil)
	}
	ctx := context.Background()
	publish := func(id string) {
		t.Helper()
		if _, err := a.Notify.Publish(ctx, notify.Message{ID: id, Event: "deploy.succeeded", Title: id, Project: "shop", Environment: "production"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Notify.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		recv(t, got["shop"], "shop's hook's "+id)
	}
	publish("live-1") // teams refuses it: 404
	if err := a.Monitor.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	id := monitor.AlertID(monitor.UndeliverableRule, monitor.UndeliverableInstance("shop", "teams"))
	m := recv(t, got["shop"], "the alert on shop's hook")
	if m.Event != "alert.firing" || !slices.Equal(m.Alerts, []string{id}) || m.Project != "shop" ||
		!strings.Contains(m.Text, "deploy.succeeded not delivered") || !strings.Contains(m.Text, "404") {
		t.Fatalf("shop's hook got %+v, want %s firing about teams' 404", m, id)
	}
	if b, _ := json.Marshal(m); strings.Contains(string(b), token) {
		t.Fatalf("the alert shows the webhook URL's token: %s", b)
	}
	alerts, err := a.Monitor.Alerts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(alerts, func(al monitor.Alert) bool { return al.ID == id && al.State == monitor.StateFiring }) {
		t.Fatalf("phoenix alerts does not list %s firing: %+v", id, alerts)
	}

	teamsUp.Store(true)
	publish("live-2") // reaches teams
	if err := a.Monitor.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got["shop"], "the resolution"); m.Event != "alert.resolved" || !slices.Equal(m.Alerts, []string{id}) {
		t.Fatalf("shop's hook got %+v, want %s resolved", m, id)
	}
	ds, err := a.Notify.Deliveries(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if strings.HasPrefix(d.Channel, "blog/") {
			t.Errorf("blog's channel %s was given shop's %s", d.Channel, d.Title)
		}
	}
}
