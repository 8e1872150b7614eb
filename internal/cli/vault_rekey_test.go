package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestVaultRekey: 'phoenix vault rekey' against a running server changes
// its master key (a sealed one is unsealed with the old key first);
// secrets read back with the new key, the old one is wrong for the
// status, and a restart with the old key stops. A viewer, a wrong old key
// and an existing --generate-key-file are refused, changing nothing and
// leaving no key file behind.
func TestVaultRekey(t *testing.T) {
	data, oldFile, a := startVaultServer(t)
	dir := t.TempDir()
	var seen []string
	if r := phx(&seen, "kept value\n", "secret", "set", "KEPT", "--data", data, "--master-key-file", oldFile); r.code != 0 {
		t.Fatalf("secret set: exit %d: %s", r.code, r.err)
	}
	newFile := filepath.Join(dir, "master.key.new")

	tok := viewerToken(t, data)
	r := phx(&seen, "", "vault", "rekey", "--data", data, "--token", tok, "--master-key-file", oldFile, "--generate-key-file", newFile)
	if r.code != 1 || !strings.Contains(r.err, "permission denied: vault.manage") {
		t.Fatalf("rekey by a viewer: exit %d: %s%s", r.code, r.out, r.err)
	}
	wrong := filepath.Join(dir, "wrong.key")
	if err := os.WriteFile(wrong, []byte("not the key of this vault\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = phx(&seen, "", "vault", "rekey", "--data", data, "--master-key-file", wrong, "--generate-key-file", newFile)
	if r.code == 0 || !strings.Contains(r.err, "wrong master key") {
		t.Fatalf("rekey with a wrong old key: exit %d: %s%s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(newFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused rekey left its generated key file: %v", err)
	}
	r = phx(&seen, "", "vault", "rekey", "--data", data, "--master-key-file", oldFile, "--generate-key-file", wrong)
	if r.code != 2 || !strings.Contains(r.err, "already exists") {
		t.Fatalf("rekey onto an existing file: exit %d: %s%s", r.code, r.out, r.err)
	}
	r = phx(&seen, "", "vault", "rekey", "--data", data, "--master-key-file", oldFile)
	if r.code != 2 || !strings.Contains(r.err, "new-key-file") {
		t.Fatalf("rekey without a new key: exit %d: %s%s", r.code, r.out, r.err)
	}
	if r := phx(&seen, "", "vault", "status", "--data", data, "--master-key-file", oldFile, "-o", "json"); !strings.Contains(r.out, `"master_key": "valid"`) {
		t.Fatalf("the old key after refused rekeys: %s%s", r.out, r.err)
	}

	if r := phx(&seen, "", "vault", "seal", "--data", data); r.code != 0 {
		t.Fatalf("vault seal: exit %d: %s", r.code, r.err)
	}
	r = phx(&seen, "", "vault", "rekey", "--data", data, "--master-key-file", oldFile, "--generate-key-file", newFile, "-o", "json")
	var res vaultRekeyResult
	if r.code != 0 || json.Unmarshal([]byte(r.out), &res) != nil || res.Sealed || res.NewKeyFile != newFile || !res.Generated {
		t.Fatalf("rekey: exit %d: %s%s", r.code, r.out, r.err)
	}
	if fi, err := os.Stat(newFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the new key file: %v %v", fi, err)
	}
	if r := phx(&seen, "", "secret", "get", "KEPT", "--data", data, "--master-key-file", newFile); r.code != 0 || r.out != "kept value" {
		t.Fatalf("secret get after the rekey: exit %d: %q %s", r.code, r.out, r.err)
	}
	for file, want := range map[string]string{oldFile: "wrong", newFile: "valid"} {
		if r := phx(&seen, "", "vault", "status", "--data", data, "--master-key-file", file, "-o", "json"); !strings.Contains(r.out, `"master_key": "`+want+`"`) {
			t.Fatalf("vault status with the %s key after the rekey: %s%s", want, r.out, r.err)
		}
	}

	// Again, from a key file of the operator's, with the table output.
	third := filepath.Join(dir, "third.key")
	if err := os.WriteFile(third, []byte("the third master key of this test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = phx(&seen, "", "vault", "rekey", "--data", data, "--master-key-file", newFile, "--new-key-file", third)
	if r.code != 0 || !strings.Contains(r.out, "master key changed; the old key no longer opens it") ||
		!strings.Contains(r.out, "put "+third+" where its old key was") || !strings.Contains(r.out, "backups made before now") {
		t.Fatalf("rekey with --new-key-file: exit %d: %s%s", r.code, r.out, r.err)
	}

	// A restart with the old key stops; with the new one it serves.
	a.Stop(context.Background())
	for _, tc := range []struct {
		file string
		ok   bool
	}{{newFile, false}, {third, true}} {
		key, err := vault.LoadMasterKeyFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		b, err := app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", MasterKey: key})
		if err != nil {
			t.Fatal(err)
		}
		err = b.Start(context.Background())
		if tc.ok == (err != nil) || !tc.ok && !errors.Is(err, vault.ErrWrongKey) {
			t.Fatalf("a start with the %s key: %v", tc.file, err)
		}
		if err == nil {
			if r := phx(&seen, "", "secret", "get", "KEPT", "--data", data); r.code != 0 || r.out != "kept value" {
				t.Errorf("secret get after a restart with the new key: exit %d: %q %s", r.code, r.out, r.err)
			}
		}
		b.Stop(context.Background())
	}
	keys := []string{"the third master key of this test"}
	for _, f := range []string{oldFile, newFile} {
		k, _ := vault.LoadMasterKeyFile(f)
		keys = append(keys, k.Reveal())
	}
	for _, s := range seen {
		for _, k := range keys {
			if strings.Contains(s, k) {
				t.Fatalf("a command printed a master key:\n%s", s)
			}
		}
	}
}

// TestVaultRekeyDocsShowTheOutput: docs/vault.md's example of 'phoenix
// vault rekey' is what the command prints.
func TestVaultRekeyDocsShowTheOutput(t *testing.T) {
	t.Parallel()
	docs, err := os.ReadFile("../../docs/vault.md")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res := vaultRekeyResult{Status: vault.Status{VaultID: "9f2e866d6bd52c13f790d576a735caeb"}, NewKeyFile: "/root/master.key.new", Generated: true}
	if err := printRekeyed(&out, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(docs), out.String()) {
		t.Errorf("docs/vault.md does not show what the command prints:\n%s", out.String())
	}
}
