package deploy

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// verifying makes f's service verify every deployment but a pipeline
// run's, as the app does.
func verifying(f *fixture) *fixture {
	f.svc.opts.Verify = func(_ string, o FinalizeOptions) bool { return !strings.HasPrefix(o.Message, "pipeline run ") }
	return f
}

// history returns env's deployments by id.
func history(t *testing.T, s *Service, env string) map[int64]Deployment {
	t.Helper()
	ds, err := s.Deployments(ctx, "site", env, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]Deployment{}
	for _, d := range ds {
		out[d.ID] = d
	}
	return out
}

func unverifiedIDs(t *testing.T, s *Service) []int64 {
	t.Helper()
	rs, err := s.Unverified(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.Deployment.ID)
	}
	return ids
}

// TestVerificationIsPendingFromTheActivation: a deployment the server
// verifies is recorded pending in the activation's transaction, so a
// service opened on the same database later (a restart after a stop or a
// crash) finds it; the verdict ends it.
func TestVerificationIsPendingFromTheActivation(t *testing.T) {
	f := verifying(newFixture(t))
	d, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	if d.Verification != VerifyPending || d.VerificationAt == nil {
		t.Fatalf("Finalize returned verification %q at %v, want pending", d.Verification, d.VerificationAt)
	}
	if seen := f.seen[len(f.seen)-1].Deployment; seen.Verification != VerifyPending {
		t.Fatalf("the listener was told verification %q", seen.Verification)
	}
	restarted := New(Options{DB: f.svc.opts.DB, Blobs: f.blobs})
	rs, err := restarted.Unverified(ctx)
	if err != nil || len(rs) != 1 {
		t.Fatalf("unverified after a restart = %+v, %v", rs, err)
	}
	r := rs[0]
	if r.Project != "site" || r.Environment != "production" || r.Deployment.ID != d.ID || !r.Deployment.Active ||
		r.Deployment.Release != "v1" || r.Deployment.VerificationAt == nil || !r.Deployment.VerificationAt.Equal(*d.VerificationAt) {
		t.Fatalf("unverified release = %+v", r)
	}
	if m, err := r.Manifest(); err != nil || m.Meta.Release != "v1" {
		t.Fatalf("manifest of the unverified release: %v", err)
	}
	if ok, err := restarted.RecordVerification(ctx, d.ID, VerifyPassed); !ok || err != nil {
		t.Fatalf("record passed: %v, %v", ok, err)
	}
	if ids := unverifiedIDs(t, f.svc); len(ids) != 0 {
		t.Fatalf("still unverified after its verdict: %v", ids)
	}
	if got := history(t, f.svc, "production")[d.ID]; got.Verification != VerifyPassed || got.VerificationAt == nil {
		t.Fatalf("after the verdict: %+v", got)
	}
	// A verdict is recorded once: a second one changes nothing.
	if ok, err := f.svc.RecordVerification(ctx, d.ID, VerifyFailed); ok || err != nil {
		t.Fatalf("second verdict recorded: %v, %v", ok, err)
	}
	if _, err := f.svc.RecordVerification(ctx, d.ID, VerifyPending); err == nil {
		t.Fatal("pending accepted as a verdict")
	}
}

