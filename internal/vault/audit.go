package vault

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Outcomes of an audited vault action (the same words internal/audit uses).
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeFailed = "failed"
)

// AuditEvent is one vault action for the audit log. It never carries a
// value: Target is "secret/NAME" or "secret/NAME@VERSION".
type AuditEvent struct {
	Actor   string // Subject.Actor
	Action  string // e.g. secret.read, secret.write, secret.delete, vault.unseal
	Target  string
	Outcome string // OutcomeOK, OutcomeDenied or OutcomeFailed
	Detail  string // e.g. the reason of a denial; never a value
}

// Auditor records vault actions. An error makes the action fail: a read
// whose record cannot be written returns no value.
type Auditor interface {
	Audit(ctx context.Context, e AuditEvent) error
}

// TxAuditor is an Auditor that can write its record inside the vault's
// own transaction, so a change and its record commit together or not at
// all (internal/audit's AppendTx). When the Auditor implements it, writes
// use it; otherwise writes are audited right after they commit.
type TxAuditor interface {
	Auditor
	AuditTx(ctx context.Context, tx *sql.Tx, e AuditEvent) error
}

// AuditFunc adapts a function to Auditor.
type AuditFunc func(ctx context.Context, e AuditEvent) error

// Audit calls f.
func (f AuditFunc) Audit(ctx context.Context, e AuditEvent) error { return f(ctx, e) }

func target(name string, version int) string {
	if version > 0 {
		return fmt.Sprintf("secret/%s@%d", name, version)
	}
	return "secret/" + name
}

// audit records e outside any transaction.
func (v *Vault) audit(ctx context.Context, e AuditEvent) error {
	if v.opts.Auditor == nil {
		return nil
	}
	if err := v.opts.Auditor.Audit(ctx, e); err != nil {
		v.opts.Logger.Error("vault: audit record failed", "action", e.Action, "target", e.Target, "err", err)
		return usererr.Wrap(usererr.Internal, err, "vault: the audit record could not be written, so the action was refused")
	}
	return nil
}

// auditTx records e inside tx when the Auditor can, and reports whether it
// did; otherwise the caller audits after commit.
func (v *Vault) auditTx(ctx context.Context, tx *sql.Tx, e AuditEvent) (bool, error) {
	ta, ok := v.opts.Auditor.(TxAuditor)
	if !ok {
		return false, nil
	}
	if err := ta.AuditTx(ctx, tx, e); err != nil {
		v.opts.Logger.Error("vault: audit record failed", "action", e.Action, "target", e.Target, "err", err)
		return true, usererr.Wrap(usererr.Internal, err, "vault: the audit record could not be written, so the change was not made")
	}
	return true, nil
}

// write runs a change in a transaction together with its audit record
// (or audits right after commit when the Auditor has no AuditTx). A failed
// change is audited as failed. fn may fill in e (e.g. the new version).
func (v *Vault) write(ctx context.Context, e *AuditEvent, fn func(tx *sql.Tx) error) error {
	var inTx, auditFailed bool
	err := v.tx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		inTx, err = v.auditTx(ctx, tx, *e)
		auditFailed = err != nil
		return err
	})
	if err != nil {
		if !auditFailed {
			f := *e
			f.Outcome, f.Detail = OutcomeFailed, usererr.KindOf(err).Code()
			_ = v.audit(ctx, f)
		}
		return err
	}
	if !inTx {
		return v.audit(ctx, *e)
	}
	return nil
}

// changed tells Options.OnChange that name changed.
func (v *Vault) changed(ctx context.Context, name string) {
	if v.opts.OnChange != nil {
		v.opts.OnChange(ctx, name)
	}
}
