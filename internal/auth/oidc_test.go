package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// mockRP is a relying party of a mock provider on loopback, and a way
// to sign any ID token with the provider's key.
func mockRP(t *testing.T) (*OIDC, *mockoidc.MockOIDC) {
	t.Helper()
	op := testkit.OIDCProvider(t)
	cfg := op.Config()
	o, err := NewOIDC(context.Background(), OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, RedirectURL: "http://127.0.0.1:1/cb", GroupsClaim: "groups"})
	if err != nil {
		t.Fatal(err)
	}
	return o, op
}

func signed(t *testing.T, op *mockoidc.MockOIDC, edit func(jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": op.Issuer(), "aud": op.Config().ClientID, "sub": "sub-1", "nonce": "n-1",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "preferred_username": "jane",
		"email": "jane@example.com", "email_verified": true, "groups": []string{"ops"}}
	if edit != nil {
		edit(c)
	}
	raw, err := op.Keypair.SignJWT(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestOIDCVerifiesTheIDToken(t *testing.T) {
	o, op := mockRP(t)
	ctx := context.Background()
	id, err := o.verifyIDToken(ctx, signed(t, op, nil), "n-1")
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "sub-1" || id.Name != "jane" || id.Email != "jane@example.com" || len(id.Groups) != 1 {
		t.Fatalf("identity: %+v", id)
	}
	for _, tc := range []struct {
		name, nonce, want string
		edit              func(jwt.MapClaims)
	}{
		{"wrong nonce", "n-2", "nonce does not match", nil},
		{"wrong audience", "n-1", "another client (audience)", func(c jwt.MapClaims) { c["aud"] = "someone-else" }},
		{"expired", "n-1", "expired at", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }},
		{"wrong issuer", "n-1", "another issuer", func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }},
		{"no sub", "n-1", `claim "sub"`, func(c jwt.MapClaims) { delete(c, "sub") }},
		{"no name", "n-1", "holds a user name", func(c jwt.MapClaims) { delete(c, "preferred_username"); delete(c, "email") }},
	} {
		_, err := o.verifyIDToken(ctx, signed(t, op, tc.edit), tc.nonce)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	forged := signed(t, op, nil)
	forged = forged[:len(forged)-4] + "AAAA"
	if _, err := o.verifyIDToken(ctx, forged, "n-1"); err == nil || !strings.Contains(err.Error(), "did not verify") {
		t.Errorf("bad signature: %v", err)
	}
}

func TestOIDCStateIsSealedAndChecked(t *testing.T) {
	o, op := mockRP(t)
	now := time.Now()
	cookie, to, err := o.Start("/ui/runs", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(to, op.AuthorizationEndpoint()) || !strings.Contains(to, "code_challenge_method=S256") {
		t.Fatalf("auth URL: %s", to)
	}
	for _, part := range []string{"nonce=", "state="} {
		if !strings.Contains(to, part) {
			t.Fatalf("auth URL has no %s: %s", part, to)
		}
	}
	state := to[strings.Index(to, "state=")+6:]
	state = state[:strings.IndexByte(state+"&", '&')]
	st, err := o.Finish(cookie, state, now)
	if err != nil || st.Next != "/ui/runs" || st.Verifier == "" || strings.Contains(to, st.Verifier) {
		t.Fatalf("finish: %+v %v", st, err)
	}
	if _, err := o.Finish(cookie, "other", now); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("wrong state: %v", err)
	}
	if _, err := o.Finish(cookie, state, now.Add(OIDCStateTTL)); err == nil || !strings.Contains(err.Error(), "10 minutes") {
		t.Errorf("late: %v", err)
	}
	tampered := []byte(cookie)
	tampered[len(tampered)/2] ^= 1
	if _, err := o.Finish(string(tampered), state, now); err == nil {
		t.Error("a tampered state cookie was accepted")
	}
	// Another server with the same client secret finishes the sign-in.
	cfg := op.Config()
	o2, err := NewOIDC(context.Background(), OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, RedirectURL: "http://127.0.0.1:1/cb"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o2.Finish(cookie, state, now); err != nil {
		t.Errorf("a replica could not finish the sign-in: %v", err)
	}
}

func TestOIDCErrorsHoldNoSecret(t *testing.T) {
	o, op := mockRP(t)
	_, err := o.Verify(context.Background(), Credentials{Code: "no-such-code", CodeVerifier: "v", Nonce: "n"})
	if err == nil || strings.Contains(err.Error(), op.Config().ClientSecret) || !strings.Contains(err.Error(), "did not accept the code") {
		t.Fatalf("exchange error: %v", err)
	}
}

func TestUserNameFor(t *testing.T) {
	for in, want := range map[string]string{"jane.doe": "jane.doe", "Jane.Doe@Contoso.com": "jane.doe",
		"Jöhn Smith": "j-hn-smith", strings.Repeat("a", 80): strings.Repeat("a", 63)} {
		if got, err := UserNameFor(in); err != nil || got != want {
			t.Errorf("UserNameFor(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@x", "9lives", "-a"} {
		if got, err := UserNameFor(in); err == nil {
			t.Errorf("UserNameFor(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzMapClaims(f *testing.F) {
	f.Add("sub-1", "jane", "jane@example.com", true, "ops", 0)
	f.Add("", "", "", false, "", 1)
	f.Add("s", "Jane@Contoso.com", "x", true, "", 2)
	f.Fuzz(func(t *testing.T, sub, name, email string, verified bool, group string, shape int) {
		claims := map[string]any{"sub": sub, "preferred_username": name, "email": email, "email_verified": verified}
		switch shape % 4 {
		case 0:
			claims["groups"] = []any{group}
		case 1:
			claims["groups"] = group
		case 2:
			claims["groups"] = []any{group, 3.0}
		case 3:
			claims["groups"] = map[string]any{"x": group}
		}
		id, err := MapClaims(claims, []string{"preferred_username", "email"}, "groups")
		if err != nil {
			return
		}
		if id.Subject != sub || id.Name == "" || (id.Email != "" && !verified) {
			t.Fatalf("MapClaims(%v) = %+v", claims, id)
		}
		if n, err := UserNameFor(id.Name); err == nil && CheckUserName(n) != nil {
			t.Fatalf("UserNameFor(%q) = %q, not a user name", id.Name, n)
		}
	})
}

func TestSetEmail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user(t, "jane", Grant{Role: "viewer"})
	f.user(t, "eve", Grant{Role: "viewer"})
	if err := f.svc.SetEmail(ctx, "jane", " Jane@Example.COM "); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.svc.User(ctx, "jane"); u.Email != "jane@example.com" {
		t.Fatalf("email: %q", u.Email)
	}
	if err := f.svc.SetEmail(ctx, "eve", "jane@example.com"); err == nil || !strings.Contains(err.Error(), `user "jane" has the email`) {
		t.Fatalf("a shared email: %v", err)
	}
	for _, bad := range []string{"jane", "a@b@c", "a b@c", "@c"} {
		if err := f.svc.SetEmail(ctx, "eve", bad); err == nil {
			t.Errorf("email %q was accepted", bad)
		}
	}
	if err := f.svc.SetEmail(ctx, "jane", ""); err != nil {
		t.Fatal(err)
	}
	if name, err := f.svc.userOfEmail(ctx, ""); err != nil || name != "" {
		t.Fatalf("an empty email matched %q (%v)", name, err)
	}
}
