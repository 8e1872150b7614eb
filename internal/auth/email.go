package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// CheckEmail accepts an address of at most 254 characters with one '@'
// between a non-empty local part and domain, and no spaces or controls.
func CheckEmail(email string) error {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(email) > 254 ||
		strings.ContainsFunc(email, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return usererr.New(usererr.Invalid, "email %q is not an address like jane@example.com", email)
	}
	return nil
}

// SetEmail sets (or, with "", clears) a user's email, stored lowercase.
// Two users cannot share one: a single sign-on identity with that
// verified email would not know whose it is.
func (s *Service) SetEmail(ctx context.Context, name, email string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if email != "" {
		if err := CheckEmail(email); err != nil {
			return err
		}
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	return s.change(ctx, audit.Event{Action: "user.email", Target: name, Detail: email}, func(tx *sql.Tx) error {
		if email != "" {
			var other string
			err := tx.QueryRowContext(ctx, `SELECT name FROM auth_users WHERE email = $1 AND id != $2`, email, u.id).Scan(&other)
			if err == nil {
				return usererr.New(usererr.Conflict, "user %q has the email %q already", other, email)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE auth_users SET email = $1 WHERE id = $2`, email, u.id)
		return err
	})
}

// userOfEmail is the user whose email is email (lowercase), or "".
func (s *Service) userOfEmail(ctx context.Context, email string) (string, error) {
	var name string
	err := s.opts.DB.QueryRowContext(ctx, `SELECT name FROM auth_users WHERE email = $1 AND email != ''`,
		strings.ToLower(email)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, err
}
