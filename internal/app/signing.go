package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// signingKeys provides the key that signs every artifact. It lives in the
// vault once the vault is initialized and unsealed: at the first unsealed
// start, or at the unseal of a server started sealed, the key file of a
// pre-vault data dir (keys/signing.key) moves into the vault and the file
// is removed. keys/signing.pub always holds the public half, for
// `phoenix artifact verify` and `minisign -V`.
type signingKeys struct {
	dir   string
	log   *slog.Logger
	vault *vault.Vault // nil until the vault is open
	// inProcess: the server lives for one CLI command (Options.InProcess),
	// which changes how its sealed vault is opened.
	inProcess bool

	mu     sync.Mutex
	cached *sign.PrivateKey
}

// keySubject is the server itself reading its own key.
var keySubject = vault.Subject{Actor: "phoenix:signing", Roles: []string{"admin"}, System: true}

func (k *signingKeys) privPath() string { return filepath.Join(k.dir, "signing.key") }
func (k *signingKeys) pubPath() string  { return filepath.Join(k.dir, "signing.pub") }

// key returns the signing key, from the vault when it can.
func (k *signingKeys) key(ctx context.Context) (sign.PrivateKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cached != nil {
		return *k.cached, nil
	}
	key, err := k.load(ctx)
	if err != nil {
		return key, err
	}
	k.cached = &key
	return key, nil
}

// unsealed runs when the vault opens after the start (vault OnUnseal): a
// key file read while the vault was sealed moves in now, instead of at the
// next start or first signature, and the cache then holds the vault's key.
func (k *signingKeys) unsealed(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.vault == nil {
		return nil
	}
	if _, err := os.Stat(k.privPath()); err != nil {
		return nil // the key is in the vault already: read at first use
	}
	key, err := k.load(ctx)
	if err != nil {
		return err
	}
	k.cached = &key
	return nil
}

func (k *signingKeys) load(ctx context.Context) (sign.PrivateKey, error) {
	if k.vault == nil {
		return k.fileKey(true)
	}
	st, err := k.vault.Status(ctx)
	if err != nil {
		return sign.PrivateKey{}, err
	}
	switch {
	case !st.Initialized:
		return k.fileKey(true)
	case k.vault.Sealed():
		if key, err := k.fileKey(false); err == nil {
			return key, nil // not moved into the vault yet
		}
		hint := "unseal it: phoenix vault unseal"
		if k.inProcess {
			hint = inProcessUnseal
		}
		return sign.PrivateKey{}, usererr.New(usererr.Unavailable, "the artifact signing key is in the vault, which is sealed").
			WithHint("%s", hint)
	}
	return k.fromVault(ctx)
}

// fromVault reads the key from the vault, moving the file key in first
// when the vault has none yet.
func (k *signingKeys) fromVault(ctx context.Context) (sign.PrivateKey, error) {
	s, err := k.vault.SigningKey(ctx, keySubject)
	if errors.Is(err, vault.ErrNotFound) {
		return k.moveIntoVault(ctx)
	}
	if err != nil {
		return sign.PrivateKey{}, fmt.Errorf("signing key: %w", err)
	}
	key, err := sign.ParsePrivateKey(s.Bytes(), "")
	if err != nil {
		return key, fmt.Errorf("signing key in the vault: %w", err)
	}
	return key, k.writePub(key.Public())
}

func (k *signingKeys) moveIntoVault(ctx context.Context) (sign.PrivateKey, error) {
	key, err := k.fileKey(true)
	if err != nil {
		return key, err
	}
	raw, err := os.ReadFile(k.privPath())
	if err != nil {
		return key, err
	}
	if _, err := k.vault.SetSigningKey(ctx, keySubject, vault.NewSecret(raw)); err != nil {
		return key, fmt.Errorf("move the signing key into the vault: %w", err)
	}
	if err := os.Remove(k.privPath()); err != nil {
		return key, err
	}
	k.log.Info("moved the artifact signing key into the vault", "key_id", key.ID(), "public_key", k.pubPath())
	return key, nil
}

// fileKey loads keys/signing.key, creating it (0600) when create is set.
func (k *signingKeys) fileKey(create bool) (sign.PrivateKey, error) {
	key, err := sign.LoadPrivateKey(k.privPath(), "")
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !create {
		return key, err
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return key, err
	}
	pub, key, err := sign.GenerateKey(rand.Reader)
	if err != nil {
		return key, err
	}
	if err := sign.SavePrivateKey(k.privPath(), key, ""); err != nil {
		return key, err
	}
	return key, k.writePub(pub)
}

// writePub keeps keys/signing.pub in step with the key in use.
func (k *signingKeys) writePub(pub sign.PublicKey) error {
	if cur, err := sign.LoadPublicKey(k.pubPath()); err == nil && cur.Equal(pub) {
		return nil
	}
	os.Remove(k.pubPath())
	return sign.SavePublicKey(k.pubPath(), pub)
}

// signingUnsealed moves the signing key into the vault when 'phoenix vault
// unseal' opens it after the start.
func (a *App) signingUnsealed(ctx context.Context) {
	if err := a.keys.unsealed(ctx); err != nil {
		a.log.Error("artifact signing key after unseal", "err", err)
	}
}

// releasePreflight refuses a release whose plan deploys while the signing
// key cannot be had (in a sealed vault, or denied by the vault's policy):
// the release then fails before it starts, rather than at its first
// deploy with a rollback and a release.failed alert.
func (a *App) releasePreflight(ctx context.Context, plan *spec.Plan) error {
	if !slices.ContainsFunc(plan.Steps, func(s *spec.Step) bool { return s.Uses == "deploy" }) {
		return nil
	}
	if _, err := a.keys.key(ctx); err != nil {
		return fmt.Errorf("the release cannot sign its artifact: %w", err)
	}
	return nil
}
