package web

import (
	"net/http"
	"net/url"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/audit"
)

var auditQuery = append([]param{{name: "actor", max: 200}, {name: "action", max: 200}, {name: "since", max: 40},
	{name: "order", max: 4, allowed: []string{"asc", "desc"}}}, pageQuery...)

type auditData struct {
	Records              []audit.Record
	Actor, Action, Since string
	NextURL              string
	Oldest               bool   // ?order=asc; the page lists newest first by default
	OrderURL             string // the same filters in the other order, from the start
	Verify               *api.VerifyResponse
	TailFrom             int64 // the first record no checkpoint covers (Verify.Unsigned > 0)
	VerifyErr            string
}

func (d *Dashboard) auditLog(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Audit log", "audit"
	q, err := parseQuery(r.URL.Query(), auditQuery)
	if err != nil {
		return "", err
	}
	data := &auditData{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since"), Oldest: q.Get("order") == "asc"}
	data.OrderURL = orderURL(q, data.Oldest)
	apiQ := url.Values{}
	for k, v := range q {
		apiQ[k] = v
	}
	if !data.Oldest {
		apiQ.Set("order", "desc")
	}
	var page api.Page[audit.Record]
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/audit?"+apiQ.Encode(), nil, &page); err != nil {
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
		data.Verify, data.TailFrom = &ver, ver.Signed+1
	}
	v.Data = data
	return "audit", nil
}

// orderURL is the audit page with q's filters in the other order, from
// its first page (a cursor belongs to one order).
func orderURL(q url.Values, oldest bool) string {
	o := url.Values{}
	for _, k := range []string{"actor", "action", "since", "limit"} {
		if v := q.Get(k); v != "" {
			o.Set(k, v)
		}
	}
	if !oldest {
		o.Set("order", "asc")
	}
	if len(o) == 0 {
		return "/ui/audit"
	}
	return "/ui/audit?" + o.Encode()
}
