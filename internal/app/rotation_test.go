package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestRotationNotifiesSubscribedChannels: a rotation reaches the channels
// that subscribe to secret.rotated, naming the secret and its versions and
// never the value.
func TestRotationNotifiesSubscribedChannels(t *testing.T) {
	t.Parallel()
	a, err := startVault(t, t.TempDir(), "master key of the rotation test")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan notify.Message, 4)
	capture := notify.NotifierFunc(func(_ context.Context, m notify.Message) error { got <- m; return nil })
	a.Notify.SetChannels(map[string]notify.Channel{
		"ops": {Notifier: capture, Events: []string{"secret.rotated"}},
		"other": {Notifier: notify.NotifierFunc(func(context.Context, notify.Message) error {
			t.Error("an unsubscribed channel was notified")
			return nil
		})},
	})
	ctx, admin := rotateAPIKey(t, a)
	a.Notify.Kick()
	select {
	case m := <-got:
		value, _, _ := a.Vault.Get(ctx, admin, "API_KEY", 0)
		b, _ := json.Marshal(m)
		if m.Event != "secret.rotated" || !strings.Contains(m.Title, "API_KEY") || strings.Contains(string(b), value.Reveal()) ||
			strings.Contains(string(b), "first-value-123456") {
			t.Fatalf("message = %s", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no notification of the rotation")
	}
}

// TestFailingRotationIsAuditedAndNotifiedOnce: a scheduled rotation whose
// command fails was retried every minute with a log line each time, no
// audit record and no notice, while the secret went on towards expiry.
// The first failure is audited (secret.rotate, failed) and sent to the
// channels that subscribe to secret.rotation_failed, severity error, or
// critical when the secret expires within a day; the retries that follow
// send and record nothing more.
func TestFailingRotationIsAuditedAndNotifiedOnce(t *testing.T) {
	t.Parallel()
	sh := testkit.RequireTool(t, "sh", "dash")
	a := startOpts(t, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		VaultEvery: time.Hour})
	a.Notify.SetChannels(map[string]notify.Channel{
		"ops": {Notifier: notify.NotifierFunc(func(context.Context, notify.Message) error { return nil }), Events: []string{"secret.*"}},
	})
	ctx := context.Background()
	admin := vault.Subject{Actor: "ops", Roles: []string{"admin"}}
	failing := vault.GeneratorSpec{Type: "command", Command: []string{sh, "-c", "echo partial-value-never-shown; exit 3"}}
	for name, expiresIn := range map[string]time.Duration{"SOON_KEY": 12 * time.Hour, "LATER_KEY": 3 * 24 * time.Hour} {
		if _, err := a.Vault.Set(ctx, admin, name, vault.SecretString("initial value of "+name),
			vault.SetOptions{ExpiresAt: time.Now().Add(expiresIn)}); err != nil {
			t.Fatal(err)
		}
		if err := a.Vault.SetRotation(ctx, admin, name, &vault.RotationPolicy{BeforeExpiryDays: 5, ExpireAfterDays: 30,
			Generator: failing}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		a.vaultTick(ctx)
	}
	dels, err := a.Notify.Deliveries(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	sev := map[string]int{}
	for _, d := range dels {
		if d.Event != "secret.rotation_failed" {
			continue
		}
		for _, name := range []string{"SOON_KEY", "LATER_KEY"} {
			if strings.Contains(d.Title, name) {
				if _, twice := sev[name]; twice {
					t.Errorf("%s was notified twice", name)
				}
				sev[name] = d.Severity
			}
		}
		if b, _ := json.Marshal(d); strings.Contains(string(b), "partial-value-never-shown") {
			t.Errorf("the notice holds the command's output: %s", b)
		}
	}
	if len(sev) != 2 || sev["SOON_KEY"] != notify.Critical || sev["LATER_KEY"] != notify.Error {
		t.Fatalf("secret.rotation_failed notices by severity: %v, want SOON_KEY critical (0) and LATER_KEY error (1), once each", sev)
	}
	recs, err := a.Audit.Query(ctx, audit.Filter{Action: "secret.rotate"})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]int{}
	for _, r := range recs {
		if r.Outcome == audit.Failed && r.Actor == "system" {
			failed[r.Target]++
			if !strings.Contains(r.Detail, "exit status 3") || strings.Contains(r.Detail, "partial-value-never-shown") {
				t.Errorf("record detail %q", r.Detail)
			}
		}
	}
	if len(failed) != 2 || failed["secret/SOON_KEY"] != 1 || failed["secret/LATER_KEY"] != 1 {
		t.Fatalf("failed secret.rotate records by target: %v, want one each", failed)
	}
}

// TestRotationIsLoggedOnce: a rotation wrote two lines to the server log
// ("vault: secret rotated" and "secret rotated"); it writes one, saying who
// rotated.
func TestRotationIsLoggedOnce(t *testing.T) {
	t.Parallel()
	var logs testkit.LogBuffer
	a := startOpts(t, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rotateAPIKey(t, a)
	var lines []string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "secret rotated") {
			lines = append(lines, l)
		}
	}
	if n := len(lines); n != 1 || !strings.Contains(lines[0], "actor=ops") {
		t.Fatalf("%d lines of the rotation, want 1 naming its actor:\n%s", n, logs.String())
	}
}

// rotateAPIKey stores API_KEY as ops, an admin, and rotates it with a
// random generator.
func rotateAPIKey(t *testing.T, a *App) (context.Context, vault.Subject) {
	t.Helper()
	ctx := context.Background()
	admin := vault.Subject{Actor: "ops", Roles: []string{"admin"}}
	if _, err := a.Vault.Set(ctx, admin, "API_KEY", vault.SecretString("first-value-123456"), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	pol := &vault.RotationPolicy{EveryDays: 30, Generator: vault.GeneratorSpec{Type: "random", Length: 40}}
	if err := a.Vault.SetRotation(ctx, admin, "API_KEY", pol); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Vault.Rotate(ctx, admin, "API_KEY"); err != nil {
		t.Fatal(err)
	}
	return ctx, admin
}
