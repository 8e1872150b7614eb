// Package auth is who may do what on a Phoenix server: users and their
// role grants (built-in admin, contributor, approver and viewer, plus roles
// from configuration, each grantable everywhere or per project and
// environment); API tokens that are stored hashed, scoped, expiring,
// revocable and shown once; short-lived deploy tokens for CI; argon2id
// password login with rate limits; and cookie sessions with CSRF tokens
// for the dashboard. Identity providers other than passwords (OIDC) plug
// in through the Provider interface.
//
// Every change is written to the audit log in the same transaction, so a
// change whose record cannot be written does not happen.
package auth

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the domain's schema.
func Migrations() store.Migrations {
	return store.EmbeddedMigrations("auth", migrationFiles)
}

// Options configures a Service.
type Options struct {
	DB     *store.DB
	Audit  *audit.Log // nil: changes are not audited (tests only)
	Logger *slog.Logger
	Now    func() time.Time
	// Roles are defined in configuration, added to the built-in ones.
	Roles  []Role
	Argon2 Argon2 // password hash cost; zero means DefaultArgon2
	// SessionTTL is how long a dashboard session lasts (default 12h).
	SessionTTL time.Duration
	// LoginRate bounds login attempts per source address and failed
	// ones per user name (default 10 a minute per address, 5 failures a
	// minute per user and address, 100 per user from all addresses).
	LoginRate LoginRate
	// Replicas says other servers share DB (--replica): the login
	// limits' buckets are then kept in it, so the limits hold for all of
	// them together. Without, they are kept in memory (ratelimit.go).
	Replicas bool
}

// Service is the auth domain.
type Service struct {
	opts    Options
	roles   map[string]Role
	limiter *loginLimiter
	states  userStates // userstate.go

	dummyOnce sync.Once
	dummy     string // a hash verified for unknown users, so timing says nothing
}

// New returns a Service; it fails when a configured role is invalid.
func New(opts Options) (*Service, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Argon2 == (Argon2{}) {
		opts.Argon2 = DefaultArgon2
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	s := &Service{opts: opts, roles: map[string]Role{}}
	for _, r := range BuiltInRoles() {
		s.roles[r.Name] = r
	}
	for _, r := range opts.Roles {
		if err := checkRole(r); err != nil {
			return nil, fmt.Errorf("auth: role %s: %w", r.Name, err)
		}
		s.roles[r.Name] = r
	}
	var buckets loginBuckets = &memoryBuckets{}
	if opts.Replicas {
		buckets = &dbBuckets{db: opts.DB}
	}
	s.limiter = newLoginLimiter(opts.LoginRate, buckets)
	return s, nil
}

// Roles lists the roles the server knows, built-in first.
func (s *Service) Roles() []Role {
	return append(BuiltInRoles(), s.opts.Roles...)
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// timeLayout is how the store keeps times: UTC with all nine digits of
// the fraction, so that SQL compares and orders them right as text.
// RFC3339Nano drops trailing zeros, and "10:00:00Z" sorts after
// "10:00:00.5Z" ('Z' > '.'); migration 005 rewrote the rows written so.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// fmtTime is t as stored (timeLayout); "" for the zero time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// parseTime reads a stored time, in timeLayout or RFC3339Nano (rows from
// before migration 005, which time.Parse reads either way).
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// change runs fn and writes e to the audit log in one transaction.
func (s *Service) change(ctx context.Context, e audit.Event, fn func(tx *sql.Tx) error) error {
	return s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.record(ctx, tx, e)
	})
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, e audit.Event) error {
	if s.opts.Audit == nil {
		return nil
	}
	if _, err := s.opts.Audit.AppendTx(ctx, tx, e); err != nil {
		return fmt.Errorf("auth: audit %s: %w", e.Action, err)
	}
	return nil
}

// recordAlone writes e in its own transaction (denials, failed logins).
func (s *Service) recordAlone(ctx context.Context, e audit.Event) error {
	if s.opts.Audit == nil {
		return nil
	}
	_, err := s.opts.Audit.Append(ctx, e)
	return err
}

// Errors. Unauthorized says nothing about why: an attacker learns nothing
// from it about which tokens or users exist.
var (
	errUnauthorized = usererr.New(usererr.Unauthorized, "missing or invalid token").
			WithHint("pass --token or set PHOENIX_TOKEN (a server writes its admin token to <data>/admin.token); a token that " +
			"worked before has expired, was revoked or its user disabled: an admin sees which in 'phoenix token list --all' and 'phoenix user list'")
	errBadLogin = usererr.New(usererr.Unauthorized, "invalid user name or password")
)

// ErrUnauthorized is the one answer to a bad credential.
func ErrUnauthorized() error { return errUnauthorized }

func forbidden(p Permission, res Resource) error {
	return usererr.New(usererr.Forbidden, "permission denied: %s on %s", p, res).
		WithHint("ask an admin: phoenix user grant USER ROLE [--env ENV]")
}

// Require returns nil when pr may do p on res, else a Forbidden error
// whose hint says what refused: the user's roles (ask an admin for a
// grant), or the token's own limits, which the user's roles would pass
// (make a token with the scope, or for the target).
func Require(pr *Principal, p Permission, res Resource) error {
	if pr.Can(p, res) {
		return nil
	}
	if pr == nil || !pr.granted(p, res) {
		return forbidden(p, res)
	}
	err := usererr.New(usererr.Forbidden, "permission denied: %s on %s: %s", p, res, pr.tokenLimit())
	if pr.Project != "" || pr.Environment != "" {
		return err.WithHint("use a token of your own for %s (phoenix token create; --project/--env limit it to one target)", res)
	}
	return err.WithHint("make a token with that scope: phoenix token create --scope %s", strings.Join(scopeNames(append(slices.Clone(pr.Scopes), p)), ","))
}
