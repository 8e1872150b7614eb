package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestRotationNotifiesSubscribedChannels: a rotation reaches the channels
// that subscribe to secret.rotated, naming the secret and its versions and
// never the value.
func TestRotationNotifiesSubscribedChannels(t *testing.T) {
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
