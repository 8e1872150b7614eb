package notify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTestSendsNowAndClearsTheFailure: a test message goes out at once
// through the channel's own sender, whatever the channel subscribes to,
// and says what the receiver answered: a refusal with its status and
// answer (never the URL's token, which the receiver echoes), logged as a
// failure; a 503 as a failure that may pass, not logged; a success with
// its status, logged as sent, which takes the channel off Failures (it
// stayed on until the next real message got through). An unknown channel
// is ErrNoChannel.
func TestTestSendsNowAndClearsTheFailure(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	hook, status := echoingHook(t, "/hook/test-token-5150")
	d, err := NewDispatcher(Options{DB: openDB(t), Now: clock.Now, Channels: map[string]Channel{
		"shop/teams": {Notifier: postNotifier{hook}, Secrets: []string{hook}, Events: []string{"deploy.*"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Publish(ctx, Message{ID: "d1", Event: "deploy.succeeded", Title: "live", Project: "shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if f, _ := d.Failures(ctx); len(f) != 1 {
		t.Fatalf("failures %+v, want shop/teams", f)
	}

	clock.Add(time.Minute)
	res, err := d.Test(ctx, "shop/teams", TestMessage("shop", "teams", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Outcome != TestRefused || res.HTTPStatus != 404 || !strings.Contains(res.Error, "receiver answered 404") ||
		!strings.Contains(res.Error, "no such hook") || strings.Contains(res.Error, "test-token-5150") {
		t.Fatalf("refused test: %+v", res)
	}
	if f, _ := d.Failures(ctx); len(f) != 1 || f[0].Event != EventTest || f[0].Failed != 2 {
		t.Fatalf("failures after a refused test %+v, want the test as the newest of 2", f)
	}

	status.Store(http.StatusServiceUnavailable)
	if res, err = d.Test(ctx, "shop/teams", TestMessage("shop", "teams", "alice")); err != nil || res.OK || res.Outcome != TestFailed || res.HTTPStatus != 503 {
		t.Fatalf("test against a 503: %+v %v", res, err)
	}
	if f, _ := d.Failures(ctx); len(f) != 1 || f[0].Failed != 2 {
		t.Fatalf("a test that may pass counted as a failure: %+v", f)
	}

	status.Store(http.StatusOK)
	clock.Add(time.Minute)
	if res, err = d.Test(ctx, "shop/teams", TestMessage("shop", "teams", "alice")); err != nil || !res.OK || res.Outcome != TestDelivered ||
		res.HTTPStatus != 200 || res.Error != "" || !strings.HasPrefix(res.MessageID, "test-") {
		t.Fatalf("delivered test: %+v %v", res, err)
	}
	if f, _ := d.Failures(ctx); len(f) != 0 {
		t.Fatalf("failures %+v after a test got through", f)
	}
	if _, err := d.Test(ctx, "shop/slack", TestMessage("shop", "slack", "alice")); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("unknown channel: %v", err)
	}
}
