package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// site serves /health as release v1.0.0 (good) or v1.1.0 (broken: an SPA
// fallback page with status 200 but the wrong content, or a 503).
type site struct {
	release atomic.Value
	delay   time.Duration
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.delay > 0 {
		time.Sleep(s.delay) // the server is slow; the test waits on results, not on this
	}
	switch s.release.Load() {
	case "v1.0.0":
		fmt.Fprint(w, `{"status":"UP","release":"v1.0.0"}`)
	case "spa":
		fmt.Fprint(w, `<!doctype html><div id=root></div>`)
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

func healthChecks(t *testing.T) []config.Endpoint {
	return []config.Endpoint{{Name: "health", URL: "/health", Conditions: conds(t, "[STATUS] == 200", "[BODY].status == UP")}}
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name    string
		release string
		delay   time.Duration
		edge    [2]edge.EnvStats
		ok      bool
		reason  string
	}{
		{"healthy", "v1.0.0", 0, [2]edge.EnvStats{}, true, ""},
		{"spa fallback answers 200 with the wrong content", "spa", 0, [2]edge.EnvStats{}, false, "[BODY].status == UP"},
		{"server error", "v1.1.0", 0, [2]edge.EnvStats{}, false, "(got 503)"},
		{"slow", "v1.0.0", 60 * time.Millisecond, [2]edge.EnvStats{}, false, "p95 latency"},
		{"real traffic failing", "v1.0.0", 0, [2]edge.EnvStats{{Env: "production"}, {Env: "production", Requests: 100, Failed: 30}}, false, "30.0% of 100 real requests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &site{delay: tc.delay}
			s.release.Store(tc.release)
			srv := httptest.NewServer(s)
			defer srv.Close()
			var calls atomic.Int32
			v := NewVerifier(VerifyOptions{
				Base: func(string) (Base, error) {
					return Base{URL: srv.URL, Headers: map[string]string{"Host": "www.example.com"}}, nil
				},
				Soak:       -1, // one round
				Load:       2,
				MaxLatency: 40 * time.Millisecond,
				Edge: func() []edge.EnvStats {
					return []edge.EnvStats{tc.edge[min(int(calls.Add(1))-1, 1)]}
				},
			})
			res := v.Verify(context.Background(), "production", healthChecks(t))
			if res.OK != tc.ok || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("ok %v reason %q", res.OK, res.Reason)
			}
			if res.Requests != 3 || len(res.Checks) != 1 {
				t.Errorf("requests %d checks %d", res.Requests, len(res.Checks))
			}
		})
	}
}

type recorder struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (r *recorder) Publish(_ context.Context, m notify.Message, _ ...string) ([]string, error) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	return nil, nil
}

// TestFailedVerificationRollsBack activates a broken release: the guard
// rolls back, sends a critical alert with the details, verifies the
// restored release and announces it, and does not loop.
func TestFailedVerificationRollsBack(t *testing.T) {
	s := &site{}
	s.release.Store("spa")
	srv := httptest.NewServer(s)
	defer srv.Close()
	pub := &recorder{}
	var events []string
	var evMu sync.Mutex
	good := deploy.Deployment{ID: 1, Release: "v1.0.0"}
	g := &Guard{
		Verifier:  NewVerifier(VerifyOptions{Base: func(string) (Base, error) { return Base{URL: srv.URL}, nil }, Soak: -1}),
		Publisher: pub,
		Checks: func(project, env string) ([]config.Endpoint, config.RollbackPolicy) {
			return healthChecks(t), config.RollbackPolicy{Auto: true}
		},
		OnEvent: func(m notify.Message) { evMu.Lock(); events = append(events, m.Event); evMu.Unlock() },
	}
	ctx := context.Background()
	listener := g.Listener(ctx)
	rollbacks := 0
	var failed deploy.Release
	var reason string
	g.Rollback = func(ctx context.Context, r deploy.Release, why string, _ []notify.Fact) (*deploy.Deployment, error) {
		rollbacks++
		failed, reason = r, why
		s.release.Store("v1.0.0")
		listener(deploy.Release{Project: r.Project, Environment: r.Environment, Deployment: good, Domains: []string{"www.phoenixvc.co.za"}})
		return &good, nil
	}
	bad := deploy.Release{Project: "site", Environment: "production", Domains: []string{"www.phoenixvc.co.za"},
		Deployment: deploy.Deployment{ID: 2, Release: "v1.1.0"}}
	listener(bad)
	g.Wait()
	if rollbacks != 1 {
		t.Fatalf("%d rollbacks", rollbacks)
	}
	if failed.Deployment.ID != 2 || failed.Environment != "production" || !strings.Contains(reason, "status == UP") {
		t.Errorf("took back deployment %d of %q because %q", failed.Deployment.ID, failed.Environment, reason)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if len(pub.msgs) != 2 {
		t.Fatalf("messages %+v", pub.msgs)
	}
	var rolled, live notify.Message
	for _, m := range pub.msgs {
		switch m.Event {
		case "deploy.rolled_back":
			rolled = m
		case "deploy.succeeded":
			live = m
		}
	}
	if rolled.Severity != notify.Critical || !strings.Contains(rolled.Title, "v1.1.0 failed verification and was rolled back to v1.0.0") {
		t.Errorf("rollback alert %+v", rolled)
	}
	facts := fmt.Sprint(rolled.Facts)
	for _, want := range []string{"Failed release v1.1.0", "Now serving v1.0.0 (deployment 1)", "[BODY].status == UP"} {
		if !strings.Contains(facts, want) {
			t.Errorf("rollback facts lack %q: %s", want, facts)
		}
	}
	if !strings.Contains(live.Title, "v1.0.0 is live") || len(live.Links) != 1 || live.Links[0].URL != "https://www.phoenixvc.co.za/" {
		t.Errorf("success notice %+v", live)
	}
	if len(events) != 2 {
		t.Errorf("workflow events %v", events)
	}
}

func TestRestoredReleaseThatFailsIsNotRolledBackAgain(t *testing.T) {
	s := &site{}
	s.release.Store("v1.1.0") // everything is broken
	srv := httptest.NewServer(s)
	defer srv.Close()
	pub := &recorder{}
	g := &Guard{Verifier: NewVerifier(VerifyOptions{Base: func(string) (Base, error) { return Base{URL: srv.URL}, nil }, Soak: -1}), Publisher: pub}
	ctx := context.Background()
	listener := g.Listener(ctx)
	rollbacks := 0
	g.Rollback = func(ctx context.Context, r deploy.Release, _ string, _ []notify.Fact) (*deploy.Deployment, error) {
		rollbacks++
		d := deploy.Deployment{ID: 10 - int64(rollbacks), Release: "older"}
		listener(deploy.Release{Project: r.Project, Environment: r.Environment, Deployment: d})
		return &d, nil
	}
	listener(deploy.Release{Project: "site", Environment: "production", Deployment: deploy.Deployment{ID: 10, Release: "v1.1.0"}})
	g.Wait()
	if rollbacks != 1 {
		t.Fatalf("%d rollbacks: the guard looped", rollbacks)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	var got []string
	for _, m := range pub.msgs {
		got = append(got, m.Event)
	}
	if len(got) != 2 || !strings.Contains(strings.Join(got, ","), "deploy.rolled_back") || !strings.Contains(strings.Join(got, ","), "deploy.failed") {
		t.Errorf("events %v", got)
	}
}
