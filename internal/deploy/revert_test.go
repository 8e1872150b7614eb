package deploy

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestPlainRollbackSkipsAFailedDeployment is the reported sequence: a
// healthy release, one that fails its health check and is taken back
// automatically, another healthy one; a plain rollback then lands on the
// first, never on the one that failed.
func TestPlainRollbackSkipsAFailedDeployment(t *testing.T) {
	f := newFixture(t)
	good, _ := f.deploy(t, "production", "v1.0.0", map[string]string{"index.html": "one"})
	broken, _ := f.deploy(t, "production", "v1.1.0", map[string]string{"index.html": "broken"})
	back, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: broken.ID,
		Reason: "health-check/production", Actor: "ci"})
	if err != nil || back.ID != good.ID || !back.Active || back.Status != StatusActive {
		t.Fatalf("revert = %+v, %v; want deployment %d active", back, err, good.ID)
	}
	latest, _ := f.deploy(t, "production", "v1.2.0", map[string]string{"index.html": "three"})

	to, err := f.svc.Rollback(ctx, "site", "production", 0, "bob")
	if err != nil || to.ID != good.ID {
		t.Fatalf("rollback = %+v, %v; want deployment %d (v1.0.0), not the failed %d", to, err, good.ID, broken.ID)
	}
	if last := f.seen[len(f.seen)-1]; last.Deployment.ID != good.ID {
		t.Fatalf("edge was told %d", last.Deployment.ID)
	}

	hist, err := f.svc.Deployments(ctx, "site", "production", 0)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	want := []struct {
		id      int64
		status  string
		failure string
	}{{latest.ID, StatusRolledBack, ""}, {broken.ID, StatusFailed, "health-check/production"}, {good.ID, StatusActive, ""}}
	for i, w := range want {
		d := hist[i]
		if d.ID != w.id || d.Status != w.status || d.Failure != w.failure || (d.FailedAt != nil) != (w.failure != "") {
			t.Errorf("history[%d] = id %d status %q failure %q failed_at %v; want id %d status %q failure %q",
				i, d.ID, d.Status, d.Failure, d.FailedAt, w.id, w.status, w.failure)
		}
	}
}

// TestRollbackToAFailedDeploymentIsRefused: --to naming a deployment that
// failed verification is a conflict that says so, when, and what to do.
func TestRollbackToAFailedDeploymentIsRefused(t *testing.T) {
	f := newFixture(t)
	f.deploy(t, "production", "v1.0.0", map[string]string{"index.html": "one"})
	broken, _ := f.deploy(t, "production", "v1.1.0", map[string]string{"index.html": "broken"})
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Reason: "health-check/production"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Rollback(ctx, "site", "production", broken.ID, "bob")
	if usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("rollback to the failed deployment: %v", err)
	}
	for _, s := range []string{"deployment 2 (release v1.1.0)", "failed and was taken back at 20", "UTC (health-check/production)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if h := usererr.HintOf(err); !strings.Contains(h, "deploy it again") {
		t.Errorf("hint %q", h)
	}
	if env, _ := f.svc.Environment(ctx, "site", "production"); env.ActiveID == broken.ID {
		t.Fatal("the failed deployment was activated")
	}
}

// TestRollbackToTheActiveDeploymentSaysSo: a rollback to the deployment
// the environment serves changes nothing and says so, with where to find
// the others.
func TestRollbackToTheActiveDeploymentSaysSo(t *testing.T) {
	f := newFixture(t)
	f.deploy(t, "production", "v1.0.0", map[string]string{"index.html": "one"})
	live, _ := f.deploy(t, "production", "v1.1.0", map[string]string{"index.html": "two"})
	_, err := f.svc.Rollback(ctx, "site", "production", live.ID, "bob")
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "already active") ||
		!strings.Contains(usererr.HintOf(err), "nothing was changed") {
		t.Fatalf("rollback to the active deployment: %v (hint %q)", err, usererr.HintOf(err))
	}
}

