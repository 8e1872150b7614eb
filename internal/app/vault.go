package app

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/tick"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// vaultAudit writes the vault's records to the audit log; a change and
// its record commit in one transaction (AuditTx).
type vaultAudit struct{ log *audit.Log }

func (a vaultAudit) ev(e vault.AuditEvent) audit.Event {
	return audit.Event{Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail}
}

func (a vaultAudit) Audit(ctx context.Context, e vault.AuditEvent) error {
	_, err := a.log.Append(ctx, a.ev(e))
	return err
}

func (a vaultAudit) AuditTx(ctx context.Context, tx *sql.Tx, e vault.AuditEvent) error {
	_, err := a.log.AppendTx(ctx, tx, a.ev(e))
	return err
}

// rotationNotice tells every notification channel that subscribes to
// secret.rotated (server-wide: no project) about a rotation (the vault
// logs it: "vault: secret rotated"), and the server log and the channels
// of secret.rotation_failed about a failing one. Names and versions only:
// a value never leaves the vault this way.
type rotationNotice struct {
	log *slog.Logger
	app *App
}

func (r rotationNotice) SecretRotated(ctx context.Context, e vault.RotationEvent) error {
	if r.app.Notify == nil {
		return nil
	}
	_, err := r.app.Notify.Publish(ctx, rotationMessage(e))
	return err
}

// SecretRotationFailed tells the server log and every channel that
// subscribes to secret.rotation_failed that a scheduled rotation failed:
// once when the failures begin, and once more, critical, when the secret
// expires within a day still failing (the vault keeps count); the
// scheduler tries again every minute meanwhile.
func (r rotationNotice) SecretRotationFailed(ctx context.Context, e vault.RotationFailure) error {
	r.log.Error("scheduled secret rotation failing", "name", e.Name, "version", e.Version, "since", e.Since, "critical", e.Critical, "err", e.Error)
	if r.app.Notify == nil {
		return nil
	}
	_, err := r.app.Notify.Publish(ctx, rotationFailedMessage(e))
	return err
}

