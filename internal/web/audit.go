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
	SinceLinks           []link // the same filters over the last hour, day, week, or all time
	Verify               *api.VerifyResponse
	TailFrom             int64 // the first record no checkpoint covers (Verify.Unsigned > 0)
	VerifyErr            string
	// FirstURL is the first page of these records, which verifies the
	// chain; a later page does not verify it again (it reads every record).
	FirstURL string
}

func (d *Dashboard) auditLog(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Audit log", "audit"
	q, err := parseQuery(r.URL.Query(), auditQuery)
	if err != nil {
		return "", err
	}
	data := &auditData{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since"), Oldest: q.Get("order") == "asc"}
	data.OrderURL = orderURL(q, data.Oldest)
	data.SinceLinks = sinceLinks(q)
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
	if r.URL.Query().Get("cursor") != "" {
		data.FirstURL = auditURL(auditFilters(q, "actor", "action", "since", "order", "limit"))
	} else {
		d.verifyAudit(r, s, data)
	}
	v.Data = data
	return "audit", nil
}

// verifyAudit asks for the verdict of the chain verification, which reads
// every record of the log.
func (d *Dashboard) verifyAudit(r *http.Request, s session, data *auditData) {
	var ver api.VerifyResponse
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/audit/verify", nil, &ver); err != nil {
		data.VerifyErr = err.Error()
		return
	}
	data.Verify, data.TailFrom = &ver, ver.Signed+1
}

// orderURL is the audit page with q's filters in the other order, from
// its first page (a cursor belongs to one order).
func orderURL(q url.Values, oldest bool) string {
	o := auditFilters(q, "actor", "action", "since", "limit")
	if !oldest {
		o.Set("order", "asc")
	}
	return auditURL(o)
}

// link is a labelled link of a page.
type link struct{ Label, URL string }

// sinceLinks are the audit page over the last hour, day, week and from
// the beginning, with q's other filters and order kept, from the first page.
func sinceLinks(q url.Values) []link {
	var out []link
	for _, l := range []link{{"the last hour", "1h"}, {"24 hours", "24h"}, {"7 days", "7d"}, {"the beginning", ""}} {
		o := auditFilters(q, "actor", "action", "order", "limit")
		if l.URL != "" {
			o.Set("since", l.URL)
		}
		out = append(out, link{l.Label, auditURL(o)})
	}
	return out
}

// auditFilters are q's values of keys.
func auditFilters(q url.Values, keys ...string) url.Values {
	o := url.Values{}
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			o.Set(k, v)
		}
	}
	return o
}

func auditURL(q url.Values) string {
	if len(q) == 0 {
		return "/ui/audit"
	}
	return "/ui/audit?" + q.Encode()
}
