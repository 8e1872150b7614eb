package action

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// agedSecrets are secrets set at known times.
type agedSecrets map[string]time.Time

func (agedSecrets) Secret(context.Context, string) (string, error) { return "a-long-value", nil }

func (a agedSecrets) SecretSetAt(_ context.Context, name string) (time.Time, error) {
	if t, ok := a[name]; ok {
		return t, nil
	}
	return time.Time{}, errors.New("secret " + name + " does not exist")
}

// vault.rotation in phoenix.yaml did nothing: a secret older than its
// rule's every went unnoticed. fetch-secrets warns of it, naming the rule,
// the age and the commands that fix it.
func TestFetchSecretsWarnsOfSecretsOlderThanVaultRotation(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	cfg := &config.Config{}
	cfg.Vault.Rotation = []config.RotationRule{
		{Secret: "API_KEYS", Every: config.Duration(90 * 24 * time.Hour)},
		{Secret: "FRESH", Every: config.Duration(90 * 24 * time.Hour)},
		{Secret: "GONE", Every: config.Duration(24 * time.Hour)},
	}
	sc, log, _ := newContext(t, t.TempDir(), cfg, nil)
	src := agedSecrets{"API_KEYS": now.AddDate(0, 0, -120), "FRESH": now.AddDate(0, 0, -3)}
	a, _ := Builtins(Deps{Secrets: src, Now: func() time.Time { return now }}).Lookup("fetch-secrets")
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"warning: vault.rotation[0]: API_KEYS was set 120d ago (2026-07-30), longer than every: 90d; rotate it (phoenix secret rotate API_KEYS), or let the server rotate it (phoenix secret rotate API_KEYS --every 90 --policy-only)",
		"vault.rotation: FRESH was set 3d ago, within every: 90d",
		"warning: vault.rotation[2]: GONE: not checked: secret GONE does not exist",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}
