package action

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestFetchSecretsAsksTheEngine: run by the engine (Context.Secret set),
// fetch-secrets fetches through it, which masks and records what it
// fetched, and keeps its own words for a secret too short to mask and one
// missing.
func TestFetchSecretsAsksTheEngine(t *testing.T) {
	cfg := &config.Config{}
	cfg.Vault.Required = []string{"LONG", "SHORT", "GONE"}
	sc, log, _ := newContext(t, t.TempDir(), cfg, nil)
	var asked []string
	sc.Mask = func(string) { t.Error("masked by the action, not by the engine") }
	sc.Secret = func(_ context.Context, name string) (string, error) {
		asked = append(asked, name)
		switch name {
		case "LONG":
			return "long-enough-value", nil
		case "SHORT":
			return "ab", nil
		}
		return "", errors.New("not in the vault")
	}
	a, _ := Builtins(Deps{Secrets: mapSecrets{}}).Lookup("fetch-secrets")
	err := a.Run(context.Background(), sc)
	if err == nil || err.Error() != "2 secret(s) unavailable: SHORT, GONE" {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(asked, ",") != "LONG,SHORT,GONE" {
		t.Errorf("asked the engine for %v", asked)
	}
	for _, want := range []string{"LONG: fetched", "SHORT: shorter than 4 characters, so it could not be hidden in logs", "GONE: not in the vault"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}

// TestFetchSecretsOutsideTheEngineMasks: without Context.Secret (an
// action run on its own) the secret comes from Deps.Secrets and is
// masked through Context.Mask, as written and trimmed.
func TestFetchSecretsOutsideTheEngineMasks(t *testing.T) {
	cfg := &config.Config{}
	cfg.Vault.Required = []string{"TOKEN"}
	sc, _, _ := newContext(t, t.TempDir(), cfg, nil)
	var masked []string
	sc.Mask = func(v string) { masked = append(masked, v) }
	a, _ := Builtins(Deps{Secrets: mapSecrets{"TOKEN": "value-with-newline\n"}}).Lookup("fetch-secrets")
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if strings.Join(masked, "|") != "value-with-newline\n|value-with-newline" {
		t.Errorf("masked %q", masked)
	}
}

// TestFetchSecretsLeavesProductionSecretsToProductionRuns: a staging
// release's fetch-secrets does not fail on a production secret of
// vault.required (it failed after the build and the tests, though no
// step of the run could read it); other failures still fail it.
func TestFetchSecretsLeavesProductionSecretsToProductionRuns(t *testing.T) {
	cfg := &config.Config{}
	cfg.Vault.Required = []string{"PROD_TEAMS_WEBHOOK_URL", "STAGING_KEY"}
	sc, log, _ := newContext(t, t.TempDir(), cfg, nil)
	sc.Secret = func(_ context.Context, name string) (string, error) {
		if name == "PROD_TEAMS_WEBHOOK_URL" {
			return "", errors.Join(ErrProductionOnly, errors.New("access denied: not a production run"))
		}
		return "staging-value", nil
	}
	a, _ := Builtins(Deps{Secrets: mapSecrets{}}).Lookup("fetch-secrets")
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatalf("err = %v\n%s", err, log)
	}
	if want := "PROD_TEAMS_WEBHOOK_URL: a production secret, not read: this run does not deploy to production"; !strings.Contains(log.String(), want) {
		t.Errorf("the log lacks %q:\n%s", want, log)
	}
}
