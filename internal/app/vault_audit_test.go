package app

import (
	"context"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
)

// TestFirstStartAuditsNoFailedSecretRead: a new server with a vault looks
// up its own keys before it makes them; the audit log shows the keys
// being made, not failed secret reads.
func TestFirstStartAuditsNoFailedSecretRead(t *testing.T) {
	a, err := startVault(t, t.TempDir(), "a master key for a new data dir")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	recs, err := a.Audit.Query(ctx, audit.Filter{Action: "secret.*"})
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]bool{}
	for _, r := range recs {
		if r.Outcome != audit.OK {
			t.Errorf("record %d: %s %s by %s %s %q", r.Seq, r.Action, r.Target, r.Actor, r.Outcome, r.Detail)
		}
		if r.Action == "secret.write" {
			writes[r.Target] = true
		}
	}
	for _, key := range []string{"secret/PHOENIX_AUDIT_KEY@1", "secret/PHOENIX_SIGNING_KEY@1", "secret/PHOENIX_EDGE_SESSION_KEY@1"} {
		if !writes[key] {
			t.Errorf("no secret.write of %s: %+v", key, recs)
		}
	}
}
