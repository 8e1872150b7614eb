package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// OIDCConfig configures single sign-on through an OpenID Connect
// provider (Entra ID or any other).
type OIDCConfig struct {
	Issuer       string // discovery starts at Issuer + /.well-known/openid-configuration
	ClientID     string
	ClientSecret string // never logged, never in an error
	RedirectURL  string // this server's callback, registered at the provider
	Label        string // shown as "Sign in with <Label>"
	// NameClaims are tried in order for the user name (default
	// preferred_username, email).
	NameClaims []string
	// AutoProvision creates an unknown identity's user with
	// DefaultRole; off, unknown identities are refused.
	AutoProvision bool
	DefaultRole   string
	// GroupsClaim names the claim listing groups or app roles (e.g.
	// "groups" or "roles"); RoleMap maps its values to Phoenix roles,
	// granted everywhere and taken back at each sign-in as the user's
	// groups change (grants an admin gave are never touched).
	GroupsClaim string
	RoleMap     map[string]string
	// Scopes are asked for beside openid, profile and email (e.g.
	// "groups" at providers that want it; Entra ID needs none).
	Scopes []string
}

// OIDC is the relying party: it builds the provider's sign-in URL and,
// as a Provider, turns an authorization code into a verified Identity.
type OIDC struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier

	keyOnce sync.Once // the state cookie's key, derived once
	key     []byte
	keyErr  error
}

// OIDCProviderName is the provider name of OIDC identities in
// auth_identities and the audit log's auth.login target.
const OIDCProviderName = "oidc"

// NewOIDC discovers the provider at cfg.Issuer.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, usererr.New(usererr.Invalid, "oidc: issuer, client id and redirect URL are all needed")
	}
	if len(cfg.NameClaims) == 0 {
		cfg.NameClaims = []string{"preferred_username", "email"}
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, usererr.Wrap(usererr.Unavailable, err, fmt.Sprintf("oidc: discovery at %s: %v", cfg.Issuer, err)).
			WithHint("check --oidc-issuer (Entra ID: https://login.microsoftonline.com/TENANT/v2.0) and that this server reaches it")
	}
	o := &OIDC{cfg: cfg, verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID})}
	o.oauth = oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID, "profile", "email"}, cfg.Scopes...)}
	return o, nil
}

// Label is the provider's display name.
func (o *OIDC) Label() string { return o.cfg.Label }

// Name implements Provider.
func (o *OIDC) Name() string { return OIDCProviderName }

// AuthURL is where the browser goes to sign in: state and nonce bind the
// answer to this browser, verifier is the PKCE secret (S256).
func (o *OIDC) AuthURL(state, nonce, verifier string) string {
	return o.authURL(OIDCState{State: state, Nonce: nonce, Verifier: verifier})
}

func (o *OIDC) authURL(st OIDCState) string {
	opts := []oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}
	if st.Redirect != "" {
		opts = append(opts, oauth2.SetAuthURLParam("redirect_uri", st.Redirect))
	}
	return o.oauth.AuthCodeURL(st.State, opts...)
}

// errOIDC is a refused OIDC sign-in with its reason; the reason names
// what failed (state, nonce, audience, expiry) and never holds a secret.
func errOIDC(format string, a ...any) error {
	return usererr.New(usererr.Unauthorized, "sign-in with the identity provider refused: "+format, a...)
}

// Verify exchanges c.Code (with c.CodeVerifier) for tokens and verifies
// the ID token: issuer, audience, expiry, signature and c.Nonce.
func (o *OIDC) Verify(ctx context.Context, c Credentials) (Identity, error) {
	if c.Code == "" || c.CodeVerifier == "" || c.Nonce == "" {
		return Identity{}, errOIDC("no code, or the sign-in state was missing")
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(c.CodeVerifier)}
	if c.RedirectURL != "" {
		opts = append(opts, oauth2.SetAuthURLParam("redirect_uri", c.RedirectURL))
	}
	tok, err := o.oauth.Exchange(ctx, c.Code, opts...)
	if err != nil {
		return Identity{}, errOIDC("the provider did not accept the code (used already, expired or wrong client): %s", exchangeReason(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, errOIDC("the provider's answer has no id_token")
	}
	return o.verifyIDToken(ctx, raw, c.Nonce)
}

// exchangeReason keeps only the OAuth error code of a failed exchange,
// never the request (which holds the client secret in its body).
func exchangeReason(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return re.ErrorCode
	}
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Status
	}
	return "no answer"
}

func (o *OIDC) verifyIDToken(ctx context.Context, raw, nonce string) (Identity, error) {
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		switch {
		case errors.As(err, &exp):
			return Identity{}, errOIDC("the ID token expired at %s", exp.Expiry.UTC().Format("2006-01-02 15:04:05Z"))
		case strings.Contains(err.Error(), "audience"):
			return Identity{}, errOIDC("the ID token is for another client (audience), not %q", o.cfg.ClientID)
		case strings.Contains(err.Error(), "different provider"):
			return Identity{}, errOIDC("the ID token is from another issuer, not %q", o.cfg.Issuer)
		}
		return Identity{}, errOIDC("the ID token did not verify")
	}
	if idt.Nonce != nonce {
		return Identity{}, errOIDC("the ID token's nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, errOIDC("the ID token's claims could not be read")
	}
	id, err := MapClaims(claims, o.cfg.NameClaims, o.cfg.GroupsClaim)
	if err != nil {
		return Identity{}, errOIDC("%s", err)
	}
	id.newUser = &o.cfg
	return id, nil
}
