package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// The audit log's checkpoint key lives in the vault once the vault is
// initialized (PHOENIX_AUDIT_KEY, encrypted under the master key): on the
// first start with the vault unsealed, the key file of an older data dir
// (keys/audit.key) moves in and the file is removed, and a new server
// makes its key in the vault directly. keys/audit.pub always holds the
// public half (the verifier key). A server that never initialized a vault
// keeps the file key. While the vault is sealed the log has no signer:
// records keep chaining, checkpoints wait for the unseal (OnUnseal).

// auditSubject is the server itself reading its own audit key.
var auditSubject = vault.Subject{Actor: "phoenix:audit", Roles: []string{"admin"}, System: true}

func auditKeyPub(dataDir string) string { return filepath.Join(dataDir, "keys", "audit.pub") }

// startAuditKey is what openAudit knows before the vault opens: the key
// file (signer and verifier) if there is one, else the verifier of
// keys/audit.pub (the signer is in the vault), else nothing yet.
func startAuditKey(dataDir string) (audit.Key, error) {
	path := auditKeyFile(dataDir)
	if _, err := os.Stat(path); err == nil {
		return audit.LoadKey(path)
	}
	b, err := os.ReadFile(auditKeyPub(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return audit.Key{}, nil
	}
	if err != nil {
		return audit.Key{}, fmt.Errorf("audit key: %w", err)
	}
	k, err := audit.ParseVerifier(string(b))
	if err != nil {
		return k, fmt.Errorf("%s: %w", auditKeyPub(dataDir), err)
	}
	return k, nil
}

// settleAuditKey gives the log its signer from where the key lives now:
// the vault when it is initialized and open (moving the file key in, or
// making a key), the file when no vault was ever initialized. With the
// vault sealed the checkpoints stay deferred.
func (a *App) settleAuditKey(ctx context.Context) (audit.Key, error) {
	st, err := a.Vault.Status(ctx)
	if err != nil {
		return audit.Key{}, err
	}
	switch {
	case !st.Initialized:
		key, err := a.fileAuditKey()
		if err != nil || key.Signer == nil {
			return key, err
		}
		return a.useAuditKey(ctx, key)
	case a.Vault.Sealed():
		if !a.Audit.Signing() {
			a.log.Warn("audit: checkpoints deferred: the audit key is in the sealed vault; records are chained and the first checkpoint after 'phoenix vault unseal' covers them")
		}
		return audit.Key{}, nil
	}
	key, err := a.vaultAuditKey(ctx)
	if err != nil {
		return key, err
	}
	if a.opts.Replica.On {
		if err := a.checkAuditKey(ctx, key); err != nil {
			return key, err
		}
	}
	return a.useAuditKey(ctx, key)
}

// fileAuditKey is keys/audit.key, made on a data dir that never had an
// audit key. With the file gone and keys/audit.pub there (deleted by
// hand, or a restore without it) no key is made: a new one could not sign
// this log, the checkpoints already in it are the old key's. The log
// records unsigned (no signer: Key{}), and the error says how to recover.
func (a *App) fileAuditKey() (audit.Key, error) {
	path := auditKeyFile(a.opts.DataDir)
	_, kerr := os.Stat(path)
	_, perr := os.Stat(auditKeyPub(a.opts.DataDir))
	if errors.Is(kerr, fs.ErrNotExist) && perr == nil {
		a.log.Error("audit: checkpoints stay unsigned: the audit key is missing, and keys/audit.pub names the key that signed this log",
			"file", path, "hint", "put keys/audit.key back (from a backup: phoenix backup restore --to DIR, then copy DIR/keys/audit.key) and restart; a new key cannot sign this log")
		return audit.Key{}, nil
	}
	return audit.LoadKey(path) // made on a new data dir
}

// useAuditKey hands the log its signer and keeps keys/audit.pub in step.
// A key the stored checkpoints do not verify with, or a tail that does
// not follow them, is tampering or the wrong data dir: the log keeps
// recording unsigned, 'phoenix audit verify' names the problem, and
// keys/audit.pub (and the key returned: Key{}) keep the key that signed
// the log.
func (a *App) useAuditKey(ctx context.Context, key audit.Key) (audit.Key, error) {
	if err := a.Audit.SetKey(ctx, key, a.mayBackfill(ctx, key)); err != nil {
		a.log.Error("audit: checkpoints stay unsigned: the key does not sign this log", "err", err,
			"hint", "run phoenix audit verify; start with the data dir (or vault) whose key signed the log's checkpoints")
		return audit.Key{}, nil
	}
	pub := auditKeyPub(a.opts.DataDir)
	if b, err := os.ReadFile(pub); err != nil || strings.TrimSpace(string(b)) != key.VerifierKey {
		if err := os.MkdirAll(filepath.Dir(pub), 0o700); err != nil {
			return key, err
		}
		if err := os.WriteFile(pub, []byte(key.VerifierKey+"\n"), 0o644); err != nil {
			return key, fmt.Errorf("audit key: %w", err)
		}
	}
	cp, err := a.Audit.NewestCheckpoint(ctx)
	if err != nil {
		return key, err
	}
	a.keepAnchor(ctx, cp)
	return key, nil
}

// auditAnchor is the newest checkpoint this server signed or saw, kept
// outside the database (keys/audit.checkpoint, a signed note): someone
// who can write the database but not the data dir cannot make the server
// re-sign checkpoints they deleted.
func auditAnchor(dataDir string) string { return filepath.Join(dataDir, "keys", "audit.checkpoint") }

// readAnchor returns the anchor's signed note (nil when there is none yet)
// and its path, for audit.Options.Anchor.
func (a *App) readAnchor() ([]byte, string, error) {
	path := auditAnchor(a.opts.DataDir)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	}
	return b, path, err
}

