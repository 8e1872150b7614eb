package vault

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// ListOptions filters List.
type ListOptions struct {
	Deleted bool   // list deleted (recoverable) secrets instead of live ones
	Match   string // glob on names; "" is all
}

const infoQuery = `SELECT s.name, s.kind, s.production, s.tags, s.rotation, s.current_version, s.rotated_at, s.created_at,
	s.updated_at, s.deleted_at, s.purge_after, ` + `v.version, v.enabled, v.content_type, v.not_before, v.expires_at, v.cert,
	v.created_by, v.created_at FROM vault_secrets s JOIN vault_versions v ON v.name = s.name AND v.version = s.current_version`

func scanInfo(sc interface{ Scan(...any) error }) (secretRow, versionRow, error) {
	var s secretRow
	var r versionRow
	err := sc.Scan(&s.name, &s.kind, &s.production, &s.tags, &s.rotation, &s.current, &s.rotatedAt, &s.createdAt,
		&s.updatedAt, &s.deletedAt, &s.purgeAt, &r.version, &r.enabled, &r.contentType, &r.notBefore, &r.expiresAt, &r.cert,
		&r.createdBy, &r.createdAt)
	return s, r, err
}

func (v *Vault) info(s secretRow, r versionRow) Info {
	vi := r.info(s.name)
	in := Info{Name: s.name, Kind: s.kind, System: IsSystemKey(s.name), Production: v.pol.IsProduction(s.name, s.production), Tags: s.tagMap(),
		Version: s.current, ContentType: vi.ContentType, NotBefore: vi.NotBefore, ExpiresAt: vi.ExpiresAt,
		Certificate: vi.Certificate, Rotation: s.policy(), RotatedAt: parseTime(s.rotatedAt),
		CreatedAt: parseTime(s.createdAt), UpdatedAt: parseTime(s.updatedAt), DeletedAt: parseTime(s.deletedAt),
		PurgeAfter: parseTime(s.purgeAt)}
	now := v.now()
	if in.Rotation != nil {
		in.NextRotate = in.Rotation.next(s, vi)
		if !in.NextRotate.IsZero() && !now.Before(in.NextRotate) {
			in.Warnings = append(in.Warnings, "rotation is due")
		}
	}
	in.Warnings = append(warnings(vi, now, v.opts.WarnBefore), in.Warnings...)
	return in
}

// List returns the metadata of the secrets subj may list, by name.
func (v *Vault) List(ctx context.Context, subj Subject, o ListOptions) ([]Info, error) {
	if _, _, err := v.unsealedKEK(); err != nil {
		return nil, err
	}
	if _, err := path.Match(o.Match, ""); err != nil {
		return nil, usererr.New(usererr.Invalid, "glob %q: %v", o.Match, err)
	}
	cond := ` WHERE s.deleted_at = ''`
	if o.Deleted {
		cond = ` WHERE s.deleted_at <> ''`
	}
	rows, err := v.opts.DB.QueryContext(ctx, infoQuery+cond+` ORDER BY s.name`)
	if err != nil {
		return nil, fmt.Errorf("vault: list: %w", err)
	}
	defer rows.Close()
	out := []Info{}
	for rows.Next() {
		s, r, err := scanInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("vault: list: %w", err)
		}
		if o.Match != "" && !matchAny([]string{o.Match}, s.name) {
			continue
		}
		if v.pol.Check(subj, PermList, s.name, s.production) == nil {
			out = append(out, v.info(s, r))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vault: list: %w", err)
	}
	return out, v.audit(ctx, AuditEvent{Actor: subj.Actor, Action: "secret.list", Target: "secret/" + o.Match,
		Outcome: OutcomeOK, Detail: fmt.Sprintf("%d secrets", len(out))})
}

