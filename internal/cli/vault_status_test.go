package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// startVaultServer initializes the vault of a new data dir and starts a
// server on it (on 127.0.0.1) with its master key, as 'phoenix server
// --master-key-file' does; it returns the data dir, the key file and the
// server, stopped when the test ends.
func startVaultServer(t *testing.T) (data, keyFile string, a *app.App) {
	t.Helper()
	noMasterKey(t)
	data = t.TempDir()
	keyFile = filepath.Join(t.TempDir(), "master.key")
	var seen []string
	if r := phx(&seen, "", "vault", "init", "--generate-key-file", keyFile, "--data", data); r.code != 0 {
		t.Fatalf("vault init: exit %d: %s", r.code, r.err)
	}
	key, err := vault.LoadMasterKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err = app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", MasterKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return data, keyFile, a
}

// TestVaultStatusLeavesASealedVaultSealed: 'phoenix vault status' given a
// master key (--master-key-file, PHOENIX_MASTER_KEY_FILE or
// PHOENIX_MASTER_KEY) checked it by unsealing the vault, so a vault an
// operator had sealed on purpose ('phoenix vault seal') was open again
// after a look at its status. The key is checked without unsealing: the
// status says sealed and whether the key is valid, and the server's vault
// stays sealed.
func TestVaultStatusLeavesASealedVaultSealed(t *testing.T) {
	data, keyFile, a := startVaultServer(t)
	var seen []string
	if r := phx(&seen, "", "vault", "seal", "--data", data); r.code != 0 || !a.Vault.Sealed() {
		t.Fatalf("vault seal: exit %d: %s (sealed %v)", r.code, r.err, a.Vault.Sealed())
	}
	wrong := filepath.Join(t.TempDir(), "wrong.key")
	if err := os.WriteFile(wrong, []byte("not the key of this vault\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		args       []string
		env        map[string]string
	}{
		{"--master-key-file", "valid", []string{"--master-key-file", keyFile}, nil},
		{"PHOENIX_MASTER_KEY_FILE", "valid", nil, map[string]string{masterKeyFileEnv: keyFile}},
		{"PHOENIX_MASTER_KEY", "valid", nil, map[string]string{vault.MasterKeyEnv: strings.TrimSpace(string(b))}},
		{"a wrong key", "wrong", []string{"--master-key-file", wrong}, nil},
		{"no key", "not given", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := phx(&seen, "", append([]string{"vault", "status", "--data", data, "-o", "json"}, tc.args...)...)
			var st vaultStatus
			if r.code != 0 || json.Unmarshal([]byte(r.out), &st) != nil {
				t.Fatalf("vault status: exit %d: %s%s", r.code, r.out, r.err)
			}
			if !st.Sealed || st.MasterKey != tc.want || !a.Vault.Sealed() {
				t.Fatalf("vault status says sealed %v, master key %q (want sealed, %q); the server's vault sealed: %v",
					st.Sealed, st.MasterKey, tc.want, a.Vault.Sealed())
			}
		})
	}
	r := phx(&seen, "", "vault", "status", "--data", data, "--master-key-file", keyFile)
	if r.code != 0 || !strings.Contains(r.out, " sealed ") || !strings.Contains(r.out, " valid ") || !a.Vault.Sealed() {
		t.Fatalf("vault status (table): exit %d: %s%s (the server's vault sealed: %v)", r.code, r.out, r.err, a.Vault.Sealed())
	}
}

// TestVaultStatusOfAViewerGivenAKey: a user who may read the vault's state
// but not check a key (vault.manage) was refused the status outright when
// a master key was in the environment; the status is shown, the key
// marked not checked.
func TestVaultStatusOfAViewerGivenAKey(t *testing.T) {
	data, keyFile, _ := startVaultServer(t)
	tok := viewerToken(t, data)
	var seen []string
	r := phx(&seen, "", "vault", "status", "--data", data, "--token", tok, "--master-key-file", keyFile, "-o", "json")
	var st vaultStatus
	if r.code != 0 || json.Unmarshal([]byte(r.out), &st) != nil || st.MasterKey != "not checked" || !strings.Contains(r.err, "vault.manage") {
		t.Fatalf("vault status by a viewer with a key: exit %d: %s%s", r.code, r.out, r.err)
	}
}
