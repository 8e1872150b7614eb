package auth

import (
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
