package vault

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Status is the vault's state, safe to show to anyone.
type Status struct {
	Initialized bool      `json:"initialized"`
	Sealed      bool      `json:"sealed"`
	VaultID     string    `json:"vault_id,omitempty"`
	KDF         string    `json:"kdf,omitempty"`
	Secrets     int       `json:"secrets"`
	Deleted     int       `json:"deleted"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

type meta struct {
	vaultID     string
	salt        []byte
	kdf         KDFParams
	checkNonce  []byte
	checkCipher []byte
	createdAt   string
}

func loadMeta(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (meta, error) {
	var m meta
	var t, mem, th int64
	err := q.QueryRowContext(ctx, `SELECT vault_id, kdf_salt, kdf_time, kdf_memory, kdf_threads, check_nonce, check_ct, created_at
		FROM vault_meta WHERE id = 1`).Scan(&m.vaultID, &m.salt, &t, &mem, &th, &m.checkNonce, &m.checkCipher, &m.createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return meta{}, usererr.Wrap(usererr.Unavailable, ErrNotInitialized, "vault is not initialized").
			WithHint("run phoenix vault init")
	}
	if err != nil {
		return meta{}, fmt.Errorf("vault: read vault_meta: %w", err)
	}
	m.kdf = KDFParams{Time: uint32(t), MemoryKiB: uint32(mem), Threads: uint8(th)}
	if err := m.kdf.valid(); err != nil {
		return meta{}, fmt.Errorf("vault: vault_meta: %w", err)
	}
	return m, nil
}

// Init creates the vault's key check with master and leaves the vault
// unsealed. It refuses a vault that is already initialized (a second
// master key would make the first one's secrets unreadable).
func (v *Vault) Init(ctx context.Context, master Secret) error {
	if master.Len() < MinMasterKeyLen {
		return usererr.New(usererr.Invalid, "the master key is too short: use at least %d characters", MinMasterKeyLen).
			WithHint("let 'phoenix vault init --generate-key-file FILE' make a random one")
	}
	if err := v.opts.KDF.valid(); err != nil {
		return err
	}
	m := meta{salt: make([]byte, saltSize), kdf: v.opts.KDF, createdAt: fmtTime(v.now())}
	id := make([]byte, 16)
	if _, err := rand.Read(m.salt); err != nil {
		return err
	}
	if _, err := rand.Read(id); err != nil {
		return err
	}
	m.vaultID = hex.EncodeToString(id)
	kek, err := deriveKEK(master.raw(), m.salt, m.kdf)
	if err != nil {
		return err
	}
	if m.checkNonce, m.checkCipher, err = seal(kek, []byte(checkText), []byte(m.vaultID)); err != nil {
		return err
	}
	err = v.write(ctx, &AuditEvent{Action: "vault.init", Target: "vault", Outcome: OutcomeOK}, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM vault_meta`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return usererr.New(usererr.Conflict, "the vault is already initialized").
				WithHint("use 'phoenix vault unseal' with its master key")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO vault_meta (id, vault_id, kdf, kdf_salt, kdf_time, kdf_memory, kdf_threads, check_nonce, check_ct, created_at)
			VALUES (1, $1, 'argon2id', $2, $3, $4, $5, $6, $7, $8)`,
			m.vaultID, m.salt, m.kdf.Time, m.kdf.MemoryKiB, m.kdf.Threads, m.checkNonce, m.checkCipher, m.createdAt)
		return err
	})
	if err != nil {
		wipe(kek)
		return err
	}
	v.setKEK(kek, m.vaultID)
	v.opts.Logger.Info("vault initialized", "vault", m.vaultID)
	v.unsealed(ctx)
	return nil
}

// Unseal derives the KEK from master and checks it against the vault's
// check value. A wrong key fails with ErrWrongKey and changes nothing: an
// unsealed vault stays unsealed with its key.
func (v *Vault) Unseal(ctx context.Context, master Secret) error {
	kek, m, err := v.kekOf(ctx, master, "vault.unseal")
	if err != nil {
		return err
	}
	if err := v.audit(ctx, AuditEvent{Action: "vault.unseal", Target: "vault", Outcome: OutcomeOK}); err != nil {
		wipe(kek)
		return err
	}
	v.setKEK(kek, m.vaultID)
	v.opts.Logger.Info("vault unsealed", "vault", m.vaultID)
	v.unsealed(ctx)
	return nil
}

// CheckKey reports whether master opens the vault (nil, or ErrWrongKey as
// Unseal answers it) and changes nothing: a sealed vault stays sealed, an
// unsealed one keeps its key. 'phoenix vault status' asks it. A wrong key
// is audited (vault.check, failed), as a wrong unseal is.
func (v *Vault) CheckKey(ctx context.Context, master Secret) error {
	kek, _, err := v.kekOf(ctx, master, "vault.check")
	if err == nil {
		wipe(kek)
	}
	return err
}

// kekOf derives the KEK from master and checks it against the vault's
// check value. A wrong key is recorded as action failed and is
// ErrWrongKey.
func (v *Vault) kekOf(ctx context.Context, master Secret, action string) ([]byte, meta, error) {
	m, err := loadMeta(ctx, v.opts.DB)
	if err != nil {
		return nil, m, err
	}
	kek, err := deriveKEK(master.raw(), m.salt, m.kdf)
	if err != nil {
		return nil, m, err
	}
	if _, err := open(kek, m.checkNonce, m.checkCipher, []byte(m.vaultID)); err != nil {
		wipe(kek)
		_ = v.audit(ctx, AuditEvent{Action: action, Target: "vault", Outcome: OutcomeFailed, Detail: "wrong master key"})
		v.opts.Logger.Warn("vault: wrong master key", "action", action)
		return nil, m, usererr.Wrap(usererr.Invalid, ErrWrongKey,
			"wrong master key: it does not open this vault (nothing was decrypted or changed)").
			WithHint("check the key given: PHOENIX_MASTER_KEY, --master-key-file, PHOENIX_MASTER_KEY_FILE or the passphrase")
	}
	return kek, m, nil
}

func (v *Vault) unsealed(ctx context.Context) {
	if v.opts.OnUnseal != nil {
		v.opts.OnUnseal(ctx)
	}
}

func (v *Vault) setKEK(kek []byte, id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.kek != nil {
		wipe(v.kek)
	}
	v.kek, v.vaultID = kek, id
}

// Seal forgets the KEK: secret operations fail until the next Unseal.
func (v *Vault) Seal() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.kek != nil {
		wipe(v.kek)
	}
	v.kek = nil
}

// Sealed reports whether the vault lacks its key.
func (v *Vault) Sealed() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.kek == nil
}

// Status reports whether the vault is initialized and sealed, and counts
// its secrets. It needs no key.
func (v *Vault) Status(ctx context.Context) (Status, error) {
	st := Status{Sealed: v.Sealed()}
	m, err := loadMeta(ctx, v.opts.DB)
	if errors.Is(err, ErrNotInitialized) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Initialized, st.VaultID, st.CreatedAt = true, m.vaultID, parseTime(m.createdAt)
	st.KDF = fmt.Sprintf("argon2id t=%d m=%dKiB p=%d", m.kdf.Time, m.kdf.MemoryKiB, m.kdf.Threads)
	err = v.opts.DB.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN deleted_at = '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN deleted_at <> '' THEN 1 ELSE 0 END), 0) FROM vault_secrets`).Scan(&st.Secrets, &st.Deleted)
	if err != nil {
		return st, fmt.Errorf("vault: count secrets: %w", err)
	}
	return st, nil
}

// timeLayout is fixed-width so stored times sort as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
