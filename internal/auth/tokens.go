package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Token kinds.
const (
	KindAPI       = "api"       // a person's or a script's token
	KindDeploy    = "deploy"    // short-lived, one project and environment, read and deploy only
	KindBootstrap = "bootstrap" // the first admin's token in <data>/admin.token
)

// Token lifetimes.
const (
	DefaultAPITTL    = 90 * 24 * time.Hour
	MaxAPITTL        = 366 * 24 * time.Hour
	DefaultDeployTTL = 15 * time.Minute
	MaxDeployTTL     = 24 * time.Hour
)

// LifetimeProblem says why ttl is no lifetime for a token of kind (""
// is an API token), in the units a person writes ("an API token lives at
// most 366 days"); "" when it is one, or when ttl is zero (the kind's
// default).
func LifetimeProblem(kind string, ttl time.Duration) string {
	limit, name := MaxAPITTL, "an API token"
	if kind == KindDeploy {
		limit, name = MaxDeployTTL, "a deploy token"
	}
	switch {
	case ttl == 0:
		return ""
	case ttl < time.Minute:
		return "a token lives at least 1 minute"
	case ttl > limit:
		return name + " lives at most " + Lifetime(limit)
	}
	return ""
}

// Lifetime writes d as days, hours or minutes when it is a whole number
// of them (2 days and more as days: 24 hours stays 24 hours).
func Lifetime(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= 2*day && d%day == 0:
		return count(d/day, "day")
	case d >= time.Hour && d%time.Hour == 0:
		return count(d/time.Hour, "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return count(d/time.Minute, "minute")
	}
	return d.String()
}

