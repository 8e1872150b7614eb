package app

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestRestoredReleaseCutShortIsNotRolledBackAtTheNextStart: the server's
// automatic rollback restores a release and begins verifying it; a stop
// cuts that check short. The next start finishes it as the check of a
// restored release: it fails, is announced as a failure of a release an
// automatic rollback restored, and is not rolled back a second time (the
// "restored" fact was in memory only, so the start rolled back again,
// to a release older still).
func TestRestoredReleaseCutShortIsNotRolledBackAtTheNextStart(t *testing.T) {
	dir := t.TempDir()
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: dir, VerifySoak: time.Hour, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	v0 := deploySite(t, a, "production", "v0", "pipeline run 1", goodSite)
	v1 := deploySite(t, a, "production", "v1", "pipeline run 2", noHomePage)
	v2 := deploySite(t, a, "production", "v2", "", noHomePage)
	recv(t, h.started, "v2's verification")
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// What the automatic rollback of v2 writes (deploy.Revert with an
	// alert, by the server's actor), done here while no server runs: the
	// stop then comes before v1's verification has a verdict.
	restored, err := reopen(t, dir).Revert(context.Background(), deploy.RevertRequest{Project: "shop", Environment: "production",
		Failed: v2, Reason: "home answered 404", Actor: verifyActor, Alert: true})
	if err != nil || restored.ID != v1 {
		t.Fatalf("revert = %+v, %v; want v1 (%d) restored", restored, err, v1)
	}

	h = newVerifyHooks(true)
	b := startHooked(t, Options{DataDir: dir, VerifySoak: 200 * time.Millisecond, Proc: "-"}, h.set)
	if r := recv(t, h.started, "v1's verification again"); r.Deployment.ID != v1 || !r.Deployment.Restored {
		t.Fatalf("the start verifies %+v, want deployment %d as a restored one", r.Deployment, v1)
	}
	events := watchDeployEvents(b)
	close(h.proceed)
	b.projects.wait()
	b.Pipeline.Events().Wait()
	if got := activeID(t, b, "production"); got != v1 {
		t.Fatalf("active %d, want v1 (%d): the restored release was rolled back again (v0 is %d)", got, v1, v0)
	}
	d := deploymentOf(t, b.Deploy, "production", v1)
	if d.Verification != deploy.VerifyFailed || d.Restored || d.Failure != "" {
		t.Fatalf("v1 after its verification: %+v", d)
	}
	if got := events.list(); !slices.Equal(got, []string{"deploy.failed"}) {
		t.Fatalf("events %v, want deploy.failed", got)
	}
	if acts := auditActions(t, b); slices.Contains(acts, "deploy.rollback") {
		t.Fatalf("audit records by %s: %v", verifyActor, acts)
	}
}
