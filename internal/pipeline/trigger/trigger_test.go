package trigger

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type memTicks struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (m *memTicks) LastTick(_ context.Context, k string) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.m[k]
	return t, ok, nil
}

func (m *memTicks) SetLastTick(_ context.Context, k string, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[k] = t
	return nil
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time                       { return c.now }
func (c *fakeClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

func TestParseCron(t *testing.T) {
	tests := []struct {
		expr, tz string
		ok       bool
		from     time.Time
		next     time.Time
	}{
		{"*/2 * * * *", "", true, time.Date(2026, 1, 1, 10, 3, 0, 0, time.UTC), time.Date(2026, 1, 1, 10, 4, 0, 0, time.UTC)},
		{"30 */2 * * * *", "", true, time.Date(2026, 1, 1, 10, 3, 0, 0, time.UTC), time.Date(2026, 1, 1, 10, 4, 30, 0, time.UTC)},
		{"0 0 * * *", "Africa/Johannesburg", true, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 22, 0, 0, 0, time.UTC)},
		{"@daily", "", true, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"61 * * * *", "", false, time.Time{}, time.Time{}},
		{"* * *", "", false, time.Time{}, time.Time{}},
		{"0 0 * * *", "Mars/Olympus", false, time.Time{}, time.Time{}},
		{"CRON_TZ=UTC 0 0 * * *", "", false, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" "+tt.tz, func(t *testing.T) {
			s, err := ParseCron(tt.expr, tt.tz)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if err == nil && !s.Next(tt.from).Equal(tt.next) {
				t.Errorf("next %s, want %s", s.Next(tt.from).UTC(), tt.next)
			}
		})
	}
}

// TestMissedTicksRunOnce: the server was down for an hour over 30 ticks of
// a two-minute schedule; on start the schedule fires once.
func TestMissedTicksRunOnce(t *testing.T) {
	store := &memTicks{m: map[string]time.Time{}}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)}
	fired := 0
	sched := NewScheduler(store, clock)
	add := func() {
		t.Helper()
		if err := sched.Add(context.Background(), Schedule{Key: "p/health#0", Expr: "*/2 * * * *",
			Fire: func(context.Context, time.Time) { fired++ }}); err != nil {
			t.Fatal(err)
		}
	}
	add()
	sched.RunDue(context.Background())
	if fired != 0 {
		t.Fatalf("fired %d times before the first tick", fired)
	}
	clock.now = clock.now.Add(2 * time.Minute)
	next := sched.RunDue(context.Background())
	if fired != 1 || !next.Equal(time.Date(2026, 1, 1, 10, 4, 0, 0, time.UTC)) {
		t.Fatalf("fired %d, next %s", fired, next)
	}
	// Down for an hour: a new scheduler over the same store.
	clock.now = clock.now.Add(time.Hour)
	sched = NewScheduler(store, clock)
	add()
	sched.RunDue(context.Background())
	sched.RunDue(context.Background())
	if fired != 2 {
		t.Fatalf("after an hour down it fired %d more times, want 1", fired-1)
	}
}