func count(n time.Duration, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Token is a stored token: everything but its secret, which exists only
// in the answer to CreateToken.
type Token struct {
	ID          string       `json:"id"`
	User        string       `json:"user"`
	Name        string       `json:"name,omitempty"`
	Kind        string       `json:"kind"`
	Scopes      []Permission `json:"scopes"`
	Project     string       `json:"project,omitempty"`
	Environment string       `json:"environment,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	ExpiresAt   *time.Time   `json:"expires_at,omitempty"`
	RevokedAt   *time.Time   `json:"revoked_at,omitempty"`
	LastUsedAt  *time.Time   `json:"last_used_at,omitempty"`
}

// TokenRequest asks for a new token.
type TokenRequest struct {
	Name        string        `json:"name,omitempty"`
	User        string        `json:"user,omitempty"`   // owner; another user's needs users.manage
	Kind        string        `json:"kind,omitempty"`   // KindAPI (default) or KindDeploy
	Scopes      []Permission  `json:"scopes,omitempty"` // api tokens: default all of the user's ("*")
	Project     string        `json:"project,omitempty"`
	Environment string        `json:"environment,omitempty"`
	TTL         time.Duration `json:"ttl,omitempty"` // default and maximum depend on the kind
}

// tokenRE is the shape of a token: a prefix, a 16-hex id used to find it,
// and 48 hex digits of secret. Only sha256 of the whole token is stored.
var tokenRE = regexp.MustCompile(`^phx_([0-9a-f]{16})[0-9a-f]{48}$`)

var slugRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func newSecret() (id, token string, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	token = "phx_" + hex.EncodeToString(raw[:])
	return token[4:20], token, nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// TokenID returns the public id of a well-formed token ("" otherwise); it
// is safe to log.
func TokenID(token string) string {
	if m := tokenRE.FindStringSubmatch(token); m != nil {
		return m[1]
	}
	return ""
}

// CreateToken makes a token for the principal's own user (or, with
// users.manage, for req.User) and returns it with its secret, which is
// never stored or shown again. A token can only narrow what its owner may
// do, and what the token used to create it may do.
func (s *Service) CreateToken(ctx context.Context, pr *Principal, req TokenRequest) (*Token, string, error) {
	if req.User != "" && req.User != pr.User {
		if err := Require(pr, UsersAdmin, Resource{}); err != nil {
			return nil, "", err
		}
		owner, err := s.UserPrincipal(ctx, req.User)
		if err != nil {
			return nil, "", err
		}
		owner.Scopes = pr.Scopes
		pr = owner
	} else if err := Require(pr, Tokens, Resource{}); err != nil {
		return nil, "", err
	}
	t, err := s.shapeToken(pr, req)
	if err != nil {
		return nil, "", err
	}
	return s.insertToken(ctx, pr.userID, t)
}

func (s *Service) shapeToken(pr *Principal, req TokenRequest) (*Token, error) {
	t := &Token{User: pr.User, Name: req.Name, Kind: req.Kind, Project: req.Project, Environment: req.Environment,
		CreatedAt: s.now()}
	if len(t.Name) > 100 {
		return nil, usererr.New(usererr.Invalid, "token name longer than 100 characters")
	}
	ttl := req.TTL
	switch t.Kind {
	case "", KindAPI:
		t.Kind = KindAPI
		if ttl == 0 {
			ttl = DefaultAPITTL
		}
		if err := s.shapeAPIScopes(pr, t, req.Scopes); err != nil {
			return nil, err
		}
	case KindDeploy:
		if ttl == 0 {
			ttl = DefaultDeployTTL
		}
		res := Resource{Project: t.Project, Environment: t.Environment}
		if !slugRE.MatchString(t.Project) || !slugRE.MatchString(t.Environment) {
			return nil, usererr.New(usererr.Invalid, "a deploy token needs a project and an environment").
				WithHint("phoenix token create --deploy --project shop --env staging")
		}
		if err := Require(pr, Deploy, res); err != nil {
			return nil, err
		}
		t.Scopes = []Permission{Read, Deploy}
	default:
		return nil, usererr.New(usererr.Invalid, "token kind %q: use %s or %s", t.Kind, KindAPI, KindDeploy)
	}
	if why := LifetimeProblem(t.Kind, ttl); why != "" {
		return nil, usererr.New(usererr.Invalid, "token lifetime %s: %s", Lifetime(ttl), why)
	}
	exp := t.CreatedAt.Add(ttl)
	t.ExpiresAt = &exp
	return t, nil
}

// shapeAPIScopes checks requested scopes: known, held by the creator, and
// within the creator's own token limits (a token cannot mint a wider one).
func (s *Service) shapeAPIScopes(pr *Principal, t *Token, scopes []Permission) error {
	if t.Project != "" || t.Environment != "" {
		return usererr.New(usererr.Invalid, "only deploy tokens are limited to a project and environment")
	}
	if len(scopes) == 0 {
		scopes = []Permission{All}
	}
	for _, p := range scopes {
		if !knownPermission(p) {
			return usererr.New(usererr.Invalid, "unknown scope %q (known: %s)", p, permList())
		}
		if p != All && !pr.HoldsAnywhere(p) {
			return usererr.New(usererr.Forbidden, "cannot grant scope %s: you do not hold it", p)
		}
	}
	if pr.Scopes != nil && !slices.Contains(pr.Scopes, All) {
		if slices.Contains(scopes, All) {
			scopes = pr.Scopes
		}
		for _, p := range scopes {
			if !slices.Contains(pr.Scopes, p) {
				return usererr.New(usererr.Forbidden, "cannot grant scope %s: the token you use lacks it", p)
			}
		}
	}
	t.Scopes = slices.Clone(scopes)
	return nil
}

func (s *Service) insertToken(ctx context.Context, userID int64, t *Token) (*Token, string, error) {
	id, secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	t.ID = id
	if err := s.storeToken(ctx, userID, t, secret); err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

func (s *Service) storeToken(ctx context.Context, userID int64, t *Token, secret string) error {
	e := audit.Event{Action: "token.create", Target: "token " + t.ID,
		Detail: fmt.Sprintf("kind %s, user %s, scopes %s%s", t.Kind, t.User, scopesString(t.Scopes), restriction(t))}
	return s.change(ctx, e, func(tx *sql.Tx) error {
		var exp string
		if t.ExpiresAt != nil {
			exp = fmtTime(*t.ExpiresAt)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_tokens (id, user_id, name, kind, hash, scopes, project, environment, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, t.ID, userID, t.Name, t.Kind, tokenHash(secret),
			scopesString(t.Scopes), t.Project, t.Environment, fmtTime(t.CreatedAt), exp)
		return err
	})
}

func restriction(t *Token) string {
	if t.Project == "" {
		return ""
	}
	return fmt.Sprintf(", limited to %s/%s", t.Project, t.Environment)
}

func scopesString(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

func parseScopes(s string) []Permission {
	var out []Permission
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, Permission(p))
		}
	}
	return out
}

// Authenticate returns the principal of a bearer token. Any failure
// (malformed, unknown, wrong secret, expired, revoked, disabled user) is
// the same Unauthorized error, and takes the same work: the stored hash
// is compared in constant time even when the id is unknown.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	id := TokenID(token)
	var row tokenRow
	err := s.opts.DB.QueryRowContext(ctx, `SELECT user_id, hash, kind, scopes, project, environment, expires_at, revoked_at, last_used_at
		FROM auth_tokens WHERE id = $1`, id).Scan(&row.userID, &row.hash, &row.kind, &row.scopes, &row.project, &row.env,
		&row.expires, &row.revoked, &row.lastUsed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("auth: look up token: %w", err)
	}
	want, _ := hex.DecodeString(row.hash)
	got := sha256.Sum256([]byte(token))
	match := subtle.ConstantTimeCompare(got[:], want) == 1
	now := s.now()
	if !match || id == "" || row.revoked != "" || (row.expires != "" && !now.Before(parseTime(row.expires))) {
		return nil, errUnauthorized
	}
	pr, err := s.principal(ctx, row.userID)
	if err != nil {
		return nil, err
	}
	pr.Via, pr.TokenID = "token "+id, id
	if row.kind != KindBootstrap {
		pr.Scopes = parseScopes(row.scopes)
	}
	pr.Project, pr.Environment = row.project, row.env
	s.touch(ctx, id, row.lastUsed, now)
	return pr, nil
}

type tokenRow struct {
	userID                                                       int64
	hash, kind, scopes, project, env, expires, revoked, lastUsed string
}

// touch records when a token was last used, at most once a minute, so
// parallel uploads do not queue on writes.
func (s *Service) touch(ctx context.Context, id, last string, now time.Time) {
	if last != "" && now.Sub(parseTime(last)) < time.Minute {
		return
	}
	if _, err := s.opts.DB.ExecContext(ctx, `UPDATE auth_tokens SET last_used_at = $1 WHERE id = $2`, fmtTime(now), id); err != nil {
		s.opts.Logger.Warn("auth: cannot record token use", "token_id", id, "err", err)
	}
}

// Tokens lists the tokens of user, or of every user when user is "".
func (s *Service) Tokens(ctx context.Context, user string) ([]Token, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT t.id, u.name, t.name, t.kind, t.scopes, t.project, t.environment,
		t.created_at, t.expires_at, t.revoked_at, t.last_used_at FROM auth_tokens t JOIN auth_users u ON u.id = t.user_id
		WHERE $1 = '' OR u.name = $1 ORDER BY t.created_at, t.id`, user)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var scopes, created, exp, rev, used string
		if err := rows.Scan(&t.ID, &t.User, &t.Name, &t.Kind, &scopes, &t.Project, &t.Environment, &created, &exp, &rev, &used); err != nil {
			return nil, err
		}
		t.Scopes, t.CreatedAt = parseScopes(scopes), parseTime(created)
		t.ExpiresAt, t.RevokedAt, t.LastUsedAt = optTime(exp), optTime(rev), optTime(used)
		out = append(out, t)
	}
	return out, rows.Err()
}

func optTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t := parseTime(s)
	return &t
}

// RevokeToken revokes a token of the principal's own, or anyone's for a
// principal with users.manage. Revoking twice is not an error.
func (s *Service) RevokeToken(ctx context.Context, pr *Principal, id string) error {
	var owner string
	err := s.opts.DB.QueryRowContext(ctx, `SELECT u.name FROM auth_tokens t JOIN auth_users u ON u.id = t.user_id WHERE t.id = $1`, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != pr.User && !pr.Can(UsersAdmin, Resource{})) {
		return usererr.New(usererr.NotFound, "no token %q of yours", id).WithHint("list them with 'phoenix token list'")
	}
	if err != nil {
		return fmt.Errorf("auth: revoke: %w", err)
	}
	return s.change(ctx, audit.Event{Action: "token.revoke", Target: "token " + id, Detail: "owner " + owner}, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE auth_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = ''`, fmtTime(s.now()), id)
		return err
	})
}