// Describe returns one secret's metadata, deleted or not.
func (v *Vault) Describe(ctx context.Context, subj Subject, name string) (Info, error) {
	s, err := v.metaAccess(ctx, subj, name, "secret.describe")
	if err != nil {
		return Info{}, err
	}
	s, r, err := scanInfo(v.opts.DB.QueryRowContext(ctx, infoQuery+` WHERE s.name = $1`, s.name))
	if err != nil {
		return Info{}, nameErr(name, err, "vault: describe %s", name)
	}
	return v.info(s, r), nil
}

// metaAccess checks name, the seal and the list permission, and returns
// the secret's row.
func (v *Vault) metaAccess(ctx context.Context, subj Subject, name, action string) (secretRow, error) {
	if err := checkName(name); err != nil {
		return secretRow{}, err
	}
	row, found, err := getSecret(ctx, v.opts.DB, name)
	if err != nil {
		return secretRow{}, err
	}
	if err := v.authorize(ctx, subj, PermList, action, name, row.production, found); err != nil {
		return secretRow{}, err
	}
	if _, _, err := v.unsealedKEK(); err != nil {
		return secretRow{}, err
	}
	if !found {
		return secretRow{}, notFound(name)
	}
	return row, nil
}

// History returns every version of name, newest first.
func (v *Vault) History(ctx context.Context, subj Subject, name string) ([]VersionInfo, error) {
	if _, err := v.metaAccess(ctx, subj, name, "secret.history"); err != nil {
		return nil, err
	}
	rows, err := v.opts.DB.QueryContext(ctx, `SELECT `+versionCols+` FROM vault_versions WHERE name = $1 ORDER BY version DESC`, name)
	if err != nil {
		return nil, nameErr(name, err, "vault: history of %s", name)
	}
	defer rows.Close()
	var out []VersionInfo
	now := v.now()
	for rows.Next() {
		r, err := scanVersion(rows)
		if err != nil {
			return nil, nameErr(name, err, "vault: history of %s", name)
		}
		vi := r.info(name)
		vi.Warnings = warnings(vi, now, v.opts.WarnBefore)
		out = append(out, vi)
	}
	return out, rows.Err()
}

// change authorizes a write on name and runs fn with the secret's row in
// a transaction with its audit record.
func (v *Vault) change(ctx context.Context, subj Subject, name, action string, version int, fn func(tx *sql.Tx, row secretRow, now string) error) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := v.systemGuard(ctx, subj, action, name); err != nil {
		return err
	}
	row, found, err := getSecret(ctx, v.opts.DB, name)
	if err != nil {
		return err
	}
	if err := v.authorize(ctx, subj, PermWrite, action, name, row.production, found); err != nil {
		return err
	}
	if _, _, err := v.unsealedKEK(); err != nil {
		return err
	}
	e := &AuditEvent{Actor: subj.Actor, Action: action, Target: target(name, version), Outcome: OutcomeOK}
	err = v.write(ctx, e, func(tx *sql.Tx) error {
		row, found, err := getSecret(ctx, tx, name)
		if err != nil {
			return err
		}
		if !found {
			// The failed change's record: a name no secret has, as
			// AuditedName shows it.
			e.Target = target(AuditedName(name), version)
			return notFound(name)
		}
		return fn(tx, row, fmtTime(v.now()))
	})
	if err == nil {
		v.changed(ctx, name)
	}
	return err
}

// SetEnabled enables or disables one version. A disabled version is never
// served; reading "latest" skips it.
func (v *Vault) SetEnabled(ctx context.Context, subj Subject, name string, version int, enabled bool) error {
	action := "secret.disable"
	if enabled {
		action = "secret.enable"
	}
	return v.change(ctx, subj, name, action, version, func(tx *sql.Tx, row secretRow, now string) error {
		res, err := tx.ExecContext(ctx, `UPDATE vault_versions SET enabled = $3 WHERE name = $1 AND version = $2`, name, version, enabled)
		if err != nil {
			return nameErr(name, err, "vault: %s %s@%d", action, name, version)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return usererr.New(usererr.NotFound, "secret %s has no version %d", name, version)
		}
		_, err = tx.ExecContext(ctx, `UPDATE vault_secrets SET updated_at = $2 WHERE name = $1`, name, now)
		return err
	})
}

