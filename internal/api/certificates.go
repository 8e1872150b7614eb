package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/certs"
)

// Certificate statuses.
const (
	CertOK       = "ok"
	CertExpiring = "expiring" // within the warning of the built-in alert
	CertExpired  = "expired"
	CertPending  = "pending" // a name managed through DNS-01, or ordered on demand, with no certificate yet
	CertUnused   = "unused"  // none of its names served any more: not renewed, not alerted on
)

// Certificate is one TLS certificate the edge holds, with its days left
// and status. It never carries key material.
type Certificate struct {
	certs.Info
	DaysLeft int    `json:"days_left"` // whole days until not_after; negative once expired
	Status   string `json:"status"`    // ok, expiring, expired, pending or unused
}

func (a *API) certificateRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/certificates", Tag: "certificates", Perm: auth.Read, Query: pageParams,
			Summary:  "TLS certificates the edge holds (files and ACME), soonest expiry first; never their keys",
			Response: Page[Certificate]{}, Handler: a.listCertificates},
	}
}

// CertificateStatus is the status of a certificate that expires at
// notAfter, seen at now with the given warning.
func CertificateStatus(notAfter, now time.Time, warning time.Duration) (days int, status string) {
	left := notAfter.Sub(now)
	days = int(math.Floor(left.Hours() / 24))
	switch {
	case left <= 0:
		return days, CertExpired
	case left < warning:
		return days, CertExpiring
	}
	return days, CertOK
}

func (a *API) listCertificates(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	start := 0
	if pg.cursor != "" {
		if start, err = strconv.Atoi(pg.cursor); err != nil || start < 0 {
			WriteError(w, r, badCursor(pg.cursor))
			return
		}
	}
	list, err := a.certificates(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := Page[Certificate]{Items: []Certificate{}}
	if start < len(list) {
		end := min(start+pg.limit, len(list))
		out.Items = list[start:end]
		if end < len(list) {
			out.NextCursor = strconv.Itoa(end)
		}
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) certificates(ctx context.Context) ([]Certificate, error) {
	infos, err := a.opts.Certificates(ctx)
	if err != nil {
		return nil, err
	}
	now, warn := time.Now(), a.opts.CertWarning
	out := make([]Certificate, 0, len(infos))
	for _, in := range infos {
		days, status := CertificateStatus(in.NotAfter, now, warn)
		switch {
		case in.Pending:
			days, status = 0, CertPending
		case in.Unused:
			status = CertUnused
		}
		out = append(out, Certificate{Info: in, DaysLeft: days, Status: status})
	}
	return out, nil
}
