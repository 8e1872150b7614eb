package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

var cheapKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// startVault starts a server on dir with the master key key (none: the
// vault stays sealed). Its verifications soak for 200 ms, as
// startWithHook's do: at the default 10 s, a test waiting for the
// reconfigurations of an automatic rollback (projects.wait) waited for the
// restored release's whole verification.
func startVault(t *testing.T, dir, key string) (*App, error) {
	t.Helper()
	a, err := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0",
		MasterKey: vault.SecretString(key), VaultKDF: cheapKDF, VerifySoak: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		return nil, err
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a, nil
}

// TestVaultAtStart: no key leaves the vault sealed (the server runs); a
// key initializes a new vault, unseals it on later starts, and a wrong key
// stops the start without changing anything.
func TestVaultAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const key = "the right master key 123"
	admin := vault.Subject{Actor: "t", Roles: []string{"admin"}}
	ctx := context.Background()

	a, err := startVault(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := a.Vault.Status(ctx); err != nil || st.Initialized || !st.Sealed {
		t.Fatalf("without a key: %+v %v", st, err)
	}
	a.Stop(ctx)

	a, err = startVault(t, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Vault.Set(ctx, admin, "K", vault.SecretString("value-1"), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	a.Stop(ctx)

	// A key the operator must fix is a usage error (phoenix server exits 2).
	if _, err := startVault(t, dir, "a wrong master key 99"); !errors.Is(err, vault.ErrWrongKey) || usererr.KindOf(err) != usererr.Usage {
		t.Fatalf("wrong key at start: %v", err)
	}
	if _, err := startVault(t, t.TempDir(), "short"); err == nil || usererr.KindOf(err) != usererr.Usage ||
		!strings.Contains(err.Error(), "too short") {
		t.Fatalf("short key at start: %v", err)
	}
	a, err = startVault(t, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if s, _, err := a.Vault.Get(ctx, admin, "K", 0); err != nil || s.Reveal() != "value-1" {
		t.Fatalf("after restart: %v", err)
	}
}

func TestVaultPolicyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "vault-policy.yaml"), []byte("rules:\n  - secrets: ['*']\n    allow: [read]\n"), 0o600)
	if _, err := startVault(t, dir, ""); err == nil {
		t.Fatal("a rule naming neither roles nor pipelines was accepted")
	}
	os.WriteFile(filepath.Join(dir, "vault-policy.yaml"), []byte("rules:\n  - secrets: ['*']\n    roles: [admin]\n    allow: [read, list, write]\n  - secrets: ['*']\n    roles: [viewer]\n    allow: [list]\n"), 0o600)
	a, err := startVault(t, dir, "the right master key 123")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Vault.Set(ctx, vault.Subject{Actor: "a", Roles: []string{"admin"}}, "K", vault.SecretString("value"), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	items, err := a.Vault.List(ctx, vault.Subject{Actor: "v", Roles: []string{"viewer"}}, vault.ListOptions{})
	names := []string{}
	for _, it := range items {
		names = append(names, it.Name)
	}
	// K and the artifact signing, audit and edge session keys the server
	// keeps in the vault.
	if err != nil || !slices.Equal(names, []string{"K", vault.AuditKeyName, edgeSessionKeyName, vault.SigningKeyName}) {
		t.Fatalf("viewer list under the file's policy (the default hides everything): %v %v", names, err)
	}
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		ok         bool
	}{
		{"empty file denies all", "", true},
		{"rules", "production: ['PROD_*']\nrules:\n  - secrets: ['*']\n    roles: [admin]\n    allow: [read, list, write]\n", true},
		{"unknown key", "rulez: []\n", false},
		{"unknown rule key", "rules:\n  - secrets: ['*']\n    rolez: [admin]\n", false},
		{"bad permission", "rules:\n  - secrets: ['*']\n    roles: [admin]\n    allow: [delete]\n", false},
		{"bad glob", "rules:\n  - secrets: ['[']\n    roles: [admin]\n    allow: [read]\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePolicy("vault-policy.yaml", []byte(tt.yaml))
			if (err == nil) != tt.ok {
				t.Fatalf("parsePolicy: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "vault-policy.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
		})
	}
}

// A misspelt field is named in the file's terms, not Go's ("field rolez
// not found in type vault.Rule").
func TestParsePolicyNamesUnknownFields(t *testing.T) {
	t.Parallel()
	for yml, want := range map[string]string{
		"rules:\n  - secrets: ['*']\n    rolez: [admin]\n": "vault policy file vault-policy.yaml: line 3: unknown field rolez in a rule (it has secrets, roles, pipelines, environments, allow)",
		"rulez: []\n": "vault policy file vault-policy.yaml: line 1: unknown field rulez (the file has production and rules)",
	} {
		if _, err := parsePolicy("vault-policy.yaml", []byte(yml)); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", yml, err, want)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("rules:\n  - secrets: ['*']\n    roles: [admin]\n    allow: [read]\n"))
	f.Add([]byte("production: ['PROD_*']\n"))
	f.Add([]byte("rules: [{secrets: ['['], pipelines: [x], allow: [list]}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePolicy("f", b)
		if err == nil && p.Validate() != nil {
			t.Fatal("an invalid policy was accepted")
		}
	})
}
