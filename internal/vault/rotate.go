package vault

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// RotationPolicy says when and how a secret gets a new value.
type RotationPolicy struct {
	EveryDays        int           `json:"every_days,omitempty" yaml:"every_days"`                 // rotate N days after the last rotation
	BeforeExpiryDays int           `json:"before_expiry_days,omitempty" yaml:"before_expiry_days"` // rotate N days before the newest version expires
	ExpireAfterDays  int           `json:"expire_after_days,omitempty" yaml:"expire_after_days"`   // give each new version an expiry
	Generator        GeneratorSpec `json:"generator" yaml:"generator"`
}

// GeneratorSpec picks and configures the generator of new values.
type GeneratorSpec struct {
	Type     string   `json:"type" yaml:"type"`                   // "random", "command", or a name in Options.Generators (e.g. "workflow")
	Length   int      `json:"length,omitempty" yaml:"length"`     // random: characters (default 32)
	Alphabet string   `json:"alphabet,omitempty" yaml:"alphabet"` // random: characters or a preset (alnum, hex, base64url, symbols)
	Command  []string `json:"command,omitempty" yaml:"command"`   // command: argv, no shell; its stdout is the new value
	Workflow string   `json:"workflow,omitempty" yaml:"workflow"` // for a registered workflow generator
}

// GenerateRequest is what a Generator is asked for.
type GenerateRequest struct {
	Name    string // the secret
	Version int    // its newest version now (the new one is Version+1)
	Spec    GeneratorSpec
}

// Generator makes a new value for a rotation.
type Generator interface {
	Generate(ctx context.Context, req GenerateRequest) (Secret, error)
}

// RotationEvent tells a Notifier about a rotation. It has no value.
type RotationEvent struct {
	Name       string    `json:"name"`
	OldVersion int       `json:"old_version"`
	NewVersion int       `json:"new_version"`
	Actor      string    `json:"actor"`
	Reason     string    `json:"reason"` // "manual" or "scheduled"
	At         time.Time `json:"at"`
}

// Notifier is told after every rotation commits (e.g. to post to Teams).
// Its error is logged; the rotation stands.
type Notifier interface {
	SecretRotated(ctx context.Context, e RotationEvent) error
}

// RotationFailure tells a FailureNotifier that a scheduled rotation
// failed. It has no value, nor a generator's output.
type RotationFailure struct {
	Name      string    `json:"name"`
	Version   int       `json:"version"`             // the version that stays current
	Error     string    `json:"error"`               // why, as the rotation's error says it
	Since     time.Time `json:"since"`               // the first failure of this streak
	ExpiresAt time.Time `json:"expires_at,omitzero"` // when the current version expires
	Critical  bool      `json:"critical"`            // it expires within a day (or has expired)
	At        time.Time `json:"at"`
}

// FailureNotifier is a Notifier also told when a scheduled rotation
// fails: once when a streak of failures begins, and once more when the
// secret comes within a day of its expiry still failing; not at every
// retry. Its error is logged.
type FailureNotifier interface {
	SecretRotationFailed(ctx context.Context, e RotationFailure) error
}

// Validate checks the policy.
func (p RotationPolicy) Validate() error {
	if p.EveryDays < 0 || p.BeforeExpiryDays < 0 || p.ExpireAfterDays < 0 {
		return errors.New("rotation days must not be negative")
	}
	if p.EveryDays == 0 && p.BeforeExpiryDays == 0 {
		return errors.New("rotation needs every_days or before_expiry_days")
	}
	if p.BeforeExpiryDays > 0 && p.ExpireAfterDays > 0 && p.BeforeExpiryDays >= p.ExpireAfterDays {
		return errors.New("before_expiry_days must be less than expire_after_days")
	}
	if p.BeforeExpiryDays > 0 && p.EveryDays == 0 && p.ExpireAfterDays == 0 {
		// A rotated version gets an expiry only from expire_after_days.
		return errors.New("before_expiry_days alone rotates once at most: the version it makes has no expiry, so it is never due again; " +
			"give expire_after_days (--expire-after N) or every_days (--every N) too")
	}
	switch p.Generator.Type {
	case "random":
		_, err := randomAlphabet(p.Generator)
		return err
	case "command":
		if len(p.Generator.Command) == 0 || p.Generator.Command[0] == "" {
			return errors.New("a command generator needs a command")
		}
	case "":
		return errors.New("rotation needs a generator type: random, command or a registered one")
	}
	return nil
}

