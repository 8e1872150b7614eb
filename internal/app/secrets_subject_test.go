package app

import (
	"context"
	"errors"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/vault"
)

func TestSecretSubjectFollowsTheRun(t *testing.T) {
	t.Parallel()
	run := func(env string, envs ...string) context.Context {
		return action.WithRun(context.Background(), action.RunInfo{ID: "7", Trigger: "release", Environment: env, Environments: envs})
	}
	cases := []struct {
		name string
		ctx  context.Context
		prod bool
		env  string
	}{
		{"no run: webhook verification", context.Background(), false, ""},
		{"staging step", run("staging", "staging", "production"), false, "staging"},
		{"production step", run("production", "staging", "production"), true, "production"},
		{"whole-run step of a release reaching production", run("", "staging", "production"), true, ""},
		{"whole-run step of a staging release", run("", "staging"), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := secretSubject(c.ctx)
			if s.Production != c.prod || s.Environment != c.env || !s.IsRun() {
				t.Fatalf("subject = %+v", s)
			}
		})
	}
}

// A production secret kept from a staging run reaches the pipeline as
// action.ErrProductionOnly, so a staging release's fetch-secrets does not
// fail on it; a missing secret stays action.ErrNoSecret.
func TestVaultSecretsTellProductionOnlyFromMissing(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF})
	admin, yes := vault.Subject{Actor: "admin", Roles: []string{"admin"}}, true
	if _, err := a.Vault.Set(context.Background(), admin, "PROD_HOOK", vault.SecretString("https://hook.example/x"), vault.SetOptions{Production: &yes}); err != nil {
		t.Fatal(err)
	}
	staging := action.WithRun(context.Background(), action.RunInfo{ID: "1", Trigger: "release", Environments: []string{"staging"}})
	if _, err := (vaultSecrets{a.Vault}).Secret(staging, "PROD_HOOK"); !errors.Is(err, action.ErrProductionOnly) {
		t.Fatalf("staging run: %v, want action.ErrProductionOnly", err)
	}
	if _, err := (vaultSecrets{a.Vault}).Secret(staging, "NOT_THERE"); !errors.Is(err, action.ErrNoSecret) || errors.Is(err, action.ErrProductionOnly) {
		t.Fatalf("missing secret: %v, want action.ErrNoSecret", err)
	}
	prod := action.WithRun(context.Background(), action.RunInfo{ID: "2", Trigger: "release", Environments: []string{"staging", "production"}})
	if v, err := (vaultSecrets{a.Vault}).Secret(prod, "PROD_HOOK"); err != nil || v != "https://hook.example/x" {
		t.Fatalf("production run: %q, %v", v, err)
	}
}

// The vault tells fetch-secrets when a secret was last set, for
// vault.rotation's check, though runs may not list metadata.
func TestVaultSecretsTellWhenASecretWasSet(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF})
	admin := vault.Subject{Actor: "admin", Roles: []string{"admin"}}
	vi, err := a.Vault.Set(context.Background(), admin, "API_KEYS", vault.SecretString("k1,k2,k3"), vault.SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var src action.SecretSource = vaultSecrets{a.Vault}
	ager, ok := src.(action.SecretAger)
	if !ok {
		t.Fatal("the vault's secret source does not tell when a secret was set")
	}
	if at, err := ager.SecretSetAt(context.Background(), "API_KEYS"); err != nil || !at.Equal(vi.CreatedAt) {
		t.Fatalf("set at %v (%v), want %v", at, err, vi.CreatedAt)
	}
}

// A production secret kept from a staging step is one sentence in the
// step's error: the secret, the run, where it acts and what to do; not
// two errors joined ("a production secret, read only by production runs
// access denied: PROD_HOOK is a production secret and run release is not
// a production run").
func TestProductionOnlySecretIsOneSentence(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF})
	admin, yes := vault.Subject{Actor: "admin", Roles: []string{"admin"}}, true
	if _, err := a.Vault.Set(context.Background(), admin, "PROD_HOOK", vault.SecretString("https://hook.example/x"), vault.SetOptions{Production: &yes}); err != nil {
		t.Fatal(err)
	}
	step := action.WithRun(context.Background(), action.RunInfo{ID: "42", Trigger: "release", Environment: "staging",
		Environments: []string{"staging", "production"}})
	_, err := (vaultSecrets{a.Vault}).Secret(step, "PROD_HOOK")
	if !errors.Is(err, action.ErrProductionOnly) || !errors.Is(err, vault.ErrDenied) {
		t.Fatalf("staging step: %v, want action.ErrProductionOnly and the vault's denial", err)
	}
	want := "PROD_HOOK is a production secret and run release#42 does not deploy to production (this step acts on staging), " +
		"so it may not read it: read it in a step that deploys to production, or, if every run may have it, " +
		"set it again with 'phoenix secret set PROD_HOOK --production=false' (and keep it out of the vault policy's production globs)"
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
}
