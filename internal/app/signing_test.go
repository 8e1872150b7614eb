package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestSigningKeyMovesIntoTheVault: a data dir that signed with a key file
// before it had a vault moves that key into the vault at the first
// unsealed start; the file goes, the public key stays; a sealed restart
// cannot sign until unsealed, and never makes a new key behind the
// operator's back.
func TestSigningKeyMovesIntoTheVault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, before := startWithKeyFile(t)
	priv := filepath.Join(dir, "keys", "signing.key")

	const master = "a master key for the signing test"
	a, err := startVault(t, dir, master)
	if err != nil {
		t.Fatal(err)
	}
	assertKeyMoved(t, a, priv, before)
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

// TestSigningKeyMovesAtUnseal: a server started sealed, with an initialized
// vault that holds no signing key yet and a keys/signing.key file beside
// it, moves the key in when 'phoenix vault unseal' (the API) opens the
// vault: the file is gone right after the unseal, and the vault holds the
// file's key, which the server then signs with.
func TestSigningKeyMovesAtUnseal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, before := startWithKeyFile(t)
	const master = "a master key for the unseal test"
	initVaultOffline(t, dir, master)
	a, err := startVault(t, dir, "") // sealed, initialized
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(dir, "keys", "signing.key")
	if _, err := os.Stat(priv); err != nil {
		t.Fatalf("a sealed start moved or removed the key file: %v", err)
	}
	if _, err := a.keys.key(ctx); err != nil { // sealed: signs with the file key
		t.Fatal(err)
	}
	unsealAPI(t, a, dir, master)
	assertKeyMoved(t, a, priv, before)
	if now, err := a.keys.key(ctx); err != nil || now.ID() != before.ID() {
		t.Fatalf("key after the unseal %v, %v", now.ID(), err)
	}
}

// assertKeyMoved checks that the key file priv is gone and the vault
// holds the key want.
func assertKeyMoved(t *testing.T, a *App, priv string, want sign.PrivateKey) {
	t.Helper()
	if _, err := os.Stat(priv); !os.IsNotExist(err) {
		t.Fatalf("the private key file is still on disk: %v", err)
	}
	s, err := a.Vault.SigningKey(context.Background(), keySubject)
	if err != nil {
		t.Fatal(err)
	}
	inVault, err := sign.ParsePrivateKey(s.Bytes(), "")
	if err != nil || inVault.ID() != want.ID() {
		t.Fatalf("vault key %v, want the file's key %s: %v", inVault.ID(), want.ID(), err)
	}
}

// startWithKeyFile starts and stops a server without a vault, which signs
// with the key file it makes (0600), and returns its data dir and key.
func startWithKeyFile(t *testing.T) (string, sign.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	a, err := startVault(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(ctx)
	key, err := a.keys.key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "keys", "signing.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file before the vault: %v %v", fi, err)
	}
	return dir, key
}

// initVaultOffline initializes the vault of a stopped server's data dir
// without starting the server (so nothing moves in).
func initVaultOffline(t *testing.T, dir, master string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := vault.New(vault.Options{DB: db, KDF: cheapKDF})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Init(ctx, vault.SecretString(master)); err != nil {
		t.Fatal(err)
	}
}

// unsealAPI unseals a's vault through POST /api/v1/vault/unseal with the
// admin token.
func unsealAPI(t *testing.T, a *App, dir, master string) {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(api.VaultKeyRequest{MasterKey: master})
	req, _ := http.NewRequest("POST", a.APIURL()+"/api/v1/vault/unseal", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if raw, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 {
		t.Fatalf("POST /api/v1/vault/unseal: %d %s", resp.StatusCode, raw)
	}
}