// next is when the secret is due: the earlier of EveryDays after the last
// rotation (or the newest version) and BeforeExpiryDays before expiry.
func (p RotationPolicy) next(s secretRow, latest VersionInfo) time.Time {
	var due time.Time
	if p.EveryDays > 0 {
		base := parseTime(s.rotatedAt)
		if latest.CreatedAt.After(base) {
			base = latest.CreatedAt
		}
		due = base.AddDate(0, 0, p.EveryDays)
	}
	if p.BeforeExpiryDays > 0 && !latest.ExpiresAt.IsZero() {
		if t := latest.ExpiresAt.AddDate(0, 0, -p.BeforeExpiryDays); due.IsZero() || t.Before(due) {
			due = t
		}
	}
	return due
}

// SetRotation stores (or with nil clears) a secret's rotation policy.
func (v *Vault) SetRotation(ctx context.Context, subj Subject, name string, p *RotationPolicy) error {
	text := ""
	if p != nil {
		if err := p.Validate(); err != nil {
			return usererr.Wrap(usererr.Invalid, err, fmt.Sprintf("rotation policy of %s: %v", AuditedName(name), err))
		}
		if _, err := v.generator(p.Generator.Type); err != nil {
			return err
		}
		b, _ := json.Marshal(p)
		text = string(b)
	}
	err := v.change(ctx, subj, name, "secret.policy", 0, func(tx *sql.Tx, row secretRow, now string) error {
		// A new policy (a fixed generator) starts without a failure streak.
		_, err := tx.ExecContext(ctx, `UPDATE vault_secrets SET rotation = $2, updated_at = $3, `+noFailureStreak+` WHERE name = $1`, name, text, now)
		return err
	})
	if p != nil && errors.Is(err, ErrNotFound) {
		// A policy rotates an existing secret: it makes no first value.
		return usererr.Wrap(usererr.NotFound, err, err.Error()).
			WithHint("set its first value (phoenix secret set %s), then give it the policy", hintName(name))
	}
	return err
}

func (v *Vault) generator(typ string) (Generator, error) {
	switch typ {
	case "random":
		return randomGenerator{}, nil
	case "command":
		return commandGenerator{timeout: v.opts.CommandTimeout, env: v.opts.CommandEnv}, nil
	}
	if g, ok := v.opts.Generators[typ]; ok {
		return g, nil
	}
	return nil, usererr.New(usererr.Invalid, "rotation generator %q is not known: use random, command or a registered one", clip(typ))
}

// Rotate gives name a new version from its rotation policy's generator
// now, and tells the Notifier.
func (v *Vault) Rotate(ctx context.Context, subj Subject, name string) (VersionInfo, error) {
	if err := checkName(name); err != nil {
		return VersionInfo{}, err
	}
	if err := v.systemGuard(ctx, subj, "secret.rotate", name); err != nil {
		return VersionInfo{}, err
	}
	row, found, err := getSecret(ctx, v.opts.DB, name)
	if err != nil {
		return VersionInfo{}, err
	}
	if err := v.authorize(ctx, subj, PermWrite, "secret.rotate", name, row.production, found); err != nil {
		return VersionInfo{}, err
	}
	return v.rotate(ctx, subj.Actor, name, "manual")
}

