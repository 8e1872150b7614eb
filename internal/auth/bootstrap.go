package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// BootstrapUser is the first admin, created on a server's first start.
const BootstrapUser = "admin"

// Bootstrap makes sure the server can be administered: on an empty user
// table it creates the admin user. existing is the token found in
// <data>/admin.token ("" when there is none): a known one is kept as is
// (even when revoked: revocation stands), an unknown well-formed one is
// registered as the admin's (data dirs from before users existed), and
// when there is none a new token is minted. It returns the token the file
// should hold and whether it is new.
func (s *Service) Bootstrap(ctx context.Context, existing string) (token string, minted bool, err error) {
	uid, err := s.ensureAdmin(ctx)
	if err != nil {
		return "", false, err
	}
	if existing != "" {
		id := TokenID(existing)
		if id == "" {
			return "", false, errors.New("the admin token file holds no phoenix token; delete it to make a new one")
		}
		var n int
		if err := s.opts.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_tokens WHERE id = $1`, id).Scan(&n); err != nil {
			return "", false, fmt.Errorf("auth: bootstrap: %w", err)
		}
		if n == 1 {
			return existing, false, nil
		}
		return existing, false, s.storeBootstrap(ctx, uid, id, existing)
	}
	id, secret, err := newSecret()
	if err != nil {
		return "", false, err
	}
	return secret, true, s.storeBootstrap(ctx, uid, id, secret)
}

func (s *Service) storeBootstrap(ctx context.Context, uid int64, id, secret string) error {
	t := &Token{ID: id, User: BootstrapUser, Name: "admin.token", Kind: KindBootstrap, Scopes: []Permission{All}, CreatedAt: s.now()}
	ctx = audit.WithMeta(ctx, audit.Meta{Actor: "phoenix", Source: "server start"})
	return s.storeToken(ctx, uid, t, secret)
}

// ensureAdmin returns the admin user's id, creating the user (with the
// admin role everywhere) when no user exists yet.
func (s *Service) ensureAdmin(ctx context.Context) (int64, error) {
	var uid int64
	err := s.opts.DB.QueryRowContext(ctx, `SELECT id FROM auth_users WHERE name = $1`, BootstrapUser).Scan(&uid)
	if err == nil {
		return uid, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("auth: bootstrap: %w", err)
	}
	var n int
	if err := s.opts.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("auth: bootstrap: %w", err)
	}
	if n > 0 {
		return 0, usererr.New(usererr.Conflict, "no user %q to own the admin token", BootstrapUser).
			WithHint("create it: phoenix user add admin --role admin")
	}
	ctx = audit.WithMeta(ctx, audit.Meta{Actor: "phoenix", Source: "server start"})
	u, err := s.CreateUser(ctx, BootstrapUser, "", []Grant{{Role: RoleAdmin}})
	if err != nil {
		return 0, err
	}
	return u.id, nil
}
