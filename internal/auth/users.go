package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// User is an account.
type User struct {
	Name        string    `json:"name"`
	Email       string    `json:"email,omitempty"` // links a single sign-on identity with this verified email
	Grants      []Grant   `json:"grants"`
	HasPassword bool      `json:"has_password"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	id          int64
}

// CheckUserName reports whether name is usable as a user name.
func CheckUserName(name string) error {
	if !nameRE.MatchString(name) {
		return usererr.New(usererr.Invalid, "user name %q: use 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter", name)
	}
	return nil
}

func (s *Service) checkGrants(gs []Grant) error {
	for _, g := range gs {
		if _, ok := s.roles[g.Role]; !ok {
			return usererr.New(usererr.Invalid, "unknown role %q", g.Role).WithHint("list roles with 'phoenix user roles' or define it in the roles file")
		}
		for _, n := range []string{g.Project, g.Environment} {
			if n != "" && !slugRE.MatchString(n) {
				return usererr.New(usererr.Invalid, "grant %s: %q is not a project or environment name", g, n)
			}
		}
	}
	return nil
}

// CreateUser adds a user with grants and, when password is not empty, a
// password for dashboard login.
func (s *Service) CreateUser(ctx context.Context, name, password string, grants []Grant) (*User, error) {
	if err := CheckUserName(name); err != nil {
		return nil, err
	}
	if err := s.checkGrants(grants); err != nil {
		return nil, err
	}
	hash, err := s.hashIfSet(password)
	if err != nil {
		return nil, err
	}
	e := audit.Event{Action: "user.add", Target: name, Detail: grantsDetail(grants)}
	err = s.change(ctx, e, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO auth_users (name, password, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING RETURNING id`, name, hash, fmtTime(s.now())).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return usererr.New(usererr.Conflict, "user %q already exists", name)
		}
		if err != nil {
			return err
		}
		return setGrants(ctx, tx, id, grants)
	})
	if err != nil {
		return nil, err
	}
	s.userChanged(ctx, name)
	return s.User(ctx, name)
}

func (s *Service) hashIfSet(password string) (string, error) {
	if password == "" {
		return "", nil
	}
	h, err := HashPassword(password, s.opts.Argon2)
	if err != nil {
		return "", usererr.Wrap(usererr.Invalid, err, err.Error())
	}
	return h, nil
}

func grantsDetail(gs []Grant) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.String()
	}
	if len(s) == 0 {
		return "grants: none"
	}
	return "grants: " + strings.Join(s, "; ")
}

