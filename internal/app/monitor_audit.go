package app

import (
	"context"
	"database/sql"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// auditMonitor writes an alert acknowledgement to the audit log in its
// transaction.
func (a *App) auditMonitor(ctx context.Context, tx *sql.Tx, e monitor.AuditEvent) error {
	_, err := a.Audit.AppendTx(ctx, tx, audit.Event{Action: e.Action, Target: e.Target, Actor: e.Actor, Detail: e.Detail})
	return err
}
