package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// hanging answers no request: it reports each arrival and holds it until
// the client gives up.
func hanging(t *testing.T) (*httptest.Server, <-chan struct{}) {
	arrived := make(chan struct{}, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, arrived
}

// guardFor is a Guard verifying against srv that records what it
// publishes, the workflow events and the rollbacks it asks for.
func guardFor(srv *httptest.Server, pub *recorder, events *recorder, rollbacks *[]int64) *Guard {
	return &Guard{
		Verifier:  NewVerifier(VerifyOptions{Base: func(string) (Base, error) { return Base{URL: srv.URL}, nil }, Soak: -1}),
		Publisher: pub,
		OnEvent:   func(m notify.Message) { _, _ = events.Publish(context.Background(), m) },
		Rollback: func(_ context.Context, r deploy.Release, _ string, _ []notify.Fact) (*deploy.Deployment, error) {
			*rollbacks = append(*rollbacks, r.Deployment.ID)
			return &deploy.Deployment{ID: 1, Release: "v1"}, nil
		},
	}
}

var v2b = deploy.Release{Project: "site", Environment: "production", Deployment: deploy.Deployment{ID: 2, Release: "v2b"}}

// TestVerificationInterruptedByShutdown cancels the context while the
// checks are in flight, as stopping the server does: nothing is
// published, nothing rolled back.
func TestVerificationInterruptedByShutdown(t *testing.T) {
	srv, arrived := hanging(t)
	pub, events := &recorder{}, &recorder{}
	var rollbacks []int64
	g := guardFor(srv, pub, events, &rollbacks)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Outcome)
	go func() { out, _ := g.AfterActivate(ctx, v2b); done <- out }()
	<-arrived
	cancel()
	out := <-done
	if out.Skipped != Interrupted || len(rollbacks) != 0 || len(pub.msgs) != 0 || len(events.msgs) != 0 {
		t.Fatalf("skipped %q, rollbacks %v, published %+v, events %+v", out.Skipped, rollbacks, pub.msgs, events.msgs)
	}
}

// TestVerificationTimeoutStillFails: the Guard's own timeout is a failed
// verification, not an interruption.
func TestVerificationTimeoutStillFails(t *testing.T) {
	srv, _ := hanging(t)
	pub, events := &recorder{}, &recorder{}
	var rollbacks []int64
	g := guardFor(srv, pub, events, &rollbacks)
	g.Timeout = 50 * time.Millisecond
	out, err := g.AfterActivate(context.Background(), v2b)
	if err != nil || out.Skipped != "" || len(rollbacks) != 1 || len(pub.msgs) != 1 || pub.msgs[0].Event != "deploy.rolled_back" {
		t.Fatalf("err %v, skipped %q, rollbacks %v, published %+v", err, out.Skipped, rollbacks, pub.msgs)
	}
}

// TestSupersededVerificationPublishesNothing: a deployment no longer
// active when its verification ends (rolled back, or replaced, meanwhile),
// or rolled away from and back to meanwhile (that activation is verified
// on its own), gets no "is live" notice, no failure alert and no rollback.
func TestSupersededVerificationPublishesNothing(t *testing.T) {
	activated := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		release string    // what the site serves
		active  int64     // the environment's active deployment when verification ends
		since   time.Time // and since when it is live
		skipped string
		event   string // published, "" for nothing
	}{
		{"healthy and still active", "v1.0.0", 2, activated, "", "deploy.succeeded"},
		{"healthy but rolled back meanwhile", "v1.0.0", 1, activated, Superseded, ""},
		{"broken and still active", "v1.1.0", 2, activated, "", "deploy.rolled_back"},
		{"broken but replaced meanwhile", "v1.1.0", 3, activated, Superseded, ""},
		{"broken, rolled away from and back to meanwhile", "v1.1.0", 2, activated.Add(time.Minute), Superseded, ""},
		{"broken and active since a time not known", "v1.1.0", 2, time.Time{}, "", "deploy.rolled_back"},
	}
	r := v2b
	r.Deployment.LiveSince = &activated
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &site{}
			s.release.Store(tc.release)
			srv := httptest.NewServer(s)
			defer srv.Close()
			pub, events := &recorder{}, &recorder{}
			var rollbacks []int64
			g := guardFor(srv, pub, events, &rollbacks)
			g.Checks = func(string, string) ([]config.Endpoint, config.RollbackPolicy) {
				return healthChecks(t), config.RollbackPolicy{Auto: true}
			}
			var asked string
			g.Active = func(_ context.Context, project, env string) (int64, time.Time, error) {
				asked = project + "/" + env
				return tc.active, tc.since, nil
			}
			out, _ := g.AfterActivate(context.Background(), r)
			var got []string
			for _, m := range pub.msgs {
				got = append(got, m.Event)
			}
			if out.Skipped != tc.skipped || strings.Join(got, ",") != tc.event || len(events.msgs) != len(pub.msgs) || asked != "site/production" {
				t.Fatalf("skipped %q, published %v, events %d, asked about %q", out.Skipped, got, len(events.msgs), asked)
			}
			if wantRollback := tc.event == "deploy.rolled_back"; wantRollback != (len(rollbacks) == 1) {
				t.Errorf("rollbacks %v", rollbacks)
			}
		})
	}
}