// setGrants makes gs the user's grants: those not in gs go, new ones
// come as an admin's, and those kept keep their source (a role the
// group mapping gave stays the mapping's to take back).
func setGrants(ctx context.Context, tx *sql.Tx, userID int64, gs []Grant) error {
	rows, err := tx.QueryContext(ctx, `SELECT role, project, environment FROM auth_grants WHERE user_id = $1`, userID)
	if err != nil {
		return err
	}
	var gone []Grant
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.Role, &g.Project, &g.Environment); err != nil {
			rows.Close()
			return err
		}
		if !slices.Contains(gs, g) {
			gone = append(gone, g)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_grants WHERE user_id = $1 AND role = $2 AND project = $3
			AND environment = $4`, userID, g.Role, g.Project, g.Environment); err != nil {
			return err
		}
	}
	for _, g := range gs {
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_grants (user_id, role, project, environment) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, userID, g.Role, g.Project, g.Environment)
		if err != nil {
			return err
		}
	}
	return nil
}

// SetGrants replaces a user's grants.
func (s *Service) SetGrants(ctx context.Context, name string, grants []Grant) (*User, error) {
	if err := s.checkGrants(grants); err != nil {
		return nil, err
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return nil, err
	}
	err = s.change(ctx, audit.Event{Action: "user.grant", Target: name, Detail: grantsDetail(grants)}, func(tx *sql.Tx) error {
		return setGrants(ctx, tx, u.id, grants)
	})
	if err != nil {
		return nil, err
	}
	s.userChanged(ctx, name)
	return s.User(ctx, name)
}

// SetPassword sets (or, with "", removes) a user's password and ends
// their sessions.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	hash, err := s.hashIfSet(password)
	if err != nil {
		return err
	}
	return s.change(ctx, audit.Event{Action: "user.passwd", Target: name}, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE auth_users SET password = $1 WHERE id = $2`, hash, u.id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE user_id = $1`, u.id)
		return err
	})
}

// CheckPassword reports whether password is the user's current one.
func (s *Service) CheckPassword(ctx context.Context, name, password string) bool {
	var hash string
	err := s.opts.DB.QueryRowContext(ctx, `SELECT password FROM auth_users WHERE name = $1 AND disabled = 0`, name).Scan(&hash)
	if err != nil || hash == "" {
		VerifyPassword(password, s.dummyHash())
		return false
	}
	return VerifyPassword(password, hash)
}

// CheckCurrentPassword is CheckPassword for a user who gives their
// current password to change it, under the sign-in limits: the attempt
// counts from source as a sign-in of name does, a wrong password as a
// failed one, and past a limit it is refused with ErrRateLimited before
// the password is checked. Otherwise a session or a token would be an
// unlimited oracle for the password it does not hold.
func (s *Service) CheckCurrentPassword(ctx context.Context, name, password, source string) (bool, error) {
	now := s.opts.Now()
	attempt, why, err := s.limiter.begin(ctx, now, source, name)
	if err != nil {
		s.opts.Logger.Error("auth: current password not checked: the sign-in limits cannot be checked", "user", name, "source", source, "err", err)
		return false, usererr.Wrap(usererr.Unavailable, err, "the current password cannot be checked: the sign-in limits cannot be checked").
			WithHint("try again in a moment; the server's log says what failed")
	}
	if why != "" {
		return false, ErrRateLimited
	}
	if !s.CheckPassword(ctx, name, password) {
		return false, nil
	}
	if err := s.limiter.succeeded(context.WithoutCancel(ctx), now, attempt); err != nil {
		s.opts.Logger.Error("auth: a right current password's failure could not be given back", "user", name, "source", source, "err", err)
	}
	return true, nil
}

// User returns one user.
func (s *Service) User(ctx context.Context, name string) (*User, error) {
	us, err := s.users(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, usererr.New(usererr.NotFound, "no user %q", name).WithHint("list users with 'phoenix user list'")
	}
	return &us[0], nil
}

// Users lists every user, by name.
func (s *Service) Users(ctx context.Context) ([]User, error) { return s.users(ctx, "") }

func (s *Service) users(ctx context.Context, name string) ([]User, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT id, name, email, password != '', disabled, created_at FROM auth_users
		WHERE $1 = '' OR name = $1 ORDER BY name`, name)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	var out []User
	for rows.Next() {
		var u User
		var created string
		if err := rows.Scan(&u.id, &u.Name, &u.Email, &u.HasPassword, &u.Disabled, &created); err != nil {
			rows.Close()
			return nil, err
		}
		u.CreatedAt = parseTime(created)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Grants, err = s.grants(ctx, out[i].id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) grants(ctx context.Context, userID int64) ([]Grant, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT role, project, environment FROM auth_grants WHERE user_id = $1
		ORDER BY role, project, environment`, userID)
	if err != nil {
		return nil, fmt.Errorf("auth: grants: %w", err)
	}
	defer rows.Close()
	out := []Grant{}
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.Role, &g.Project, &g.Environment); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// principal builds the principal of an enabled user. A disabled user's
// credential gets the same answer as any bad one.
func (s *Service) principal(ctx context.Context, userID int64) (*Principal, error) {
	pr, err := s.signInPrincipal(ctx, userID)
	if errors.As(err, new(disabledError)) {
		return nil, errUnauthorized
	}
	return pr, err
}

// disabledError marks a sign-in of a disabled user, naming the user for
// the audit record of the refusal.
type disabledError struct{ user string }

func (e disabledError) Error() string { return fmt.Sprintf("auth: user %s is disabled", e.user) }

// signInPrincipal is principal for a sign-in whose identity is already
// verified (a provider vouched for it): a disabled user is told so,
// naming the user, rather than the answer to a bad token.
func (s *Service) signInPrincipal(ctx context.Context, userID int64) (*Principal, error) {
	name, err := s.enabledUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	gs, err := s.grants(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &Principal{User: name, Grants: gs, userID: userID, roles: s.roles}, nil
}

// enabledUser returns the name of the user userID; a disabled user is a
// disabledError that says who and how to enable them.
func (s *Service) enabledUser(ctx context.Context, userID int64) (string, error) {
	var name string
	var disabled bool
	err := s.opts.DB.QueryRowContext(ctx, `SELECT name, disabled FROM auth_users WHERE id = $1`, userID).Scan(&name, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errUnauthorized
	}
	if err != nil {
		return "", fmt.Errorf("auth: load user: %w", err)
	}
	if disabled {
		return "", usererr.Wrap(usererr.Unauthorized, disabledError{name}, fmt.Sprintf("the Phoenix user %q is disabled", name)).
			WithHint("an admin can enable it again: phoenix user enable %s", name)
	}
	return name, nil
}

// UserPrincipal returns the principal of an enabled user with all their
// grants, for in-process callers (and identity providers) that have
// already established who the user is.
func (s *Service) UserPrincipal(ctx context.Context, name string) (*Principal, error) {
	u, err := s.User(ctx, name)
	if err != nil {
		return nil, err
	}
	pr, err := s.principal(ctx, u.id)
	if err != nil {
		return nil, err
	}
	pr.Via = "in-process"
	return pr, nil
}