// mayBackfill reports whether the checkpoints missing after the newest one
// may be signed now (they were deferred while the vault was sealed): only
// when the database still holds the newest checkpoint the anchor names.
func (a *App) mayBackfill(ctx context.Context, key audit.Key) bool {
	b, err := os.ReadFile(auditAnchor(a.opts.DataDir))
	if err != nil {
		return true // no anchor yet: a new data dir or replica
	}
	seen, err := audit.OpenCheckpoint(b, key.Verifier)
	if err != nil {
		a.log.Warn("audit: ignoring an unreadable checkpoint anchor", "file", auditAnchor(a.opts.DataDir), "err", err)
		return true
	}
	cp, err := a.Audit.NewestCheckpoint(ctx)
	if err == nil && (cp == nil || cp.Seq < seen.Seq) {
		a.log.Error("audit: the database lacks checkpoints this server signed (deleted?): the missing periodic checkpoints are not signed again",
			"anchor_seq", seen.Seq, "hint", "run phoenix audit verify")
		return false
	}
	return err == nil
}

// keepAnchor writes cp to the anchor file when it is newer than the one
// there (written to a temporary name, then renamed), and only while the
// log still holds the one there: a log cut short and grown again does not
// replace the evidence that it was cut ('phoenix audit verify' names it).
func (a *App) keepAnchor(ctx context.Context, cp *audit.Checkpoint) {
	v := a.Audit.Verifier()
	if cp == nil || v == nil {
		return
	}
	path := auditAnchor(a.opts.DataDir)
	if b, err := os.ReadFile(path); err == nil {
		h, err := audit.OpenCheckpoint(b, v)
		if err == nil && h.Seq >= cp.Seq {
			return
		}
		if err == nil {
			if held, err := a.Audit.Holds(ctx, h); err != nil || !held {
				a.log.Error("audit: the log no longer holds the checkpoint kept outside the database (records deleted or rewritten?): it is kept",
					"file", path, "seq", h.Seq, "err", err, "hint", "run phoenix audit verify")
				return
			}
		}
	}
	if err := writeFileAtomic(path, []byte(cp.Note)); err != nil {
		a.log.Warn("audit: cannot keep the checkpoint anchor", "file", path, "err", err)
	}
}

// vaultAuditKey reads the key from the vault; when the vault has none
// yet, the key file moves in (and is removed), or a new key is made there.
// A key file beside the vault's key is removed when it is the same key (a
// replica's copy from before) and refused when it is another.
func (a *App) vaultAuditKey(ctx context.Context) (audit.Key, error) {
	s, err := a.Vault.AuditKey(ctx, auditSubject)
	if errors.Is(err, vault.ErrNotFound) {
		return a.moveAuditKey(ctx)
	}
	if err != nil {
		return audit.Key{}, fmt.Errorf("audit key: %w", err)
	}
	key, err := audit.ParseKey(s.Bytes())
	if err != nil {
		return key, fmt.Errorf("%s in the vault: %w", vault.AuditKeyName, err)
	}
	path := auditKeyFile(a.opts.DataDir)
	if _, err := os.Stat(path); err != nil {
		return key, nil
	}
	file, err := audit.LoadKey(path)
	if err != nil {
		return key, err
	}
	if file.VerifierKey != key.VerifierKey {
		return key, usererr.New(usererr.Usage, "%s is not the audit key in the vault (%s)", path, vault.AuditKeyName).
			WithHint("the vault's key signs the audit log; move %s out of the data dir (keep it if old checkpoints were signed with it)", path)
	}
	a.log.Info("removed the audit key file: the same key is in the vault", "file", path)
	return key, os.Remove(path)
}

// moveAuditKey puts the key file's key into the vault and removes the
// file; without a file it makes a new key in the vault.
func (a *App) moveAuditKey(ctx context.Context) (audit.Key, error) {
	path := auditKeyFile(a.opts.DataDir)
	var key audit.Key
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		key, raw, err = audit.GenerateKey()
	case err == nil:
		key, err = audit.ParseKey(raw)
	}
	if err != nil {
		return key, fmt.Errorf("audit key: %w", err)
	}
	secret := vault.NewSecret(raw)
	clear(raw)
	if _, err := a.Vault.SetAuditKey(ctx, auditSubject, secret); err != nil {
		return key, fmt.Errorf("move the audit key into the vault: %w", err)
	}
	if err := os.Remove(path); err == nil {
		a.log.Info("moved the audit checkpoint key into the vault", "name", vault.AuditKeyName, "public_key", auditKeyPub(a.opts.DataDir))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	return key, nil
}

// auditUnsealed runs when 'phoenix vault unseal' opens the vault after
// the start: the log gets its signer, and a checkpoint covers the records
// written while it was sealed.
func (a *App) auditUnsealed(ctx context.Context) {
	if _, err := a.settleAuditKey(ctx); err != nil {
		a.log.Error("audit: the checkpoint key after unseal", "err", err)
	}
}

// writeFileAtomic writes b to a new temporary file beside path (0644),
// syncs it and renames it over path: a crash leaves the old anchor or the
// new one, never a torn one. (internal/backup and internal/artifact keep
// their own: no package owns "a file written atomically" as its concept,
// and DESIGN.md rules out a util package for it.)
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
