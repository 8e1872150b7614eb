package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Credentials are what a person presents to sign in. A provider uses the
// fields it understands.
type Credentials struct {
	Username string
	Password string
	// An OIDC provider's authorization code, the PKCE verifier and the
	// nonce this browser's sign-in started with.
	Code, CodeVerifier, Nonce string
	RedirectURL               string // the redirect URL of the sign-in when not the configured one
}

// Identity is a person as a provider vouches for them.
type Identity struct {
	Provider string   // e.g. "password", "entra"
	Subject  string   // stable id at the provider
	Name     string   // preferred user name
	Email    string   // optional
	Groups   []string // optional, mapped to roles by an OIDC provider's RoleMap

	// newUser is what to do with an identity no user is linked to yet
	// (set by the OIDC provider; nil refuses it).
	newUser *OIDCConfig
	// groupsOverage: the provider left the groups out of the token and
	// pointed elsewhere for them (Entra ID past 200 groups): they are
	// unknown, not empty.
	groupsOverage bool
}

// Provider verifies credentials. Password login is built in; an OIDC
// provider (Entra ID or any other) implements the same interface and its
// identities are linked to users with LinkIdentity. Verify must take about
// the same time whether or not the user exists, and return an error that
// reveals nothing beyond "not verified".
type Provider interface {
	Name() string
	Verify(ctx context.Context, c Credentials) (Identity, error)
}

// passwordProvider checks argon2id hashes in auth_users.
type passwordProvider struct{ s *Service }

func (p passwordProvider) Name() string { return "password" }

func (p passwordProvider) Verify(ctx context.Context, c Credentials) (Identity, error) {
	if !p.s.CheckPassword(ctx, c.Username, c.Password) {
		return Identity{}, errBadLogin
	}
	return Identity{Provider: "password", Subject: c.Username, Name: c.Username}, nil
}

// PasswordProvider returns the built-in password provider.
func (s *Service) PasswordProvider() Provider { return passwordProvider{s} }

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = HashPassword("phoenix-no-such-user-dummy", s.opts.Argon2)
	})
	return s.dummy
}

// LinkIdentity ties an outside identity to a user, so signing in with it
// acts as that user.
func (s *Service) LinkIdentity(ctx context.Context, user, provider, subject string) error {
	u, err := s.User(ctx, user)
	if err != nil {
		return err
	}
	_, err = s.opts.DB.ExecContext(ctx, `INSERT INTO auth_identities (provider, subject, user_id) VALUES ($1, $2, $3)
		ON CONFLICT (provider, subject) DO UPDATE SET user_id = $3`, provider, subject, u.id)
	return err
}

// userFor maps a verified identity to the id of an enabled user. An
// outside identity's roles from groups are synced only after that check:
// the sign-in of a disabled user writes nothing.
func (s *Service) userFor(ctx context.Context, id Identity) (int64, error) {
	if id.Provider == "password" {
		return s.userID(ctx, id.Subject)
	}
	uid, err := s.linkedUser(ctx, id)
	if err == nil {
		_, err = s.enabledUser(ctx, uid)
	}
	if err != nil {
		return 0, err
	}
	return uid, s.syncMappedRoles(ctx, uid, id)
}

// linkedUser is the user an outside identity is linked to, else the one
// userForNew finds (by email) or provisions for it.
func (s *Service) linkedUser(ctx context.Context, id Identity) (int64, error) {
	var uid int64
	err := s.opts.DB.QueryRowContext(ctx, `SELECT user_id FROM auth_identities WHERE provider = $1 AND subject = $2`,
		id.Provider, id.Subject).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return s.userForNew(ctx, id)
	}
	if err != nil {
		return 0, fmt.Errorf("auth: find user of identity: %w", err)
	}
	return uid, nil
}
