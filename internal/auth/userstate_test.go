package auth

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestUserStatesFollowChanges: the in-memory view holds a user another
// server made once it is loaded, and follows every change the service
// commits (a new user, grants set, disabled and enabled again, roles
// from groups at a sign-in), each announced once to the hooks.
func TestUserStatesFollowChanges(t *testing.T) {
	f := newFixture(t)
	f.user(t, "root", Grant{Role: "admin"})
	if _, err := f.db.ExecContext(ctx, `INSERT INTO auth_users (name, password, created_at, disabled)
		VALUES ('eve', '', '2026-11-01T12:00:00Z', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.svc.UserState("eve"); ok {
		t.Fatal("the view holds a user made behind the service's back before a load")
	}
	if err := f.svc.LoadUserStates(ctx); err != nil {
		t.Fatal(err)
	}
	if st, ok := f.svc.UserState("root"); !ok || st.Disabled || !slices.Equal(st.Grants, []Grant{{Role: "admin"}}) {
		t.Fatalf("root after the load: %+v %v", st, ok)
	}
	if st, ok := f.svc.UserState("eve"); !ok || !st.Disabled || len(st.Grants) != 0 {
		t.Fatalf("eve after the load: %+v %v", st, ok)
	}
	var mu sync.Mutex
	var changed []string
	f.svc.OnUserChange(func(name string) { mu.Lock(); changed = append(changed, name); mu.Unlock() })

	f.user(t, "jane", Grant{Role: "contributor", Project: "shop"})
	want := func(what string, disabled bool, grants ...Grant) {
		t.Helper()
		st, ok := f.svc.UserState("jane")
		if !ok || st.Disabled != disabled || !slices.Equal(st.Grants, grants) {
			t.Fatalf("%s: %+v %v, want disabled=%v grants %v", what, st, ok, disabled, grants)
		}
	}
	want("created", false, Grant{Role: "contributor", Project: "shop"})
	if _, err := f.svc.SetGrants(ctx, "jane", []Grant{{Role: "approver"}}); err != nil {
		t.Fatal(err)
	}
	want("grants set", false, Grant{Role: "approver"})
	if err := f.svc.SetDisabled(ctx, "jane", true); err != nil {
		t.Fatal(err)
	}
	want("disabled", true, Grant{Role: "approver"})
	if err := f.svc.SetDisabled(ctx, "jane", false); err != nil {
		t.Fatal(err)
	}
	want("enabled", false, Grant{Role: "approver"})
	if err := f.svc.LinkIdentity(ctx, "jane", OIDCProviderName, "sub-jane"); err != nil {
		t.Fatal(err)
	}
	sso := &groupsProvider{cfg: &OIDCConfig{GroupsClaim: "groups", RoleMap: map[string]string{"g-devs": "contributor"}},
		groups: []string{"g-devs"}}
	if _, err := f.svc.SignIn(ctx, sso, Credentials{}, "127.0.0.1", "test"); err != nil {
		t.Fatal(err)
	}
	want("roles from groups", false, Grant{Role: "approver"}, Grant{Role: "contributor"})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"jane", "jane", "jane", "jane", "jane"}; !slices.Equal(changed, want) {
		t.Fatalf("hooks called with %q, want %q", changed, want)
	}
}

// TestSignInStatesIntoTheView: a sign-in puts its user in the view,
// for a user the view missed (made by another server sharing the
// database).
func TestSignInStatesIntoTheView(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.LoadUserStates(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ExecContext(ctx, `INSERT INTO auth_users (name, password, created_at) VALUES ('jane', '', '2026-11-01T12:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.LinkIdentity(ctx, "jane", OIDCProviderName, "sub-jane"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.svc.UserState("jane"); ok {
		t.Fatal("the view holds a user made behind the service's back")
	}
	if _, err := f.svc.SignIn(ctx, &groupsProvider{cfg: &OIDCConfig{}}, Credentials{}, "127.0.0.1", "test"); err != nil {
		t.Fatal(err)
	}
	if st, ok := f.svc.UserState("jane"); !ok || st.Disabled || len(st.Grants) != 0 {
		t.Fatalf("jane after her sign-in: %+v %v", st, ok)
	}
}

// TestDisabledSignInSaysSo: single sign-on of a disabled user is refused
// naming the reason, as the provider vouched for the identity; a
// password or a token of that user gets the answer any bad one gets.
func TestDisabledSignInSaysSo(t *testing.T) {
	f := newFixture(t)
	f.user(t, "root", Grant{Role: "admin"})
	jane := f.user(t, "jane", Grant{Role: "contributor"})
	tok := f.token(t, jane, TokenRequest{Name: "ci"})
	if err := f.svc.LinkIdentity(ctx, "jane", OIDCProviderName, "sub-jane"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(ctx, "jane", true); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.SignIn(ctx, &groupsProvider{cfg: &OIDCConfig{}}, Credentials{}, "127.0.0.1", "test")
	if usererr.KindOf(err) != usererr.Unauthorized || err.Error() != `the Phoenix user "jane" is disabled` ||
		!strings.Contains(usererr.HintOf(err), "phoenix user enable jane") {
		t.Fatalf("single sign-on of a disabled user: %v (hint %q)", err, usererr.HintOf(err))
	}
	_, err = f.svc.Login(ctx, nil, Credentials{Username: "jane", Password: "correct horse battery"}, "127.0.0.2")
	if err == nil || err.Error() != "invalid user name or password" {
		t.Fatalf("password of a disabled user: %v", err)
	}
	if _, err = f.svc.Authenticate(ctx, tok); err == nil || err.Error() != "missing or invalid token" ||
		!strings.Contains(usererr.HintOf(err), "its user disabled: an admin sees which in 'phoenix token list --all' and 'phoenix user list'") {
		t.Fatalf("token of a disabled user: %v (hint %q)", err, usererr.HintOf(err))
	}
}