func (v *Vault) rotate(ctx context.Context, actor, name, reason string) (VersionInfo, error) {
	kek, id, err := v.unsealedKEK()
	if err != nil {
		return VersionInfo{}, err
	}
	row, found, err := getSecret(ctx, v.opts.DB, name)
	if err != nil {
		return VersionInfo{}, err
	}
	if !found || row.deleted() {
		return VersionInfo{}, missing(name, row)
	}
	p, o := row.policy(), SetOptions{ContentType: "text/plain"}
	var gen Generator
	if k := systemKeys[name]; k.rotate != nil {
		// One of the server's data keys: a new key of the same form, made
		// here; such a key has no policy of its own.
		p, gen, o.ContentType = &RotationPolicy{Generator: GeneratorSpec{Type: "data-key"}}, k.rotate, k.contentType
	}
	if p == nil {
		return VersionInfo{}, usererr.New(usererr.Conflict, "secret %s has no rotation policy", name).
			WithHint("give one: phoenix secret rotate %s --every 30 --generator random --length 40", name)
	}
	if gen == nil {
		if gen, err = v.generator(p.Generator.Type); err != nil {
			return VersionInfo{}, err
		}
	}
	val, err := gen.Generate(ctx, GenerateRequest{Name: name, Version: row.current, Spec: p.Generator})
	if err == nil && (val.Len() < MinValueLen || val.Len() > MaxValueSize) {
		err = fmt.Errorf("it gave an empty, oversized or too short (under %d characters) value", MinValueLen)
	}
	if err != nil {
		return VersionInfo{}, generatorFailed(name, row.current, p.Generator.Type, err)
	}
	if p.ExpireAfterDays > 0 {
		o.ExpiresAt = v.now().AddDate(0, 0, p.ExpireAfterDays)
	}
	var vi VersionInfo
	e := &AuditEvent{Actor: actor, Action: "secret.rotate", Target: target(name, 0), Outcome: OutcomeOK, Detail: reason}
	err = v.write(ctx, e, func(tx *sql.Tx) error {
		var err error
		if vi, err = v.setTx(ctx, tx, kek, id, Subject{Actor: actor}, name, val, o); err != nil {
			return err
		}
		e.Target = target(name, vi.Version)
		_, err = tx.ExecContext(ctx, `UPDATE vault_secrets SET rotated_at = $2, `+noFailureStreak+` WHERE name = $1`, name, fmtTime(v.now()))
		return err
	})
	if err != nil {
		return VersionInfo{}, err
	}
	// The one log line of a rotation: the Notifier sends, it does not log.
	v.opts.Logger.Info("vault: secret rotated", "name", name, "version", vi.Version, "reason", reason, "actor", actor)
	v.changed(ctx, name)
	if v.opts.Notifier != nil {
		ev := RotationEvent{Name: name, OldVersion: row.current, NewVersion: vi.Version, Actor: actor, Reason: reason, At: v.now()}
		if err := v.opts.Notifier.SecretRotated(ctx, ev); err != nil {
			v.opts.Logger.Warn("vault: rotation notification failed", "name", name, "err", err)
		}
	}
	vi.Warnings = warnings(vi, v.now(), v.opts.WarnBefore)
	return vi, nil
}

// generatorFailed is the error of a rotation whose generator failed: the
// command or generator the policy names is the user's to fix, so the
// message (which never holds output or a value) reaches them rather than
// an internal error.
func generatorFailed(name string, current int, typ string, err error) error {
	return usererr.Wrap(usererr.Failed, err, fmt.Sprintf("rotate %s: generator %s failed: %v", name, typ, err)).
		WithHint("version %d stays current; fix the generator (phoenix secret rotate %s --policy-only with the policy flags replaces it) and rotate again", current, name)
}

// RotationResult is the outcome of one scheduled rotation.
type RotationResult struct {
	Name    string `json:"name"`
	Version int    `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
	// RetryAt is, for a failed rotation, when the scheduler tries it
	// again at the earliest (RetryDelay).
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// noFailureStreak is the SET list that ends a rotation's streak of
// failures and its wait (a success, a new policy).
const noFailureStreak = `rotation_failing_since = '', rotation_failure_notice = '', rotation_failures = 0, rotation_retry_at = ''`

// Bounds of the wait between scheduled tries of a rotation that fails.
const (
	firstRetry = time.Minute
	maxRetry   = time.Hour
)

// RetryDelay is how long the scheduler waits after the failures-th
// scheduled try in a row of a rotation failed before the next: a minute
// after the first, then twice as long after each, up to an hour.
func RetryDelay(failures int) time.Duration {
	if failures < 1 {
		return 0
	}
	if failures > 7 { // 2^6 minutes is past the hour already
		return maxRetry
	}
	return min(firstRetry<<(failures-1), maxRetry)
}

// RotateDue rotates, as the system, every live secret whose policy says it
// is due; the scheduler calls it. One failure does not stop the others.
// A failure is audited (secret.rotate, failed) and told to a
// FailureNotifier once per streak of failures (see rotationFailed), and
// the secret is not tried again before RetryDelay has passed (kept in the
// database: a restart does not shorten it); a success or a new policy
// ends the wait.
func (v *Vault) RotateDue(ctx context.Context) ([]RotationResult, error) {
	if _, _, err := v.unsealedKEK(); err != nil {
		return nil, err
	}
	now := v.now()
	rows, err := v.opts.DB.QueryContext(ctx, infoQuery+` WHERE s.deleted_at = '' AND s.rotation <> '' AND s.rotation_retry_at <= $1
		ORDER BY s.name`, fmtTime(now))
	if err != nil {
		return nil, fmt.Errorf("vault: due rotations: %w", err)
	}
	var due []VersionInfo
	for rows.Next() {
		s, r, err := scanInfo(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("vault: due rotations: %w", err)
		}
		if p := s.policy(); p != nil {
			if t := p.next(s, r.info(s.name)); !t.IsZero() && !now.Before(t) {
				due = append(due, r.info(s.name))
			}
		}
	}
	rows.Close()
	var out []RotationResult
	for _, d := range due {
		vi, err := v.rotate(ctx, "system", d.Name, "scheduled")
		res := RotationResult{Name: d.Name, Version: vi.Version}
		if err != nil {
			res.Error = err.Error()
			if !errors.Is(err, ErrSealed) && ctx.Err() == nil {
				res.RetryAt = v.backOff(ctx, d.Name)
				v.rotationFailed(ctx, d, err)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// backOff counts a failed scheduled try of name's rotation and sets when
// the next may be (RetryDelay), which it returns; a database error is
// logged, and the next tick tries again.
func (v *Vault) backOff(ctx context.Context, name string) time.Time {
	var at time.Time
	err := v.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT rotation_failures FROM vault_secrets WHERE name = $1`, name).Scan(&n); err != nil {
			return err
		}
		at = v.now().Add(RetryDelay(n + 1))
		_, err := tx.ExecContext(ctx, `UPDATE vault_secrets SET rotation_failures = $2, rotation_retry_at = $3 WHERE name = $1`,
			name, n+1, fmtTime(at))
		return err
	})
	if err != nil {
		v.opts.Logger.Error("vault: record when to retry a failed rotation", "name", name, "err", err)
		return time.Time{}
	}
	return at
}