func TestWebhook(t *testing.T) {
	const secret = "hook-s3cret"
	var fired []Payload
	var denied []Denial
	hooks := map[string]Hook{
		"shop/deploy": {Auth: "hmac", Secret: secret, Fire: func(_ context.Context, p Payload) (int64, error) { fired = append(fired, p); return 7, nil }},
		"shop/bearer": {Auth: "bearer", Secret: secret, Fire: func(_ context.Context, p Payload) (int64, error) { fired = append(fired, p); return 8, nil }},
		"shop/short":  {Auth: "bearer", Refuse: "the secret is too short", Fire: func(_ context.Context, p Payload) (int64, error) { fired = append(fired, p); return 9, nil }},
	}
	h := WebhookHandler(func(n string) (Hook, bool) { x, ok := hooks[n]; return x, ok },
		func(_ context.Context, d Denial) { denied = append(denied, d) })
	srv := httptest.NewServer(h)
	defer srv.Close()
	push := []byte(`{"ref":"refs/tags/v1.4.0","after":"abc123","repository":{"full_name":"acme/shop"},"pusher":{"name":"alice"}}`)
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		body    []byte
		status  int
	}{
		{"good hmac", "/hooks/shop/deploy", map[string]string{"X-Phoenix-Signature": Sign(secret, push), "X-GitHub-Event": "push"}, push, 202},
		{"github header", "/hooks/shop/deploy", map[string]string{"X-Hub-Signature-256": Sign(secret, push), "X-GitHub-Event": "push"}, push, 202},
		{"bad signature", "/hooks/shop/deploy", map[string]string{"X-Phoenix-Signature": Sign("wrong", push)}, push, 401},
		{"no signature", "/hooks/shop/deploy", nil, push, 401},
		{"tampered body", "/hooks/shop/deploy", map[string]string{"X-Phoenix-Signature": Sign(secret, push)}, append([]byte(" "), push...), 401},
		{"bearer ok", "/hooks/shop/bearer", map[string]string{"Authorization": "Bearer " + secret}, nil, 202},
		{"bearer wrong", "/hooks/shop/bearer", map[string]string{"Authorization": "Bearer nope"}, nil, 401},
		{"refusing hook", "/hooks/shop/short", map[string]string{"Authorization": "Bearer "}, nil, 401},
		{"unknown hook", "/hooks/shop/none", nil, nil, 404},
		{"ping", "/hooks/shop/deploy", map[string]string{"X-Phoenix-Signature": Sign(secret, []byte(`{}`)), "X-GitHub-Event": "ping"}, []byte(`{}`), 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+tt.path, bytes.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	if len(fired) != 3 || fired[0].Tag != "v1.4.0" || fired[0].Commit != "abc123" || fired[0].Repo != "acme/shop" || fired[0].Actor != "alice" {
		t.Errorf("fired %+v", fired)
	}
	if len(denied) != 5 || denied[4].Reason != "the secret is too short" {
		t.Errorf("denials audited %+v, want 5, the last for the refusing hook", denied)
	}
	for _, d := range denied {
		if strings.Contains(d.Reason, secret) {
			t.Error("the secret reached the denial")
		}
	}
}

func TestParsePayloadForms(t *testing.T) {
	tests := []struct {
		name, event, body string
		want              Payload
	}{
		{"branch push", "push", `{"ref":"refs/heads/main","after":"def","head_commit":{"id":"fff"}}`,
			Payload{Event: "push", Ref: "refs/heads/main", Branch: "main", Commit: "fff"}},
		{"tag create", "create", `{"ref":"v2.0.0","ref_type":"tag","sender":{"login":"bob"}}`,
			Payload{Event: "create", Ref: "refs/tags/v2.0.0", Tag: "v2.0.0", Actor: "bob"}},
		{"deleted branch", "push", `{"ref":"refs/heads/x","after":"0000000000000000000000000000000000000000"}`,
			Payload{Event: "push", Ref: "refs/heads/x", Branch: "x"}},
		{"plain", "", ``, Payload{Event: "webhook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePayload(tt.event, []byte(tt.body))
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := ParsePayload("push", []byte(`[1,2]`)); err == nil {
		t.Error("a JSON array accepted")
	}
}

func TestBus(t *testing.T) {
	b := NewBus()
	got := make(chan string, 10)
	b.Subscribe("deploy.*", "shop", "production", func(_ context.Context, e Event) { got <- e.Name })
	b.Publish(context.Background(), Event{Name: DeploySucceeded, Project: "shop", Environment: "production"})
	b.Publish(context.Background(), Event{Name: DeploySucceeded, Project: "shop", Environment: "staging"})
	b.Publish(context.Background(), Event{Name: AlertFiring, Project: "shop", Environment: "production"})
	b.Wait()
	close(got)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	if len(names) != 1 || names[0] != DeploySucceeded {
		t.Errorf("delivered %v", names)
	}
}

func FuzzParsePayload(f *testing.F) {
	f.Add("push", []byte(`{"ref":"refs/tags/v1.4.0","after":"abc","repository":{"full_name":"a/b"}}`))
	f.Add("create", []byte(`{"ref":"v1","ref_type":"tag"}`))
	f.Add("", []byte(`null`))
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		p, err := ParsePayload(event, body)
		if err != nil {
			return
		}
		if p.Tag != "" && !strings.HasSuffix(p.Ref, p.Tag) {
			t.Fatalf("tag %q not from ref %q", p.Tag, p.Ref)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("k", []byte("body"), "sha256=00")
	f.Fuzz(func(t *testing.T, secret string, body []byte, sig string) {
		if VerifySignature(secret, body, sig) && sig != Sign(secret, body) && !strings.EqualFold(strings.TrimSpace(sig), Sign(secret, body)) {
			t.Fatalf("accepted a signature that is not the body's: %q", sig)
		}
	})
}

// jumpClock moves itself past the next tick inside its first After call,
// as a clock set by another goroutine between Run's Now and its After
// would; that After then measures the wait from the moved time and its
// channel never fires for the tick.
type jumpClock struct {
	mu     sync.Mutex
	now    time.Time
	jump   time.Duration
	jumped bool
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *jumpClock) After(time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.jumped {
		c.now, c.jumped = c.now.Add(c.jump), true
	}
	return make(chan time.Time) // fires only for a deadline at or before the jump, which this one is not
}

// TestRunFiresATickTheClockPassedWhileWaiting: the clock passes the next
// tick between Run computing its wait and starting it; Run still fires
// the tick instead of sleeping past it.
func TestRunFiresATickTheClockPassedWhileWaiting(t *testing.T) {
	store := &memTicks{m: map[string]time.Time{}}
	clock := &jumpClock{now: time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC), jump: 2 * time.Minute}
	fired := make(chan time.Time, 1)
	sched := NewScheduler(store, clock)
	if err := sched.Add(context.Background(), Schedule{Key: "p/health#0", Expr: "*/2 * * * *",
		Fire: func(_ context.Context, at time.Time) { fired <- at }}); err != nil {
		t.Fatal(err)
	}
	<-sched.wake // Add's own wake-up would mask the race
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sched.Run(ctx)
	select {
	case at := <-fired:
		if want := time.Date(2026, 1, 1, 10, 2, 30, 0, time.UTC); !at.Equal(want) {
			t.Errorf("fired at %s, want %s", at, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the tick the clock passed while Run set up its wait never fired")
	}
}
