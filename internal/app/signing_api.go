package app

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/auth"
)

func (a *App) signingRoutes() []api.Route {
	return []api.Route{{Method: "GET", Path: "/api/v1/signing-key", Tag: "deployments", Perm: auth.Read,
		Summary:  "The public half of the key the server signs artifacts with (a minisign public key file)",
		Response: api.SigningKey{}, Handler: a.getSigningKey}}
}

func (a *App) getSigningKey(w http.ResponseWriter, r *http.Request) {
	pub, err := a.signingPublic(r)
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	text, _ := pub.MarshalText()
	api.WriteJSON(w, http.StatusOK, api.SigningKey{KeyID: pub.ID(), PublicKey: string(text)})
}

// signingPublic is the signing key's public half: the key's own (from the
// vault, where it lives once the vault is initialized), else, the vault
// being sealed, keys/signing.pub, which is kept in step with it.
func (a *App) signingPublic(r *http.Request) (sign.PublicKey, error) {
	key, err := a.keys.key(r.Context())
	if err == nil {
		return key.Public(), nil
	}
	if pub, ferr := sign.LoadPublicKey(a.keys.pubPath()); ferr == nil {
		return pub, nil
	}
	return sign.PublicKey{}, err
}
