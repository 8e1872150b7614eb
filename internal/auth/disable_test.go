package auth

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestDisableShutsAUserOut: a disabled user's password, session and
// token stop working at once and single sign-on refuses them; enabling
// brings the token back; the last admin cannot be disabled; both are
// audited.
func TestDisableShutsAUserOut(t *testing.T) {
	f := newFixture(t)
	admin := f.user(t, "root", Grant{Role: "admin"})
	jane := f.user(t, "jane", Grant{Role: "contributor"})
	tok := f.token(t, jane, TokenRequest{Name: "ci"})
	sess, err := f.svc.Login(ctx, nil, Credentials{Username: "jane", Password: "correct horse battery"}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.LinkIdentity(ctx, "jane", OIDCProviderName, "sub-jane"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(ctx, "jane", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok); err == nil {
		t.Error("a disabled user's token still works")
	}
	if _, err := f.svc.SessionPrincipal(ctx, sess.Secret); err == nil {
		t.Error("a disabled user's session still works")
	}
	if _, err := f.svc.Login(ctx, nil, Credentials{Username: "jane", Password: "correct horse battery"}, "127.0.0.2"); err == nil {
		t.Error("a disabled user signed in with the password")
	}
	sso := &groupsProvider{cfg: &OIDCConfig{}}
	if _, err := f.svc.SignIn(ctx, sso, Credentials{}, "127.0.0.3", "test"); err == nil {
		t.Error("a disabled user signed in with single sign-on")
	}
	if err := f.svc.SetDisabled(ctx, "jane", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok); err != nil {
		t.Errorf("the token of a user enabled again: %v", err)
	}
	err = f.svc.SetDisabled(ctx, admin.User, true)
	if usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if u, _ := f.svc.User(ctx, "root"); u.Disabled {
		t.Error("the last admin was disabled anyway")
	}
	for _, a := range []string{"user.disable", "user.enable"} {
		if recs, _ := f.log.Query(ctx, audit.Filter{Action: a}); len(recs) != 1 {
			t.Errorf("%s: %d audit records", a, len(recs))
		}
	}
}

// TestDisabledUserSignInChangesNothing: a single sign-on of a disabled
// user is refused before anything is written: the roles from groups are
// not synced, no session is opened, an identity is not linked by email,
// and the refusal is one auth.login record that says why. Enabled again,
// the same sign-in syncs the roles.
func TestDisabledUserSignInChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.user(t, "root", Grant{Role: RoleAdmin})
	f.user(t, "jane", Grant{Role: RoleViewer})
	if err := f.svc.LinkIdentity(ctx, "jane", OIDCProviderName, "sub-jane"); err != nil {
		t.Fatal(err)
	}
	sso := &groupsProvider{cfg: &OIDCConfig{GroupsClaim: "groups", RoleMap: map[string]string{"g-devs": RoleContributor,
		"g-admins": RoleAdmin}}, groups: []string{"g-devs"}}
	if _, err := f.svc.SignIn(ctx, sso, Credentials{}, "127.0.0.1", "test"); err != nil {
		t.Fatal(err) // enabled: contributor from g-devs
	}
	before := f.grantsOf(t, "jane")
	if err := f.svc.SetDisabled(ctx, "jane", true); err != nil {
		t.Fatal(err)
	}
	sso.groups = []string{"g-admins"} // would grant admin and take contributor back
	_, err := f.svc.Login(ctx, sso, Credentials{}, "127.0.0.2")
	if usererr.KindOf(err) != usererr.Unauthorized || !strings.Contains(err.Error(), `the Phoenix user "jane" is disabled`) {
		t.Fatalf("sign-in of a disabled user: %v", err)
	}
	if got := f.grantsOf(t, "jane"); !slices.Equal(got, before) {
		t.Errorf("roles changed at a refused sign-in: %v, were %v", got, before)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM auth_sessions`); n != 0 {
		t.Errorf("%d sessions after a refused sign-in", n)
	}
	if recs, _ := f.log.Query(ctx, audit.Filter{Action: "user.grant.sync"}); len(recs) != 1 {
		t.Errorf("%d user.grant.sync records, want the enabled sign-in's alone", len(recs))
	}
	logins, _ := f.log.Query(ctx, audit.Filter{Action: "auth.login"})
	if last := logins[len(logins)-1]; len(logins) != 2 || last.Outcome != audit.Failed || last.Actor != "jane" ||
		last.Detail != "user disabled" {
		t.Errorf("%d auth.login records, the last %+v", len(logins), last)
	}
	if err := f.svc.SetDisabled(ctx, "jane", false); err != nil {
		t.Fatal(err)
	}
	pr, err := f.svc.Login(ctx, sso, Credentials{}, "127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.grantsOf(t, "jane"); !slices.Equal(got, []string{RoleAdmin, RoleViewer}) || pr.User != "jane" {
		t.Errorf("enabled again, the sign-in synced the roles to %v", got)
	}
}

// TestDisabledUserIsNotLinkedByEmail: the identity of a disabled user's
// verified email is refused and stays unlinked.
func TestDisabledUserIsNotLinkedByEmail(t *testing.T) {
	f := newFixture(t)
	f.user(t, "root", Grant{Role: RoleAdmin})
	f.user(t, "jane", Grant{Role: RoleViewer})
	if err := f.svc.SetEmail(ctx, "jane", "jane@contoso.com"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(ctx, "jane", true); err != nil {
		t.Fatal(err)
	}
	sso := emailProvider{&groupsProvider{cfg: &OIDCConfig{}}}
	if _, err := f.svc.SignIn(ctx, sso, Credentials{}, "127.0.0.1", "test"); err == nil || !strings.Contains(err.Error(), "is disabled") {
		t.Fatalf("sign-in of a disabled user by email: %v", err)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM auth_identities`); n != 0 {
		t.Errorf("a disabled user's identity was linked (%d links)", n)
	}
}

// emailProvider vouches for jane@contoso.com, verified.
type emailProvider struct{ *groupsProvider }

func (p emailProvider) Verify(ctx context.Context, c Credentials) (Identity, error) {
	id, err := p.groupsProvider.Verify(ctx, c)
	id.Email = "jane@contoso.com"
	return id, err
}

// grantsOf lists the user's grants as roleNames does.
func (f *fixture) grantsOf(t *testing.T, name string) []string {
	t.Helper()
	u, err := f.svc.User(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return roleNames(&Principal{Grants: u.Grants})
}

func (f *fixture) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(ctx, query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
