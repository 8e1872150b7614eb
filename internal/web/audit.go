package web

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/audit"
)

var auditQuery = append([]param{{name: "actor", max: 200}, {name: "action", max: 200}, {name: "since", max: 40}}, pageQuery...)

type auditData struct {
	Records              []audit.Record
	Actor, Action, Since string
	NextURL              string
	Verify               *api.VerifyResponse
	VerifyErr            string
}

func (d *Dashboard) auditLog(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Audit log", "audit"
	q, err := parseQuery(r.URL.Query(), auditQuery)
	if err != nil {
		return "", err
	}
	data := &auditData{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since")}
	var page api.Page[audit.Record]
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/audit?"+q.Encode(), nil, &page); err != nil {
		return "", err
	}
	data.Records = page.Items
	if page.NextCursor != "" {
		q.Set("cursor", page.NextCursor)
		data.NextURL = "/ui/audit?" + q.Encode()
	}
	var ver api.VerifyResponse
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/audit/verify", nil, &ver); err != nil {
		data.VerifyErr = err.Error()
	} else {
		data.Verify = &ver
	}
	v.Data = data
	return "audit", nil
}
