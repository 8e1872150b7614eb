package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// openAudit opens the audit log, signing its head every CheckpointEvery
// and once more at Stop. Its key comes from the file when there is one;
// else it has no signer until the vault opens (settleAuditKey, auditkey.go).
func (a *App) openAudit() error {
	key, err := startAuditKey(a.opts.DataDir)
	if err != nil {
		return err
	}
	a.AuditKey = key
	a.Audit = audit.New(audit.Options{DB: a.DB, Signer: key.Signer, Verifier: key.Verifier, Anchor: a.readAnchor})
	// Cleanups run last-in first-out: the ticker stops before the final
	// checkpoint is signed.
	a.onStop(func(ctx context.Context) error { a.checkpoint(ctx); return nil })
	a.singletonEvery(a.opts.CheckpointEvery, time.Minute, a.checkpoint)
	return nil
}

func (a *App) checkpoint(ctx context.Context) {
	cp, err := a.Audit.Checkpoint(ctx)
	if err != nil && ctx.Err() == nil && !errors.Is(err, audit.ErrNoSigner) {
		a.log.Error("audit: cannot sign a checkpoint", "err", err)
	}
	a.keepAnchor(ctx, cp)
}

// openAuth builds the auth domain with the roles of RolesFile.
func (a *App) openAuth() error {
	path := a.opts.RolesFile
	if path == "" {
		path = filepath.Join(a.opts.DataDir, "roles.yaml")
	}
	var roles []auth.Role
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if roles, err = auth.ParseRoles(path, b); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist) || a.opts.RolesFile != "":
		return fmt.Errorf("roles file: %w", err)
	}
	// Replicas keep the sign-in limits in the database they share, so
	// the limits hold for all of them; a server alone, in memory.
	a.Auth, err = auth.New(auth.Options{DB: a.DB, Audit: a.Audit, Logger: a.log.With("domain", "auth"),
		Roles: roles, Argon2: a.opts.Argon2, Replicas: a.opts.Replica.On})
	return err
}

// auditDeploy writes a deploy change to the audit log in its transaction.
func (a *App) auditDeploy(ctx context.Context, tx *sql.Tx, e deploy.Event) error {
	target := e.Project
	if e.Environment != "" {
		target += "/" + e.Environment
	}
	_, err := a.Audit.AppendTx(ctx, tx, audit.Event{Action: e.Action, Target: target, Actor: e.Actor, Detail: e.Detail})
	return err
}
