package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// userForNew maps an outside identity no user is linked to yet: to the
// user named like its verified email (and links it), else, with
// auto-provisioning on, to a new user named by the name claim, with the
// default role when no group maps to one (the mapped roles are then
// granted by syncMappedRoles). Anything else is refused.
func (s *Service) userForNew(ctx context.Context, id Identity) (int64, error) {
	if id.Email != "" {
		name, err := s.userOfEmail(ctx, id.Email)
		if err != nil {
			return 0, err
		}
		if name != "" {
			return s.linkByEmail(ctx, name, id)
		}
	}
	if id.newUser == nil || !id.newUser.AutoProvision {
		return 0, usererr.New(usererr.Unauthorized, "no Phoenix user is linked to the identity %q", id.Name).
			WithHint("an admin sets that identity's verified email on a user ('phoenix user add NAME --email ADDRESS'), or turns on --oidc-auto-provision")
	}
	var grants []Grant // the mapped roles follow at each sign-in (syncMappedRoles)
	if len(MappedRoles(id.Groups, id.newUser.RoleMap)) == 0 && id.newUser.DefaultRole != "" {
		grants = []Grant{{Role: id.newUser.DefaultRole}}
	}
	name, err := UserNameFor(id.Name)
	if err != nil {
		return 0, usererr.New(usererr.Unauthorized, "identity %q: %v", id.Name, err)
	}
	if _, err := s.CreateUser(ctx, name, "", grants); err != nil {
		if usererr.KindOf(err) == usererr.Conflict {
			return 0, usererr.New(usererr.Unauthorized, "identity %q would be user %q, who exists and is not linked to it", id.Name, name).
				WithHint("an admin sets the identity's verified email on that user to link them")
		}
		return 0, fmt.Errorf("auth: provision the user of identity %q: %w", id.Name, err)
	}
	if err := s.LinkIdentity(ctx, name, id.Provider, id.Subject); err != nil {
		return 0, err
	}
	return s.userID(ctx, name)
}

// linkByEmail links the identity to name, the user of its verified
// email, unless that user is disabled: their sign-in links nothing.
func (s *Service) linkByEmail(ctx context.Context, name string, id Identity) (int64, error) {
	uid, err := s.userID(ctx, name)
	if err == nil {
		_, err = s.enabledUser(ctx, uid)
	}
	if err != nil {
		return 0, err
	}
	return uid, s.LinkIdentity(ctx, name, id.Provider, id.Subject)
}

func (s *Service) userID(ctx context.Context, name string) (int64, error) {
	var uid int64
	err := s.opts.DB.QueryRowContext(ctx, `SELECT id FROM auth_users WHERE name = $1`, name).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errBadLogin
	}
	return uid, err
}

// UserNameFor turns a provider's user name claim into a Phoenix user
// name: lowercase, the part before '@' of an address (Entra's UPN),
// other characters than letters, digits, '.', '_' and '-' become '-',
// at most 63 characters. A claim that gives no name starting with a
// letter is an error.
func UserNameFor(claim string) (string, error) {
	claim = strings.ToLower(strings.TrimSpace(claim))
	if local, _, ok := strings.Cut(claim, "@"); ok {
		claim = local
	}
	name := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, claim)
	if len(name) > 63 {
		name = name[:63]
	}
	if err := CheckUserName(name); err != nil {
		return "", fmt.Errorf("gives no valid user name (%q)", name)
	}
	return name, nil
}