// TestRevertRecordsTheFailureInTheRollbacksTransaction: the record and the
// rollback commit together; when the rollback cannot, neither happens.
func TestRevertRecordsTheFailureInTheRollbacksTransaction(t *testing.T) {
	f := newFixture(t)
	good, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	broken, _ := f.deploy(t, "production", "v2", map[string]string{"index.html": "two"})
	var actions []string
	f.svc.opts.Audit = func(_ context.Context, _ *sql.Tx, e Event) error {
		if e.Action == "deploy.rollback" {
			return errors.New("audit log unavailable")
		}
		actions = append(actions, e.Action)
		return nil
	}
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: broken.ID}); err == nil {
		t.Fatal("revert succeeded without its rollback's audit record")
	}
	hist, _ := f.svc.Deployments(ctx, "site", "production", 0)
	if hist[0].ID != broken.ID || !hist[0].Active || hist[0].Failure != "" {
		t.Fatalf("after a failed revert: %+v", hist[0])
	}
	f.svc.opts.Audit = func(_ context.Context, _ *sql.Tx, e Event) error { actions = append(actions, e.Action); return nil }
	actions = nil
	back, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: broken.ID, Actor: "ci"})
	if err != nil || back.ID != good.ID {
		t.Fatalf("revert = %+v, %v", back, err)
	}
	if strings.Join(actions, " ") != "deploy.fail deploy.rollback" {
		t.Fatalf("audit actions %v", actions)
	}
	hist, _ = f.svc.Deployments(ctx, "site", "production", 0)
	if hist[0].Failure != "verification" || hist[0].Status != StatusFailed {
		t.Fatalf("a revert without a reason: %+v", hist[0])
	}
}

// TestRevertKeepsTheRecordWhenNothingCanBeRolledBack: a failed deployment
// with nothing good before it stays active, and one already replaced is
// left alone; both are recorded as failed, with an error saying so.
func TestRevertKeepsTheRecordWhenNothingCanBeRolledBack(t *testing.T) {
	f := newFixture(t)
	first, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	_, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Reason: "health-check/production"})
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "stays active") {
		t.Fatalf("revert of the only deployment: %v", err)
	}
	hist, _ := f.svc.Deployments(ctx, "site", "production", 0)
	if !hist[0].Active || hist[0].Failure == "" {
		t.Fatalf("the only deployment: %+v", hist[0])
	}

	second, _ := f.deploy(t, "production", "v2", map[string]string{"index.html": "two"})
	third, _ := f.deploy(t, "production", "v3", map[string]string{"index.html": "three"})
	_, err = f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: second.ID, Reason: "load-test/production"})
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "no longer serves it (deployment 3 is active)") {
		t.Fatalf("revert of a replaced deployment: %v", err)
	}
	if env, _ := f.svc.Environment(ctx, "site", "production"); env.ActiveID != third.ID {
		t.Fatalf("active is %d, want %d", env.ActiveID, third.ID)
	}
	if _, err := f.svc.Rollback(ctx, "site", "production", 0, "bob"); usererr.KindOf(err) != usererr.Conflict ||
		!strings.Contains(err.Error(), "no earlier deployment of site/production to roll back to (those that failed verification are skipped)") {
		t.Fatalf("rollback past two failed deployments: %v (first %d)", err, first.ID)
	}
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: 99}); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("revert of an unknown deployment: %v", err)
	}
}

// TestRevertFetchesTheRestoredBlobsFirst: with a blob store that caches a
// remote one, the release a revert re-activates is fetched first.
func TestRevertFetchesTheRestoredBlobsFirst(t *testing.T) {
	var fs *fetching
	f := newFixtureOn(t, func(l *local.Store) backend.Backend { fs = &fetching{Store: l}; return fs })
	good, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one", "a.css": "style"})
	f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	back, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Reason: "health-check/staging"})
	if err != nil || back.ID != good.ID {
		t.Fatalf("revert = %+v, %v", back, err)
	}
	if got := fs.last(); !slices.Equal(got, digests("one", "style")) {
		t.Fatalf("revert fetched %v", got)
	}
}
