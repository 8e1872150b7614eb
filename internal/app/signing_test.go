package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestSigningKeyMovesIntoTheVault: a data dir that signed with a key file
// before it had a vault moves that key into the vault at the first
// unsealed start; the file goes, the public key stays; a sealed restart
// cannot sign until unsealed, and never makes a new key behind the
// operator's back.
func TestSigningKeyMovesIntoTheVault(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := startVault(t, dir, "") // no vault yet: a key file
	if err != nil {
		t.Fatal(err)
	}
	before, err := a.keys.key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(dir, "keys", "signing.key")
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file before the vault: %v %v", fi, err)
	}
	a.Stop(ctx)

	const master = "a master key for the signing test"
	a, err = startVault(t, dir, master)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(priv); !os.IsNotExist(err) {
		t.Fatalf("the private key file is still on disk: %v", err)
	}
	s, err := a.Vault.SigningKey(ctx, vault.Subject{Actor: "t", Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	inVault, err := sign.ParsePrivateKey(s.Bytes(), "")
	if err != nil || inVault.ID() != before.ID() {
		t.Fatalf("vault key %v, want the file's key %s: %v", inVault.ID(), before.ID(), err)
	}
	pub, err := sign.LoadPublicKey(filepath.Join(dir, "keys", "signing.pub"))
	if err != nil || !pub.Equal(before.Public()) {
		t.Fatalf("public key file: %v", err)
	}
	a.Stop(ctx)

	a, err = startVault(t, dir, "") // sealed
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.keys.key(ctx); usererr.KindOf(err) != usererr.Unavailable {
		t.Fatalf("sealed vault: err = %v, want unavailable", err)
	}
	if _, err := os.Stat(priv); !os.IsNotExist(err) {
		t.Fatal("a sealed start made a new key file")
	}
}
