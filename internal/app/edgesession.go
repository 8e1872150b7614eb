package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// edgeSessionKeyName is the vault secret holding the key that signs the
// edge's visitor session cookies (SWA's /.auth sign-ins). Kept in the
// vault, it survives restarts and is the same on every replica, so a
// visitor stays signed in whichever server answers.
const edgeSessionKeyName = "PHOENIX_EDGE_SESSION_KEY"

// edgeSessionSubject is the server itself reading its session key.
var edgeSessionSubject = vault.Subject{Actor: "phoenix:edge", Roles: []string{"admin"}}

// edgeSessionKey returns the edge's session key from the vault, creating
// it on first use. Without an open vault it returns nil: the edge then
// signs with a key of its own process, and visitors sign in again after
// a restart (and on another replica, though replicas need the vault).
func (a *App) edgeSessionKey(ctx context.Context) ([]byte, error) {
	if a.Vault == nil || a.Vault.Sealed() {
		return nil, nil
	}
	s, _, err := a.Vault.Get(ctx, edgeSessionSubject, edgeSessionKeyName, 0)
	if errors.Is(err, vault.ErrNotFound) {
		return a.createEdgeSessionKey(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("edge session key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Reveal()))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("vault secret %s is not a base64 32-byte key", edgeSessionKeyName)
	}
	return key, nil
}

func (a *App) createEdgeSessionKey(ctx context.Context) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	_, err := a.Vault.Set(ctx, edgeSessionSubject, edgeSessionKeyName, vault.NewSecret([]byte(base64.StdEncoding.EncodeToString(key))),
		vault.SetOptions{ContentType: "application/octet-stream", Tags: map[string]string{"purpose": "edge-sessions"}})
	if err != nil {
		return nil, fmt.Errorf("create the edge session key in the vault: %w", err)
	}
	return key, nil
}
