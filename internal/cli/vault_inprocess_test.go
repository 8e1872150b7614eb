package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// mainRun is one run of the command line through Main, as the binary does.
type mainRun struct {
	out, err string
	code     int
}

// phx runs Main with args; every output is kept in *seen, so a test can
// check that the master key never showed.
func phx(seen *[]string, stdin string, args ...string) mainRun {
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	*seen = append(*seen, out.String(), errb.String())
	return mainRun{out.String(), errb.String(), code}
}

// noMasterKey clears the master key from the environment for the test.
func noMasterKey(t *testing.T) {
	t.Setenv(vault.MasterKeyEnv, "")
	t.Setenv(masterKeyFileEnv, "")
}

// siteProject writes a project (phoenix.yaml with the environment
// staging) with a built site, and returns its phoenix.yaml and site folder.
func siteProject(t *testing.T) (cfg, site string) {
	t.Helper()
	dir := t.TempDir()
	cfg, site = filepath.Join(dir, "phoenix.yaml"), filepath.Join(dir, "dist")
	if err := os.WriteFile(cfg, []byte("project:\n  name: shop\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<h1>shop</h1>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, site
}

// TestInProcessCommandsTakeTheMasterKey: once the vault is initialized, the
// artifact signing key lives in it. A command without --server, which
// starts its server in-process, then deploys only when it is given the
// master key the way 'phoenix server' takes it (PHOENIX_MASTER_KEY_FILE or
// PHOENIX_MASTER_KEY); without it the error says so (not 'phoenix vault
// unseal', which cannot reach a server that lives for one command), and a
// release is refused before its pipeline starts. The key never shows.
func TestInProcessCommandsTakeTheMasterKey(t *testing.T) {
	noMasterKey(t)
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	cfg, site := siteProject(t)
	var seen []string
	deploy := func() mainRun {
		return phx(&seen, "", "deploy", site, "--env", "staging", "--config", cfg, "--data", data)
	}

	if r := phx(&seen, "", "vault", "init", "--generate-key-file", keyFile, "--data", data); r.code != 0 {
		t.Fatalf("vault init: exit %d: %s", r.code, r.err)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(b))

	const sealed = "error: the artifact signing key is in the vault, which is sealed\n" +
		"hint: set PHOENIX_MASTER_KEY_FILE (or run against a server with --server)\n"
	if r := deploy(); r.code != 1 || r.err != sealed {
		t.Fatalf("deploy without the key: exit %d:\n%s", r.code, r.err)
	}
	// What the hint used to say does not help: unsealing is per process.
	r := phx(&seen, "", "vault", "unseal", "--master-key-file", keyFile, "--data", data)
	if r.code != 0 || !strings.Contains(r.err, "opened only this command's own in-process server") {
		t.Fatalf("vault unseal: exit %d: %s%s", r.code, r.out, r.err)
	}
	if r := deploy(); r.code != 1 || r.err != sealed {
		t.Fatalf("deploy after an in-process unseal: exit %d:\n%s", r.code, r.err)
	}

	t.Run("release refused before it runs", func(t *testing.T) {
		r := phx(&seen, "", "release", "v1.0.0", "--dir", filepath.Dir(cfg), "--data", data)
		if r.code != 1 || !strings.Contains(r.err, "the release cannot sign its artifact: the artifact signing key is in the vault, which is sealed") ||
			!strings.Contains(r.err, "hint: set PHOENIX_MASTER_KEY_FILE (or run against a server with --server)") {
			t.Fatalf("release without the key: exit %d: %s", r.code, r.err)
		}
		r = phx(&seen, "", "runs", "--data", data, "-o", "json")
		var runs []json.RawMessage
		if r.code != 0 || json.Unmarshal([]byte(r.out), &runs) != nil || len(runs) != 0 {
			t.Fatalf("runs after a refused release (want none): exit %d: %s%s", r.code, r.out, r.err)
		}
	})

	t.Run("PHOENIX_MASTER_KEY_FILE", func(t *testing.T) {
		t.Setenv(masterKeyFileEnv, keyFile)
		if r := deploy(); r.code != 0 || !strings.Contains(r.out, "to shop/staging as deployment 1") {
			t.Fatalf("deploy with PHOENIX_MASTER_KEY_FILE: exit %d: %s%s", r.code, r.out, r.err)
		}
	})
	t.Run("PHOENIX_MASTER_KEY", func(t *testing.T) {
		t.Setenv(vault.MasterKeyEnv, key)
		if r := deploy(); r.code != 0 || !strings.Contains(r.out, "as deployment 2") {
			t.Fatalf("deploy with PHOENIX_MASTER_KEY: exit %d: %s%s", r.code, r.out, r.err)
		}
		if os.Getenv(vault.MasterKeyEnv) != "" {
			t.Error("PHOENIX_MASTER_KEY is still in the environment, for every process the server starts to inherit")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		wrong := filepath.Join(t.TempDir(), "wrong.key")
		if err := os.WriteFile(wrong, []byte("not the key of this vault\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(masterKeyFileEnv, wrong)
		if r := deploy(); r.code != 2 || !strings.Contains(r.err, "wrong master key") {
			t.Fatalf("deploy with a wrong key: exit %d: %s", r.code, r.err)
		}
	})
	t.Run("missing key file", func(t *testing.T) {
		t.Setenv(masterKeyFileEnv, filepath.Join(t.TempDir(), "nope"))
		if r := deploy(); r.code != 2 || !strings.HasPrefix(r.err, "error: PHOENIX_MASTER_KEY_FILE: key file") {
			t.Fatalf("deploy with a missing key file: exit %d: %s", r.code, r.err)
		}
	})

	for _, s := range seen {
		if strings.Contains(s, key) {
			t.Fatalf("the master key showed in the output:\n%s", s)
		}
	}
}

// TestSealedVaultSaysSo: a secret command that finds the vault sealed and
// has no key to open it (none given, no terminal to ask) says that the
// vault is sealed and how to give the key, in the words docs/vault.md
// quotes: a running server is opened by 'phoenix vault unseal' (or a
// command given the key); an in-process one only by a command given the
// key.
func TestSealedVaultSaysSo(t *testing.T) {
	if tty, err := os.Open("/dev/tty"); err == nil {
		tty.Close()
		t.Skip("a terminal is attached: the command would prompt for the passphrase")
	}
	docs, err := os.ReadFile("../../docs/vault.md")
	if err != nil {
		t.Fatal(err)
	}
	noMasterKey(t)
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	var seen []string
	if r := phx(&seen, "", "vault", "init", "--generate-key-file", keyFile, "--data", data); r.code != 0 {
		t.Fatalf("vault init: exit %d: %s", r.code, r.err)
	}
	if r := phx(&seen, "s3cr3t-value\n", "secret", "set", "X", "--master-key-file", keyFile, "--data", data); r.code != 0 {
		t.Fatalf("secret set: exit %d: %s", r.code, r.err)
	}
	sealedCommands := func(t *testing.T, want string) {
		t.Helper()
		if !strings.Contains(string(docs), "```\n"+want+"```\n") {
			t.Errorf("docs/vault.md does not quote what is printed:\n%s", want)
		}
		for _, args := range [][]string{{"secret", "get", "X"}, {"secret", "list"}, {"secret", "history", "X"}} {
			r := phx(&seen, "", append(args, "--data", data)...)
			if r.code != 1 || r.err != want || r.out != "" {
				t.Errorf("%s: exit %d:\n%s%s", strings.Join(args, " "), r.code, r.out, r.err)
			}
		}
	}

	t.Run("in-process", func(t *testing.T) {
		sealedCommands(t, "error: vault is sealed: no master key was given\n"+
			"hint: set PHOENIX_MASTER_KEY_FILE (or run against a server with --server)\n")
	})

	t.Run("running server", func(t *testing.T) {
		key, err := vault.LoadMasterKeyFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", MasterKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(context.Background())
		if r := phx(&seen, "", "secret", "get", "X", "--data", data); r.code != 0 || r.out != "s3cr3t-value" {
			t.Fatalf("secret get from the unsealed server: exit %d: %s", r.code, r.err)
		}
		if r := phx(&seen, "", "vault", "seal", "--data", data); r.code != 0 {
			t.Fatalf("vault seal: exit %d: %s", r.code, r.err)
		}
		sealedCommands(t, "error: vault is sealed; run phoenix vault unseal\n"+
			"hint: give the master key with PHOENIX_MASTER_KEY_FILE, --master-key-file, PHOENIX_MASTER_KEY or the passphrase prompt\n")
		t.Setenv(masterKeyFileEnv, keyFile) // the secret command unseals the server itself
		if r := phx(&seen, "", "secret", "get", "X", "--data", data); r.code != 0 || r.out != "s3cr3t-value" {
			t.Fatalf("secret get with PHOENIX_MASTER_KEY_FILE: exit %d: %s", r.code, r.err)
		}
	})
}
