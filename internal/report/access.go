package report

import (
	"context"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// StaleAfter is how long without a sign-in or a token use is flagged.
const StaleAfter = 90 * 24 * time.Hour

// Access is the access review: who holds which roles and credentials.
// Only callers with users.manage get it.
type Access struct {
	Users  []UserAccess  `json:"users"`
	Tokens []TokenAccess `json:"tokens"`
	Admins []string      `json:"admins"`
	// Inactive names the enabled users without a successful sign-in in
	// the 90 days before the report's end.
	Inactive []string `json:"inactive"`
	// Revoked counts tokens revoked (listed no further).
	Revoked int `json:"revoked_tokens"`
}

// UserAccess is one user's grants and sign-in.
type UserAccess struct {
	Name       string     `json:"name"`
	Roles      []string   `json:"roles"` // "admin", "contributor on shop/staging"
	Admin      bool       `json:"admin"`
	Disabled   bool       `json:"disabled"`
	Created    time.Time  `json:"created"`
	LastSignIn *time.Time `json:"last_sign_in,omitempty"` // newest auth.login with outcome ok
	Inactive   bool       `json:"inactive"`
}

// TokenAccess is one unrevoked token; never its secret.
type TokenAccess struct {
	ID       string     `json:"id"`
	Owner    string     `json:"owner"`
	Name     string     `json:"name,omitempty"`
	Kind     string     `json:"kind"`
	Scopes   []string   `json:"scopes"`
	Scope    string     `json:"scope,omitempty"` // project/environment it is limited to
	Created  time.Time  `json:"created"`
	AgeDays  int        `json:"age_days"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Expires  *time.Time `json:"expires,omitempty"`
	Expired  bool       `json:"expired"`
	// NeverUsed and Unused flag a token never used, or not used in the 90
	// days before the report's end.
	NeverUsed bool `json:"never_used"`
	Unused    bool `json:"unused_90d"`
}

func (b *builder) access(ctx context.Context) (*Access, error) {
	if !b.o.AccessReview {
		b.note("access: left out: the access review needs the users.manage permission")
		return nil, nil
	}
	if b.src.Users == nil || b.src.Audit == nil {
		b.note("access: left out: this server has no users or no audit log")
		return nil, nil
	}
	users, err := b.src.Users.Users(ctx)
	if err != nil {
		return nil, err
	}
	last, err := b.src.Audit.LastSuccess(ctx, "auth.login", b.o.To)
	if err != nil {
		return nil, err
	}
	a := &Access{Users: []UserAccess{}, Tokens: []TokenAccess{}, Admins: []string{}, Inactive: []string{}}
	cut := b.o.To.Add(-StaleAfter)
	for _, u := range users {
		ua := UserAccess{Name: u.Name, Roles: []string{}, Disabled: u.Disabled, Created: u.CreatedAt}
		for _, g := range u.Grants {
			ua.Roles = append(ua.Roles, grantString(g))
			ua.Admin = ua.Admin || g.Role == auth.RoleAdmin && g.Project == "" && g.Environment == ""
		}
		if t, ok := last[u.Name]; ok {
			ua.LastSignIn = &t
		}
		ua.Inactive = !u.Disabled && (ua.LastSignIn == nil || ua.LastSignIn.Before(cut))
		if ua.Admin {
			a.Admins = append(a.Admins, u.Name)
		}
		if ua.Inactive {
			a.Inactive = append(a.Inactive, u.Name)
		}
		a.Users = append(a.Users, ua)
	}
	return a, b.tokens(ctx, a, cut)
}

func (b *builder) tokens(ctx context.Context, a *Access, cut time.Time) error {
	toks, err := b.src.Users.Tokens(ctx, "")
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.RevokedAt != nil {
			a.Revoked++
			continue
		}
		ta := TokenAccess{ID: t.ID, Owner: t.User, Name: t.Name, Kind: t.Kind, Scopes: []string{}, Created: t.CreatedAt,
			AgeDays: int(b.o.To.Sub(t.CreatedAt).Hours() / 24), LastUsed: t.LastUsedAt, Expires: t.ExpiresAt}
		for _, s := range t.Scopes {
			ta.Scopes = append(ta.Scopes, string(s))
		}
		if t.Project != "" || t.Environment != "" {
			ta.Scope = t.Project + "/" + t.Environment
		}
		ta.Expired = t.ExpiresAt != nil && !t.ExpiresAt.After(b.o.To)
		ta.NeverUsed = t.LastUsedAt == nil
		ta.Unused = t.LastUsedAt != nil && t.LastUsedAt.Before(cut)
		a.Tokens = append(a.Tokens, ta)
	}
	return nil
}

func grantString(g auth.Grant) string {
	s := g.Role
	switch {
	case g.Project != "" && g.Environment != "":
		s += " on " + g.Project + "/" + g.Environment
	case g.Project != "":
		s += " on " + g.Project
	case g.Environment != "":
		s += " on */" + g.Environment
	}
	return s
}
