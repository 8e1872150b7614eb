package vault

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// MaxValueSize is the largest value a version may hold (1 MiB: enough for
// a certificate chain, small enough to keep secrets out of blob storage).
const MaxValueSize = 1 << 20

// MinValueLen is the shortest value a version may hold: pipeline steps
// (which may read any secret) refuse shorter ones, since their logs could
// not hide them (executor.MinSecretLen, the masker's minimum).
const MinValueLen = 4

// tooShort refuses a value a pipeline step could never use, naming the
// minimum, not the value.
func tooShort(name string, value Secret) error {
	if value.Len() >= MinValueLen {
		return nil
	}
	return usererr.New(usererr.Invalid, "secret %s: the value is shorter than %d characters, the least a pipeline log can hide", AuditedName(name), MinValueLen).
		WithHint("store a longer value: pipeline steps refuse shorter ones")
}

// SetOptions are a new version's attributes.
type SetOptions struct {
	ContentType string            // e.g. text/plain, application/json
	Tags        map[string]string // replaces the secret's tags when non-nil
	NotBefore   time.Time         // the version is not served before
	ExpiresAt   time.Time         // the version expires (warned ahead)
	Production  *bool             // sets the production flag when non-nil
	Kind        string            // KindSecret (default for new secrets), KindCertificate, KindSigningKey

	cert *CertInfo // set by SetCertificate
}

func (o SetOptions) validate() error {
	if !o.NotBefore.IsZero() && !o.ExpiresAt.IsZero() && !o.ExpiresAt.After(o.NotBefore) {
		return usererr.New(usererr.Invalid, "expiry %s is not after not-before %s", o.ExpiresAt.Format(time.RFC3339), o.NotBefore.Format(time.RFC3339))
	}
	if len(o.ContentType) > 200 {
		return usererr.New(usererr.Invalid, "content type is longer than 200 characters")
	}
	for k, v := range o.Tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return usererr.New(usererr.Invalid, "tag %q: keys need 1-128 characters, values at most 256", clip(k))
		}
	}
	switch o.Kind {
	case "", KindSecret, KindCertificate, KindSigningKey:
		return nil
	}
	return usererr.New(usererr.Invalid, "kind %q: use secret, certificate or signing-key", clip(o.Kind))
}

// Set stores value as a new version of name (creating the secret) and
// returns the version's metadata.
func (v *Vault) Set(ctx context.Context, subj Subject, name string, value Secret, o SetOptions) (VersionInfo, error) {
	if err := checkName(name); err != nil {
		return VersionInfo{}, err
	}
	if err := v.systemGuard(ctx, subj, "secret.write", name); err != nil {
		return VersionInfo{}, err
	}
	if err := o.validate(); err != nil {
		return VersionInfo{}, err
	}
	if value.Len() > MaxValueSize {
		return VersionInfo{}, usererr.New(usererr.Invalid, "secret %s: value is larger than %d bytes", AuditedName(name), MaxValueSize)
	}
	row, found, err := getSecret(ctx, v.opts.DB, name)
	if err != nil {
		return VersionInfo{}, err
	}
	prod := row.production || (o.Production != nil && *o.Production)
	if err := v.authorize(ctx, subj, PermWrite, "secret.write", name, prod, found); err != nil {
		return VersionInfo{}, err
	}
	if err := tooShort(name, value); err != nil {
		return VersionInfo{}, err
	}
	kek, id, err := v.unsealedKEK()
	if err != nil {
		return VersionInfo{}, err
	}
	var vi VersionInfo
	// A new name is recorded as it is called once the version is stored;
	// a failed first write keeps AuditedName.
	e := &AuditEvent{Actor: subj.Actor, Action: "secret.write", Target: target(recorded(name, found), 0), Outcome: OutcomeOK}
	err = v.write(ctx, e, func(tx *sql.Tx) error {
		var err error
		vi, err = v.setTx(ctx, tx, kek, id, subj, name, value, o)
		if err == nil {
			e.Target = target(name, vi.Version)
		}
		return err
	})
	if err != nil {
		return VersionInfo{}, err
	}
	v.opts.Logger.Info("vault: secret set", "name", name, "version", vi.Version, "actor", subj.Actor)
	v.changed(ctx, name)
	vi.Warnings = warnings(vi, v.now(), v.opts.WarnBefore)
	return vi, nil
}

