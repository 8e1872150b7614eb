package deploy

import "testing"

// TestRestoredVerificationIsStored: the release an automatic rollback
// (Revert with Alert) restores is pending verification as a restored one
// in the database, so a start that finishes a check a stop cut short
// knows not to roll it back again (the Guard kept this in memory only).
// The verdict ends it, and a plain rollback that makes the deployment
// pending again (it was superseded unverified) is an ordinary check.
func TestRestoredVerificationIsStored(t *testing.T) {
	f := verifying(newFixture(t))
	good, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	bad, _ := f.deploy(t, "production", "v2", map[string]string{"index.html": "two"})
	back, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: bad.ID,
		Reason: "home failed", Actor: "phoenix-verify", Alert: true})
	if err != nil || back.ID != good.ID || !back.Restored {
		t.Fatalf("revert = %+v, %v; want deployment %d restored", back, err, good.ID)
	}
	// A service opened on the same database: what a restart reads.
	again := New(f.svc.opts)
	rs, err := again.Unverified(ctx)
	if err != nil || len(rs) != 1 || rs[0].Deployment.ID != good.ID || !rs[0].Deployment.Restored {
		t.Fatalf("unverified after the rollback = %+v, %v; want deployment %d, restored", rs, err, good.ID)
	}
	if ok, err := again.RecordVerification(ctx, good.ID, VerifyFailed); !ok || err != nil {
		t.Fatalf("record verdict: %v, %v", ok, err)
	}
	if d := history(t, again, "production")[good.ID]; d.Restored || d.Verification != VerifyFailed {
		t.Fatalf("after its verdict: %+v", d)
	}

	// Restored again, superseded by a deploy before its verdict, then
	// rolled back to: a plain rollback's check.
	third, _ := f.deploy(t, "production", "v3", map[string]string{"index.html": "three"})
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: third.ID,
		Reason: "home failed", Actor: "phoenix-verify", Alert: true}); err != nil {
		t.Fatal(err)
	}
	if d := history(t, f.svc, "production")[good.ID]; !d.Restored || d.Verification != VerifyPending {
		t.Fatalf("restored a second time: %+v", d)
	}
	fourth, _ := f.deploy(t, "production", "v4", map[string]string{"index.html": "four"})
	if d := history(t, f.svc, "production")[good.ID]; d.Restored || d.Verification != VerifySuperseded {
		t.Fatalf("superseded by deployment %d: %+v", fourth.ID, d)
	}
	to, err := f.svc.Rollback(ctx, "site", "production", good.ID, "bob")
	if err != nil || to.ID != good.ID || to.Restored || to.Verification != VerifyPending {
		t.Fatalf("plain rollback = %+v, %v; want deployment %d pending, not restored", to, err, good.ID)
	}
	if d := history(t, f.svc, "production")[good.ID]; d.Restored {
		t.Fatalf("stored after the plain rollback: %+v", d)
	}
}
