package app

import (
	"slices"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestRestoredDeploymentIsVerified: the deployment an automatic rollback
// restores is verified too (docs/monitoring.md), its verdict recorded.
func TestRestoredDeploymentIsVerified(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: 200 * time.Millisecond, Proc: "-"})
	v1 := deploySite(t, a, "production", "v1", "", map[string]string{"index.html": "<h1>good</h1>"})
	a.projects.wait()
	events := watchDeployEvents(a)
	deploySite(t, a, "production", "v2", "", map[string]string{"other.html": "no home page"})
	a.projects.wait()
	a.Pipeline.Events().Wait()
	if got := activeID(t, a, "production"); got != v1 {
		t.Fatalf("active %d, want %d (rolled back)", got, v1)
	}
	if d := deploymentOf(t, a.Deploy, "production", v1); d.Verification != deploy.VerifyPassed {
		t.Fatalf("the restored deployment: verification %q, want %q", d.Verification, deploy.VerifyPassed)
	}
	if got := events.list(); !slices.Equal(got, []string{"deploy.rolled_back", "deploy.succeeded"}) {
		t.Fatalf("events %v, want the rollback's, then the restored release's verification", got)
	}
}

// TestRestoredDeploymentThatFailsAlertsAndStays: a restored deployment
// that fails its verification (here a pipeline run's broken one, the
// only earlier one) is recorded failed and alerts, and is not rolled
// back again: the environment cannot loop.
func TestRestoredDeploymentThatFailsAlertsAndStays(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: 200 * time.Millisecond, Proc: "-"})
	broken := map[string]string{"other.html": "no home page"}
	v1 := deploySite(t, a, "production", "v1", "pipeline run 7", broken)
	a.projects.wait()
	events := watchDeployEvents(a)
	deploySite(t, a, "production", "v2", "", broken)
	a.projects.wait()
	a.Pipeline.Events().Wait()
	if got := activeID(t, a, "production"); got != v1 {
		t.Fatalf("active %d, want %d (rolled back to, then kept)", got, v1)
	}
	d := deploymentOf(t, a.Deploy, "production", v1)
	if d.Verification != deploy.VerifyFailed || d.Failure != "" {
		t.Fatalf("the restored deployment: verification %q, failure %q; want failed, not taken back", d.Verification, d.Failure)
	}
	if got := events.list(); !slices.Equal(got, []string{"deploy.rolled_back", "deploy.failed"}) {
		t.Fatalf("events %v, want the rollback's, then the restored release's failure", got)
	}
}
