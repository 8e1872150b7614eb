package auth

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// SetDisabled disables a user (or enables one again). A disabled user
// cannot sign in, with a password or single sign-on; their dashboard
// sessions end at once, their tokens are refused from the next request
// (they stay listed, so enabling the user brings them back) and so are
// their site sign-ins on the edge (UserState).
// Disabling the last enabled user who is admin everywhere is refused:
// nobody could manage users after it.
func (s *Service) SetDisabled(ctx context.Context, name string, disabled bool) error {
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	if u.Disabled == disabled {
		return nil
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	err = s.change(ctx, audit.Event{Action: action, Target: name}, func(tx *sql.Tx) error {
		flag := 0 // an INTEGER column on SQLite and PostgreSQL alike
		if disabled {
			flag = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auth_users SET disabled = $1 WHERE id = $2`, flag, u.id); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE user_id = $1`, u.id); err != nil {
			return err
		}
		return lastAdminCheck(ctx, tx, name)
	})
	if err == nil {
		s.userChanged(ctx, name)
	}
	return err
}

// lastAdminCheck fails when no enabled user is left with the admin role
// everywhere.
func lastAdminCheck(ctx context.Context, tx *sql.Tx, name string) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_users u JOIN auth_grants g ON g.user_id = u.id
		WHERE u.disabled = 0 AND g.role = 'admin' AND g.project = '' AND g.environment = ''`).Scan(&n)
	if err != nil {
		return fmt.Errorf("auth: count admins: %w", err)
	}
	if n == 0 {
		return usererr.New(usererr.Conflict, "%s is the last enabled admin; disabling them would leave nobody to manage users", name).
			WithHint("grant admin to another user first: phoenix user grant OTHER admin")
	}
	return nil
}
