package app

import (
	"context"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestReplicaSealsAfterARekeyElsewhere: when the master key is changed on
// one replica, another that holds the old key seals itself on its own
// (leader or not, without a request), saying why in its log, and the new
// key unseals it.
func TestReplicaSealsAfterARekeyElsewhere(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	start := func() *App {
		dir := t.TempDir()
		rs.dirs = append(rs.dirs, dir)
		o := rs.options(t, dir)
		o.VaultEvery = 20 * time.Millisecond
		return startOpts(t, o)
	}
	a, b := start(), start()
	leader := leaderOf(t, a, b)
	follower := map[*App]*App{a: b, b: a}[leader]
	const newKey = "the replicas' new master key"
	admin := vault.Subject{Actor: "admin", Roles: []string{"admin"}}
	if err := leader.Vault.Rekey(context.Background(), admin, vault.SecretString(masterKey), vault.SecretString(newKey)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the follower seals itself", follower.Vault.Sealed)
	if leader.Vault.Sealed() {
		t.Fatal("the replica that changed the key sealed itself")
	}
	// Sealed turns true a moment before the follower logs why: wait for
	// the line rather than read the log at once.
	eventually(t, "the log says why", func() bool {
		return rs.log.Contains("the master key was changed on another server; unseal with the new key")
	})
	if rs.log.Contains("vault: check the master key against the database") {
		t.Fatalf("a key check failed during the rekey:\n%s", rs.log.String())
	}
	if err := follower.Vault.Unseal(context.Background(), vault.SecretString(newKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := follower.Vault.List(context.Background(), admin, vault.ListOptions{}); err != nil {
		t.Fatalf("the follower unsealed with the new key: %v", err)
	}
}
