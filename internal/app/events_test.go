package app

import (
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestServerEventsCanBeSubscribed: a channel can name each event the
// server's own notices are sent as in phoenix.yaml's events list (it was
// refused for secret.rotation_failed, reachable only through secret.*).
func TestServerEventsCanBeSubscribed(t *testing.T) {
	t.Parallel()
	for _, ev := range []string{
		rotationFailedMessage(vault.RotationFailure{}).Event,
		rotationMessage(vault.RotationEvent{}).Event,
	} {
		if !slices.Contains(config.Events, ev) {
			t.Errorf("event %q is sent but phoenix.yaml's events cannot name it (config.Events)", ev)
		}
	}
}

// TestSecretMinimumsAgree: the vault refuses values shorter than steps can
// mask, and no longer: a value it stores that steps refuse (or one steps
// could mask that it refuses) is a secret no pipeline can use.
func TestSecretMinimumsAgree(t *testing.T) {
	t.Parallel()
	if vault.MinValueLen != executor.MinSecretLen {
		t.Fatalf("vault.MinValueLen %d, executor.MinSecretLen %d: they must agree", vault.MinValueLen, executor.MinSecretLen)
	}
}
