package web

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/report"
)

var reportQuery = []param{{name: "from", max: 40}, {name: "to", max: 40}, {name: "project", max: 100}, {name: "sections", max: 100}}

type reportsData struct {
	From, To, Project, Sections string
	Report                      *report.Report
	Blocks                      []report.Block
}

// reports shows GET /api/v1/report: the same blocks the CLI prints, as
// tables. What the caller may not see the API has already left out.
func (d *Dashboard) reports(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Reports", "reports"
	q, err := parseQuery(r.URL.Query(), reportQuery)
	if err != nil {
		return "", err
	}
	var rep report.Report
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/report?"+q.Encode(), nil, &rep); err != nil {
		return "", err
	}
	v.Data = &reportsData{From: q.Get("from"), To: q.Get("to"), Project: q.Get("project"), Sections: q.Get("sections"),
		Report: &rep, Blocks: report.Blocks(&rep)[1:]}
	return "reports", nil
}
