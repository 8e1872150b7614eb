package edge

import (
	"io"
	"net/http"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
)

// accessWriter wraps w off the lean loop to count the body bytes for the
// access log; it returns w and nil on the lean loop (whose writer counts
// them itself) or without an access log.
func (h *Handler) accessWriter(w http.ResponseWriter, fast bool) (http.ResponseWriter, *statusWriter) {
	if fast || h.opts.AccessLog == nil {
		return w, nil
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	return sw, sw
}

// logAccess hands one answered request (received at start, answered in d
// with status) to the access log, if any. sw is accessWriter's counter
// (nil on the lean loop), ip the client the allow-list saw (invalid: not
// worked out yet).
func (h *Handler) logAccess(w http.ResponseWriter, r *http.Request, sw *statusWriter, env string, status int, start time.Time, d time.Duration, who peer, fast bool) {
	l := h.opts.AccessLog
	if l == nil {
		return
	}
	if !who.ip.IsValid() {
		who.ip, who.viaProxy = h.client(w, r, fast)
	}
	l.record(r, env, status, sentBytes(w, r, sw), start, d, who.ip, cameOverHTTPS(r, who.viaProxy))
}

// sentBytes is the body bytes of the answer to r: counted by sw off the
// lean loop, by the lean loop's writer on it.
func sentBytes(w http.ResponseWriter, r *http.Request, sw *statusWriter) int64 {
	switch {
	case r.Method == http.MethodHead:
		return 0 // net/http drops what a handler writes
	case sw != nil:
		return sw.n
	}
	if c, ok := w.(h1.BodyCounter); ok {
		return c.BodyBytes()
	}
	return 0
}

// ReadFrom keeps the connection's sendfile (io.Copy of a file to the
// writer) while counting.
func (s *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	s.wrote = true
	var n int64
	var err error
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{s.ResponseWriter}, src)
	}
	s.n += n
	return n, err
}
