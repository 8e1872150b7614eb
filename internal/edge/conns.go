package edge

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
)

// Connection telemetry: what each listener serving a Handler holds and has
// accepted, exported at /metrics beside the request figures (nginx's
// stub_status: active connections, accepts).

// ConnStats is one listener's connections.
type ConnStats struct {
	Listener  string // the address it listens on
	TLS       bool
	Open      int64  // connections open now
	Accepted  uint64 // connections accepted since it started
	HandedOff uint64 // lean-loop connections handed to net/http (a body, HTTP/1.0, Upgrade...)
	Queued    uint64 // answers the lean loop queued for a client reading slowly
	Piped     uint64 // answers the lean loop sent from a hot file's pipe (h1.FilePipe)
	Refused   uint64 // connections closed unanswered: their client was at the ConnLimit cap
}

// connCounter counts net/http's connections through http.Server.ConnState.
// Behind the lean loop net/http only gets connections the loop accepted
// and handed over, so those are not counted as accepted again.
type connCounter struct {
	open     atomic.Int64
	accepted atomic.Uint64
}

func (c *connCounter) hook(countAccepts bool) func(net.Conn, http.ConnState) {
	return func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			c.open.Add(1)
			if countAccepts {
				c.accepted.Add(1)
			}
		case http.StateHijacked, http.StateClosed:
			c.open.Add(-1)
		}
	}
}

// ConnStats reports the connections of the listener s serves.
func (s *Server) ConnStats() ConnStats {
	st := ConnStats{TLS: s.tls(), Open: s.nh.open.Load(), Accepted: s.nh.accepted.Load(), Refused: s.refused.Load()}
	if a := s.addr.Load(); a != nil {
		st.Listener = *a
	}
	if l := s.lean.Load(); l != nil {
		ls := l.Stats()
		st.Open += ls.Open
		st.Accepted += ls.Accepted
		st.HandedOff, st.Queued, st.Piped = ls.HandedOff, ls.Queued, ls.Piped
	}
	return st
}

// serverSet is the Servers serving a Handler, for its /metrics.
type serverSet struct {
	mu  sync.Mutex
	set map[*Server]struct{}
}

func (ss *serverSet) add(s *Server) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.set == nil {
		ss.set = map[*Server]struct{}{}
	}
	ss.set[s] = struct{}{}
}

func (ss *serverSet) remove(s *Server) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.set, s)
}

// stats lists the servers' connections, by listener address.
func (ss *serverSet) stats() []ConnStats {
	ss.mu.Lock()
	out := make([]ConnStats, 0, len(ss.set))
	for s := range ss.set {
		out = append(out, s.ConnStats())
	}
	ss.mu.Unlock()
	slices.SortFunc(out, func(a, b ConnStats) int { return cmp.Compare(a.Listener, b.Listener) })
	return out
}

// handlerOf is the Handler behind h, when there is one.
func handlerOf(h http.Handler) *Handler {
	switch v := h.(type) {
	case *Handler:
		return v
	case *HTTPSRedirect:
		return v.Handler
	}
	return nil
}

// ConnStats reports the connections of every Server serving h now.
func (h *Handler) ConnStats() []ConnStats { return h.servers.stats() }

// writeConnMetrics writes the listeners' connection figures.
func writeConnMetrics(w io.Writer, conns []ConnStats) {
	connFamily(w, conns, "phoenix_edge_connections_open", "gauge", "Client connections open now, by listener.",
		func(c *ConnStats) string { return fmt.Sprint(c.Open) })
	connFamily(w, conns, "phoenix_edge_connections_accepted_total", "counter", "Client connections accepted and served, by listener.",
		func(c *ConnStats) string { return fmt.Sprint(c.Accepted) })
	connFamily(w, conns, "phoenix_edge_connections_handed_off_total", "counter",
		"Connections the lean HTTP/1.1 loop handed to net/http (bodies, HTTP/1.0, Upgrade, malformed heads).",
		func(c *ConnStats) string { return fmt.Sprint(c.HandedOff) })
	connFamily(w, conns, "phoenix_edge_answers_queued_total", "counter",
		"Answers the lean loop queued because the client did not take them at once (slow readers).",
		func(c *ConnStats) string { return fmt.Sprint(c.Queued) })
	connFamily(w, conns, "phoenix_edge_answers_piped_total", "counter",
		"Answers the lean loop sent whole from a hot file's pipe (tee and splice) instead of sendfile.",
		func(c *ConnStats) string { return fmt.Sprint(c.Piped) })
	connFamily(w, conns, "phoenix_edge_connections_refused_total", "counter",
		"Connections closed unanswered because their client held the most connections allowed (--edge-max-conns-per-ip).",
		func(c *ConnStats) string { return fmt.Sprint(c.Refused) })
	family(w, "phoenix_edge_file_pipe_bytes", "gauge",
		"Capacity of the pipes holding hot files' pages for the lean loop: page cache kept from being dropped.")
	fmt.Fprintf(w, "phoenix_edge_file_pipe_bytes %d\n", h1.PipeBytes())
}

func connFamily(w io.Writer, conns []ConnStats, name, typ, help string, get func(*ConnStats) string) {
	family(w, name, typ, help)
	for i := range conns {
		fmt.Fprintf(w, "%s{listener=%q,tls=\"%t\"} %s\n", name, conns[i].Listener, conns[i].TLS, get(&conns[i]))
	}
}
