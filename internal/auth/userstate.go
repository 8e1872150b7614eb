package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
)

// The edge checks a site visitor's session on every request and may not
// ask the database each time. It asks this in-memory view instead: every
// user's disabled flag and grants, read whole by LoadUserStates and
// re-read user by user after each change this Service commits to them.
// Another server sharing the database learns of a change through the
// hooks of OnUserChange (the app announces it to the replicas, which
// call LoadUserStates).

// UserState is what a user may do now.
type UserState struct {
	Disabled bool
	Grants   []Grant // shared: callers must not change it
}

// userStates is the view: a map replaced whole on every change, so
// readers take no lock.
type userStates struct {
	// mu serializes the loads. Each reads the database while it holds
	// mu, so a later store never holds older data than an earlier one.
	mu    sync.Mutex
	m     atomic.Pointer[map[string]UserState]
	hooks []func(name string)
}

// UserState returns the user's current state from memory, without a
// database query: safe to call on every request. ok is false for a user
// the view does not hold (no such user, or none loaded yet).
func (s *Service) UserState(name string) (UserState, bool) {
	m := s.states.m.Load()
	if m == nil {
		return UserState{}, false
	}
	st, ok := (*m)[name]
	return st, ok
}

// OnUserChange registers fn, called with a user's name after a change to
// their disabled flag or grants committed on this server and the view
// holds it. fn should be quick: the change's caller waits for it.
func (s *Service) OnUserChange(fn func(name string)) {
	s.states.mu.Lock()
	defer s.states.mu.Unlock()
	s.states.hooks = append(s.states.hooks, fn)
}

// LoadUserStates reads every user's state into the view, replacing it:
// at start, and when another server may have changed a user.
func (s *Service) LoadUserStates(ctx context.Context) error {
	s.states.mu.Lock()
	defer s.states.mu.Unlock()
	m, err := s.readUserStates(ctx)
	if err != nil {
		return fmt.Errorf("auth: load the users' states: %w", err)
	}
	s.states.m.Store(&m)
	return nil
}

// readUserStates reads every user with their grants, in one query.
func (s *Service) readUserStates(ctx context.Context) (map[string]UserState, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT u.name, u.disabled, g.role, g.project, g.environment
		FROM auth_users u LEFT JOIN auth_grants g ON g.user_id = u.id ORDER BY u.name, g.role, g.project, g.environment`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]UserState{}
	for rows.Next() {
		var name string
		var disabled bool
		var role, project, env sql.NullString
		if err := rows.Scan(&name, &disabled, &role, &project, &env); err != nil {
			return nil, err
		}
		st := m[name]
		st.Disabled = disabled
		if st.Grants == nil {
			st.Grants = []Grant{}
		}
		if role.Valid {
			st.Grants = append(st.Grants, Grant{Role: role.String, Project: project.String, Environment: env.String})
		}
		m[name] = st
	}
	return m, rows.Err()
}

// userChanged re-reads one user's state after a committed change and
// calls the hooks. It runs even when ctx has ended (the change is made).
// When the read fails the user leaves the view: the edge then treats
// them as signed out until the next load, never with their old rights.
func (s *Service) userChanged(ctx context.Context, name string) {
	s.refreshUserState(context.WithoutCancel(ctx), name)
	s.states.mu.Lock()
	hooks := s.states.hooks
	s.states.mu.Unlock()
	for _, fn := range hooks {
		fn(name)
	}
}

// refreshUserState re-reads one user's state into the view.
func (s *Service) refreshUserState(ctx context.Context, name string) {
	s.states.mu.Lock()
	defer s.states.mu.Unlock()
	st, found, err := s.readUserState(ctx, name)
	if err != nil {
		s.opts.Logger.Error("auth: re-read a user's state; the edge treats them as signed out until the next load", "user", name, "err", err)
	}
	m := map[string]UserState{}
	if old := s.states.m.Load(); old != nil {
		m = maps.Clone(*old)
	}
	if found && err == nil {
		m[name] = st
	} else {
		delete(m, name)
	}
	s.states.m.Store(&m)
}

func (s *Service) readUserState(ctx context.Context, name string) (UserState, bool, error) {
	var uid int64
	var st UserState
	err := s.opts.DB.QueryRowContext(ctx, `SELECT id, disabled FROM auth_users WHERE name = $1`, name).Scan(&uid, &st.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	st.Grants, err = s.grants(ctx, uid)
	return st, err == nil, err
}