// setTx writes a new version inside tx.
func (v *Vault) setTx(ctx context.Context, tx *sql.Tx, kek []byte, vaultID string, subj Subject, name string, value Secret, o SetOptions) (VersionInfo, error) {
	if err := v.kekGone(ctx, tx, kek); err != nil {
		return VersionInfo{}, err
	}
	now := fmtTime(v.now())
	row, found, err := getSecret(ctx, tx, name)
	if err != nil {
		return VersionInfo{}, err
	}
	if row.deleted() {
		return VersionInfo{}, usererr.New(usererr.Conflict, "secret %s is deleted (recoverable until %s)", name,
			parseTime(row.purgeAt).Format(time.DateOnly)).
			WithHint("run 'phoenix secret recover %s' or 'phoenix secret purge %s' first", name, name)
	}
	if !found {
		if err := checkNewName(name); err != nil {
			return VersionInfo{}, err
		}
		row = secretRow{name: name, kind: KindSecret, tags: "{}"}
		_, err := tx.ExecContext(ctx, `INSERT INTO vault_secrets (name, kind, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
			name, KindSecret, now)
		if err != nil {
			return VersionInfo{}, nameErr(name, err, "vault: create secret %s", name)
		}
	}
	kind, tags, prod := row.kind, row.tags, row.production
	if o.Kind != "" {
		kind = o.Kind
	}
	if o.Tags != nil {
		b, _ := json.Marshal(maps.Clone(o.Tags))
		tags = string(b)
	}
	if o.Production != nil {
		prod = *o.Production
	}
	var version int
	err = tx.QueryRowContext(ctx, `UPDATE vault_secrets SET current_version = current_version + 1, updated_at = $2,
		kind = $3, tags = $4, production = $5 WHERE name = $1 RETURNING current_version`,
		name, now, kind, tags, prod).Scan(&version)
	if err != nil {
		return VersionInfo{}, nameErr(name, err, "vault: new version of %s", name)
	}
	sv, err := encryptVersion(kek, vaultID, name, version, value.raw())
	if err != nil {
		return VersionInfo{}, nameErr(name, err, "vault: encrypt %s", name)
	}
	vr := versionRow{version: version, enabled: true, contentType: o.ContentType, notBefore: fmtTime(o.NotBefore),
		expiresAt: fmtTime(o.ExpiresAt), createdBy: subj.Actor, createdAt: now}
	if o.cert != nil {
		b, _ := json.Marshal(o.cert)
		vr.cert = string(b)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO vault_versions (name, version, enabled, content_type, not_before, expires_at, cert,
		key_nonce, wrapped_key, nonce, ciphertext, created_by, created_at) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		name, version, vr.contentType, vr.notBefore, vr.expiresAt, vr.cert, sv.keyNonce, sv.wrappedKey, sv.nonce, sv.ciphertext,
		vr.createdBy, vr.createdAt)
	if err != nil {
		return VersionInfo{}, nameErr(name, err, "vault: store version %d of %s", version, name)
	}
	return vr.info(name), nil
}

// Get returns a version of name (0: the newest enabled version already
// valid) with its metadata. Reading a disabled or not-yet-valid version
// fails; an expired one is returned with a warning.
func (v *Vault) Get(ctx context.Context, subj Subject, name string, version int) (Secret, VersionInfo, error) {
	if err := checkName(name); err != nil {
		return Secret{}, VersionInfo{}, err
	}
	if err := v.systemGuard(ctx, subj, "secret.read", name); err != nil {
		return Secret{}, VersionInfo{}, err
	}
	row, found, err := getSecret(ctx, v.opts.DB, name)
	if err != nil {
		return Secret{}, VersionInfo{}, err
	}
	if err := v.authorize(ctx, subj, PermRead, "secret.read", name, row.production, found); err != nil {
		return Secret{}, VersionInfo{}, err
	}
	kek, id, err := v.unsealedKEK()
	if err != nil {
		return Secret{}, VersionInfo{}, err
	}
	e := AuditEvent{Actor: subj.Actor, Action: "secret.read", Target: target(name, version), Outcome: OutcomeOK}
	fail := func(err error) (Secret, VersionInfo, error) {
		e.Outcome, e.Detail = OutcomeFailed, err.Error()
		if aerr := v.audit(ctx, e); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return Secret{}, VersionInfo{}, err
	}
	if !found && firstLookup(subj, name) {
		return Secret{}, VersionInfo{}, notFound(name)
	}
	if !found {
		e.Target, e.Outcome, e.Detail = target(AuditedName(name), version), OutcomeFailed, "no secret has this name"
		err := notFound(name)
		if aerr := v.audit(ctx, e); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return Secret{}, VersionInfo{}, err
	}
	if row.deleted() {
		return fail(missing(name, row))
	}
	vr, sv, err := v.pickVersion(ctx, name, version)
	if err != nil {
		return fail(err)
	}
	pt, err := decryptVersion(kek, id, name, vr.version, sv)
	if err != nil {
		if gone := v.kekGone(ctx, v.opts.DB, kek); gone != nil {
			return fail(gone)
		}
		v.opts.Logger.Error("vault: ciphertext failed authentication", "name", name, "version", vr.version)
		return fail(usererr.Wrap(usererr.Conflict, ErrCorrupt, fmt.Sprintf(
			"secret %s version %d is corrupt: its ciphertext failed authentication (altered or damaged)", name, vr.version)).
			WithHint("set a new version, or restore state.db from a backup; other secrets are unaffected"))
	}
	defer wipe(pt)
	e.Target = target(name, vr.version)
	if err := v.audit(ctx, e); err != nil {
		return Secret{}, VersionInfo{}, err
	}
	vi := vr.info(name)
	vi.Warnings = warnings(vi, v.now(), v.opts.WarnBefore)
	return NewSecret(pt), vi, nil
}

func missing(name string, row secretRow) error {
	if row.deleted() {
		return usererr.Wrap(usererr.NotFound, ErrNotFound, fmt.Sprintf("secret %s is deleted", name)).
			WithHint("recover it with 'phoenix secret recover %s' before %s", name, parseTime(row.purgeAt).Format(time.DateOnly))
	}
	return notFound(name)
}

// pickVersion loads the version to read, with its crypto material.
func (v *Vault) pickVersion(ctx context.Context, name string, version int) (versionRow, sealedVersion, error) {
	now := fmtTime(v.now())
	q := `SELECT ` + versionCols + `, key_nonce, wrapped_key, nonce, ciphertext FROM vault_versions WHERE name = $1 AND version = $2`
	args := []any{name, version}
	if version == 0 {
		q = `SELECT ` + versionCols + `, key_nonce, wrapped_key, nonce, ciphertext FROM vault_versions
			WHERE name = $1 AND enabled = 1 AND (not_before = '' OR not_before <= $2) ORDER BY version DESC LIMIT 1`
		args = []any{name, now}
	}
	var sv sealedVersion
	vr, err := scanVersion(v.opts.DB.QueryRowContext(ctx, q, args...), &sv.keyNonce, &sv.wrappedKey, &sv.nonce, &sv.ciphertext)
	switch {
	case errors.Is(err, sql.ErrNoRows) && version == 0:
		return vr, sv, usererr.New(usererr.NotFound, "secret %s has no enabled version that is valid now", name).
			WithHint("see 'phoenix secret history %s'", name)
	case errors.Is(err, sql.ErrNoRows):
		return vr, sv, usererr.New(usererr.NotFound, "secret %s has no version %d", name, version).
			WithHint("see 'phoenix secret history %s'", name)
	case err != nil:
		return vr, sv, nameErr(name, err, "vault: read %s version %d", name, version)
	case !vr.enabled:
		return vr, sv, usererr.New(usererr.Conflict, "secret %s version %d is disabled", name, version).
			WithHint("enable it with 'phoenix secret enable %s --version %d'", name, version)
	case vr.notBefore != "" && vr.notBefore > now:
		return vr, sv, usererr.New(usererr.Conflict, "secret %s version %d is not valid before %s", name, version,
			parseTime(vr.notBefore).Format(time.RFC3339))
	}
	return vr, sv, nil
}
