package monitor

import (
	"fmt"
	"slices"
	"strings"
)

// The public status page is for the world: it says that an endpoint is
// down and, in one neutral word or two, how (Reason), never the probe's
// error, which can name internal hosts, addresses and certificate detail
// (dial tcp 10.0.3.7:8080: connect: connection refused). The dashboard
// and the API, behind a login, keep the error.

// publicReason is how a failed probe's result reads in public: "timed
// out", "DNS error", "TLS error", "HTTP 503", "check failed" (a condition
// on the answer) or "unreachable". It is "" for a success.
func publicReason(r Result) string {
	if r.Success {
		return ""
	}
	e := strings.TrimPrefix(r.Error, "reading the body: ")
	switch {
	case strings.HasPrefix(e, "timeout"):
		return "timed out"
	case strings.HasPrefix(e, "dns:"):
		return "DNS error"
	case strings.HasPrefix(e, "tls:"):
		return "TLS error"
	case r.Status >= 400:
		return fmt.Sprintf("HTTP %d", r.Status)
	case strings.HasPrefix(e, "condition failed"):
		return "check failed"
	}
	return "unreachable"
}

// publicStatus is st as the public page shows it: without the probes'
// errors (their Reason stays) and without who acknowledged an alert and
// what they wrote.
func publicStatus(st []EnvStatus) []EnvStatus {
	out := make([]EnvStatus, len(st))
	for i, e := range st {
		e.Endpoints = slices.Clone(e.Endpoints)
		for j := range e.Endpoints {
			e.Endpoints[j].Error = ""
		}
		e.Alerts = slices.Clone(e.Alerts)
		for j := range e.Alerts {
			e.Alerts[j].Ack = nil
		}
		out[i] = e
	}
	return out
}
