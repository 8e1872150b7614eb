package edge

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// ClientPrincipalHeader carries the signed-in user to the API backend, as
// SWA does: base64 of the Principal JSON. The edge always overwrites a
// client-sent value.
const ClientPrincipalHeader = "X-Ms-Client-Principal"

// serveAPI forwards a request the rules sent to /api/* to Options.API, with
// the path (and query) the rules chose and the user in
// X-MS-Client-Principal. Without an API backend the answer is 404. The
// header rules for path p (the server's security headers, the project's
// policy rules) go with the answer as with a file's; the backend may
// overwrite them.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, rel *release, user *Principal, p string, d *swa.Decision, rm *ruleMatch) (int, int64) {
	if h.opts.API == nil {
		return h.serveError(w, r, rel, p, http.StatusNotFound, &swa.Decision{}, rm)
	}
	target, q, hasQ := strings.Cut(d.APIPath, "?")
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: target, RawQuery: r.URL.RawQuery}
	if hasQ {
		r2.URL.RawQuery = q
	}
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del(ClientPrincipalHeader)
	if user != nil {
		cp := *user
		cp.UserRoles = rolesOf(user)
		if b, err := json.Marshal(cp); err == nil {
			r2.Header.Set(ClientPrincipalHeader, base64.StdEncoding.EncodeToString(b))
		}
	}
	h.applyRules(w.Header(), p, rm)
	applyDecisionHeaders(w.Header(), d.Header)
	rm.apply(w.Header())
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.opts.API.ServeHTTP(sw, r2)
	return sw.status, sw.n
}

// statusWriter records what an API handler answered, for telemetry.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flush, deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