// TestPipelineDeploymentsAreNotPending: a deployment the server does not
// verify (a pipeline run's; any without Options.Verify) has no
// verification state and is never unverified.
func TestPipelineDeploymentsAreNotPending(t *testing.T) {
	f := newFixture(t)
	plain, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	verifying(f)
	m, blobs := manifestOf("v2", map[string]string{"index.html": "two"})
	canon, _ := m.Canonical()
	up, err := f.svc.BeginUpload(ctx, "site", canon)
	if err != nil {
		t.Fatal(err)
	}
	for _, dg := range up.Missing {
		if err := f.svc.PutBlob(ctx, up.ID, dg, strings.NewReader(string(blobs[dg])), int64(len(blobs[dg]))); err != nil {
			t.Fatal(err)
		}
	}
	run, err := f.svc.Finalize(ctx, up.ID, FinalizeOptions{Environment: "staging", Message: "pipeline run 7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Deployment{plain, run} {
		if d.Verification != "" || d.VerificationAt != nil {
			t.Errorf("deployment %d: verification %q", d.ID, d.Verification)
		}
	}
	if ids := unverifiedIDs(t, f.svc); len(ids) != 0 {
		t.Fatalf("unverified: %v", ids)
	}
}

// TestReplacedPendingVerificationIsSuperseded: a newer deploy or a
// rollback that replaces a deployment pending verification records it
// superseded, in its transaction: no start verifies a release no longer
// served. A later rollback that returns to a superseded one makes it
// pending again (it was never verified); one to a verified one does not.
func TestReplacedPendingVerificationIsSuperseded(t *testing.T) {
	f := verifying(newFixture(t))
	v1, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	if _, err := f.svc.RecordVerification(ctx, v1.ID, VerifyPassed); err != nil {
		t.Fatal(err)
	}
	v2, _ := f.deploy(t, "production", "v2", map[string]string{"index.html": "two"})
	v3, _ := f.deploy(t, "production", "v3", map[string]string{"index.html": "three"}) // replaces v2 before its verdict
	if _, err := f.svc.Rollback(ctx, "site", "production", v2.ID, "bob"); err != nil { // replaces v3 before its verdict
		t.Fatal(err)
	}
	h := history(t, f.svc, "production")
	for id, want := range map[int64]string{v1.ID: VerifyPassed, v2.ID: VerifyPending, v3.ID: VerifySuperseded} {
		if h[id].Verification != want || h[id].VerificationAt == nil {
			t.Errorf("deployment %d: verification %q at %v, want %q", id, h[id].Verification, h[id].VerificationAt, want)
		}
	}
	if env, _ := f.svc.Environment(ctx, "site", "production"); env.ActiveID != v2.ID {
		t.Fatalf("rollback went to %d, want %d", env.ActiveID, v2.ID)
	}
	if ids := unverifiedIDs(t, f.svc); len(ids) != 1 || ids[0] != v2.ID {
		t.Fatalf("unverified: %v, want only %d (rolled back to, never verified)", ids, v2.ID)
	}
	// A rollback to a verified deployment does not verify it again.
	if _, err := f.svc.Rollback(ctx, "site", "production", v1.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if h := history(t, f.svc, "production"); h[v1.ID].Verification != VerifyPassed || h[v2.ID].Verification != VerifySuperseded {
		t.Fatalf("after the rollback to v1: v1 %q, v2 %q; want passed and superseded", h[v1.ID].Verification, h[v2.ID].Verification)
	}
	if ids := unverifiedIDs(t, f.svc); len(ids) != 0 {
		t.Fatalf("unverified: %v", ids)
	}
	// A superseded deployment gets no verdict.
	if ok, _ := f.svc.RecordVerification(ctx, v3.ID, VerifyFailed); ok {
		t.Fatal("a verdict was recorded for a superseded deployment")
	}
}

// TestRevertEndsThePendingVerification: Revert records the pending
// verification failed together with the failure; a pipeline run's
// deployment keeps no verification state.
func TestRevertEndsThePendingVerification(t *testing.T) {
	f := verifying(newFixture(t))
	v1, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	f.svc.RecordVerification(ctx, v1.ID, VerifyPassed)
	v2, _ := f.deploy(t, "production", "v2", map[string]string{"index.html": "broken"})
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: v2.ID, Reason: "health-check/production"}); err != nil {
		t.Fatal(err)
	}
	h := history(t, f.svc, "production")
	if d := h[v2.ID]; d.Verification != VerifyFailed || d.Failure != "health-check/production" || d.Status != StatusFailed {
		t.Fatalf("reverted deployment: %+v", d)
	}
	if d := h[v1.ID]; d.Verification != VerifyPassed || !d.Active {
		t.Fatalf("restored deployment: %+v", d)
	}
}

// TestClaimVerificationOnce: a pending verification is taken over once
// (a second claim with what Unverified returned before loses, as another
// server's would), audited as deploy.reverify; a superseded one cannot
// be claimed.
func TestClaimVerificationOnce(t *testing.T) {
	f := verifying(newFixture(t))
	var events []Event
	f.svc.opts.Audit = func(_ context.Context, _ *sql.Tx, e Event) error { events = append(events, e); return nil }
	d, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	rs, err := f.svc.Unverified(ctx)
	if err != nil || len(rs) != 1 {
		t.Fatalf("unverified = %+v, %v", rs, err)
	}
	mine, theirs := rs[0], rs[0]
	f.svc.opts.Now = func() time.Time { return d.VerificationAt.Add(time.Minute) }
	if ok, err := f.svc.ClaimVerification(ctx, &mine, "phoenix-verify"); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	if !mine.Deployment.VerificationAt.Equal(d.VerificationAt.Add(time.Minute)) {
		t.Fatalf("claim time %v", mine.Deployment.VerificationAt)
	}
	if ok, err := f.svc.ClaimVerification(ctx, &theirs, "phoenix-verify"); ok || err != nil {
		t.Fatalf("a second claim of the same verification: %v, %v", ok, err)
	}
	again, err := f.svc.Unverified(ctx)
	if err != nil || len(again) != 1 || again[0].Deployment.Verification != VerifyPending ||
		!again[0].Deployment.VerificationAt.Equal(*mine.Deployment.VerificationAt) {
		t.Fatalf("after the claim: %+v, %v", again, err)
	}
	last := events[len(events)-1]
	if last.Action != "deploy.reverify" || last.Deployment != d.ID || last.Actor != "phoenix-verify" ||
		!strings.Contains(last.Detail, "did not finish; verifying it again") {
		t.Fatalf("audit event = %+v", last)
	}
	f.deploy(t, "production", "v2", map[string]string{"index.html": "two"})
	if ok, err := f.svc.ClaimVerification(ctx, &again[0], "phoenix-verify"); ok || err != nil {
		t.Fatalf("claim of a superseded verification: %v, %v", ok, err)
	}
}

