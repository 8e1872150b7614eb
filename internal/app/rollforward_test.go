package app

import (
	"context"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestRollForwardIsVerified: a deployment rolled back while its
// verification soaked, then rolled forward to ('phoenix rollback --to'),
// had never been verified: it is verified again, once, as a new
// deployment is (passed when healthy; failed and taken back when broken),
// and the first, interrupted verification's verdict is not acted on (its
// activation is no longer the environment's). Before, it stayed active and
// "superseded" for ever, or the stale verdict acted on the new activation.
func TestRollForwardIsVerified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		files  map[string]string
		want   string // v2's verification
		active string // which release serves at the end
	}{
		{"healthy", map[string]string{"index.html": "<h1>v2</h1>"}, deploy.VerifyPassed, "v2"},
		{"broken", map[string]string{"other.html": "no home page"}, deploy.VerifyFailed, "v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: 2 * time.Second, Proc: "-"})
			ctx := context.Background()
			v1 := deploySite(t, a, "production", "v1", "pipeline run 1", map[string]string{"index.html": "<h1>v1</h1>"})
			v2 := deploySite(t, a, "production", "v2", "", tc.files) // verified by the server: soaks 2 s
			if _, err := a.Deploy.Rollback(ctx, "shop", "production", v1, "ops"); err != nil {
				t.Fatal(err)
			}
			back, err := a.Deploy.Rollback(ctx, "shop", "production", v2, "ops") // forward again, within the soak
			if err != nil || back.Verification != deploy.VerifyPending {
				t.Fatalf("roll forward to %d: %+v, %v; want it pending verification", v2, back, err)
			}
			a.projects.wait()
			ds, err := a.Deploy.Deployments(ctx, "shop", "production", 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.ID == v2 && d.Verification != tc.want {
					t.Errorf("deployment %d: verification %q, want %q (failure %q)", d.ID, d.Verification, tc.want, d.Failure)
				}
				if d.Active && d.Release != tc.active {
					t.Errorf("active %s (deployment %d), want %s", d.Release, d.ID, tc.active)
				}
			}
		})
	}
}
