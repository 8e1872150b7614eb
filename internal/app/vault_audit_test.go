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
	t.Parallel()
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

// TestStartAuditsItsUnsealAsTheServers: the vault the server creates or
// opens with its master key at start is in the audit log as the start's
// (actor phoenix, source "server start", as the first admin's creation),
// not by "-" from "-" beside the unseals operators make.
func TestStartAuditsItsUnsealAsTheServers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const key = "a master key for a new data dir"
	a, err := startVault(t, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, err = startVault(t, dir, key); err != nil {
		t.Fatal(err)
	}
	recs, err := a.Audit.Query(context.Background(), audit.Filter{Action: "vault.*"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.Action] = true
		if r.Actor != "phoenix" || r.Source != "server start" {
			t.Errorf("record %d %s: actor %q, source %q; want phoenix, server start", r.Seq, r.Action, r.Actor, r.Source)
		}
	}
	if !seen["vault.init"] || !seen["vault.unseal"] {
		t.Errorf("records %+v: want the first start's vault.init and the second's vault.unseal", recs)
	}
}
