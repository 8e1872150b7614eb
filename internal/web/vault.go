package web

import (
	"errors"
	"net/http"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/vault"
)

type vaultData struct {
	Status   vault.Status
	Secrets  []vault.Info   // metadata only: the API never lists values
	Expiring []vault.Expiry // within the API's default (30 days) or expired
	// Unavailable says why the lists are missing (a sealed vault), when
	// the API answered something other than a refusal.
	Unavailable string
}

// vault shows whether the vault is sealed, the secrets the user may list
// (names and metadata) and those expiring soon. The page needs
// secrets.list, as the API's list does: a refusal refuses the page.
func (d *Dashboard) vault(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Vault", "vault"
	data := &vaultData{}
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/vault/status", nil, &data.Status); err != nil {
		return "", err
	}
	var page api.Page[vault.Info]
	_, err := d.call(r, s, http.MethodGet, "/api/v1/secrets", nil, &page)
	if err == nil {
		_, err = d.call(r, s, http.MethodGet, "/api/v1/vault/expiring", nil, &data.Expiring)
	}
	var ae *apiError
	switch {
	case errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusUnauthorized):
		return "", err
	case errors.As(err, &ae) && !data.Status.Initialized: // the API's answer says to unseal it
		data.Unavailable = "the vault is not initialized yet"
	case errors.As(err, &ae):
		data.Unavailable = ae.Message
	case err != nil:
		return "", err
	}
	data.Secrets = page.Items
	v.Data = data
	return "vault", nil
}
