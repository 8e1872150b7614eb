package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

var auditFilters = []Param{
	textParam("since", "records at or after this time (RFC 3339) or this long ago (e.g. 24h, 7d)"),
	textParam("actor", "user name"),
	textParam("action", "action, or a prefix ending in * (deploy.*)"),
}

var auditOrder = Param{Name: "order", Description: "asc (default): oldest first; desc: newest first (next_cursor then pages back in time)",
	Values: []string{"asc", "desc"}}

func (a *API) auditRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/audit", Tag: "audit", Perm: auth.AuditRead, Query: append(append([]Param{auditOrder}, auditFilters...), pageParams...),
			Summary: "Audit records, oldest first (order=desc: newest first)", Response: Page[audit.Record]{}, Handler: a.auditLog},
		{Method: "GET", Path: "/api/v1/audit/export", Tag: "audit", Perm: auth.AuditRead, Query: auditFilters,
			Summary: "Audit records as JSON lines (application/x-ndjson)", Response: audit.Record{}, Handler: a.auditExport},
		{Method: "GET", Path: "/api/v1/audit/verify", Tag: "audit", Perm: auth.AuditRead,
			Summary: "Recompute the hash chain and check every signed checkpoint", Response: VerifyResponse{}, Handler: a.auditVerify},
	}
}

func auditFilter(r *http.Request, now time.Time) (audit.Filter, error) {
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action")}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			d, derr := ParseTTL(s)
			if derr != nil {
				return f, usererr.New(usererr.Invalid, "since %q: want a time (2026-01-02T15:04:05Z) or a duration (24h, 7d)", s)
			}
			t = now.Add(-d)
		}
		f.Since = t
	}
	return f, nil
}

func (a *API) auditLog(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r, time.Now())
	pg, perr := readPage(r)
	if err == nil {
		err = perr
	}
	if err == nil {
		err = auditPage(r, pg, &f)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	f.Limit = pg.limit + 1
	recs, err := a.opts.Audit.Query(r.Context(), f)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := Page[audit.Record]{Items: recs}
	if out.Items == nil {
		out.Items = []audit.Record{}
	}
	if len(recs) > pg.limit {
		out.Items = recs[:pg.limit]
		out.NextCursor = strconv.FormatInt(out.Items[pg.limit-1].Seq, 10)
	}
	WriteJSON(w, http.StatusOK, out)
}

// auditPage sets f's order and the cursor of the page: ?order=desc lists
// newest first, and its cursor bounds the sequence numbers from above.
func auditPage(r *http.Request, pg pageReq, f *audit.Filter) error {
	switch o := r.URL.Query().Get("order"); o {
	case "", "asc":
	case "desc":
		f.Newest = true
	default:
		return usererr.New(usererr.Invalid, "order %q: want asc (oldest first) or desc (newest first)", o)
	}
	if pg.cursor == "" {
		return nil
	}
	seq, err := strconv.ParseInt(pg.cursor, 10, 64)
	if err != nil || seq < 0 || (f.Newest && seq == 0) {
		return badCursor(pg.cursor)
	}
	if f.Newest {
		f.Before = seq
	} else {
		f.After = seq
	}
	return nil
}

func (a *API) auditExport(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r, time.Now())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.opts.Audit.Export(r.Context(), w, f); err != nil {
		loggerFrom(r.Context()).Error("audit export failed midway", "err", err)
	}
}

// VerifyResponse is the verdict on the audit log, with the verifier key
// to check its checkpoints independently and the newest checkpoint.
type VerifyResponse struct {
	audit.Report
	VerifierKey string            `json:"verifier_key,omitempty"`
	Latest      *audit.Checkpoint `json:"latest_checkpoint,omitempty"`
}

func (a *API) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := a.opts.Audit.Verify(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := VerifyResponse{Report: *rep, VerifierKey: a.opts.AuditKey}
	if cps, err := a.opts.Audit.Checkpoints(r.Context()); err == nil && len(cps) > 0 {
		out.Latest = &cps[len(cps)-1]
	}
	WriteJSON(w, http.StatusOK, out)
}