// SetTags replaces a secret's tags.
func (v *Vault) SetTags(ctx context.Context, subj Subject, name string, tags map[string]string) error {
	if err := (SetOptions{Tags: tags}).validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(maps.Clone(tags))
	return v.change(ctx, subj, name, "secret.tag", 0, func(tx *sql.Tx, row secretRow, now string) error {
		_, err := tx.ExecContext(ctx, `UPDATE vault_secrets SET tags = $2, updated_at = $3 WHERE name = $1`, name, string(b), now)
		return err
	})
}

// Delete soft-deletes name: it stops being served at once and can be
// recovered until the recovery window ends (then PurgeExpired removes it).
func (v *Vault) Delete(ctx context.Context, subj Subject, name string) (time.Time, error) {
	purge := v.now().Add(v.opts.RecoveryWindow)
	err := v.change(ctx, subj, name, "secret.delete", 0, func(tx *sql.Tx, row secretRow, now string) error {
		if row.deleted() {
			return usererr.New(usererr.Conflict, "secret %s is already deleted", name)
		}
		_, err := tx.ExecContext(ctx, `UPDATE vault_secrets SET deleted_at = $2, purge_after = $3, updated_at = $2 WHERE name = $1`,
			name, now, fmtTime(purge))
		return err
	})
	return purge, err
}

// Recover undoes Delete.
func (v *Vault) Recover(ctx context.Context, subj Subject, name string) error {
	return v.change(ctx, subj, name, "secret.recover", 0, func(tx *sql.Tx, row secretRow, now string) error {
		if !row.deleted() {
			return usererr.New(usererr.Conflict, "secret %s is not deleted", name)
		}
		_, err := tx.ExecContext(ctx, `UPDATE vault_secrets SET deleted_at = '', purge_after = '', updated_at = $2 WHERE name = $1`, name, now)
		return err
	})
}

// Purge removes a deleted secret and all its versions for good.
func (v *Vault) Purge(ctx context.Context, subj Subject, name string) error {
	return v.change(ctx, subj, name, "secret.purge", 0, func(tx *sql.Tx, row secretRow, now string) error {
		if !row.deleted() {
			return usererr.New(usererr.Conflict, "secret %s is not deleted; only deleted secrets are purged", name).
				WithHint("run 'phoenix secret delete %s' first", name)
		}
		return purgeTx(ctx, tx, name)
	})
}

func purgeTx(ctx context.Context, tx *sql.Tx, name string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM vault_versions WHERE name = $1`, name); err != nil {
		return nameErr(name, err, "vault: purge %s", name)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM vault_secrets WHERE name = $1`, name); err != nil {
		return nameErr(name, err, "vault: purge %s", name)
	}
	return nil
}

// PurgeExpired purges every deleted secret whose recovery window has
// ended, as the system; the scheduler calls it. It returns the names.
func (v *Vault) PurgeExpired(ctx context.Context) ([]string, error) {
	rows, err := v.opts.DB.QueryContext(ctx, `SELECT name FROM vault_secrets WHERE deleted_at <> '' AND purge_after <= $1 ORDER BY name`,
		fmtTime(v.now()))
	if err != nil {
		return nil, fmt.Errorf("vault: expired deletions: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		e := &AuditEvent{Actor: "system", Action: "secret.purge", Target: target(n, 0), Outcome: OutcomeOK, Detail: "recovery window ended"}
		if err := v.write(ctx, e, func(tx *sql.Tx) error { return purgeTx(ctx, tx, n) }); err != nil {
			return nil, err
		}
		v.changed(ctx, n)
	}
	return names, nil
}
