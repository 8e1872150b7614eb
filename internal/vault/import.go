package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// ImportOptions controls Import.
type ImportOptions struct {
	Overwrite   bool              // give existing secrets a new version (default: leave them)
	Production  *bool             // set the production flag on every imported secret
	Tags        map[string]string // tags for new secrets
	ContentType string
}

// ImportResult is what happened to one entry.
type ImportResult struct {
	Name    string `json:"name"`
	Line    int    `json:"line"`
	Version int    `json:"version,omitempty"` // the version written
	Skipped string `json:"skipped,omitempty"` // why nothing was written
}

// Import writes entries (from ParseDotenv) in one transaction: all or
// nothing. Every entry is authorized before anything is written; an
// existing secret is left alone unless o.Overwrite, and never written when
// its newest value is already the same.
func (v *Vault) Import(ctx context.Context, subj Subject, entries []EnvEntry, o ImportOptions) ([]ImportResult, error) {
	for _, e := range entries {
		if err := checkName(e.Name); err != nil {
			return nil, fmt.Errorf("line %d: %w", e.Line, err)
		}
		if err := v.systemGuard(ctx, subj, "secret.write", e.Name); err != nil {
			return nil, fmt.Errorf("line %d: %w", e.Line, err)
		}
		if e.Value.Len() > MaxValueSize {
			return nil, usererr.New(usererr.Invalid, "line %d: %s: value is larger than %d bytes", e.Line, AuditedName(e.Name), MaxValueSize)
		}
		row, found, err := getSecret(ctx, v.opts.DB, e.Name)
		if err != nil {
			return nil, err
		}
		prod := row.production || (o.Production != nil && *o.Production)
		if err := v.authorize(ctx, subj, PermWrite, "secret.write", e.Name, prod, found); err != nil {
			return nil, err
		}
		if err := tooShort(e.Name, e.Value); err != nil && !e.Value.IsZero() { // KEY= is skipped below
			return nil, fmt.Errorf("line %d: %w", e.Line, err)
		}
	}
	kek, id, err := v.unsealedKEK()
	if err != nil {
		return nil, err
	}
	var out []ImportResult
	var after []AuditEvent
	err = v.tx(ctx, func(tx *sql.Tx) error {
		out, after = nil, nil
		for _, e := range entries {
			res, err := v.importOne(ctx, tx, kek, id, subj, e, o)
			if err != nil {
				return err
			}
			out = append(out, res)
			if res.Version == 0 {
				continue
			}
			ev := AuditEvent{Actor: subj.Actor, Action: "secret.write", Target: target(e.Name, res.Version), Outcome: OutcomeOK, Detail: "import"}
			inTx, err := v.auditTx(ctx, tx, ev)
			if err != nil {
				return err
			}
			if !inTx {
				after = append(after, ev)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ev := range after {
		errs = append(errs, v.audit(ctx, ev))
	}
	v.opts.Logger.Info("vault: import", "entries", len(entries), "actor", subj.Actor)
	for _, r := range out {
		if r.Version != 0 {
			v.changed(ctx, r.Name)
		}
	}
	return out, errors.Join(errs...)
}

func (v *Vault) importOne(ctx context.Context, tx *sql.Tx, kek []byte, id string, subj Subject, e EnvEntry, o ImportOptions) (ImportResult, error) {
	res := ImportResult{Name: e.Name, Line: e.Line}
	if e.Value.IsZero() {
		// KEY= in a .env file: a placeholder, not a value ('secret set'
		// refuses an empty one too, and a step could not mask it).
		res.Skipped = "empty value"
		return res, nil
	}
	row, found, err := getSecret(ctx, tx, e.Name)
	if err != nil {
		return res, err
	}
	if row.deleted() {
		return res, usererr.New(usererr.Conflict, "line %d: secret %s is deleted", e.Line, e.Name).
			WithHint("recover or purge it first, or leave it out of the file")
	}
	if found {
		if same, err := v.sameAsLatest(ctx, tx, kek, id, e.Name, e.Value); err == nil && same {
			res.Skipped = "unchanged"
			return res, nil
		}
		if !o.Overwrite {
			res.Skipped = "exists (use --overwrite for a new version)"
			return res, nil
		}
	}
	so := SetOptions{ContentType: o.ContentType, Production: o.Production}
	if !found && o.Tags != nil {
		so.Tags = maps.Clone(o.Tags)
	}
	vi, err := v.setTx(ctx, tx, kek, id, subj, e.Name, e.Value, so)
	if err != nil {
		return res, fmt.Errorf("line %d: %w", e.Line, err)
	}
	res.Version = vi.Version
	return res, nil
}

// sameAsLatest reports whether the newest version of name holds val.
func (v *Vault) sameAsLatest(ctx context.Context, tx *sql.Tx, kek []byte, id, name string, val Secret) (bool, error) {
	var sv sealedVersion
	var version int
	err := tx.QueryRowContext(ctx, `SELECT version, key_nonce, wrapped_key, nonce, ciphertext FROM vault_versions
		WHERE name = $1 ORDER BY version DESC LIMIT 1`, name).Scan(&version, &sv.keyNonce, &sv.wrappedKey, &sv.nonce, &sv.ciphertext)
	if err != nil {
		return false, err
	}
	pt, err := decryptVersion(kek, id, name, version, sv)
	if err != nil {
		return false, err
	}
	defer wipe(pt)
	return Secret{v: &secretBytes{b: pt}}.Equal(val), nil
}
