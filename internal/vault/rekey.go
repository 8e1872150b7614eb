package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Changing the master key (HashiCorp Vault's 'operator rekey'). Values
// and data keys stay as they are: only each version's wrapping of its data
// key changes, from the KEK of the old master key to the KEK of the new
// one, with a new salt and check value in vault_meta, all in one
// transaction. A server that still holds the old KEK (a replica sharing
// the database) finds its KEK no longer opens the check value, and seals
// itself (staleKEK) instead of failing every read as corrupt.

// Rekey replaces the vault's master key oldMaster with newMaster. The old
// key is checked as Unseal checks it (a wrong one is ErrWrongKey, audited
// as vault.rekey failed, and changes nothing). A new KEK is derived from
// newMaster with a new salt and the current KDF parameters, and in one
// transaction every version of every secret (deleted ones and the
// server's own keys included) has its data key re-wrapped, and
// vault_meta gets the new salt and check value. Any error rolls it all
// back. Afterwards the vault holds the new KEK and only newMaster
// unseals it. The vault must be unsealed; the route needs vault.manage,
// and a pipeline run is refused here too. Audited as vault.rekey, never
// with a key.
func (v *Vault) Rekey(ctx context.Context, subj Subject, oldMaster, newMaster Secret) error {
	if subj.IsRun() {
		err := usererr.Wrap(usererr.Forbidden, ErrDenied, "a pipeline run cannot change the vault's master key")
		if aerr := v.audit(ctx, AuditEvent{Actor: subj.Actor, Action: "vault.rekey", Target: "vault",
			Outcome: OutcomeDenied, Detail: "pipeline run"}); aerr != nil {
			return errors.Join(err, aerr)
		}
		return err
	}
	if newMaster.Len() < MinMasterKeyLen {
		return usererr.New(usererr.Invalid, "the new master key is too short: use at least %d characters", MinMasterKeyLen).
			WithHint("let 'phoenix vault rekey --generate-key-file FILE' make a random one")
	}
	if newMaster.Equal(oldMaster) {
		return usererr.New(usererr.Invalid, "the new master key is the old one: nothing would change").
			WithHint("give a new key, or let 'phoenix vault rekey --generate-key-file FILE' make one")
	}
	if err := v.opts.KDF.valid(); err != nil {
		return err
	}
	if v.Sealed() {
		return v.sealedErr()
	}
	oldKEK, m, err := v.kekOf(ctx, oldMaster, "vault.rekey")
	if err != nil {
		return err
	}
	defer wipe(oldKEK)
	n := meta{vaultID: m.vaultID, salt: make([]byte, saltSize), kdf: v.opts.KDF}
	if _, err := rand.Read(n.salt); err != nil {
		return err
	}
	newKEK, err := deriveKEK(newMaster.raw(), n.salt, n.kdf)
	if err != nil {
		return err
	}
	if n.checkNonce, n.checkCipher, err = seal(newKEK, []byte(checkText), []byte(n.vaultID)); err != nil {
		wipe(newKEK)
		return err
	}
	var locked bool // v.mu, taken inside the transaction (the store's write lock first, as setTx's check does)
	defer func() {
		if locked {
			v.mu.Unlock()
		}
	}()
	var count int
	e := &AuditEvent{Actor: subj.Actor, Action: "vault.rekey", Target: "vault", Outcome: OutcomeOK}
	err = v.write(ctx, e, func(tx *sql.Tx) error {
		cur, err := loadMeta(ctx, tx)
		if err != nil {
			return err
		}
		if cur.vaultID != m.vaultID || !bytes.Equal(cur.salt, m.salt) || !bytes.Equal(cur.checkCipher, m.checkCipher) {
			return usererr.New(usererr.Conflict, "the master key was changed meanwhile (by another request or server); nothing was changed").
				WithHint("check 'phoenix vault status' with the key you mean, then try again")
		}
		// No request of this server uses the KEK until the new one is in.
		v.mu.Lock()
		locked = true
		if v.kek == nil {
			return v.sealedErr()
		}
		if count, err = rewrapAll(ctx, tx, m.vaultID, oldKEK, newKEK); err != nil {
			return err
		}
		e.Detail = fmt.Sprintf("%d versions re-wrapped; argon2id t=%d m=%dKiB p=%d", count, n.kdf.Time, n.kdf.MemoryKiB, n.kdf.Threads)
		_, err = tx.ExecContext(ctx, `UPDATE vault_meta SET kdf_salt = $1, kdf_time = $2, kdf_memory = $3, kdf_threads = $4,
			check_nonce = $5, check_ct = $6 WHERE id = 1`, n.salt, n.kdf.Time, n.kdf.MemoryKiB, n.kdf.Threads, n.checkNonce, n.checkCipher)
		if err != nil {
			return fmt.Errorf("vault: store the new key check: %w", err)
		}
		return nil
	})
	if err != nil {
		wipe(newKEK)
		return err
	}
	wipe(v.kek)
	v.kek = newKEK
	v.opts.Logger.Info("vault: master key changed", "vault", m.vaultID, "versions", count, "actor", subj.Actor)
	return nil
}

// rewrapAll re-wraps the data key of every version in the vault from
// oldKEK to newKEK, in tx, and returns how many. A wrapped key oldKEK does
// not open stops it (the caller's transaction rolls back): that version
// would be lost under the new key.
func rewrapAll(ctx context.Context, tx *sql.Tx, vaultID string, oldKEK, newKEK []byte) (int, error) {
	type wrapped struct {
		name       string
		version    int
		nonce, key []byte
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, version, key_nonce, wrapped_key FROM vault_versions ORDER BY name, version`)
	if err != nil {
		return 0, fmt.Errorf("vault: read the wrapped keys: %w", err)
	}
	var all []wrapped
	for rows.Next() {
		var w wrapped
		if err := rows.Scan(&w.name, &w.version, &w.nonce, &w.key); err != nil {
			rows.Close()
			return 0, fmt.Errorf("vault: read the wrapped keys: %w", err)
		}
		all = append(all, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("vault: read the wrapped keys: %w", err)
	}
	for _, w := range all {
		aad := versionAAD(vaultID, "key", w.name, w.version)
		dek, err := open(oldKEK, w.nonce, w.key, aad)
		if err == nil && len(dek) != keySize {
			wipe(dek)
			err = errAuth
		}
		if err != nil {
			return 0, usererr.Wrap(usererr.Conflict, ErrCorrupt, fmt.Sprintf(
				"secret %s version %d is corrupt: its data key failed authentication, so it cannot be re-wrapped; nothing was changed",
				w.name, w.version)).
				WithHint("restore the database from a backup, or delete and purge %s, then change the key", w.name)
		}
		nonce, key, err := seal(newKEK, dek, aad)
		wipe(dek)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE vault_versions SET key_nonce = $3, wrapped_key = $4 WHERE name = $1 AND version = $2`,
			w.name, w.version, nonce, key); err != nil {
			return 0, nameErr(w.name, err, "vault: re-wrap %s version %d", w.name, w.version)
		}
	}
	return len(all), nil
}