// unattendedIDs lists the deployments of Unattended.
func unattendedIDs(t *testing.T, s *Service) []int64 {
	t.Helper()
	rs, err := s.Unattended(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, r := range rs {
		ids = append(ids, r.Deployment.ID)
	}
	return ids
}

// TestAdoptVerification: the active deployments without verification
// state (the server does not verify them: a pipeline run's) are
// unattended while each is its environment's newest; adopting one records
// it pending (audited as deploy.reverify with the reason), once, and only
// while nothing replaced it; one a rollback returned to is not unattended.
func TestAdoptVerification(t *testing.T) {
	f := newFixture(t) // verifies nothing, as the server does a pipeline run's deployments
	var events []Event
	f.svc.opts.Audit = func(_ context.Context, _ *sql.Tx, e Event) error { events = append(events, e); return nil }
	prod, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	stage, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	if ids := unattendedIDs(t, f.svc); len(ids) != 2 || ids[0] != prod.ID || ids[1] != stage.ID {
		t.Fatalf("unattended = %v, want [%d %d]", ids, prod.ID, stage.ID)
	}
	rs, err := f.svc.Unattended(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, again := rs[0], rs[0]
	if ok, err := f.svc.AdoptVerification(ctx, &r, "phoenix-verify", "pipeline run 7 was interrupted"); !ok || err != nil {
		t.Fatalf("adopt: %v, %v", ok, err)
	}
	if r.Deployment.Verification != VerifyPending || r.Deployment.VerificationAt == nil {
		t.Fatalf("the adopted release: %+v", r.Deployment)
	}
	if ids := unverifiedIDs(t, f.svc); len(ids) != 1 || ids[0] != prod.ID {
		t.Fatalf("unverified after the adoption = %v, want [%d]", ids, prod.ID)
	}
	if ids := unattendedIDs(t, f.svc); len(ids) != 1 || ids[0] != stage.ID {
		t.Fatalf("unattended after the adoption = %v, want [%d]", ids, stage.ID)
	}
	last := events[len(events)-1]
	if last.Action != "deploy.reverify" || last.Deployment != prod.ID || last.Actor != "phoenix-verify" ||
		last.Detail != "pipeline run 7 was interrupted" || last.Environment != "production" {
		t.Fatalf("audit event = %+v", last)
	}
	if ok, err := f.svc.AdoptVerification(ctx, &again, "phoenix-verify", "twice"); ok || err != nil {
		t.Fatalf("a second adoption: %v, %v", ok, err)
	}

	// Replaced between the listing and the adoption: not adopted.
	st := rs[1]
	stage2, _ := f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	if ok, err := f.svc.AdoptVerification(ctx, &st, "phoenix-verify", "late"); ok || err != nil {
		t.Fatalf("adoption of a replaced deployment: %v, %v", ok, err)
	}
	// Returned to by a rollback: active, but not since its own activation.
	if _, err := f.svc.Rollback(ctx, "site", "staging", stage.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if ids := unattendedIDs(t, f.svc); len(ids) != 0 {
		t.Fatalf("unattended after the rollback = %v, want none", ids)
	}
	if ok, err := f.svc.AdoptVerification(ctx, &st, "phoenix-verify", "rolled back to"); ok || err != nil {
		t.Fatalf("adoption of a deployment a rollback returned to: %v, %v", ok, err)
	}
	if h := history(t, f.svc, "staging"); h[stage.ID].Verification != "" || h[stage2.ID].Verification != "" {
		t.Fatalf("staging's deployments got a verification state: %+v", h)
	}
}

// TestAdoptVerificationOfARunsDeployment: a run's deployment still waiting
// for the run's health checks (VerifyByRun) is unattended too — its run
// may have been interrupted — and adopting it makes it pending.
func TestAdoptVerificationOfARunsDeployment(t *testing.T) {
	f := newFixture(t)
	m, blobs := manifestOf("v1", map[string]string{"index.html": "one"})
	d, _, err := f.finalize(t, "site", m, blobs, FinalizeOptions{Environment: "production", Actor: "alice", Run: "4", RunChecks: true})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := f.svc.Unattended(ctx)
	if err != nil || len(rs) != 1 || rs[0].Deployment.ID != d.ID || rs[0].Deployment.Run != "4" {
		t.Fatalf("unattended = %+v, %v; want deployment %d of run 4", rs, err, d.ID)
	}
	if ok, err := f.svc.AdoptVerification(ctx, &rs[0], "phoenix-verify", "pipeline run 4 was interrupted"); !ok || err != nil {
		t.Fatalf("adopt: %v, %v", ok, err)
	}
	if got := history(t, f.svc, "production")[d.ID]; got.Verification != VerifyPending {
		t.Fatalf("after the adoption: %+v", got)
	}
}
