package cli

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
)

// TestSecretListChecksThePermissionFirst: 'phoenix secret list' by a user
// without secrets.list (a viewer) was told the vault was not initialized,
// or sealed (or, given a master key, that it lacked vault.manage: the
// command unsealed first), whatever the vault's state: the command looked
// at the vault before the server checked the permission. Now the server
// answers first, 403 naming secrets.list, in every state of the vault, and
// the vault stays as it was.
func TestSecretListChecksThePermissionFirst(t *testing.T) {
	const denied = "error: permission denied: secrets.list on the server\nhint: ask an admin: phoenix user grant USER ROLE [--env ENV]\n"
	if docs, err := os.ReadFile("../../docs/vault.md"); err != nil || !strings.Contains(string(docs), "```\n"+denied+"```\n") {
		t.Errorf("docs/vault.md does not quote what is printed (%v):\n%s", err, denied)
	}
	var seen []string
	viewer := viewerToken
	list := func(t *testing.T, data, tok string) {
		t.Helper()
		r := phx(&seen, "", "secret", "list", "--data", data, "--token", tok)
		if r.code != 1 || r.err != denied || r.out != "" {
			t.Errorf("secret list by a viewer: exit %d:\n%s%swant exit 1:\n%s", r.code, r.out, r.err, denied)
		}
	}

	t.Run("unsealed", func(t *testing.T) {
		data, _, _ := startVaultServer(t)
		list(t, data, viewer(t, data))
	})
	t.Run("sealed", func(t *testing.T) {
		data, keyFile, a := startVaultServer(t)
		tok := viewer(t, data)
		if r := phx(&seen, "", "vault", "seal", "--data", data); r.code != 0 {
			t.Fatalf("vault seal: exit %d: %s", r.code, r.err)
		}
		list(t, data, tok)
		t.Setenv(masterKeyFileEnv, keyFile) // given the key, the viewer may not unseal either
		list(t, data, tok)
		if !a.Vault.Sealed() {
			t.Error("the viewer's secret list unsealed the vault")
		}
	})
	t.Run("not initialized", func(t *testing.T) {
		noMasterKey(t)
		data := t.TempDir()
		a, err := app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(context.Background())
		list(t, data, viewer(t, data))
		// An admin is still told the vault is not initialized.
		r := phx(&seen, "", "secret", "list", "--data", data)
		if r.code != 1 || !strings.HasPrefix(r.err, "error: vault is not initialized: it holds no secrets yet\n") {
			t.Errorf("secret list by the admin: exit %d: %s", r.code, r.err)
		}
	})
}

// viewerToken adds the user bob with the viewer role to the server on data
// and returns a token of his.
func viewerToken(t *testing.T, data string) string {
	t.Helper()
	return userToken(t, data, "bob", "viewer")
}

// userToken adds the user name with role on data dir data, without a
// server, and returns a token of theirs.
func userToken(t *testing.T, data, name, role string) string {
	t.Helper()
	var seen []string
	if r := phx(&seen, "", "user", "add", name, "--role", role, "--data", data); r.code != 0 {
		t.Fatalf("user add: exit %d: %s", r.code, r.err)
	}
	r := phx(&seen, "", "token", "create", "--user", name, "--name", name, "-o", "json", "--data", data)
	var tok api.TokenResponse
	if r.code != 0 || json.Unmarshal([]byte(r.out), &tok) != nil || tok.Secret == "" {
		t.Fatalf("token create: exit %d: %s%s", r.code, r.out, r.err)
	}
	return tok.Secret
}
