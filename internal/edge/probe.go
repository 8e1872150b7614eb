package edge

import (
	"crypto/subtle"
	"net/http"
)

// ProbeHeader carries Options.ProbeToken on the server's own probes.
const ProbeHeader = "X-Phoenix-Probe"

// probeOf reports whether r is the server's own probe, looking at the
// header only when env or its release restricts who may reach it (the
// common request pays nothing).
func (h *Handler) probeOf(r *http.Request, env *Env, rel *release, pol *envPolicy) bool {
	if h.opts.ProbeToken == "" {
		return false
	}
	gated := h.limiter != nil || env.allow.Load() != nil || pol != nil && pol.limiter != nil || rel.site.Config().Gated()
	if !gated {
		return false
	}
	v := r.Header[ProbeHeader]
	return len(v) == 1 && subtle.ConstantTimeCompare([]byte(v[0]), []byte(h.opts.ProbeToken)) == 1
}
