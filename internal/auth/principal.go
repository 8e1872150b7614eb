package auth

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Grant gives a user a role, everywhere or only in one project and/or
// environment ("contributor in staging, viewer in production").
type Grant struct {
	Role        string `json:"role"`
	Project     string `json:"project,omitempty"`
	Environment string `json:"environment,omitempty"`
}

func (g Grant) String() string {
	s := g.Role
	if g.Project != "" {
		s += " in project " + g.Project
	}
	if g.Environment != "" {
		s += " in environment " + g.Environment
	}
	return s
}

// Resource is what an action touches. An empty Environment means "some
// environment of the project" (listing, uploading before the target is
// named); an empty Project means "some project".
type Resource struct {
	Project     string
	Environment string
}

func (r Resource) String() string {
	switch {
	case r.Project == "" && r.Environment == "":
		return "the server"
	case r.Environment == "":
		return "project " + r.Project
	}
	return fmt.Sprintf("%s/%s", r.Project, r.Environment)
}

// Principal is an authenticated caller: a user, the roles granted to them,
// and the limits of the credential they used.
type Principal struct {
	User   string  `json:"user"`
	Grants []Grant `json:"grants"`
	// Via names the credential ("token 1a2b3c4d5e6f7a8b", "session"),
	// never its secret.
	Via     string `json:"via"`
	TokenID string `json:"token_id,omitempty"`
	// Scopes limit a token to some of the user's permissions; nil means
	// all of them. Project and Environment limit it to one target.
	Scopes      []Permission `json:"scopes,omitempty"`
	Project     string       `json:"project,omitempty"`
	Environment string       `json:"environment,omitempty"`

	userID int64
	roles  map[string]Role
}

// Can reports whether the principal may do p on res.
func (pr *Principal) Can(p Permission, res Resource) bool {
	if pr == nil {
		return false
	}
	if pr.Scopes != nil && !slices.Contains(pr.Scopes, All) && !slices.Contains(pr.Scopes, p) {
		return false
	}
	if pr.Project != "" || pr.Environment != "" {
		if !p.Scoped() || (res.Project != "" && res.Project != pr.Project) || (res.Environment != "" && res.Environment != pr.Environment) {
			return false
		}
	}
	return pr.granted(p, res)
}

// granted reports whether pr's user's roles allow p on res, whatever the
// credential's own limits (a token's scopes and target).
func (pr *Principal) granted(p Permission, res Resource) bool {
	for _, g := range pr.Grants {
		if pr.roles[g.Role].Has(p) && g.covers(p, res) {
			return true
		}
	}
	return false
}

// tokenLimit says how the credential limits its user's rights: its scopes,
// or the one target it is for.
func (pr *Principal) tokenLimit() string {
	via := cmp.Or(pr.Via, "this token")
	if pr.Project != "" || pr.Environment != "" {
		target := pr.Project
		if pr.Environment != "" {
			target += "/" + pr.Environment
		}
		return fmt.Sprintf("%s is limited to %s", via, target)
	}
	return fmt.Sprintf("%s is limited to scopes %s", via, strings.Join(scopeNames(pr.Scopes), ","))
}

// scopeNames are the permissions' names, sorted, each once.
func scopeNames(ps []Permission) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, string(p))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// WithRoles returns a copy of a principal decoded from /api/v1/me that
// knows what the given roles (from /api/v1/roles) allow, so that a client
// such as the dashboard can hide what its user may not do. It decides
// nothing: the server checks every request with its own principal.
func (pr Principal) WithRoles(roles []Role) *Principal {
	pr.roles = make(map[string]Role, len(roles))
	for _, r := range roles {
		pr.roles[r.Name] = r
	}
	return &pr
}

func (g Grant) covers(p Permission, res Resource) bool {
	if p == Tokens {
		return true // one's own tokens: any grant of a role that has it
	}
	if !p.Scoped() {
		return g.Project == "" && g.Environment == ""
	}
	return (g.Project == "" || res.Project == "" || g.Project == res.Project) &&
		(g.Environment == "" || res.Environment == "" || g.Environment == res.Environment)
}

// HoldsAnywhere reports whether the principal has p on at least one
// resource; a token may only be scoped to such permissions.
func (pr *Principal) HoldsAnywhere(p Permission) bool {
	return pr.Can(p, Resource{})
}

// Limited reports whether the credential carries less than all of its
// user's rights (a scoped token or a deploy token). Account changes such
// as passwords need an unlimited credential.
func (pr *Principal) Limited() bool {
	return (pr.Scopes != nil && !slices.Contains(pr.Scopes, All)) || pr.Project != "" || pr.Environment != ""
}
