package api

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// AckRequest acknowledges an alert: someone is on it.
type AckRequest struct {
	Comment string `json:"comment,omitempty"` // e.g. "rolling back the CDN change"
}

// ackRoutes acknowledge alerts; who may is who may silence them (deploy
// in the alert's environment; host alerts need env.write).
func (a *API) ackRoutes() []Route {
	const tag = "monitor"
	return []Route{
		{Method: "POST", Path: "/api/v1/alerts/{id}/ack", Tag: tag, Perm: auth.Deploy, Action: "alert.ack",
			Summary: "Acknowledge a pending or firing alert (id RULE@ENV, e.g. HighErrorRate@production.shop): who, when, a comment",
			Request: AckRequest{}, Response: monitor.Alert{}, Handler: a.ackAlert},
		{Method: "DELETE", Path: "/api/v1/alerts/{id}/ack", Tag: tag, Perm: auth.Deploy, Action: "alert.unack",
			Summary: "Remove an alert's acknowledgement", Response: monitor.Alert{}, Handler: a.unackAlert},
	}
}

// ackTarget checks the alert id in the path and that the caller may
// acknowledge it.
func (a *API) ackTarget(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	_, env, err := monitor.ParseAlertID(id)
	if err != nil {
		WriteError(w, r, err)
		return "", false
	}
	return id, a.requireSilence(w, r, env)
}

func (a *API) ackAlert(w http.ResponseWriter, r *http.Request) {
	var req AckRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	id, ok := a.ackTarget(w, r)
	if !ok {
		return
	}
	al, err := a.opts.Monitor.Acknowledge(r.Context(), id, PrincipalFrom(r.Context()).User, req.Comment)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, al)
}

func (a *API) unackAlert(w http.ResponseWriter, r *http.Request) {
	id, ok := a.ackTarget(w, r)
	if !ok {
		return
	}
	al, err := a.opts.Monitor.Unacknowledge(r.Context(), id, PrincipalFrom(r.Context()).User)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, al)
}