// rotationFailedMessage is the secret.rotation_failed notice: severity
// error, critical when the secret expires within a day (or has expired).
func rotationFailedMessage(e vault.RotationFailure) notify.Message {
	sev, expires := notify.Error, "never"
	if !e.ExpiresAt.IsZero() {
		expires = e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	if e.Critical {
		sev = notify.Critical
	}
	return notify.Message{Event: "secret.rotation_failed", Severity: sev, Time: e.At,
		Title: fmt.Sprintf("Scheduled rotation of secret %s is failing; version %d stays current", e.Name, e.Version),
		Text: e.Error + ". The server tries again every minute; fix the rotation policy's generator " +
			"(phoenix secret rotate " + e.Name + " --policy-only …) or rotate it by hand (phoenix secret rotate " + e.Name + ").",
		Facts: []notify.Fact{{Name: "Secret", Value: e.Name}, {Name: "Current version", Value: fmt.Sprint(e.Version)},
			{Name: "Expires", Value: expires}, {Name: "Failing since", Value: e.Since.UTC().Format("2006-01-02 15:04 UTC")}}}
}

func rotationMessage(e vault.RotationEvent) notify.Message {
	return notify.Message{Event: "secret.rotated", Severity: 3, Time: e.At,
		Title: fmt.Sprintf("Secret %s rotated to version %d", e.Name, e.NewVersion),
		Facts: []notify.Fact{{Name: "Secret", Value: e.Name}, {Name: "Version", Value: fmt.Sprintf("%d (was %d)", e.NewVersion, e.OldVersion)},
			{Name: "Reason", Value: e.Reason}, {Name: "By", Value: e.Actor}}}
}

// inProcessUnseal is how the vault of an in-process server (Options.InProcess)
// opens: the next command gets the master key, as 'phoenix server' does.
const inProcessUnseal = "set PHOENIX_MASTER_KEY_FILE (or run against a server with --server)"

// InProcessSealed is the error of an operation on the sealed vault of an
// in-process server (Options.InProcess), which lives for one command: no
// 'phoenix vault unseal' reaches it, so the command must bring the key.
func InProcessSealed() error {
	return usererr.Wrap(usererr.Unavailable, vault.ErrSealed, "vault is sealed: no master key was given").
		WithHint("%s", inProcessUnseal)
}

// openVault builds the vault with the policy of VaultPolicyFile and, when
// a master key was given, unseals it (initializing a new one). Without a
// key it stays sealed: the server runs and serves the edge, and secret
// operations answer 503 until 'phoenix vault unseal'. A wrong key stops
// the start: an operator who gave a key means the vault to be open.
func (a *App) openVault(ctx context.Context) error {
	pol, err := a.vaultPolicy()
	if err != nil {
		return err
	}
	log := a.log.With("domain", "vault")
	var started atomic.Bool // an unseal after the start hands the audit log and the signer their keys
	var sealed func() error
	if a.opts.InProcess {
		sealed = InProcessSealed
	}
	a.Vault, err = vault.New(vault.Options{DB: a.DB, Logger: log, Auditor: vaultAudit{a.Audit},
		Notifier: rotationNotice{log: log, app: a}, Policy: pol, KDF: a.opts.VaultKDF, Sealed: sealed,
		CommandEnv: childEnv(os.Environ()),
		OnUnseal: func(ctx context.Context) {
			if started.Load() {
				a.signingUnsealed(ctx) // first: the audit checkpoint then covers its record
				a.auditUnsealed(ctx)
				a.reloadChannels(ctx)
			}
		},
		OnChange: a.secretChanged}) // notify_secrets.go
	if err != nil {
		return err
	}
	key := a.opts.MasterKey
	if key.IsZero() {
		log.Warn("vault sealed: no master key given; run 'phoenix vault unseal' (or start with PHOENIX_MASTER_KEY or --master-key-file)")
	} else {
		st, err := a.Vault.Status(ctx)
		// The server opens the vault itself: audited as its start's, as
		// the first admin's creation is, not by nobody from nowhere.
		start := audit.WithMeta(ctx, audit.Meta{Actor: "phoenix", Source: "server start"})
		switch {
		case err != nil:
			return err
		case !st.Initialized:
			err = a.Vault.Init(start, key)
		default:
			err = a.Vault.Unseal(start, key)
		}
		var ue *usererr.Error
		switch {
		case (errors.Is(err, vault.ErrWrongKey) || usererr.KindOf(err) == usererr.Invalid) && errors.As(err, &ue):
			// a key that does not open the vault, or cannot make one, is
			// the operator's to fix: a usage error, as a wrong backup key is.
			return usererr.Wrap(usererr.Usage, err, "vault: "+ue.Message).WithHint("%s", ue.Hint)
		case err != nil:
			return fmt.Errorf("vault: %w", err)
		}
	}
	akey, err := a.settleAuditKey(ctx)
	if err != nil {
		return err
	}
	if akey.Verifier != nil {
		a.AuditKey = akey
	}
	started.Store(true)
	a.singletonEvery(a.opts.VaultEvery, time.Minute, a.vaultTick)
	a.every(a.opts.VaultEvery, time.Minute, a.vaultKeyTick)
	return nil
}

// vaultPolicy reads VaultPolicyFile (default <data>/vault-policy.yaml);
// no file means serverPolicy.
func (a *App) vaultPolicy() (*vault.Policy, error) {
	path := a.opts.VaultPolicyFile
	if path == "" {
		path = filepath.Join(a.opts.DataDir, "vault-policy.yaml")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && a.opts.VaultPolicyFile == "" {
		return serverPolicy(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault policy file: %w", err)
	}
	return parsePolicy(path, b)
}

// parsePolicy reads a vault policy file: rules and production globs,
// unknown keys refused, every rule checked.
func parsePolicy(path string, b []byte) (*vault.Policy, error) {
	var p vault.Policy
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("vault policy file %s: %s", path, policyYAMLErr(err))
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("vault policy file %s: %w", path, err)
	}
	return &p, nil
}

// policyYAMLErr says what is wrong with a policy file in its own terms:
// the line and the field, and the fields there are, not Go's types
// ("field rolez not found in type vault.Rule").
func policyYAMLErr(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		if strings.Contains(m, " not found in type ") {
			m = strings.Replace(m, "field ", "unknown field ", 1)
		}
		m = strings.Replace(m, " not found in type vault.Rule", " in a rule (it has secrets, roles, pipelines, environments, allow)", 1)
		msgs[i] = strings.Replace(m, " not found in type vault.Policy", " (the file has production and rules)", 1)
	}
	return strings.Join(msgs, "; ")
}

// vaultTick rotates what is due and purges what has outlived its
// recovery window. A sealed vault skips rotation quietly.
func (a *App) vaultTick(ctx context.Context) {
	if !a.Vault.Sealed() {
		res, err := a.Vault.RotateDue(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("vault: scheduled rotation", "err", err)
		}
		for _, r := range res {
			if r.Error != "" {
				// Every try (they back off: vault.RetryDelay); the audit
				// record and the notice go out once per streak of failures
				// (vault.FailureNotifier).
				a.log.Warn("vault: scheduled rotation failed", "name", r.Name, "err", r.Error, "next_try", r.RetryAt)
			}
		}
	}
	purged, err := a.Vault.PurgeExpired(ctx)
	if err != nil && ctx.Err() == nil && !errors.Is(err, vault.ErrSealed) {
		a.log.Error("vault: purge expired secrets", "err", err)
	}
	if len(purged) > 0 {
		a.log.Info("vault: purged secrets past their recovery window", "names", purged)
	}
}

// vaultKeyTick runs on every server, leader or not: when the master key
// was changed on another server sharing the database, the vault seals
// itself (Vault.SealIfKeyChanged says so in the log) rather than answer
// with a key that opens nothing.
func (a *App) vaultKeyTick(ctx context.Context) {
	if _, err := a.Vault.SealIfKeyChanged(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("vault: check the master key against the database", "err", err)
	}
}

// every runs fn every d (def when d is 0) until Stop.
func (a *App) every(d, def time.Duration, fn func(context.Context)) {
	if d <= 0 {
		d = def
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick.Every(ctx, d, fn)
	}()
	a.onStop(func(context.Context) error { cancel(); <-done; return nil })
}

// singletonEvery runs fn every d (def when d is 0) while this server leads.
func (a *App) singletonEvery(d, def time.Duration, fn func(context.Context)) {
	if d <= 0 {
		d = def
	}
	a.singleton(func(ctx context.Context) { tick.Every(ctx, d, fn) })
}

// reloadChannels loads the notification channels again when the vault
// opens after the start (those whose URL is a secret did not load while
// it was sealed) or a secret they read changes (notify_secrets.go), and
// an automatic rollback's alert owed meanwhile goes out now (a lone
// server looks for owed alerts only at its start; the replicas' leader
// on every poll anyway).
func (a *App) reloadChannels(ctx context.Context) {
	if a.projects == nil {
		return
	}
	a.reconfigure()
	if !a.opts.InProcess && !a.opts.Replica.On {
		a.queueOwed(ctx, time.Time{})
	}
}
