package app

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/web"
)

// withDashboard puts the web dashboard in front of the API on the API
// listener: the API keeps /api/, /hooks/ and /status/, the dashboard
// serves / and /ui/, and it reads and changes everything through apiHandler.
func (a *App) withDashboard(apiHandler http.Handler) (http.Handler, error) {
	o := web.Options{API: apiHandler, Logger: a.log}
	if a.sso != nil {
		o.OIDCLabel = a.sso.Label()
	}
	d, err := web.New(o)
	if err != nil {
		return nil, err
	}
	return d.Handler(), nil
}
