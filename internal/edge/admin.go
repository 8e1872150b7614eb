package edge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Health is the /health answer: the edge is up, and which release each
// environment serves.
type Health struct {
	Status        string      `json:"status"` // "ok"
	UptimeSeconds int64       `json:"uptime_seconds"`
	Envs          []EnvHealth `json:"envs"`
}

// EnvHealth is one environment in Health.
type EnvHealth struct {
	Env         string    `json:"env"`
	Release     string    `json:"release"` // "" when none is active
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	Hosts       []string  `json:"hosts"`
}

// Health reports which release each environment serves.
func (h *Handler) Health() Health {
	out := Health{Status: "ok", UptimeSeconds: int64(h.opts.Now().Sub(h.started).Seconds()), Envs: []EnvHealth{}}
	for _, name := range h.hosts.Envs() {
		e := h.hosts.Env(name)
		if e == nil {
			continue
		}
		eh := EnvHealth{Env: name, Hosts: h.hosts.HostsOf(name)}
		if rel := e.cur.Load(); rel != nil {
			eh.Release, eh.ActivatedAt = rel.site.ID(), rel.activatedAt
		}
		out.Envs = append(out.Envs, eh)
	}
	return out
}

// Snapshot returns every environment's telemetry, sorted by name, plus an
// entry named "" for requests to unknown hosts. Counters only grow; the
// monitor computes rates from two snapshots.
func (h *Handler) Snapshot() []EnvStats {
	var out []EnvStats
	for _, name := range h.hosts.Envs() {
		e := h.hosts.Env(name)
		if e == nil {
			continue
		}
		s := EnvStats{Env: name}
		if rel := e.cur.Load(); rel != nil {
			s.Release, s.ActivatedAt = rel.site.ID(), rel.activatedAt
		}
		e.tel.snapshot(&s)
		out = append(out, s)
	}
	var u EnvStats
	h.unknown.snapshot(&u)
	return append(out, u)
}

// serveAdmin answers the reserved admin host.
func (h *Handler) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !bodyMethod(r.Method) {
		plain(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/health":
		w.Header().Set("Content-Type", "application/json")
		if !h.metricsAllowed(r) { // a balancer needs the 200, not what is served where
			_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
			return
		}
		_ = json.NewEncoder(w).Encode(h.Health())
	case "/metrics":
		if !h.metricsAllowed(r) {
			plain(w, http.StatusForbidden, "forbidden: /metrics answers loopback and the clients in --edge-metrics-allow")
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		WriteMetrics(bw, h.Snapshot())
		writeConnMetrics(bw, h.ConnStats())
		h.opts.AccessLog.WriteMetrics(bw)
		_ = bw.Flush()
	default:
		plain(w, http.StatusNotFound, "not found: the admin host serves /health and /metrics")
	}
}

// metricsAllowed reports whether r's TCP peer may read /metrics: loopback,
// or an address in Options.MetricsAllow.
func (h *Handler) metricsAllowed(r *http.Request) bool {
	peer, _ := clientOf(r, nil) // no trusted proxies: the TCP peer, whatever the headers say
	return peer.IsLoopback() || inPrefixes(h.opts.MetricsAllow, peer)
}

// WriteMetrics writes snapshots in the Prometheus text exposition format.
// Environment "" is labelled env="_unknown_host".
func WriteMetrics(w io.Writer, snaps []EnvStats) {
	family(w, "phoenix_edge_requests_total", "counter", "Requests answered, by status class.")
	for _, s := range snaps {
		for c := 1; c <= 5; c++ {
			fmt.Fprintf(w, "phoenix_edge_requests_total{env=%q,release=%q,class=\"%dxx\"} %d\n", envLabel(s.Env), s.Release, c, s.ByClass[c])
		}
	}
	counter(w, snaps, "phoenix_edge_failed_requests_total", "Requests answered with a 5xx status.", func(s *EnvStats) uint64 { return s.Failed })
	counter(w, snaps, "phoenix_edge_rate_limited_total", "Requests refused with 429 by the per-IP rate limit.", func(s *EnvStats) uint64 { return s.Limited })
	counter(w, snaps, "phoenix_edge_ip_denied_total", "Requests refused with 403 by the IP allow-list.", func(s *EnvStats) uint64 { return s.Denied })
	counter(w, snaps, "phoenix_edge_probe_requests_total", "The server's own probes (verification, monitor, health checks, load tests), left out of the other figures.", func(s *EnvStats) uint64 { return s.Probes })
	counter(w, snaps, "phoenix_edge_response_bytes_total", "Response body bytes sent.", func(s *EnvStats) uint64 { return s.BytesSent })
	family(w, "phoenix_edge_request_duration_seconds", "histogram", "Time to answer a request.")
	for _, s := range snaps {
		var cum uint64
		for i, b := range LatencyBuckets {
			cum += s.Latency[i]
			fmt.Fprintf(w, "phoenix_edge_request_duration_seconds_bucket{env=%q,le=%q} %d\n", envLabel(s.Env), strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		cum += s.Latency[len(LatencyBuckets)]
		fmt.Fprintf(w, "phoenix_edge_request_duration_seconds_bucket{env=%q,le=\"+Inf\"} %d\n", envLabel(s.Env), cum)
		fmt.Fprintf(w, "phoenix_edge_request_duration_seconds_sum{env=%q} %g\n", envLabel(s.Env), s.LatencySum.Seconds())
		fmt.Fprintf(w, "phoenix_edge_request_duration_seconds_count{env=%q} %d\n", envLabel(s.Env), cum)
	}
	writeFirewallMetrics(w, snaps)
}

func family(w io.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func counter(w io.Writer, snaps []EnvStats, name, help string, get func(*EnvStats) uint64) {
	family(w, name, "counter", help)
	for i := range snaps {
		fmt.Fprintf(w, "%s{env=%q} %d\n", name, envLabel(snaps[i].Env), get(&snaps[i]))
	}
}

func envLabel(env string) string {
	if env == "" {
		return "_unknown_host"
	}
	return env
}
