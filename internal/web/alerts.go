package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

type alertsData struct {
	Open     []monitor.Alert
	History  []monitor.AlertEvent
	Silences []monitor.Silence
	All      bool // expired silences too
}

func (d *Dashboard) alerts(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Alerts", "alerts"
	q, err := parseQuery(r.URL.Query(), []param{{name: "all", max: 5, allowed: []string{"true"}}})
	if err != nil {
		return "", err
	}
	data := &alertsData{All: q.Get("all") == "true"}
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/alerts", nil, &data.Open); err != nil {
		return "", err
	}
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/alerts/history?limit=100", nil, &data.History); err != nil {
		return "", err
	}
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/silences?"+q.Encode(), nil, &data.Silences); err != nil {
		return "", err
	}
	v.Data = data
	return "alerts", nil
}

// silence holds back an environment's alerts (or every one's) for a while.
func (d *Dashboard) silence(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	f := r.PostForm
	req := api.SilenceRequest{Project: f.Get("project"), Environment: f.Get("environment"), Rule: f.Get("rule"),
		For: f.Get("for"), Comment: f.Get("comment"), Maintenance: f.Get("maintenance") == "on"}
	var sil monitor.Silence
	if _, err := d.call(r, s, http.MethodPost, "/api/v1/silences", req, &sil); err != nil {
		return "", "", err
	}
	return "/ui/alerts", "Silence " + strconv.FormatInt(sil.ID, 10) + " added until " + absTime(sil.Ends) + ".", nil
}

func (d *Dashboard) expireSilence(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return "", "", &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no such silence."}
	}
	if _, err := d.call(r, s, http.MethodDelete, "/api/v1/silences/"+strconv.FormatInt(id, 10), nil, nil); err != nil {
		return "", "", err
	}
	return "/ui/alerts", "Silence " + strconv.FormatInt(id, 10) + " ended.", nil
}

// ackAlert acknowledges an open alert with the form's comment.
func (d *Dashboard) ackAlert(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	id := r.PathValue("id")
	var al monitor.Alert
	req := api.AckRequest{Comment: r.PostForm.Get("comment")}
	if _, err := d.call(r, s, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(id)+"/ack", req, &al); err != nil {
		return "", "", err
	}
	return "/ui/alerts", "Alert " + al.ID + " acknowledged.", nil
}

// unackAlert removes an alert's acknowledgement.
func (d *Dashboard) unackAlert(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	id := r.PathValue("id")
	if _, err := d.call(r, s, http.MethodDelete, "/api/v1/alerts/"+url.PathEscape(id)+"/ack", nil, nil); err != nil {
		return "", "", err
	}
	return "/ui/alerts", "Alert " + id + " is no longer acknowledged.", nil
}
