package deploy

import "testing"

// passedThenTwoMore is the reported sequence: v1 passes its
// verification, v2 (an empty folder) is replaced a second later by v3,
// so v2 is superseded, never verified, and v3 is active.
func passedThenTwoMore(t *testing.T) (f *fixture, v1, v2, v3 *Deployment) {
	t.Helper()
	f = verifying(newFixture(t))
	v1, _ = f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	if ok, err := f.svc.RecordVerification(ctx, v1.ID, VerifyPassed); !ok || err != nil {
		t.Fatalf("record v1 passed: %v, %v", ok, err)
	}
	v2, _ = f.deploy(t, "staging", "v2", map[string]string{"a.txt": "not the site"})
	v3, _ = f.deploy(t, "staging", "v3", map[string]string{"b.txt": "not the site either"})
	if v := history(t, f.svc, "staging")[v2.ID].Verification; v != VerifySuperseded {
		t.Fatalf("v2's verification = %q, want %q", v, VerifySuperseded)
	}
	return f, v1, v2, v3
}

// TestRevertGoesToTheNewestDeploymentThatPassed: a failed verification
// takes the environment back to the last deployment that passed, not to
// a newer one that was never verified.
func TestRevertGoesToTheNewestDeploymentThatPassed(t *testing.T) {
	f, v1, v2, v3 := passedThenTwoMore(t)
	back, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: v3.ID, Reason: "health-check/staging"})
	if err != nil || back.ID != v1.ID {
		t.Fatalf("revert = %+v, %v; want deployment %d (passed), not %d (superseded, never verified)", back, err, v1.ID, v2.ID)
	}
}

// TestPlainRollbackGoesToTheNewestDeploymentThatPassed: 'phoenix
// rollback' without --to follows the same rule; --to still goes where
// it is told.
func TestPlainRollbackGoesToTheNewestDeploymentThatPassed(t *testing.T) {
	f, v1, v2, _ := passedThenTwoMore(t)
	if _, err := f.svc.Rollback(ctx, "site", "staging", 0, "bob"); err != nil {
		t.Fatal(err)
	}
	if env, _ := f.svc.Environment(ctx, "site", "staging"); env.ActiveID != v1.ID {
		t.Fatalf("plain rollback went to %d, want %d (passed)", env.ActiveID, v1.ID)
	}
	if to, err := f.svc.Rollback(ctx, "site", "staging", v2.ID, "bob"); err != nil || to.ID != v2.ID {
		t.Fatalf("rollback --to %d = %+v, %v", v2.ID, to, err)
	}
}

// TestRollbackWithoutAPassedDeploymentTakesTheNewestThatDidNotFail: with
// no earlier deployment that passed (none verified yet), the rollback
// goes to the newest earlier one that did not fail, as before.
func TestRollbackWithoutAPassedDeploymentTakesTheNewestThatDidNotFail(t *testing.T) {
	f := verifying(newFixture(t))
	f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	v2, _ := f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	v3, _ := f.deploy(t, "staging", "v3", map[string]string{"index.html": "three"})
	back, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: v3.ID, Reason: "health-check/staging"})
	if err != nil || back.ID != v2.ID {
		t.Fatalf("revert = %+v, %v; want deployment %d, the newest that did not fail", back, err, v2.ID)
	}
}

// TestRevertVerifiesTheRestoredDeployment: the server's own automatic
// rollback (Alert) has the deployment it restores verified again, even
// one that passed (the listener is told it is pending); a pipeline run's
// rollback step leaves one that passed as it is.
func TestRevertVerifiesTheRestoredDeployment(t *testing.T) {
	for _, server := range []bool{true, false} {
		f, v1, _, v3 := passedThenTwoMore(t)
		back, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "staging", Failed: v3.ID, Reason: "health-check/staging",
			Alert: server})
		if err != nil || back.ID != v1.ID {
			t.Fatalf("server %v: revert = %+v, %v", server, back, err)
		}
		want := VerifyPassed
		if server {
			want = VerifyPending
		}
		told := f.seen[len(f.seen)-1].Deployment
		if got := history(t, f.svc, "staging")[v1.ID].Verification; got != want || told.ID != v1.ID || told.Verification != want {
			t.Errorf("server %v: restored deployment's verification %q, listener told %d %q; want %q", server, got, told.ID, told.Verification, want)
		}
	}
}
