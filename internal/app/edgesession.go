package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// edgeSessionKeyName is the vault secret holding the key that signs the
// edge's visitor session cookies (SWA's /.auth sign-ins). Kept in the
// vault, it survives restarts and is the same on every replica, so a
// visitor stays signed in whichever server answers.
const edgeSessionKeyName = vault.EdgeSessionKeyName

// edgeSessionSubject is the server itself reading its session key.
var edgeSessionSubject = vault.Subject{Actor: "phoenix:edge", Roles: []string{"admin"}, System: true}

// edgeSessionKey returns the edge's session key from the vault, creating
// it on first use. Without an open vault it returns nil: the edge then
// signs with a key of its own process, and visitors sign in again after
// a restart (and on another replica, though replicas need the vault).
func (a *App) edgeSessionKey(ctx context.Context) ([]byte, error) {
	if a.Vault == nil || a.Vault.Sealed() {
		return nil, nil
	}
	_, key, err := readDataKey(ctx, a.Vault, edgeSessionSubject, edgeSessionKeyName, 0)
	if errors.Is(err, vault.ErrNotFound) {
		_, key, err = createDataKey(ctx, a.Vault, edgeSessionSubject, edgeSessionKeyName, "edge-sessions", "edge session key")
	}
	if err != nil {
		return nil, fmt.Errorf("edge session key: %w", err)
	}
	return key, nil
}
