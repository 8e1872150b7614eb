package auth

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
)

// groupsProvider is an OIDC provider past token verification (tested on
// a real mock provider in oidc_test.go): each sign-in returns the
// identity with the groups of the moment.
type groupsProvider struct {
	cfg    *OIDCConfig
	groups []string
	over   bool
}

func (p *groupsProvider) Name() string { return OIDCProviderName }

func (p *groupsProvider) Verify(context.Context, Credentials) (Identity, error) {
	return Identity{Provider: OIDCProviderName, Subject: "sub-jane", Name: "jane@contoso.com", Groups: p.groups,
		newUser: p.cfg, groupsOverage: p.over}, nil
}

func roleNames(pr *Principal) []string {
	var out []string
	for _, g := range pr.Grants {
		s := g.Role
		if g.Project != "" {
			s += "@" + g.Project
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestRolesFollowGroupsAtEachSignIn: roles from the group mapping are
// granted at a sign-in and taken back at the next one once the user left
// the group; an admin's grants stay, and an admin's change of the
// grants leaves the mapping's grants the mapping's; a token
// that left the groups out (overage) changes nothing; every change is
// audited.
func TestRolesFollowGroupsAtEachSignIn(t *testing.T) {
	f := newFixture(t)
	cfg := &OIDCConfig{AutoProvision: true, DefaultRole: "viewer", GroupsClaim: "groups",
		RoleMap: map[string]string{"g-admins": "admin", "g-devs": "contributor"}}
	p := &groupsProvider{cfg: cfg, groups: []string{"g-admins", "g-devs", "g-other"}}
	signIn := func(want ...string) {
		t.Helper()
		pr, err := f.svc.SignIn(ctx, p, Credentials{}, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if got := roleNames(pr); !slices.Equal(got, want) {
			t.Fatalf("groups %q: roles %q, want %q", p.groups, got, want)
		}
	}
	signIn("admin", "contributor") // provisioned: mapped roles, no default
	p.groups = []string{"g-devs"}
	signIn("contributor") // left the admins: admin taken back
	if _, err := f.svc.SetGrants(ctx, "jane", []Grant{{Role: "contributor"}, {Role: "viewer", Project: "shop"}}); err != nil {
		t.Fatal(err) // an admin adds a grant; the mapping's contributor stays the mapping's
	}
	p.groups = nil
	signIn("viewer@shop") // the admin's grant stays without any group
	p.groups = []string{"g-admins", "g-devs"}
	signIn("admin", "contributor", "viewer@shop")
	if _, err := f.svc.SetGrants(ctx, "jane", []Grant{{Role: "admin"}, {Role: "contributor"}, {Role: "viewer", Project: "shop"},
		{Role: "viewer"}}); err != nil {
		t.Fatal(err) // an admin adds a grant: the mapping's admin stays the mapping's
	}
	p.groups, p.over = nil, true
	signIn("admin", "contributor", "viewer", "viewer@shop") // groups unknown: nothing changes
	p.groups, p.over = []string{"g-other"}, false
	signIn("viewer", "viewer@shop")
	recs, err := f.log.Query(ctx, audit.Filter{Action: "user.grant.sync"})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, r := range recs {
		details = append(details, r.Detail)
	}
	want := []string{"roles from groups at sign-in: granted admin, contributor", "roles from groups at sign-in: taken back admin",
		"roles from groups at sign-in: taken back contributor", "roles from groups at sign-in: granted admin, contributor",
		"roles from groups at sign-in: taken back admin, contributor"}
	if !slices.Equal(details, want) {
		t.Errorf("sync audit:\n%s\nwant\n%s", strings.Join(details, "\n"), strings.Join(want, "\n"))
	}
}

// TestGroupsWithoutMappingChangeNothing: with no role map the roles are
// the admin's alone, whatever the groups, and nothing is audited.
func TestGroupsWithoutMappingChangeNothing(t *testing.T) {
	f := newFixture(t)
	f.user(t, "jane", Grant{Role: "viewer"})
	if err := f.svc.LinkIdentity(ctx, "jane", OIDCProviderName, "sub-jane"); err != nil {
		t.Fatal(err)
	}
	p := &groupsProvider{cfg: &OIDCConfig{GroupsClaim: "groups"}, groups: []string{"g-admins"}}
	pr, err := f.svc.SignIn(ctx, p, Credentials{}, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := roleNames(pr); !slices.Equal(got, []string{"viewer"}) {
		t.Errorf("roles %q", got)
	}
	if recs, _ := f.log.Query(ctx, audit.Filter{Action: "user.grant.sync"}); len(recs) != 0 {
		t.Errorf("%d sync records", len(recs))
	}
}

// TestMapClaimsGroupOverage: Entra moves groups out of the token past
// 200 of them; the identity then says the groups are unknown.
func TestMapClaimsGroupOverage(t *testing.T) {
	claims := map[string]any{"sub": "s", "preferred_username": "jane",
		"_claim_names": map[string]any{"groups": "src1"}, "_claim_sources": map[string]any{"src1": map[string]any{}}}
	id, err := MapClaims(claims, []string{"preferred_username"}, "groups")
	if err != nil || !id.groupsOverage || id.Groups != nil {
		t.Fatalf("overage: %+v %v", id, err)
	}
	delete(claims, "_claim_names")
	if id, _ := MapClaims(claims, []string{"preferred_username"}, "groups"); id.groupsOverage {
		t.Error("a token without groups taken for an overage")
	}
}
