package edge

import (
	"crypto/subtle"
	"net/http"
)

// ProbeHeader carries Options.ProbeToken on the server's own probes.
const ProbeHeader = "X-Phoenix-Probe"

// probeOf reports whether r is the server's own probe: its ProbeHeader
// holds Options.ProbeToken. Only a server with a token (phoenix server,
// not phoenix serve) looks, at one header lookup per request.
func (h *Handler) probeOf(r *http.Request) bool {
	if h.opts.ProbeToken == "" {
		return false
	}
	v := r.Header[ProbeHeader]
	return len(v) == 1 && subtle.ConstantTimeCompare([]byte(v[0]), []byte(h.opts.ProbeToken)) == 1
}