// Severities of the notice of a failing scheduled rotation, as stored in
// vault_secrets.rotation_failure_notice.
const (
	failureError    = "error"
	failureCritical = "critical" // the current version expires within a day
)

// rotationFailed records a failed scheduled rotation of cur (the current
// version) once per streak of failures: the streak's first failure is
// audited (secret.rotate, outcome failed, by system) and told to the
// FailureNotifier; later failures are not, until the secret comes within a
// day of its expiry (or has expired), which is told once more, as
// critical. A successful rotation or a new policy ends the streak.
func (v *Vault) rotationFailed(ctx context.Context, cur VersionInfo, cause error) {
	now := v.now()
	level := failureError
	if !cur.ExpiresAt.IsZero() && cur.ExpiresAt.Sub(now) <= 24*time.Hour {
		level = failureCritical
	}
	var since, sent string
	err := v.opts.DB.QueryRowContext(ctx, `SELECT rotation_failing_since, rotation_failure_notice FROM vault_secrets WHERE name = $1`,
		cur.Name).Scan(&since, &sent)
	if err != nil {
		v.opts.Logger.Error("vault: record a failed rotation", "name", cur.Name, "err", err)
		return
	}
	if sent == level || sent == failureCritical {
		return // told already, as urgently
	}
	first := since == ""
	if first {
		since = fmtTime(now)
	}
	mark := func(tx *sql.Tx) error {
		// Only if nobody marked it meanwhile: told once.
		res, err := tx.ExecContext(ctx, `UPDATE vault_secrets SET rotation_failing_since = $2, rotation_failure_notice = $3
			WHERE name = $1 AND rotation_failure_notice = $4`, cur.Name, since, level, sent)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTold
		}
		return nil
	}
	e := AuditEvent{Actor: "system", Action: "secret.rotate", Target: target(cur.Name, 0), Outcome: OutcomeFailed,
		Detail: "scheduled: " + cause.Error()}
	var inTx bool
	err = v.tx(ctx, func(tx *sql.Tx) error {
		if err := mark(tx); err != nil || !first {
			return err
		}
		var err error
		inTx, err = v.auditTx(ctx, tx, e)
		return err
	})
	if err == nil && first && !inTx {
		err = v.audit(ctx, e)
	}
	if errors.Is(err, errTold) {
		return
	}
	if err != nil {
		v.opts.Logger.Error("vault: record a failed rotation", "name", cur.Name, "err", err)
		return
	}
	fn, ok := v.opts.Notifier.(FailureNotifier)
	if !ok {
		return
	}
	ev := RotationFailure{Name: cur.Name, Version: cur.Version, Error: cause.Error(), Since: parseTime(since),
		ExpiresAt: cur.ExpiresAt, Critical: level == failureCritical, At: now}
	if err := fn.SecretRotationFailed(ctx, ev); err != nil {
		v.opts.Logger.Warn("vault: failed-rotation notification failed", "name", cur.Name, "err", err)
	}
}

// errTold: the failure was marked meanwhile (another call told it).
var errTold = errors.New("the failed rotation was recorded already")
