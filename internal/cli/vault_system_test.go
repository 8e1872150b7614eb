package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestSystemKeysCannotBeReadOrSet: through cli.Main, the server's own keys
// (the artifact signing key, the audit key, the edge session key, the ACME
// key) are listed with SYSTEM yes, but 'secret get', 'set', 'import',
// 'delete' and the rest are refused with the key named and why, and no
// output ever holds a key's value. The data keys rotate; ordinary secrets
// work as before.
func TestSystemKeysCannotBeReadOrSet(t *testing.T) {
	noMasterKey(t)
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	var seen []string
	if r := phx(&seen, "", "vault", "init", "--generate-key-file", keyFile, "--data", data); r.code != 0 {
		t.Fatalf("vault init: exit %d: %s", r.code, r.err)
	}
	// A server started with the key makes its keys in the vault; the test
	// reads them as the server does, to look for them in the output.
	key, err := vault.LoadMasterKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", MasterKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	server := vault.Subject{Actor: "test", Roles: []string{"admin"}, System: true}
	if _, err := a.Vault.Set(ctx, server, vault.ACMEKeyName, vault.SecretString("c2VydmVyLW93bmVkLWFjbWUta2V5LTMyLWJ5dGVzISE="), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, name := range vault.SystemKeys() {
		s, _, err := a.Vault.Get(ctx, server, name, 0)
		if err != nil {
			t.Fatalf("the server has no %s: %v", name, err)
		}
		for _, line := range strings.Split(s.Reveal(), "\n") {
			if len(line) > 12 {
				values = append(values, line)
			}
		}
	}
	a.Stop(ctx)
	t.Setenv(masterKeyFileEnv, keyFile)

	d := []string{"--data", data}
	planted := filepath.Join(t.TempDir(), "planted")
	os.WriteFile(planted, []byte("planted-value\n"), 0o600)
	for _, name := range vault.SystemKeys() {
		env := filepath.Join(t.TempDir(), ".env")
		os.WriteFile(env, []byte(name+"=planted-value\n"), 0o600)
		for _, args := range [][]string{
			{"secret", "get", name},
			{"secret", "get", name, "--version", "1"},
			{"secret", "set", name, "--from-file", planted},
			{"secret", "set", name, "--signing-key", "--from-file", planted},
			{"secret", "import", env, "--overwrite"},
			{"secret", "delete", name},
			{"secret", "purge", name, "--yes"},
			{"secret", "recover", name},
			{"secret", "disable", name, "--version", "1"},
			{"secret", "rotate", name, "--every", "30"},
		} {
			r := phx(&seen, "", append(args, d...)...)
			if r.code != 1 || r.out != "" || !strings.HasPrefix(r.err, "error: "+name+" is one of the server's own keys") &&
				!strings.HasPrefix(r.err, "error: line 1: "+name+" is one of the server's own keys") {
				t.Errorf("phoenix %s: exit %d, want 1 and the key named:\n%s%s", strings.Join(args, " "), r.code, r.out, r.err)
			}
		}
		r := phx(&seen, "", append([]string{"secret", "rotate", name}, d...)...)
		if rotates := name == vault.EdgeSessionKeyName || name == vault.ACMEKeyName; rotates != (r.code == 0) {
			t.Errorf("phoenix secret rotate %s: exit %d: %s%s", name, r.code, r.out, r.err)
		}
		if r := phx(&seen, "", append([]string{"secret", "history", name}, d...)...); r.code != 0 {
			t.Errorf("phoenix secret history %s: exit %d: %s", name, r.code, r.err)
		}
	}

	docs := map[string]string{}
	for _, f := range []string{"vault.md", "audit.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", f))
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = string(b)
	}
	for _, args := range [][]string{{"secret", "get", "PHOENIX_AUDIT_KEY"}, {"secret", "delete", "PHOENIX_SIGNING_KEY"}} {
		r := phx(&seen, "", append(args, d...)...)
		quote := "$ phoenix " + strings.Join(args, " ") + "\n" + r.err
		for f, text := range docs {
			if (f == "vault.md" || args[1] == "get") && !strings.Contains(text, quote) {
				t.Errorf("docs/%s does not quote what is printed:\n%s", f, quote)
			}
		}
	}

	r := phx(&seen, "", append([]string{"secret", "list"}, d...)...)
	if r.code != 0 || !strings.Contains(r.out, "SYSTEM") {
		t.Fatalf("secret list: exit %d: %s%s", r.code, r.out, r.err)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 || (f[4] == "yes") != vault.IsSystemKey(f[0]) {
			t.Errorf("secret list marks the wrong keys as system:\n%s", r.out)
		}
	}
	if r := phx(&seen, "", append([]string{"secret", "list", "-o", "json"}, d...)...); r.code != 0 || strings.Count(r.out, `"system": true`) != 4 {
		t.Errorf("secret list -o json: %s", r.out)
	}

	if r := phx(&seen, "plain-value\n", append([]string{"secret", "set", "PLAIN"}, d...)...); r.code != 0 {
		t.Fatalf("secret set PLAIN: exit %d: %s", r.code, r.err)
	}
	if r := phx(&seen, "", append([]string{"secret", "get", "PLAIN"}, d...)...); r.code != 0 || r.out != "plain-value" {
		t.Fatalf("secret get PLAIN: exit %d: %s%s", r.code, r.out, r.err)
	}
	if r := phx(&seen, "", append([]string{"secret", "delete", "PLAIN"}, d...)...); r.code != 0 {
		t.Fatalf("secret delete PLAIN: exit %d: %s", r.code, r.err)
	}
	if r := phx(&seen, "", append([]string{"audit", "log", "-o", "json"}, d...)...); r.code != 0 || !strings.Contains(r.out, `"outcome":"denied"`) {
		t.Fatalf("audit log: exit %d, the refusals are not recorded as denials", r.code)
	}

	for _, s := range seen {
		for _, v := range append(values, "planted-value") {
			if strings.Contains(s, v) {
				t.Fatalf("a system key's value (or the planted one) is in the output:\n%s", s)
			}
		}
	}
}
