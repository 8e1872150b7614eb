package auth

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/audit"
)

// grantSourceOIDC marks grants the single sign-on group mapping gave.
const grantSourceOIDC = "oidc"

// syncMappedRoles makes the roles the group mapping gave a user follow
// the groups of this sign-in: a role whose group the user joined is
// granted (everywhere, marked as the mapping's), one whose group the user
// left is taken back. Grants an admin gave are never touched, and a role
// an admin also granted stays the admin's. Without a mapping it does
// nothing; when the provider left the groups out of the token (Entra's
// group overage) it changes nothing and logs why.
func (s *Service) syncMappedRoles(ctx context.Context, uid int64, id Identity) error {
	cfg := id.newUser
	if cfg == nil || cfg.GroupsClaim == "" || len(cfg.RoleMap) == 0 {
		return nil
	}
	if id.groupsOverage {
		s.opts.Logger.Warn("auth: the ID token names no groups (too many for the token): roles from groups left as they were",
			"user", id.Name, "claim", cfg.GroupsClaim)
		return nil
	}
	want := MappedRoles(id.Groups, cfg.RoleMap)
	have, err := s.mappedRoles(ctx, uid)
	if err != nil {
		return err
	}
	var add, drop []string
	for _, r := range want {
		if !slices.Contains(have, r) {
			add = append(add, r)
		}
	}
	for _, r := range have {
		if !slices.Contains(want, r) {
			drop = append(drop, r)
		}
	}
	if len(add) == 0 && len(drop) == 0 {
		return nil
	}
	return s.applyMappedRoles(ctx, uid, add, drop)
}

// applyMappedRoles grants add and takes back drop (the mapping's grants
// only), audited as user.grant.sync in the same transaction.
func (s *Service) applyMappedRoles(ctx context.Context, uid int64, add, drop []string) error {
	gs := make([]Grant, 0, len(add))
	for _, r := range add {
		gs = append(gs, Grant{Role: r})
	}
	if err := s.checkGrants(gs); err != nil {
		return fmt.Errorf("auth: --oidc-role-map: %w", err)
	}
	var name string
	if err := s.opts.DB.QueryRowContext(ctx, `SELECT name FROM auth_users WHERE id = $1`, uid).Scan(&name); err != nil {
		return fmt.Errorf("auth: user of a sign-in: %w", err)
	}
	e := audit.Event{Action: "user.grant.sync", Actor: name, Target: name, Detail: syncDetail(add, drop)}
	err := s.change(ctx, e, func(tx *sql.Tx) error {
		for _, r := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM auth_grants WHERE user_id = $1 AND role = $2 AND project = ''
				AND environment = '' AND source = $3`, uid, r, grantSourceOIDC); err != nil {
				return err
			}
		}
		for _, r := range add {
			if _, err := tx.ExecContext(ctx, `INSERT INTO auth_grants (user_id, role, project, environment, source)
				VALUES ($1, $2, '', '', $3) ON CONFLICT DO NOTHING`, uid, r, grantSourceOIDC); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.userChanged(ctx, name)
	}
	return err
}

// mappedRoles returns the roles the group mapping gave the user.
func (s *Service) mappedRoles(ctx context.Context, uid int64) ([]string, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT role FROM auth_grants WHERE user_id = $1 AND project = ''
		AND environment = '' AND source = $2 ORDER BY role`, uid, grantSourceOIDC)
	if err != nil {
		return nil, fmt.Errorf("auth: roles from groups: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func syncDetail(add, drop []string) string {
	var parts []string
	if len(add) > 0 {
		parts = append(parts, "granted "+strings.Join(add, ", "))
	}
	if len(drop) > 0 {
		parts = append(parts, "taken back "+strings.Join(drop, ", "))
	}
	return "roles from groups at sign-in: " + strings.Join(parts, "; ")
}
