package deploy

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// owed returns the alerts f's service owes, failing the test on error.
func owed(t *testing.T, f *fixture) []OwedAlert {
	t.Helper()
	alerts, err := f.svc.OwedAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return alerts
}

// TestRevertOwesItsAlertUntilQueued: an automatic rollback that announces
// itself (Alert) records its alert owed in its own transaction: the
// failed and the restored deployment, the reason, the environment's
// domains and the rollback's time; AlertQueued settles it. A revert
// without Alert (a pipeline run's rollback step announces its own) owes
// nothing, nor does one whose transaction fails.
func TestRevertOwesItsAlertUntilQueued(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "staging", Domains: []string{"staging.example.com"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	clockAt(f, &now)
	good, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	bad, _ := f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	now = now.Add(time.Minute)
	req := RevertRequest{Project: "site", Environment: "staging", Failed: bad.ID, Reason: "home failed", Actor: "phoenix-verify", Alert: true}
	if _, err := f.svc.Revert(ctx, req); err != nil {
		t.Fatal(err)
	}
	alerts := owed(t, f)
	if len(alerts) != 1 {
		t.Fatalf("owed after the rollback: %+v, want one", alerts)
	}
	o := alerts[0]
	if o.Failed.ID != bad.ID || o.Failed.Release != "v2" || o.Failed.Failure != "home failed" || o.Failed.Project != "site" ||
		o.Restored.ID != good.ID || o.Restored.Release != "v1" || !o.At.Equal(now) ||
		len(o.Domains) != 1 || o.Domains[0] != "staging.example.com" {
		t.Fatalf("owed alert: %+v", o)
	}
	if err := f.svc.AlertQueued(ctx, bad.ID); err != nil {
		t.Fatal(err)
	}
	if alerts := owed(t, f); len(alerts) != 0 {
		t.Fatalf("owed after AlertQueued: %+v", alerts)
	}

	again, _ := f.deploy(t, "staging", "v3", map[string]string{"index.html": "three"})
	req.Failed, req.Alert = again.ID, false
	if _, err := f.svc.Revert(ctx, req); err != nil {
		t.Fatal(err)
	}
	if alerts := owed(t, f); len(alerts) != 0 {
		t.Fatalf("a revert without Alert owes %+v", alerts)
	}

	last, _ := f.deploy(t, "staging", "v4", map[string]string{"index.html": "four"})
	f.svc.opts.Audit = func(context.Context, *sql.Tx, Event) error { return errors.New("audit log unavailable") }
	req.Failed, req.Alert = last.ID, true
	if _, err := f.svc.Revert(ctx, req); err == nil {
		t.Fatal("the revert succeeded without its audit records")
	}
	if alerts := owed(t, f); len(alerts) != 0 {
		t.Fatalf("a rollback that did not commit owes %+v", alerts)
	}
}

// TestOwedAlertOutlivesItsDeployments: an owed alert whose deployments
// retention or a deletion removed since is still returned, as the owed
// record has it.
func TestOwedAlertOutlivesItsDeployments(t *testing.T) {
	f := newFixture(t)
	good, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	bad, _ := f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: bad.ID, Reason: "home failed", Alert: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteEnvironment(ctx, "site", "staging"); err != nil {
		t.Fatal(err)
	}
	alerts := owed(t, f)
	if len(alerts) != 1 || alerts[0].Failed.ID != bad.ID || alerts[0].Failed.Failure != "home failed" || alerts[0].Failed.Environment != "staging" ||
		alerts[0].Restored.ID != good.ID || alerts[0].Failed.Release != "" {
		t.Fatalf("owed after the environment's deletion: %+v", alerts)
	}
}

// TestRevertWithNothingToRollBackToOwesItsAlert: a failed deployment
// with no earlier one to roll back to stays active, and its record owes
// the alert that says so (no restored deployment).
func TestRevertWithNothingToRollBackToOwesItsAlert(t *testing.T) {
	f := newFixture(t)
	only, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	_, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: only.ID, Reason: "home failed", Alert: true})
	if err == nil {
		t.Fatal("a revert with nothing to roll back to succeeded")
	}
	alerts := owed(t, f)
	if len(alerts) != 1 || alerts[0].Failed.ID != only.ID || alerts[0].Restored.ID != 0 || alerts[0].Failed.Failure != "home failed" {
		t.Fatalf("owed: %+v, want deployment %d's, with nothing restored", alerts, only.ID)
	}
}
