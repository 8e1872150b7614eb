package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Session is a signed-in dashboard user. Secret goes in an HttpOnly
// cookie; CSRF must come back in a header on every state change.
type Session struct {
	Secret    string    `json:"-"`
	CSRF      string    `json:"csrf_token"`
	User      string    `json:"user"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ErrRateLimited is returned by Login when too many attempts came from the
// source address, or too many failed for the user (from the source, or
// from all addresses together): see LoginRate.
var ErrRateLimited = errors.New("too many login attempts; wait a minute")

// Login verifies credentials with provider (the password provider when
// nil), rate-limited per source address and by the user's failures
// (LoginRate), and opens a session. Every attempt is audited; when the
// record cannot be written the login fails.
func (s *Service) Login(ctx context.Context, provider Provider, c Credentials, source string) (*Session, error) {
	pr, e, err := s.identify(ctx, provider, c, source)
	if err != nil {
		return nil, err
	}
	return s.openSession(ctx, pr, e)
}

// SignIn verifies credentials like Login (rate limit, audit of every
// attempt) and returns the principal without opening a dashboard
// session, for a sign-in kept elsewhere: the edge's site cookie. where
// goes into the audit record's detail.
func (s *Service) SignIn(ctx context.Context, provider Provider, c Credentials, source, where string) (*Principal, error) {
	pr, e, err := s.identify(ctx, provider, c, source)
	if err != nil {
		return nil, err
	}
	e.Detail = where
	if err := s.recordAlone(ctx, e); err != nil {
		return nil, err
	}
	// The sign-in is kept in a cookie checked against UserState: make
	// sure the view holds this user (one another server just made, say).
	s.refreshUserState(context.WithoutCancel(ctx), pr.User)
	return pr, nil
}

// identify checks c with provider (the password provider when nil) and
// returns the user's principal and the audit event of the success.
func (s *Service) identify(ctx context.Context, provider Provider, c Credentials, source string) (*Principal, audit.Event, error) {
	if provider == nil {
		provider = s.PasswordProvider()
	}
	e := audit.Event{Action: "auth.login", Actor: c.Username, Target: provider.Name()}
	now := s.opts.Now()
	attempt, why, err := s.limiter.begin(ctx, now, source, c.Username)
	if err != nil {
		return nil, e, s.limitsFailed(ctx, e, source, err)
	}
	if why != "" {
		e.Outcome, e.Detail = audit.RateLimited, why
		if err := s.recordAlone(ctx, e); err != nil {
			return nil, e, err
		}
		return nil, e, ErrRateLimited
	}
	id, err := provider.Verify(ctx, c)
	var pr *Principal
	if err == nil {
		if gerr := s.limiter.succeeded(context.WithoutCancel(ctx), now, attempt); gerr != nil {
			// The sign-in goes on: its failure stays counted (a minute at most).
			s.opts.Logger.Error("auth: a good sign-in's failure could not be given back", "user", c.Username, "source", source, "err", gerr)
		}
		if c.Username == "" {
			e.Actor = id.Name
		}
		pr, err = s.principalOf(ctx, id)
	}
	if err != nil {
		return nil, e, s.refuse(ctx, provider, e, err)
	}
	e.Actor = pr.User
	return pr, e, nil
}

// limitsFailed refuses a sign-in whose limits could not be checked (the
// database holding them failed): it fails closed, since without them a
// guesser would be unlimited, and checks no credential. It logs why,
// audits the attempt when it can, and returns the answer: Unavailable,
// the cause kept for logs only.
func (s *Service) limitsFailed(ctx context.Context, e audit.Event, source string, err error) error {
	s.opts.Logger.Error("auth: sign-in refused: the sign-in limits cannot be checked", "user", e.Actor, "source", source, "err", err)
	e.Outcome, e.Detail = audit.Failed, "the sign-in limits could not be checked"
	if aerr := s.recordAlone(ctx, e); aerr != nil {
		s.opts.Logger.Error("auth: audit of a sign-in refused without its limits", "err", aerr)
	}
	return usererr.Wrap(usererr.Unavailable, err, "sign-in is unavailable: the sign-in limits cannot be checked").
		WithHint("try again in a moment; the server's log says what failed")
}

// principalOf is the principal of the enabled user a verified identity
// maps to.
func (s *Service) principalOf(ctx context.Context, id Identity) (*Principal, error) {
	uid, err := s.userFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.signInPrincipal(ctx, uid)
}

// refuse audits a refused sign-in, once: a disabled user's record names
// the user and says "user disabled". It returns the caller's answer: an
// outside provider's reason, or for a password the one answer to any bad
// credential.
func (s *Service) refuse(ctx context.Context, provider Provider, e audit.Event, err error) error {
	e.Outcome = audit.Failed
	var de disabledError
	if errors.As(err, &de) {
		e.Actor, e.Detail = de.user, "user disabled"
	}
	if aerr := s.recordAlone(ctx, e); aerr != nil {
		return aerr
	}
	if provider.Name() != "password" && usererr.KindOf(err) == usererr.Unauthorized {
		return err // an outside provider's reason: it names no password
	}
	return errBadLogin
}

func (s *Service) openSession(ctx context.Context, pr *Principal, e audit.Event) (*Session, error) {
	_, secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	now := s.now()
	ses := &Session{Secret: secret, CSRF: CSRFToken(secret), User: pr.User, ExpiresAt: now.Add(s.opts.SessionTTL)}
	err = s.change(ctx, e, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at < $1`, fmtTime(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash(secret), pr.userID, fmtTime(now), fmtTime(ses.ExpiresAt))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: open session: %w", err)
	}
	return ses, nil
}

// CSRFToken derives the CSRF token of a session from its secret, so it
// needs no storage and cannot be guessed without the cookie.
func CSRFToken(sessionSecret string) string {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	m.Write([]byte("phoenix csrf v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckCSRF compares a presented CSRF token with the session's in
// constant time.
func CheckCSRF(sessionSecret, presented string) bool {
	return subtle.ConstantTimeCompare([]byte(CSRFToken(sessionSecret)), []byte(presented)) == 1
}

// SessionPrincipal returns the principal of a session cookie's secret.
// The session row is found by the secret's hash.
func (s *Service) SessionPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if TokenID(secret) == "" {
		return nil, errUnauthorized
	}
	var uid int64
	var exp string
	err := s.opts.DB.QueryRowContext(ctx, `SELECT user_id, expires_at FROM auth_sessions WHERE id = $1`, tokenHash(secret)).Scan(&uid, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.now().Before(parseTime(exp))) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load session: %w", err)
	}
	pr, err := s.principal(ctx, uid)
	if err != nil {
		return nil, err
	}
	pr.Via = "session"
	return pr, nil
}

// Logout ends the session of secret.
func (s *Service) Logout(ctx context.Context, pr *Principal, secret string) error {
	if secret == "" {
		return usererr.New(usererr.Invalid, "not signed in with a session")
	}
	return s.change(ctx, audit.Event{Action: "auth.logout", Actor: pr.User}, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE id = $1`, tokenHash(secret))
		return err
	})
}