// TestRollbackOutlivesShutdown: a rollback already decided runs to its end
// when shutdown begins during it, and is announced as done, not as an
// automatic rollback that failed.
func TestRollbackOutlivesShutdown(t *testing.T) {
	srv, _ := hanging(t)
	pub, events := &recorder{}, &recorder{}
	var rollbacks []int64
	g := guardFor(srv, pub, events, &rollbacks)
	g.Timeout = 50 * time.Millisecond // the checks fail by timing out
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	g.Rollback = func(rctx context.Context, r deploy.Release, _ string, _ []notify.Fact) (*deploy.Deployment, error) {
		shutdown() // the server is asked to stop while the rollback runs
		if err := rctx.Err(); err != nil {
			return nil, err
		}
		rollbacks = append(rollbacks, r.Deployment.ID)
		return &deploy.Deployment{ID: 1, Release: "v1"}, nil
	}
	out, err := g.AfterActivate(ctx, v2b)
	if err != nil || len(rollbacks) != 1 || len(pub.msgs) != 1 || pub.msgs[0].Event != "deploy.rolled_back" {
		t.Fatalf("err %v, skipped %q, rollbacks %v, published %+v", err, out.Skipped, rollbacks, pub.msgs)
	}
}

// TestSuccessMessageCountsItsChecks: deploy.succeeded says "1 health check
// passed", not "1 health checks passed".
func TestSuccessMessageCountsItsChecks(t *testing.T) {
	r := deploy.Release{Project: "shop", Environment: "production"}
	for n, want := range map[int]string{1: "1 health check passed over 9s", 2: "2 health checks passed over 9s"} {
		res := VerifyResult{Checks: make([]CheckResult, n), Duration: 9 * time.Second}
		if got := successMessage(r, res).Text; !strings.HasPrefix(got, want) {
			t.Errorf("%d checks: %q, want %q…", n, got, want)
		}
	}
}

// TestFailedWithoutRollbackSaysTheCommand: with rollback.auto off, the
// critical deploy.failed said "run phoenix rollback", which refuses to
// run without --env (and, outside the project's folder, --project).
func TestFailedWithoutRollbackSaysTheCommand(t *testing.T) {
	r := deploy.Release{Project: "shop", Environment: "production", Deployment: deploy.Deployment{ID: 7, Release: "v2"}}
	m := failureMessage(r, VerifyResult{Reason: "home failed"}, nil, nil)
	want := "not automatic (rollback.auto is off): run phoenix rollback --project shop --env production"
	if i := slices.IndexFunc(m.Facts, func(f notify.Fact) bool { return f.Name == "Rollback" }); i < 0 || m.Facts[i].Value != want {
		t.Errorf("facts %+v, want Rollback: %s", m.Facts, want)
	}
}

// TestStoredRestoredReleaseIsNotRolledBackAgain: a release the database
// records as restored by an automatic rollback (its check cut short by a
// stop, finished by the next start, whose Guard never saw the rollback)
// that fails is alerted on and not rolled back again.
func TestStoredRestoredReleaseIsNotRolledBackAgain(t *testing.T) {
	srv, _ := hanging(t)
	pub, events := &recorder{}, &recorder{}
	var rollbacks []int64
	g := guardFor(srv, pub, events, &rollbacks)
	g.Timeout = 50 * time.Millisecond
	restored := v2b
	restored.Deployment.Restored = true
	out, err := g.AfterActivate(context.Background(), restored)
	if err != nil || out.Result.OK || out.RolledBack != nil || len(rollbacks) != 0 {
		t.Fatalf("err %v, ok %v, rolled back to %+v, rollbacks %v", err, out.Result.OK, out.RolledBack, rollbacks)
	}
	if len(pub.msgs) != 1 || !strings.Contains(pub.msgs[0].Text, "restored by an automatic rollback") {
		t.Fatalf("published %+v, want the failure saying the release was itself restored", pub.msgs)
	}
}