// KeyChangedError is the error of an operation on a vault that sealed
// itself because its master key was changed on another server.
func KeyChangedError() error {
	return usererr.Wrap(usererr.Unavailable, ErrSealed, "vault is sealed: the master key was changed on another server").
		WithHint("unseal with the new key: phoenix vault unseal")
}

// SealIfKeyChanged seals the vault when the KEK it holds no longer opens
// the check value in the database: the master key was changed on
// another server sharing it. It reports whether it sealed. Every server
// calls it on a timer; reads and writes notice sooner (staleKEK).
func (v *Vault) SealIfKeyChanged(ctx context.Context) (bool, error) {
	if v.Sealed() {
		return false, nil
	}
	kek, _, err := v.unsealedKEK()
	if err != nil {
		return false, nil
	}
	defer wipe(kek)
	return v.sealIfStale(ctx, kek)
}

// sealIfStale is SealIfKeyChanged with kek, the copy of the KEK it took.
// A key changed on this server since that copy (a rekey here while the
// check ran) is no change to seal for, nor an error: the vault holds the
// new key, and the next check sees it.
func (v *Vault) sealIfStale(ctx context.Context, kek []byte) (bool, error) {
	stale, err := v.staleKEK(ctx, v.opts.DB, kek)
	if usererr.KindOf(err) == usererr.Conflict {
		return false, nil
	}
	return stale, err
}

// kekGone is nil while kek (the copy of the KEK an operation took) opens
// the vault. Else it is the error to answer: the vault sealed itself, the
// master key having been changed on another server, or the key changed
// here while the operation ran. Reads ask it when a data key does not
// unwrap (rather than calling the version corrupt); writes ask it in
// their transaction, so that no version is wrapped by a KEK the master
// key no longer gives.
func (v *Vault) kekGone(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, kek []byte) error {
	stale, err := v.staleKEK(ctx, q, kek)
	if err != nil || !stale {
		return err
	}
	return KeyChangedError()
}

// staleKEK reports whether kek no longer opens the check value in the
// database. Then, if the vault holds another KEK that does (this server
// changed the key while the operation ran), it fails with a conflict to
// try again; else the master key was changed elsewhere and the vault
// seals itself, saying so in the log, and it reports true.
func (v *Vault) staleKEK(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, kek []byte) (bool, error) {
	m, err := loadMeta(ctx, q)
	if err != nil {
		return false, err
	}
	if _, err := open(kek, m.checkNonce, m.checkCipher, []byte(m.vaultID)); err == nil {
		return false, nil
	}
	v.mu.Lock()
	if v.kek == nil {
		v.mu.Unlock()
		return true, nil
	}
	if !bytes.Equal(v.kek, kek) {
		if _, err := open(v.kek, m.checkNonce, m.checkCipher, []byte(m.vaultID)); err == nil {
			v.mu.Unlock()
			return false, usererr.New(usererr.Conflict, "the vault's master key was changed while this request ran; nothing was changed").
				WithHint("try again")
		}
	}
	wipe(v.kek)
	v.kek = nil
	v.mu.Unlock()
	v.selfSealed.Store(&m.vaultID)
	v.opts.Logger.Error("vault sealed: the master key was changed on another server; unseal with the new key", "vault", m.vaultID)
	if _, inTx := q.(*sql.Tx); !inTx {
		v.auditSelfSeal(ctx) // else v.tx does, once the transaction is over
	}
	return true, nil
}

// auditSelfSeal records, once, that the vault sealed itself because its
// master key was changed on another server (staleKEK): vault.seal by
// system, as 'phoenix vault seal' is recorded by its caller. Outside any
// transaction: the record waits for none the vault holds. An error is
// logged (v.audit); the seal stands.
func (v *Vault) auditSelfSeal(ctx context.Context) {
	if v.selfSealed.Swap(nil) == nil {
		return
	}
	_ = v.audit(context.WithoutCancel(ctx), AuditEvent{Actor: "system", Action: "vault.seal", Target: "vault", Outcome: OutcomeOK,
		Detail: "sealed itself: the master key was changed on another server (vault rekeyed elsewhere); unseal with the new key"})
}
