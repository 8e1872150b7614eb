package edge

import (
	"net/http"
	"net/netip"
	"time"
)

// logAccess hands one answered request (received at start, answered in d)
// to the access log, if any. ip is the client the allow-list saw
// (invalid: not worked out yet).
func (h *Handler) logAccess(r *http.Request, env string, status int, n int64, start time.Time, d time.Duration, ip netip.Addr, fast bool) {
	l := h.opts.AccessLog
	if l == nil {
		return
	}
	if !ip.IsValid() {
		ip = h.clientIP(r, fast)
	}
	l.record(r, env, status, n, start, d, ip)
}

// recorder wraps w to learn the status and body bytes of an answer made
// off the lean loop (admin host, HTTPS redirects) when there is an access
// log; else it returns w.
func (h *Handler) recorder(w http.ResponseWriter) http.ResponseWriter {
	if h.opts.AccessLog == nil {
		return w
	}
	return &statusRecorder{ResponseWriter: w}
}

// logRecorded logs the answer rec (from recorder) gave, for no
// environment.
func (h *Handler) logRecorded(rec http.ResponseWriter, r *http.Request, start time.Time) {
	if sr, ok := rec.(*statusRecorder); ok {
		h.logAccess(r, "", sr.statusCode(), sr.n, start, time.Since(start), netip.Addr{}, false)
	}
}

// statusRecorder remembers the status and counts the body bytes written.
type statusRecorder struct {
	http.ResponseWriter
	status int
	n      int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.n += int64(n)
	return n, err
}

func (s *statusRecorder) statusCode() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
