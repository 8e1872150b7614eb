package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// echoingHook is a receiver at path whose answer starts as 404 (the
// webhook was deleted) and is what status holds; its body echoes the
// path, the URL's token. It returns the hook's URL.
func echoingHook(t *testing.T, path string) (string, *atomic.Int32) {
	t.Helper()
	status := &atomic.Int32{}
	status.Store(http.StatusNotFound)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		w.Write([]byte("no such hook " + r.URL.Path)) // echoes the token
	}))
	t.Cleanup(srv.Close)
	return srv.URL + path, status
}

// TestFailuresNameTheChannelThatStoppedReceiving: a delivery refused for
// good (a 404: the webhook was deleted) and one retried until it was
// given up put their channel on Failures, with the newest failure's
// event, time and the receiver's answer, never the URL's token even when
// the receiver echoes it; a channel still retrying is not on it, and a
// message that reaches the channel again takes it off.
func TestFailuresNameTheChannelThatStoppedReceiving(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	gone, status := echoingHook(t, "/hook/gone-token-4711")
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	slow := down.URL + "/hook/slow-token-0815"
	d, err := NewDispatcher(Options{DB: openDB(t), Now: clock.Now, Channels: map[string]Channel{
		"shop/teams": {Notifier: postNotifier{gone}, Secrets: []string{gone}},
		"shop/slack": {Notifier: postNotifier{slow}, Secrets: []string{slow}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	publish := func(id, event string) {
		t.Helper()
		if _, err := d.Publish(ctx, Message{ID: id, Event: event, Title: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	publish("first", "alert.firing")
	clock.Add(time.Minute)
	publish("second", "alert.resolved")
	f, err := d.Failures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 1 || f[0].Channel != "shop/teams" || f[0].Event != "alert.resolved" || f[0].MessageID != "second" ||
		f[0].Failed != 2 || !f[0].FailedAt.Equal(clock.Now()) || !f[0].Since.Equal(clock.Now().Add(-time.Minute)) ||
		!strings.Contains(f[0].Error, "404") {
		t.Fatalf("failures %+v, want shop/teams' 404 of second, 2 since 10:00 (shop/slack is still retrying)", f)
	}
	if strings.Contains(f[0].Error, "gone-token-4711") {
		t.Fatalf("the failure shows the webhook URL's token: %q", f[0].Error)
	}

	clock.Add(25 * time.Hour) // shop/slack's retries run out
	if _, err := d.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	f, _ = d.Failures(ctx)
	if len(f) != 2 || f[0].Channel != "shop/slack" || !strings.Contains(f[0].Error, "503") || strings.Contains(f[0].Error, "slow-token-0815") {
		t.Fatalf("failures %+v, want shop/slack's given-up 503 too", f)
	}

	status.Store(http.StatusOK) // the webhook is back
	publish("third", "deploy.succeeded")
	if f, _ = d.Failures(ctx); len(f) != 1 || f[0].Channel != "shop/slack" {
		t.Fatalf("failures %+v after a message reached shop/teams, want shop/slack's only", f)
	}
	d.SetChannels(nil)
	if f, _ = d.Failures(ctx); len(f) != 0 {
		t.Fatalf("failures %+v of channels no longer configured", f)
	}
}
