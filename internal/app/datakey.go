package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// Data keys are random 32-byte keys the server keeps in the vault as
// base64 secrets, made on first use: the ACME storage key
// (PHOENIX_ACME_KEY) and the edge's session key (PHOENIX_EDGE_SESSION_KEY).

// readDataKey reads version (0: the newest) of the data key name. A
// missing key is an error wrapping vault.ErrNotFound.
func readDataKey(ctx context.Context, v *vault.Vault, subj vault.Subject, name string, version int) (int, []byte, error) {
	s, info, err := v.Get(ctx, subj, name, version)
	if err != nil {
		return 0, nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Reveal()))
	if err != nil || len(key) != 32 {
		return 0, nil, fmt.Errorf("vault secret %s version %d is not a base64 32-byte key", name, info.Version)
	}
	return info.Version, key, nil
}

// createDataKey makes a new random data key name (tagged with its purpose)
// and returns its version; what names it in errors.
func createDataKey(ctx context.Context, v *vault.Vault, subj vault.Subject, name, purpose, what string) (int, []byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return 0, nil, err
	}
	info, err := v.Set(ctx, subj, name, vault.NewSecret([]byte(base64.StdEncoding.EncodeToString(key))),
		vault.SetOptions{ContentType: "application/octet-stream", Tags: map[string]string{"purpose": purpose}})
	if err != nil {
		return 0, nil, fmt.Errorf("create the %s in the vault: %w", what, err)
	}
	return info.Version, key, nil
}
