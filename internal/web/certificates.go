package web

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/api"
)

// certificates lists the TLS certificates the edge holds (every page of
// the API's list: there are few).
func (d *Dashboard) certificates(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Certificates", "certificates"
	all, err := callAll[api.Certificate](d, r, s, "/api/v1/certificates", nil)
	if err != nil {
		return "", err
	}
	v.Data = all
	return "certificates", nil
}
